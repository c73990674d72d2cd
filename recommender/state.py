"""Run state under PAPERREC_HOME: the last ranking shown, so `like 3` or `like ID` can find the paper."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from .paths import atomic_write_text, last_ranking_path
from .schema import Paper, PaperrecError, Pick, split_arxiv_id
from .sources import paper_from_record, paper_to_record


@dataclass(frozen=True)
class LastRanking:
    """What the last `rank` saw: the profile (as given), every candidate paper, and the ids shown in rank order."""

    profile: str
    papers: tuple[Paper, ...]
    pick_ids: tuple[str, ...]

    def paper(self, arxiv_id: str) -> Paper | None:
        """The candidate with this id, if the last ranking had it."""
        return next((p for p in self.papers if p.arxiv_id == arxiv_id), None)

    def by_rank(self, rank: int) -> Paper | None:
        """The paper shown at this 1-based rank."""
        if 1 <= rank <= len(self.pick_ids):
            return self.paper(self.pick_ids[rank - 1])
        return None


def save_last_ranking(profile: str, papers: Sequence[Paper], picks: Sequence[Pick]) -> None:
    """Remember the candidates and the picks of the ranking just shown."""
    data = {
        "profile": profile,
        "picks": [p.paper.arxiv_id for p in picks],
        "papers": [paper_to_record(p) for p in papers],
    }
    atomic_write_text(last_ranking_path(), json.dumps(data, ensure_ascii=False))


def load_last_ranking() -> LastRanking:
    """The last ranking shown; an error if there is none."""
    path = last_ranking_path()
    if not path.is_file():
        raise PaperrecError("no ranking shown yet: run 'paperrec rank' first or pass --listing FILE")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        papers = tuple(paper_from_record(r, str(path)) for r in data["papers"])
        return LastRanking(profile=data["profile"], papers=papers, pick_ids=tuple(data["picks"]))
    except (ValueError, KeyError, TypeError):
        raise PaperrecError(f"{path}: the saved last ranking is unreadable; run 'paperrec rank' again") from None


def find_papers(refs: Sequence[str], candidates: Sequence[Paper] | None = None) -> list[Paper]:
    """Resolve ids (any version suffix) or rank numbers of the last ranking to papers.

    With candidates (a listing) ids are looked up there; otherwise in the last ranking.
    """
    last = load_last_ranking() if candidates is None or any(r.strip().isdigit() for r in refs) else None
    pool = {p.arxiv_id: p for p in (candidates if candidates is not None else last.papers)}
    found: list[Paper] = []
    for ref in refs:
        ref = ref.strip()
        if ref.isdigit():
            paper = last.by_rank(int(ref)) if last else None
            if paper is None:
                raise PaperrecError(f"no pick #{ref} in the last ranking ({len(last.pick_ids)} shown)")
        else:
            split = split_arxiv_id(ref)
            key = split[0] if split else ref
            paper = pool.get(key)
            if paper is None:
                where = "the listing" if candidates is not None else "the last ranking"
                raise PaperrecError(f"paper {ref} is not in {where}; pass --listing FILE that contains it")
        found.append(paper)
    return found
