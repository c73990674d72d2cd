"""The bench protocol: a bench folder's days and lists, its (list, day) pairs, and a run of scorers over them."""

from __future__ import annotations

import json
import sys
import zlib
from bisect import bisect_left, bisect_right
from collections import OrderedDict, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from ..embed import CachedEmbedder
from ..profile import id_month
from ..schema import Paper, PaperrecError, UsageError, split_arxiv_id
from ..sources import iter_json_records, paper_from_record, read_listing
from ..sources.store import iter_stored
from .active_learning import active_scorers
from .cases import EvalCase, Scorer, aligned_scores, strategy_names, strategy_scorer, vectors_of
from .cold_start import cold_start_scorers
from .metrics import rank_ids, ranking_metrics
from .results import EvaluationResult

MAX_PROFILE = 300  # the most recent list papers kept in a profile
MIN_PROFILE = 5
MIN_CANDIDATES = 30
MIN_POSITIVES = 1
MAX_NEGATIVES = 200  # implicit negatives per pair, as in the bench README's reference runs
HISTORY_DAYS = 7
_DAY_CACHE_SIZE = 16  # days of parsed papers kept in memory


def _check_gap(profile_gap_days: int, fresh_profiles: bool = False) -> None:
    """Refuse a negative profile gap, and fresh profiles without a gap (they have nothing to be compared with)."""
    if profile_gap_days < 0:
        raise UsageError(f"--profile-gap-days must be 0 or more, not {profile_gap_days}")
    if fresh_profiles and profile_gap_days == 0:
        raise UsageError("--fresh-profiles needs --profile-gap-days above 0: it keeps the pairs that gap chose")


def _latest_profile_day(day: date, gap_days: int = 0) -> date:
    """The last first-seen day a profile paper of the day may have: gap_days before it, and never the day itself."""
    _check_gap(gap_days)
    return day - timedelta(days=max(gap_days, 1))


def evenly_spaced(items: Sequence[Any], n: int) -> list[Any]:
    """n items at indices round(i * (len - 1) / (n - 1)) (halves up); n = 1 gives the middle one (lower middle)."""
    count = len(items)
    if n <= 0 or count == 0:
        return []
    if count <= n:
        return list(items)
    if n == 1:
        return [items[(count - 1) // 2]]
    # Integer arithmetic for floor(i * (count - 1) / (n - 1) + 1/2), so no float rounding decides a day.
    return [items[(2 * i * (count - 1) + (n - 1)) // (2 * (n - 1))] for i in range(n)]


@dataclass
class Bench:
    """A bench folder: listing days, lists (name -> ids), each paper's first-seen day; day files read on demand."""

    root: Path
    days: tuple[date, ...]  # sorted
    lists: dict[str, frozenset[str]]
    first_seen: dict[str, date]
    day_ids: dict[date, frozenset[str]]  # candidates(day) as ids
    list_papers: dict[str, Paper]  # listed papers that are in some list, from their first-seen row
    files: dict[date, tuple[Path, ...]] = field(repr=False)
    library: dict[str, Paper] = field(default_factory=dict)  # list papers in no listing: titles only, see known()
    _cache: OrderedDict[date, tuple[Paper, ...]] = field(default_factory=OrderedDict, repr=False)
    _meta: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] | None = field(default=None, repr=False)

    @property
    def meta(self) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
        """Authors and categories by id, from papers-meta.jsonl (empty when the bench has none); read once."""
        if self._meta is None:
            self._meta = {}
            path = self.root / "papers-meta.jsonl"
            if path.is_file():
                with path.open(encoding="utf-8") as lines:
                    for line in lines:
                        if line.strip():
                            row = json.loads(line)
                            authors = tuple(str(a) for a in row.get("authors") or ())
                            categories = tuple(str(c) for c in row.get("categories") or ())
                            self._meta[str(row.get("id"))] = (authors, categories)
        return self._meta

    def with_meta(self, paper: Paper) -> Paper:
        """The paper with the authors and categories the bench's metadata gives it (a listing carries both)."""
        found = self.meta.get(paper.arxiv_id)
        if found is None or (paper.authors and paper.categories):
            return paper
        return replace(paper, authors=paper.authors or found[0], categories=paper.categories or found[1])

    def candidates(self, day: date) -> tuple[Paper, ...]:
        """All papers of a day (every category folder), deduplicated by id and sorted by id."""
        if day in self._cache:
            self._cache.move_to_end(day)
            return self._cache[day]
        if day not in self.files:
            raise PaperrecError(f"{self.root}: no listing for {day.isoformat()}")
        papers: dict[str, Paper] = {}
        for path in self.files[day]:
            for paper in read_listing(path, "jsonl").papers:
                papers.setdefault(paper.arxiv_id, paper)
        result = tuple(self.with_meta(papers[i]) for i in sorted(papers))
        self._cache[day] = result
        if len(self._cache) > _DAY_CACHE_SIZE:
            self._cache.popitem(last=False)
        return result

    def positives(self, name: str, day: date) -> frozenset[str]:
        """Ids of the day's candidates that are in the list."""
        return self.day_ids.get(day, frozenset()) & self.lists[name]

    def known(self, name: str, library: bool = False) -> dict[str, date]:
        """The day from which each of a list's papers may be in a profile: the day it was first seen in a listing.
        With `library`, also the list's titled papers in no listing, from the first day after their id's month
        (the bench README's optional id-month rule: an imported library, titles only)."""
        known = {i: self.first_seen[i] for i in self.lists[name] if i in self.first_seen}
        if library:
            known.update((i, self.library[i].date) for i in self.lists[name] if i in self.library)  # type: ignore[misc]
        return known

    def profile(
        self, name: str, day: date, max_papers: int = MAX_PROFILE, *, gap_days: int = 0, library: bool = False
    ) -> tuple[Paper, ...]:
        """List papers known at least gap_days before the day (not listed on it): the newest max_papers, oldest
        first. Gap 0 and gap 1 are the same profile: every paper known before the day."""
        latest = _latest_profile_day(day, gap_days)
        today = self.day_ids.get(day, frozenset())
        known = self.known(name, library)
        ids = [i for i, since in known.items() if since <= latest and i not in today]
        ids.sort(key=lambda i: (-known[i].toordinal(), i))
        kept = sorted(ids[:max_papers], key=lambda i: (known[i], i))
        return tuple(self.with_meta(self.list_papers[i]) if i in self.list_papers else self.library[i] for i in kept)

    def history(self, day: date, n_days: int = HISTORY_DAYS) -> tuple[Paper, ...]:
        """Papers of the n listing days before the day (deduplicated, none of the day's own), sorted by id."""
        before = self.days[max(0, bisect_left(self.days, day) - n_days) : bisect_left(self.days, day)]
        today = self.day_ids.get(day, frozenset())
        papers: dict[str, Paper] = {}
        for earlier in before:
            for paper in self.candidates(earlier):
                if paper.arxiv_id not in today:
                    papers.setdefault(paper.arxiv_id, paper)
        return tuple(papers[i] for i in sorted(papers))

    def eligible_days(
        self,
        name: str,
        *,
        min_positives: int = MIN_POSITIVES,
        min_profile: int = MIN_PROFILE,
        min_candidates: int = MIN_CANDIDATES,
        gap_days: int = 0,
        library: bool = False,
    ) -> list[date]:
        """Days with at least min_positives positives, min_profile profile papers (known at least gap_days before
        the day) and min_candidates candidates."""
        known = self.known(name, library)
        seen_days = sorted(known.values())
        eligible = []
        for day in self.days:
            positives = self.positives(name, day)
            if len(positives) < min_positives or len(self.day_ids.get(day, ())) < min_candidates:
                continue
            # Profile size without building it: list papers seen early enough, less those listed again today.
            latest = _latest_profile_day(day, gap_days)
            repeated = sum(1 for i in positives if known[i] <= latest)
            if bisect_right(seen_days, latest) - repeated >= min_profile:
                eligible.append(day)
        return eligible

    def pairs(
        self,
        days: int = 5,
        *,
        lists: Collection[str] | None = None,
        limit: int | None = None,
        min_profile: int = MIN_PROFILE,
        min_candidates: int = MIN_CANDIDATES,
        gap_days: int = 0,
        library: bool = False,
    ) -> list[tuple[str, date]]:
        """(list, day) pairs: `days` evenly spaced eligible days per list (eligible with profiles aged gap_days,
        library papers counted with `library`); `limit` keeps that many, lists in turn."""
        names = sorted(self.lists) if lists is None else list(lists)
        unknown = [n for n in names if n not in self.lists]
        if unknown:
            raise UsageError(f"unknown list {', '.join(unknown)}: choose from {', '.join(sorted(self.lists))}")
        chosen = {
            n: evenly_spaced(
                self.eligible_days(
                    n, min_profile=min_profile, min_candidates=min_candidates, gap_days=gap_days, library=library
                ),
                days,
            )
            for n in names
        }
        pairs = [(n, d) for n in names for d in chosen[n]]
        if limit is not None:
            # Round robin (each list's first day, then each list's second day...) so a short run still spans lists.
            turn = {(n, d): (k, names.index(n)) for n in names for k, d in enumerate(chosen[n])}
            pairs = sorted(sorted(pairs, key=turn.__getitem__)[:limit], key=lambda p: (names.index(p[0]), p[1]))
        return pairs


def _read_list(path: Path) -> dict[str, str]:
    """The arXiv ids (without version) of one list file with their titles ('' when absent); entries without a
    valid id are skipped."""
    titles: dict[str, str] = {}
    for _, record in iter_json_records(path):
        split = split_arxiv_id(str(record.get("id") or ""))
        if split:
            title = record.get("title")
            titles[split[0]] = titles.get(split[0]) or (" ".join(title.split()) if isinstance(title, str) else "")
    return titles


def _library_paper(arxiv_id: str, title: str) -> Paper | None:
    """A list paper in no listing as an imported library holds it: its title, known from the month after its id's."""
    month = id_month(arxiv_id)
    if month is None or not title:
        return None
    return Paper(arxiv_id=arxiv_id, title=title, date=(month + timedelta(days=31)).replace(day=1))


def load_bench(bench_dir: Path | str) -> Bench:
    """Scan a bench folder (listings/<category>/<YYYY-MM-DD>.jsonl, lists/<name>.jsonl): ids and days only."""
    root = Path(bench_dir)
    if not (root / "listings").is_dir() or not (root / "lists").is_dir():
        raise PaperrecError(f"{root}: not a bench folder (expected listings/ and lists/ inside)")
    titles = {path.stem: _read_list(path) for path in sorted((root / "lists").glob("*.jsonl"))}
    lists = {name: frozenset(found) for name, found in titles.items()}
    wanted = frozenset().union(*lists.values())
    files: dict[date, list[Path]] = defaultdict(list)
    for stored in iter_stored(root / "listings"):
        files[stored.day].append(stored.path)
    day_ids: dict[date, set[str]] = defaultdict(set)
    first_seen: dict[str, date] = {}
    list_papers: dict[str, Paper] = {}
    # Days in order, so the first row met for an id is its first-seen row.
    for day in sorted(files):
        for path in files[day]:
            for where, record in iter_json_records(path):
                split = split_arxiv_id(str(record.get("id") or ""))
                if split is None:
                    raise PaperrecError(f"{where}: missing or invalid 'id'")
                paper_id = split[0]
                day_ids[day].add(paper_id)
                if paper_id not in first_seen:
                    first_seen[paper_id] = day
                    if paper_id in wanted:
                        list_papers[paper_id] = paper_from_record(record, where)
    if not files:
        raise PaperrecError(f"{root}/listings: no <category>/<YYYY-MM-DD>.jsonl files")
    library = {
        i: paper
        for found in titles.values()
        for i, title in found.items()
        if i not in first_seen and (paper := _library_paper(i, title)) is not None
    }
    return Bench(
        root=root,
        days=tuple(sorted(files)),
        lists=lists,
        first_seen=first_seen,
        day_ids={d: frozenset(ids) for d, ids in day_ids.items()},
        list_papers=list_papers,
        files={d: tuple(paths) for d, paths in files.items()},
        library=library,
    )


def make_case(
    bench: Bench,
    name: str,
    day: date,
    embedder: CachedEmbedder,
    *,
    max_profile: int = MAX_PROFILE,
    history_days: int = HISTORY_DAYS,
    max_negatives: int = MAX_NEGATIVES,
    profile_gap_days: int = 0,
    library: bool = False,
) -> EvalCase:
    """Build the EvalCase of one (list, day) pair; history (<= max_negatives sampled) is embedded when first read."""
    candidates = bench.candidates(day)
    profile = bench.profile(name, day, max_profile, gap_days=profile_gap_days, library=library)
    candidate_vectors = embedder.embed_papers(candidates)  # (n_candidates, dim)
    dim = candidate_vectors.shape[1]

    def load_history() -> tuple[tuple[Paper, ...], np.ndarray]:
        papers = [p for p in bench.history(day, history_days) if p.arxiv_id not in bench.lists[name]]
        if len(papers) > max_negatives:  # a seeded sample keeps learners cheap and runs reproducible
            rng = np.random.default_rng(zlib.crc32(f"{name}|{day.isoformat()}".encode()))
            papers = [papers[i] for i in sorted(rng.choice(len(papers), max_negatives, replace=False))]
        return tuple(papers), vectors_of(embedder, papers, dim)

    return EvalCase(
        embedder=embedder,
        user_list=bench.lists[name],
        load_shown=lambda: bench.history(day, 1),
        list_name=name,
        day=day,
        profile=profile,
        profile_vectors=vectors_of(embedder, profile, dim),
        candidates=candidates,
        candidate_vectors=candidate_vectors,
        positives=bench.positives(name, day),
        load_history=load_history,
    )


def evaluate(
    bench: Bench,
    scorers: dict[str, Scorer],
    embedder: CachedEmbedder,
    *,
    days: int = 5,
    lists: Collection[str] | None = None,
    limit: int | None = None,
    max_profile: int = MAX_PROFILE,
    history_days: int = HISTORY_DAYS,
    progress: bool = True,
    profile_gap_days: int = 0,
    fresh_profiles: bool = False,
    library: bool = False,
) -> EvaluationResult:
    """Run every scorer on the bench's (list, day) pairs and collect one metric row per (scorer, pair).

    `profile_gap_days`: profiles hold only list papers first seen at least that many days before the day, and days
    are eligible by that profile. `fresh_profiles`: the same pairs, each with its fresh profile (gap 0).
    `library`: profiles also hold the list's papers in no listing, titles only (Bench.known)."""
    _check_gap(profile_gap_days, fresh_profiles)
    if not scorers:
        raise UsageError("no scorer to evaluate")
    pairs = bench.pairs(days, lists=lists, limit=limit, gap_days=profile_gap_days, library=library)
    if not pairs:
        aged = f" with profiles aged at least {profile_gap_days} days" if profile_gap_days else ""
        raise PaperrecError(f"{bench.root}: no eligible (list, day) pair{aged}")
    built_gap = 0 if fresh_profiles else profile_gap_days
    from tqdm import tqdm

    rows: list[dict[str, Any]] = []
    calibration: dict[str, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
    for name, day in tqdm(pairs, desc="evaluating", unit="pair", file=sys.stderr, disable=not progress):
        case = make_case(
            bench,
            name,
            day,
            embedder,
            max_profile=max_profile,
            history_days=history_days,
            profile_gap_days=built_gap,
            library=library,
        )
        for scorer_name, scorer in scorers.items():
            scores, matches = aligned_scores(scorer(case), case)
            if matches is not None:
                labels = np.array([p.arxiv_id in case.positives for p in case.candidates], dtype=np.float64)
                calibration[scorer_name].append((matches, labels))
                top = np.lexsort((np.array([p.arxiv_id for p in case.candidates]), -scores))[:10]
                calibration[f"{scorer_name} top 10"].append((matches[top], labels[top]))
            if scores.shape != (len(case.candidates),):
                raise PaperrecError(
                    f"scorer {scorer_name!r} returned shape {scores.shape} for {len(case.candidates)} candidates"
                )
            row = {
                "scorer": scorer_name,
                "list": name,
                "day": day.isoformat(),
                "n_candidates": len(case.candidates),
                "n_positives": len(case.positives),
                "n_profile": len(case.profile),
            }
            rows.append(row | ranking_metrics(rank_ids(case.candidates, scores), case.positives))
    protocol = {
        "days_per_list": days,
        "lists": sorted({n for n, _ in pairs}),
        "limit": limit,
        "max_profile": max_profile,
        "min_profile": MIN_PROFILE,
        "min_candidates": MIN_CANDIDATES,
        "negatives": "the day's other papers, as rank",
        "pair_gap_days": profile_gap_days,  # the profile gap that made days eligible and chose the pairs
        "profile_gap_days": built_gap,  # the profile gap the scored profiles were built with
        "library_titles": library,  # profiles also hold list papers in no listing, titles only
        "lists_without_pairs": [
            n
            for n in (sorted(bench.lists) if lists is None else list(lists))
            if not bench.eligible_days(n, gap_days=profile_gap_days, library=library)
        ],
    }
    joined = {k: (np.concatenate([m for m, _ in v]), np.concatenate([y for _, y in v])) for k, v in calibration.items()}
    return EvaluationResult(rows=rows, scorers=tuple(scorers), protocol=protocol, calibration=joined)


def evaluate_bench(
    bench_dir: Path | str,
    embedder: CachedEmbedder,
    *,
    strategies: Sequence[str] | None = None,
    days: int = 5,
    lists: Collection[str] | None = None,
    limit: int | None = None,
    progress: bool = False,
    cold_start: bool = False,
    active: int | None = None,
    profile_gap_days: int = 0,
    fresh_profiles: bool = False,
    library: bool = False,
) -> EvaluationResult:
    """Replay a bench folder for strategies (default: all) through score_listing, as `rank` runs them, and collect
    their metrics per (list, day) pair. `cold_start`: the default strategy and the centroid on profiles of an
    interest sentence and of 1, 3, 5, 10 likes; `active`: that many suggested ratings against as many random ones.
    `profile_gap_days`: aged profiles, only list papers first seen at least that many days before the day (days are
    eligible by them); `fresh_profiles`: the pairs that gap chose, with fresh profiles (a paired comparison);
    `library`: profiles also hold the list's papers that are in no listing, titles only, from the month after their
    id's month (an imported library: with a gap, likes from before the bench's days)."""
    _check_gap(profile_gap_days, fresh_profiles)
    bench = load_bench(bench_dir)
    if cold_start:
        scorers = cold_start_scorers(strategy_names(strategies) if strategies else ("centroid", "hybrid"))
    elif active is not None:
        if active < 1:
            raise UsageError("--active must be at least 1")
        scorers = active_scorers(active)
    else:
        scorers = {name: strategy_scorer(name) for name in strategy_names(strategies)}
    return evaluate(
        bench,
        scorers,
        embedder,
        days=days,
        lists=lists,
        limit=limit,
        progress=progress,
        profile_gap_days=profile_gap_days,
        fresh_profiles=fresh_profiles,
        library=library,
    )
