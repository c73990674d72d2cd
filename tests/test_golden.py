"""Golden output: the exact table and the JSON a user sees for the example listing (fake embedder, fixed width).

Tables must match byte for byte. JSON is compared as data: every float within FLOAT_TOLERANCE (or one step of its
last printed decimal, for values rounded coarser, such as match), since the last digit of a score may differ
between machines (BLAS and CPU features); every other value, key and order must match.
Regenerate after an intended change with PAPERREC_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

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
FLOAT_TOLERANCE = 1e-5
NUMBER = re.compile(r"-?\d+\.\d+(?:[eE][-+]?\d+)?")


def _tolerance(value: float) -> float:
    """FLOAT_TOLERANCE, or one step of the value's last printed decimal when it is printed coarser (a rounding flip)."""
    text = repr(value)
    if "e" in text or "." not in text:
        return FLOAT_TOLERANCE
    return max(FLOAT_TOLERANCE, 1.000001 * 10.0 ** -len(text.split(".")[1]))


def assert_same_data(actual: Any, expected: Any, where: str = "$") -> None:
    """Equal JSON data: floats within FLOAT_TOLERANCE, everything else (types, keys, their order) exact."""
    assert type(actual) is type(expected), f"{where}: {actual!r} != {expected!r}"
    if isinstance(expected, dict):
        assert list(actual) == list(expected), f"{where}: keys {list(actual)} != {list(expected)}"
        for key in expected:
            assert_same_data(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert len(actual) == len(expected), f"{where}: {len(actual)} items != {len(expected)}"
        for index, (one, other) in enumerate(zip(actual, expected, strict=True)):
            assert_same_data(one, other, f"{where}[{index}]")
    elif isinstance(expected, float):
        assert abs(actual - expected) <= _tolerance(expected), f"{where}: {actual!r} != {expected!r}"
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


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
    golden = path.read_text(encoding="utf-8")
    if path.suffix != ".json":
        assert result.stdout == golden
        return
    assert_same_data(json.loads(result.stdout), json.loads(golden))
    assert NUMBER.sub("#", result.stdout) == NUMBER.sub("#", golden)  # the same layout, numbers aside
