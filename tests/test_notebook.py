"""The tuning notebook executes headless on small data, so it never rots."""

from __future__ import annotations

import pytest

from .conftest import BENCH, REPO

pytestmark = pytest.mark.slow


def test_tune_profile_notebook_runs(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("PAPERREC_HOME", str(tmp_path / "home"))
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
    images = [o for cell in notebook.cells for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == (3 if BENCH.is_dir() else 2)
