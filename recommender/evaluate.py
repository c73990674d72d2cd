"""Metrics and the bench protocol: load a bench folder, pick (list, day) pairs, score them, bootstrap the averages."""

from __future__ import annotations

import json
import re
import sys
import zlib
from bisect import bisect_left
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from pathlib import Path
from statistics import median
from typing import TYPE_CHECKING, Any

import numpy as np

from .embed import CachedEmbedder
from .profile import Profile, ProfilePaper
from .rank import Scored, Strategy, get_strategy, score_listing
from .rank.calibrate import expected_calibration_error, reliability_table
from .schema import Listing, Paper, PaperrecError, UsageError, split_arxiv_id
from .sources import iter_json_records, paper_from_record, read_listing
from .sources.store import iter_stored, listing_files

if TYPE_CHECKING:
    import pandas as pd

MAX_PROFILE = 300  # the most recent list papers kept in a profile
MIN_PROFILE = 5
MIN_CANDIDATES = 30
MIN_POSITIVES = 1
MAX_NEGATIVES = 200  # implicit negatives per pair, as in the bench README's reference runs
HISTORY_DAYS = 7
METRICS = ("ndcg@10", "recall@10", "recall@25", "map", "mrr")
METRIC_TITLES = {"ndcg@10": "nDCG@10", "recall@10": "recall@10", "recall@25": "recall@25", "map": "MAP", "mrr": "MRR"}
_DAY_CACHE_SIZE = 16  # days of parsed papers kept in memory


# ---------------------------------------------------------------------------------------------------------------
# Metrics: pure functions of a ranked list of ids and the set of positive ids.


def _hits(ranked: Sequence[str], positives: Collection[str]) -> np.ndarray:
    """Boolean relevance of each ranked id."""
    return np.fromiter((paper_id in positives for paper_id in ranked), dtype=bool, count=len(ranked))


def ndcg_at_k(ranked: Sequence[str], positives: Collection[str], k: int = 10) -> float:
    """nDCG@k with binary gains and a log2 discount; the ideal ranking puts min(k, |positives|) hits first."""
    if not positives:
        return 0.0
    discounts = 1.0 / np.log2(np.arange(2, k + 2))  # (k,)
    hits = _hits(ranked[:k], positives)
    ideal = discounts[: min(k, len(positives))].sum()
    return float(discounts[: len(hits)][hits].sum() / ideal)


def recall_at_k(ranked: Sequence[str], positives: Collection[str], k: int = 10) -> float:
    """Share of the positives found in the top k."""
    if not positives:
        return 0.0
    return float(_hits(ranked[:k], positives).sum() / len(positives))


def average_precision(ranked: Sequence[str], positives: Collection[str]) -> float:
    """Mean of precision at each positive's rank; positives never ranked count as zero."""
    if not positives:
        return 0.0
    ranks = np.flatnonzero(_hits(ranked, positives)) + 1  # 1-based ranks of the hits
    return float((np.arange(1, len(ranks) + 1) / ranks).sum() / len(positives))


def reciprocal_rank(ranked: Sequence[str], positives: Collection[str]) -> float:
    """1 / the rank of the first positive, 0 when none is ranked."""
    for rank, paper_id in enumerate(ranked, start=1):
        if paper_id in positives:
            return 1.0 / rank
    return 0.0


def ranking_metrics(ranked: Sequence[str], positives: Collection[str]) -> dict[str, float]:
    """All the metrics of METRICS for one ranked list."""
    return {
        "ndcg@10": ndcg_at_k(ranked, positives, 10),
        "recall@10": recall_at_k(ranked, positives, 10),
        "recall@25": recall_at_k(ranked, positives, 25),
        "map": average_precision(ranked, positives),
        "mrr": reciprocal_rank(ranked, positives),
    }


def rank_ids(papers: Sequence[Paper], scores: np.ndarray) -> list[str]:
    """Paper ids ordered by (-score, id)."""
    ids = np.array([p.arxiv_id for p in papers])
    return [str(ids[i]) for i in np.lexsort((ids, -np.asarray(scores, dtype=np.float64)))]


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


# ---------------------------------------------------------------------------------------------------------------
# The bench: listing days, lists, first-seen days; day files are parsed lazily.


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

    def profile(self, name: str, day: date, max_papers: int = MAX_PROFILE) -> tuple[Paper, ...]:
        """List papers first seen before the day (not listed on it): the newest max_papers, oldest first."""
        today = self.day_ids.get(day, frozenset())
        known = [i for i in self.lists[name] if i in self.first_seen and self.first_seen[i] < day and i not in today]
        known.sort(key=lambda i: (-self.first_seen[i].toordinal(), i))
        kept = sorted(known[:max_papers], key=lambda i: (self.first_seen[i], i))
        return tuple(self.with_meta(self.list_papers[i]) for i in kept)

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
    ) -> list[date]:
        """Days with at least min_positives positives, min_profile profile papers and min_candidates candidates."""
        ids = self.lists[name]
        seen_days = sorted(self.first_seen[i] for i in ids if i in self.first_seen)
        eligible = []
        for day in self.days:
            positives = self.positives(name, day)
            if len(positives) < min_positives or len(self.day_ids.get(day, ())) < min_candidates:
                continue
            # Profile size without building it: list papers seen before the day, less those listed again today.
            repeated = sum(1 for i in positives if self.first_seen[i] < day)
            if bisect_left(seen_days, day) - repeated >= min_profile:
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
    ) -> list[tuple[str, date]]:
        """(list, day) pairs: `days` evenly spaced eligible days per list; `limit` keeps that many, lists in turn."""
        names = sorted(self.lists) if lists is None else list(lists)
        unknown = [n for n in names if n not in self.lists]
        if unknown:
            raise UsageError(f"unknown list {', '.join(unknown)}: choose from {', '.join(sorted(self.lists))}")
        chosen = {
            n: evenly_spaced(self.eligible_days(n, min_profile=min_profile, min_candidates=min_candidates), days)
            for n in names
        }
        pairs = [(n, d) for n in names for d in chosen[n]]
        if limit is not None:
            # Round robin (each list's first day, then each list's second day...) so a short run still spans lists.
            turn = {(n, d): (k, names.index(n)) for n in names for k, d in enumerate(chosen[n])}
            pairs = sorted(sorted(pairs, key=turn.__getitem__)[:limit], key=lambda p: (names.index(p[0]), p[1]))
        return pairs


def _read_list(path: Path) -> frozenset[str]:
    """The arXiv ids (without version) of one list file; entries without a valid id are skipped."""
    ids = set()
    for _, record in iter_json_records(path):
        split = split_arxiv_id(str(record.get("id") or ""))
        if split:
            ids.add(split[0])
    return frozenset(ids)


def load_bench(bench_dir: Path | str) -> Bench:
    """Scan a bench folder (listings/<category>/<YYYY-MM-DD>.jsonl, lists/<name>.jsonl): ids and days only."""
    root = Path(bench_dir)
    if not (root / "listings").is_dir() or not (root / "lists").is_dir():
        raise PaperrecError(f"{root}: not a bench folder (expected listings/ and lists/ inside)")
    lists = {path.stem: _read_list(path) for path in sorted((root / "lists").glob("*.jsonl"))}
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
    return Bench(
        root=root,
        days=tuple(sorted(files)),
        lists=lists,
        first_seen=first_seen,
        day_ids={d: frozenset(ids) for d, ids in day_ids.items()},
        list_papers=list_papers,
        files={d: tuple(paths) for d, paths in files.items()},
    )


# ---------------------------------------------------------------------------------------------------------------
# Cases and scorers.


def _embed(embedder: CachedEmbedder, papers: Sequence[Paper], dim: int) -> np.ndarray:
    """Vectors of the papers, (0, dim) when there are none."""
    return embedder.embed_papers(papers) if papers else np.zeros((0, dim), dtype=np.float32)


@dataclass(frozen=True, eq=False)
class EvalCase:
    """One (list, day) pair as a scorer sees it; `positives` is for the runner only, a scorer must not read it."""

    list_name: str
    day: date
    profile: tuple[Paper, ...]  # oldest first; paper.date is its announcement day
    profile_vectors: np.ndarray  # (n_profile, dim)
    candidates: tuple[Paper, ...]  # sorted by id
    candidate_vectors: np.ndarray  # (n_candidates, dim)
    positives: frozenset[str]
    load_history: Callable[[], tuple[tuple[Paper, ...], np.ndarray]] = field(repr=False)
    embedder: CachedEmbedder | None = field(default=None, repr=False)
    user_list: frozenset[str] = frozenset()  # every id of the list (the oracle of a simulated rating)
    load_shown: Callable[[], tuple[Paper, ...]] = field(default=lambda: (), repr=False)

    @property
    def listing(self) -> Listing:
        """The day as `rank` sees it: every candidate, dated the day."""
        return Listing(papers=self.candidates, date=self.day)

    def user_profile(self, papers: Sequence[Paper] | None = None, **settings: Any) -> Profile:
        """The pair as a user's profile: the list's earlier papers liked on the day each was first seen.

        Its name is unique to the pair, so no pair ever reads another's stored model."""
        chosen = self.profile if papers is None else tuple(papers)
        liked = tuple(ProfilePaper(p, p.date or self.day) for p in chosen)
        return Profile(name=f"bench {self.list_name} {self.day.isoformat()}", liked=liked, **settings)

    @cached_property
    def shown(self) -> tuple[Paper, ...]:
        """The papers of the listing day before the pair's day (a stored earlier day), none of the day's own."""
        return self.load_shown()

    @cached_property
    def _history(self) -> tuple[tuple[Paper, ...], np.ndarray]:
        return self.load_history()

    @property
    def history(self) -> tuple[Paper, ...]:
        """Papers shown on the preceding days that are not in the list (implicit negatives); embedded on first use."""
        return self._history[0]

    @property
    def history_vectors(self) -> np.ndarray:
        """Vectors of `history`, (n_history, dim)."""
        return self._history[1]


Scorer = Callable[[EvalCase], np.ndarray]


def make_case(
    bench: Bench,
    name: str,
    day: date,
    embedder: CachedEmbedder,
    *,
    max_profile: int = MAX_PROFILE,
    history_days: int = HISTORY_DAYS,
    max_negatives: int = MAX_NEGATIVES,
) -> EvalCase:
    """Build the EvalCase of one (list, day) pair; history (<= max_negatives sampled) is embedded when first read."""
    candidates = bench.candidates(day)
    profile = bench.profile(name, day, max_profile)
    candidate_vectors = embedder.embed_papers(candidates)  # (n_candidates, dim)
    dim = candidate_vectors.shape[1]

    def load_history() -> tuple[tuple[Paper, ...], np.ndarray]:
        papers = [p for p in bench.history(day, history_days) if p.arxiv_id not in bench.lists[name]]
        if len(papers) > max_negatives:  # a seeded sample keeps learners cheap and runs reproducible
            rng = np.random.default_rng(zlib.crc32(f"{name}|{day.isoformat()}".encode()))
            papers = [papers[i] for i in sorted(rng.choice(len(papers), max_negatives, replace=False))]
        return tuple(papers), _embed(embedder, papers, dim)

    return EvalCase(
        embedder=embedder,
        user_list=bench.lists[name],
        load_shown=lambda: bench.history(day, 1),
        list_name=name,
        day=day,
        profile=profile,
        profile_vectors=_embed(embedder, profile, dim),
        candidates=candidates,
        candidate_vectors=candidate_vectors,
        positives=bench.positives(name, day),
        load_history=load_history,
    )


def centroid_scorer(case: EvalCase) -> np.ndarray:
    """Cosine to the mean of the profile vectors (the baseline)."""
    mean = case.profile_vectors.mean(axis=0)  # (dim,)
    return case.candidate_vectors @ (mean / max(float(np.linalg.norm(mean)), 1e-12))


def random_scorer(case: EvalCase) -> np.ndarray:
    """Random scores, seeded by the pair, so a run is reproducible."""
    rng = np.random.default_rng(zlib.crc32(f"{case.list_name}|{case.day.isoformat()}".encode()))
    return rng.random(len(case.candidates))


# ---------------------------------------------------------------------------------------------------------------
# Results: per-pair rows, per-list and macro averages, bootstrap intervals.


def _bootstrap_macro(groups: list[np.ndarray], n_resamples: int, seed: int) -> np.ndarray:
    """Macro means over resampled lists, and resampled pairs within each: (n_resamples, n_metrics)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n_resamples, groups[0].shape[1]))
    for r in range(n_resamples):
        chosen = rng.integers(0, len(groups), len(groups))
        out[r] = np.mean([groups[g][rng.integers(0, len(groups[g]), len(groups[g]))].mean(axis=0) for g in chosen], 0)
    return out


@dataclass(frozen=True)
class EvaluationResult:
    """Per-(scorer, list, day) metric rows and the averages and intervals built from them."""

    rows: list[dict[str, Any]]
    scorers: tuple[str, ...]
    protocol: dict[str, Any] = field(default_factory=dict)
    # per scorer that gives a match: every candidate's match and whether the list holds it, over all pairs
    calibration: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def ece(self, scorer: str) -> float | None:
        """Expected calibration error of a scorer's match over every candidate of every pair (None: no match)."""
        if scorer not in self.calibration:
            return None
        return expected_calibration_error(*self.calibration[scorer])

    def reliability(self, scorer: str) -> list[dict[str, float]]:
        """The reliability table of a scorer's match (empty when it gives none)."""
        return reliability_table(*self.calibration[scorer]) if scorer in self.calibration else []

    @property
    def lists(self) -> list[str]:
        """The list names evaluated, sorted."""
        return sorted({row["list"] for row in self.rows})

    def _check(self, scorer: str) -> None:
        if scorer not in self.scorers:
            raise UsageError(f"unknown scorer {scorer!r}: choose one of {', '.join(self.scorers)}")

    def _groups(self, scorer: str, metrics: Sequence[str] = METRICS) -> dict[str, np.ndarray]:
        """Per list, the (n_pairs, n_metrics) values of one scorer, pairs in day order."""
        self._check(scorer)
        values: dict[str, list[list[float]]] = defaultdict(list)
        for row in sorted(self.rows, key=lambda r: (r["list"], r["day"])):
            if row["scorer"] == scorer:
                values[row["list"]].append([row[m] for m in metrics])
        return {name: np.array(rows, dtype=np.float64) for name, rows in sorted(values.items())}

    def per_list(self, scorer: str) -> dict[str, dict[str, float]]:
        """Mean of each metric over each list's pairs."""
        return {
            name: dict(zip(METRICS, map(float, values.mean(axis=0)), strict=True))
            for name, values in self._groups(scorer).items()
        }

    def macro(self, scorer: str) -> dict[str, float]:
        """Mean over lists of the per-list means."""
        means = np.array([values.mean(axis=0) for values in self._groups(scorer).values()])  # (n_lists, n_metrics)
        return dict(zip(METRICS, map(float, means.mean(axis=0)), strict=True))

    def confidence_intervals(
        self, scorer: str, *, n_resamples: int = 1000, seed: int = 0, level: float = 0.95
    ) -> dict[str, tuple[float, float]]:
        """Bootstrap percentile intervals of the macro averages (lists resampled, then pairs within lists)."""
        samples = _bootstrap_macro(list(self._groups(scorer).values()), n_resamples, seed)
        low, high = np.percentile(samples, [50 * (1 - level), 50 * (1 + level)], axis=0)
        return {m: (float(lo), float(hi)) for m, lo, hi in zip(METRICS, low, high, strict=True)}

    def compare(
        self, a: str, b: str, metric: str = "ndcg@10", *, n_resamples: int = 1000, seed: int = 0, level: float = 0.95
    ) -> dict[str, float]:
        """Macro `metric` of a minus b on the same pairs, with a paired bootstrap interval."""
        if metric not in METRICS:
            raise UsageError(f"unknown metric {metric!r}: choose one of {', '.join(METRICS)}")
        for scorer in (a, b):
            self._check(scorer)
        keyed = {s: {(r["list"], r["day"]): r[metric] for r in self.rows if r["scorer"] == s} for s in (a, b)}
        if keyed[a].keys() != keyed[b].keys():
            raise PaperrecError(f"scorers {a!r} and {b!r} were not run on the same pairs")
        differences: dict[str, list[float]] = defaultdict(list)
        for key in sorted(keyed[a]):
            differences[key[0]].append(keyed[a][key] - keyed[b][key])
        groups = [np.array(values)[:, None] for _, values in sorted(differences.items())]
        samples = _bootstrap_macro(groups, n_resamples, seed)[:, 0]
        low, high = np.percentile(samples, [50 * (1 - level), 50 * (1 + level)])
        difference = float(np.mean([g.mean() for g in groups]))
        return {"metric": metric, "difference": difference, "low": float(low), "high": float(high)}

    def to_dataframe(self) -> pd.DataFrame:
        """The rows as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.rows)

    def to_json(self, *, n_resamples: int = 1000, seed: int = 0) -> dict[str, Any]:
        """Protocol, per-scorer macro averages with 95% intervals and per-list means, and the rows."""
        return {
            "protocol": self.protocol,
            "pairs": len({(r["list"], r["day"]) for r in self.rows}),
            "lists": len(self.lists),
            "scorers": {
                s: {
                    "macro": self.macro(s),
                    "ci95": {
                        m: list(v) for m, v in self.confidence_intervals(s, n_resamples=n_resamples, seed=seed).items()
                    },
                    "per_list": self.per_list(s),
                }
                for s in self.scorers
            },
            "calibration": {s: {"ece": self.ece(s), "reliability": self.reliability(s)} for s in self.calibration},
            "rows": self.rows,
        }

    def format_table(self, *, n_resamples: int = 1000, seed: int = 0, baseline: str | None = None) -> str:
        """Plain text: scorer x metric (macro, 95% interval), per-list nDCG@10, and differences to a baseline."""
        width = max(len(s) for s in [*self.scorers, "scorer"])
        pairs = len({(r["list"], r["day"]) for r in self.rows})
        lines = [f"{pairs} pairs over {len(self.lists)} lists; macro averages over lists, [95% bootstrap interval]"]
        lines.append((f"{'scorer':<{width}}  " + "  ".join(f"{METRIC_TITLES[m]:<21}" for m in METRICS)).rstrip())
        for s in self.scorers:
            macro, ci = self.macro(s), self.confidence_intervals(s, n_resamples=n_resamples, seed=seed)
            cells = [f"{macro[m]:.3f} [{ci[m][0]:.3f}, {ci[m][1]:.3f}]" for m in METRICS]
            lines.append((f"{s:<{width}}  " + "  ".join(f"{c:<21}" for c in cells)).rstrip())
        lines.append("")
        name_width = max(len(n) for n in [*self.lists, "nDCG@10 per list"])
        columns = [max(len(s), 5) for s in self.scorers]
        header = "  ".join(f"{s:>{w}}" for s, w in zip(self.scorers, columns, strict=True))
        lines.append(f"{'nDCG@10 per list':<{name_width}}  pairs  {header}")
        per_list = {s: self.per_list(s) for s in self.scorers}
        counts = {n: len({r["day"] for r in self.rows if r["list"] == n}) for n in self.lists}
        for name in self.lists:
            values = "  ".join(
                f"{per_list[s][name]['ndcg@10']:>{w}.3f}" for s, w in zip(self.scorers, columns, strict=True)
            )
            lines.append(f"{name:<{name_width}}  {counts[name]:>5}  {values}")
        if self.calibration:
            lines += ["", "match calibration over every candidate: expected calibration error (10 bins)"]
            lines += [
                f"{s:<{width}}  ECE {self.ece(s):.4f}  (its top 10 of each pair: {self.ece(s + ' top 10'):.4f})"
                for s in self.scorers
                if s in self.calibration
            ]
            shown = "hybrid" if "hybrid" in self.calibration else next(iter(self.calibration))
            lines += ["", f"reliability of {shown}'s match: bin, papers, mean match, share liked"]
            for row in self.reliability(shown):
                bin_range = f"{row['low']:.1f}-{row['high']:.1f}"
                lines.append(f"  {bin_range}  {row['papers']:>7}  {row['mean_match']:.3f}  {row['liked']:.3f}")
        others = [s for s in self.scorers if s != baseline] if baseline in self.scorers else []
        if others:
            lines += ["", f"nDCG@10 minus {baseline} on the same pairs [95% paired bootstrap interval]"]
            for s in others:
                d = self.compare(s, baseline, n_resamples=n_resamples, seed=seed)
                relative = d["difference"] / self.macro(baseline)["ndcg@10"] if self.macro(baseline)["ndcg@10"] else 0
                lines.append(
                    f"{s:<{width}}  {d['difference']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]  ({relative:+.1%})"
                )
        return "\n".join(lines) + "\n"


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
) -> EvaluationResult:
    """Run every scorer on the bench's (list, day) pairs and collect one metric row per (scorer, pair)."""
    if not scorers:
        raise UsageError("no scorer to evaluate")
    pairs = bench.pairs(days, lists=lists, limit=limit)
    if not pairs:
        raise PaperrecError(f"{bench.root}: no eligible (list, day) pair")
    from tqdm import tqdm

    rows: list[dict[str, Any]] = []
    calibration: dict[str, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
    for name, day in tqdm(pairs, desc="evaluating", unit="pair", file=sys.stderr, disable=not progress):
        case = make_case(bench, name, day, embedder, max_profile=max_profile, history_days=history_days)
        for scorer_name, scorer in scorers.items():
            scores, matches = _aligned(scorer(case), case)
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
    }
    joined = {k: (np.concatenate([m for m, _ in v]), np.concatenate([y for _, y in v])) for k, v in calibration.items()}
    return EvaluationResult(rows=rows, scorers=tuple(scorers), protocol=protocol, calibration=joined)


def _aligned(result: np.ndarray | Scored, case: EvalCase) -> tuple[np.ndarray, np.ndarray | None]:
    """A scorer's scores (and matches, from a Scored) in the case's candidate order; unscored papers rank last."""
    if not isinstance(result, Scored):
        return np.asarray(result, dtype=np.float64), None
    index = {p.arxiv_id: i for i, p in enumerate(result.candidates)}
    rows = [index.get(p.arxiv_id) for p in case.candidates]
    scores = np.array([-np.inf if i is None else result.scores[i] for i in rows], dtype=np.float64)
    matches = np.array([0.0 if i is None else result.matches[i] for i in rows], dtype=np.float64)
    return scores, matches


# ---------------------------------------------------------------------------------------------------------------
# Backtest of a user's own profile on stored listings.


def backtest(
    liked: list[tuple[Paper, date]], listings: list[Listing], scorer: Scorer, embedder: CachedEmbedder
) -> list[dict[str, Any]]:
    """Hide each liked paper found in a listing and report its rank on that day against the likes known before it."""
    found: dict[str, tuple[date, Listing]] = {}
    for listing in listings:
        for paper in listing.papers:
            day = listing.date or paper.date
            if day is not None and (paper.arxiv_id not in found or day < found[paper.arxiv_id][0]):
                found[paper.arxiv_id] = (day, listing)
    liked_ids = {p.arxiv_id for p, _ in liked}
    rows = []
    for target, _ in liked:
        if target.arxiv_id not in found:
            continue
        day, listing = found[target.arxiv_id]
        # Known on the day: liked before it, or announced before it; never the hidden paper itself.
        profile = tuple(
            p
            for p, added in liked
            if p.arxiv_id != target.arxiv_id and (added < day or (p.date is not None and p.date < day))
        )
        row: dict[str, Any] = {"id": target.arxiv_id, "title": target.title, "day": day.isoformat()}
        unique = {p.arxiv_id: p for p in reversed(listing.papers)}  # first occurrence wins
        known = {p.arxiv_id for p in profile}  # as in recommend(): profile papers are never candidates
        candidates = tuple(unique[i] for i in sorted(unique) if i not in known)
        row |= {"n_candidates": len(candidates), "n_profile": len(profile), "rank": None}
        if not profile:
            rows.append(row)
            continue
        candidate_vectors = embedder.embed_papers(candidates)
        dim = candidate_vectors.shape[1]
        earlier = tuple(
            {
                p.arxiv_id: p
                for other in listings
                if (other.date or day) < day
                for p in other.papers
                if p.arxiv_id not in liked_ids
            }.values()
        )
        case = EvalCase(
            embedder=embedder,
            list_name="backtest",
            day=day,
            profile=profile,
            profile_vectors=_embed(embedder, profile, dim),
            candidates=candidates,
            candidate_vectors=candidate_vectors,
            positives=frozenset({target.arxiv_id}),
            load_history=lambda earlier=earlier, dim=dim: (earlier, _embed(embedder, earlier, dim)),
        )
        ranked = rank_ids(candidates, _aligned(scorer(case), case)[0])
        row["rank"] = ranked.index(target.arxiv_id) + 1
        rows.append(row)
    return rows


def strategy_names(strategies: Sequence[str] | None = None) -> list[str]:
    """The strategies asked for (checked, duplicates dropped), or every registered one."""
    from .rank import STRATEGIES

    names = list(dict.fromkeys(strategies or STRATEGIES))
    for name in names:
        get_strategy(name)
    return names


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
) -> EvaluationResult:
    """Replay a bench folder for strategies (default: all) through score_listing, as `rank` runs them, and collect
    their metrics per (list, day) pair. `cold_start`: the default strategy and the centroid on profiles of an
    interest sentence and of 1, 3, 5, 10 likes; `active`: that many suggested ratings against as many random ones."""
    bench = load_bench(bench_dir)
    if cold_start:
        scorers = cold_start_scorers(strategy_names(strategies) if strategies else ("centroid", "hybrid"))
    elif active is not None:
        if active < 1:
            raise UsageError("--active must be at least 1")
        scorers = active_scorers(active)
    else:
        scorers = {name: strategy_scorer(name) for name in strategy_names(strategies)}
    return evaluate(bench, scorers, embedder, days=days, lists=lists, limit=limit, progress=progress)


def backtest_profile(
    profile: Path | str,
    embedder: CachedEmbedder,
    *,
    strategies: Sequence[str] | None = None,
    listings: Path | None = None,
) -> dict[str, dict[str, Any]]:
    """Backtest a profile's likes on stored listings, per strategy: {name: {"summary": ..., "papers": rows}}."""
    from .paths import listings_dir, resolve_profile
    from .profile import load_profile

    names = strategy_names(strategies)
    loaded = load_profile(resolve_profile(str(profile)))
    folder = listings or listings_dir()
    stored = [read_listing(f) for f in listing_files(folder)]
    if not stored:
        raise PaperrecError(f"no stored listings in {folder}: run 'paperrec fetch' or pass --listings FOLDER")
    liked = [(p.paper, p.added) for p in loaded.liked]
    report = {}
    for name in names:
        rows = backtest(liked, stored, strategy_scorer(name), embedder)
        report[name] = {"summary": backtest_summary(rows), "papers": rows}
    return report


def backtest_summary(rows: list[dict[str, Any]], k: int = 10) -> dict[str, Any]:
    """Papers ranked, their median rank, and how many were in the top k."""
    ranks = [row["rank"] for row in rows if row["rank"] is not None]
    return {
        "papers": len(ranks),
        "median_rank": float(median(ranks)) if ranks else None,
        f"hits@{k}": sum(1 for r in ranks if r <= k),
    }


def strategy_scorer(strategy: str | Strategy, *, shown_negatives: bool = False) -> Callable[[EvalCase], Scored]:
    """A scorer that runs a strategy on a bench case exactly as `rank` would: score_listing on the day's listing with
    the pair's profile (its model fitted for the pair, never stored). `shown_negatives` adds the papers of the
    listing day before as implicit negatives (a negative policy measured against the default)."""
    chosen = get_strategy(strategy)

    def scorer(case: EvalCase) -> Scored:
        return product_scores(case, case.user_profile(), chosen, shown=case.shown if shown_negatives else ())

    return scorer


def product_scores(case: EvalCase, profile: Profile, strategy: str | Strategy, shown: Sequence[Paper] = ()) -> Scored:
    """score_listing of the case's day for a profile, as `rank` runs it (no stored model)."""
    if case.embedder is None:
        raise PaperrecError("this case has no embedder: build it with make_case")
    return score_listing(case.listing, profile, case.embedder, strategy=strategy, store=False, history=shown)


# ---------------------------------------------------------------------------------------------------------------
# Cold start and active learning: small profiles on the same pairs.

COLD_START_SIZES = (0, 1, 3, 5, 10)  # 0: the interest sentence alone
_ACRONYMS = {
    "llm": "large language model",
    "llms": "large language models",
    "mllm": "multimodal large language model",
    "lm": "language model",
    "ml": "machine learning",
    "rl": "reinforcement learning",
    "cot": "chain-of-thought",
    "rag": "retrieval-augmented generation",
    "vla": "vision-language-action",
    "vln": "vision-language navigation",
}


def topic_of(list_name: str) -> str:
    """A list's topic in a few words, from its name: 'rl-reasoning-mllm' -> 'reinforcement learning reasoning
    multimodal large language model' (common acronyms spelled out, as a user would type the interest)."""
    words = [w for w in re.split(r"[-_\s]+", list_name.lower()) if w]
    return " ".join(_ACRONYMS.get(w, w) for w in words)


def small_profile(case: EvalCase, size: int, **settings: Any) -> Profile:
    """The pair's profile cut to its `size` most recent likes; size 0: only an interest sentence, the list's topic."""
    if size == 0:
        return case.user_profile((), interests=(topic_of(case.list_name),), **settings)
    return case.user_profile(case.profile[-size:], **settings)


def cold_start_scorers(
    strategies: Sequence[str | Strategy] = ("centroid", "hybrid"), sizes: Sequence[int] = COLD_START_SIZES
) -> dict[str, Callable[[EvalCase], Scored]]:
    """Scorers named 'strategy@size' ('@interest' for size 0, '@full' for the whole profile)."""

    def make(strategy: str | Strategy, size: int | None) -> Callable[[EvalCase], Scored]:
        def scorer(case: EvalCase) -> Scored:
            profile = case.user_profile() if size is None else small_profile(case, size)
            return product_scores(case, profile, strategy)

        return scorer

    scorers = {}
    for size in [*sizes, None]:
        label = "full" if size is None else "interest" if size == 0 else str(size)
        for strategy in strategies:
            scorers[f"{get_strategy(strategy).name}@{label}"] = make(strategy, size)
    return scorers


def rate_papers(case: EvalCase, base: Profile, papers: Sequence[Paper]) -> Profile:
    """The profile after the user rated papers, the list being the oracle: a list paper is liked, any other
    disliked; each rated on the day it was shown."""
    liked = [ProfilePaper(p, p.date or case.day) for p in papers if p.arxiv_id in case.user_list]
    disliked = tuple(ProfilePaper(p, p.date or case.day) for p in papers if p.arxiv_id not in case.user_list)
    return replace(base, liked=base.liked + tuple(liked), disliked=base.disliked + disliked)


def active_scorers(
    k: int = 10,
    base: int = 5,
    strategy: str = "hybrid",
    uncertainty: Callable[[Scored], np.ndarray] | None = None,
    **settings: Any,
) -> dict[str, Callable[[EvalCase], Scored]]:
    """Scorers for `evaluate --active K`: a profile of the `base` likes seen before the listing day before the
    pair's day, with no ratings, with K random ratings of that day's papers and with the K ratings suggest_ratings
    asks for (the list is the oracle; `uncertainty`: its measure, by default its own). `settings` go to the
    profile (e.g. dislike_weight)."""
    from .rank.active import match_uncertainty, suggest_ratings

    measure = uncertainty or match_uncertainty

    def make(policy: str) -> Callable[[EvalCase], Scored]:
        def scorer(case: EvalCase) -> Scored:
            # The user's likes up to the day the pool was shown, so the pool's own list papers are still to find.
            pool_day = min((p.date for p in case.shown if p.date is not None), default=case.day)
            earlier = [p for p in case.profile if p.date is None or p.date < pool_day]
            # No like before that day (a list's first days): the user starts from the interest sentence.
            profile = case.user_profile(earlier[-base:], **settings) if earlier else small_profile(case, 0, **settings)
            pool = [p for p in case.shown if p.arxiv_id not in profile.ids]
            if policy == "random" and pool:
                rng = np.random.default_rng(zlib.crc32(f"{case.list_name}|{case.day.isoformat()}|rate".encode()))
                profile = rate_papers(case, profile, [pool[i] for i in rng.choice(len(pool), min(k, len(pool)), False)])
            elif policy == "suggested" and pool:
                assert case.embedder is not None
                suggested = suggest_ratings(profile, pool, case.embedder, k=k, store=False, uncertainty=measure)
                profile = rate_papers(case, profile, suggested)
            return product_scores(case, profile, strategy)

        return scorer

    return {f"{strategy}@{base} {policy}": make(policy) for policy in ("none", "random", "suggested")}
