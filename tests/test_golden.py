"""Golden output: the exact table and JSON a user sees for the example listing (fake embedder, fixed width).

Regenerate after an intended change with PAPERREC_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender.cli import app

from .conftest import EXAMPLE_LISTING, REPO

GOLDEN = Path(__file__).parent / "golden"
CASES = {
    "super-resolution-table.txt": ("super-resolution", ["--format", "table"]),
    "super-resolution.json": ("super-resolution", ["--format", "json"]),
    "medical-segmentation-table.txt": ("medical-segmentation", ["--format", "table", "--top", "5"]),
    "super-resolution-centroid.json": ("super-resolution", ["--format", "json", "--strategy", "centroid"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_output_matches_golden(name, fake_model):
    profile, options = CASES[name]
    profile_path = REPO / "profiles" / f"{profile}.toml"
    result = CliRunner().invoke(
        app, ["rank", str(EXAMPLE_LISTING), "--profile", str(profile_path), *options], env={"COLUMNS": "100"}
    )
    assert result.exit_code == 0, result.output
    path = GOLDEN / name
    if os.environ.get("PAPERREC_UPDATE_GOLDEN"):
        path.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == path.read_text(encoding="utf-8")
