"""The tuning notebook executes headless on small data, so it never rots."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from recommender.cli import app

from .conftest import BENCH, EXAMPLE_LISTING, REPO

pytestmark = pytest.mark.slow


def test_tune_profile_notebook_runs(tmp_path, monkeypatch, home):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("PAPERREC_NB_LIMIT", "2")
    monkeypatch.setenv("PAPERREC_NB_STRATEGIES", "centroid,tfidf")
    monkeypatch.setenv("PAPERREC_NB_BENCH", str(BENCH))
    notebook = nbformat.read(REPO / "notebooks" / "tune_profile.ipynb", as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")  # stripped in git
    nbclient.NotebookClient(notebook, timeout=600, resources={"metadata": {"path": str(REPO / "notebooks")}}).execute()
    text = "".join(
        output.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    )
    assert "profile super-resolution" in text and "listing: 59 papers" in text
    assert "IProgress not found" not in text  # no warning a reader cannot act on
    if BENCH.is_dir():  # the profile's own backtest, as `paperrec evaluate --profile` prints it
        assert "Backtest of profile 'super-resolution'" in text and "hybrid (yours)" in text
        assert all(len(line) <= 100 for line in text.splitlines())
    images = [o for cell in notebook.cells for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == (3 if BENCH.is_dir() else 2)

    # The picks drawn on the histogram are exactly what `paperrec rank` shows for the same profile and day.
    shown = [line.split()[1:4] for line in text.splitlines() if line.startswith("pick ")]
    result = CliRunner().invoke(
        app, ["rank", str(EXAMPLE_LISTING), "--profile", str(REPO / "profiles" / "super-resolution.toml"), "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    ranked = [[str(p["rank"]), f"{p['score']:.6f}", p["id"]] for p in json.loads(result.stdout)]
    assert len(shown) == 10 and shown == ranked


def test_the_bench_comparison_is_bounded_unless_asked_for_all():
    import re

    cells = json.loads((REPO / "notebooks" / "tune_profile.ipynb").read_text(encoding="utf-8"))["cells"]
    source = "".join(line for cell in cells if cell["cell_type"] == "code" for line in cell["source"])
    default = re.search(r'"PAPERREC_NB_LIMIT", "(\d+)"', source)
    assert default and 0 < int(default.group(1)) <= 17  # a reader running every cell waits minutes, not an hour
