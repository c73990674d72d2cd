"""Run state: the last ranking is written whole and atomically; failures are one clear error."""

from __future__ import annotations

import pytest

from recommender import paths
from recommender.schema import Paper, PaperrecError
from recommender.state import load_last_ranking, save_last_ranking

P1 = Paper.make("One", "2101.00001", "Abstract.")


def test_last_ranking_round_trip_and_write_failure(home, monkeypatch):
    save_last_ranking([P1], [("/profiles/sr.toml", [])])
    assert load_last_ranking().papers == (P1,)
    before = paths.last_ranking_path().read_text()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(paths.os, "replace", full_disk)
    with pytest.raises(PaperrecError, match=r"cannot write the last ranking .*No space left"):
        save_last_ranking([], [])
    assert paths.last_ranking_path().read_text() == before
    assert [f.name for f in paths.state_dir().iterdir()] == ["last_ranking.json"]
