"""A run's results: metric rows per (scorer, list, day), per-list and macro averages, bootstrap intervals."""

from __future__ import annotations

import math
import textwrap
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..rank.calibrate import expected_calibration_error, reliability_table
from ..schema import PaperrecError, UsageError
from .metrics import METRIC_TITLES, METRICS

if TYPE_CHECKING:
    import pandas as pd

WIDTH = 100  # columns of the printed report


def _bootstrap_macro(groups: list[np.ndarray], n_resamples: int, seed: int) -> np.ndarray:
    """Macro means over resampled lists, and resampled pairs within each: (n_resamples, n_metrics)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n_resamples, groups[0].shape[1]))
    for r in range(n_resamples):
        chosen = rng.integers(0, len(groups), len(groups))
        out[r] = np.mean([groups[g][rng.integers(0, len(groups[g]), len(groups[g]))].mean(axis=0) for g in chosen], 0)
    return out


def _wrap(line: str) -> list[str]:
    """A line of prose within WIDTH columns, its continuation lines indented."""
    return textwrap.wrap(line, WIDTH, subsequent_indent="  ", break_on_hyphens=False) or [line]


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

    def _protocol_lines(self) -> list[str]:
        """The profile gap that chose the pairs and the one that built the profiles, and lists left without a pair."""
        if "profile_gap_days" not in self.protocol:
            return []
        chosen, built = self.protocol.get("pair_gap_days", 0), self.protocol["profile_gap_days"]
        if chosen == built:
            held = f"first seen at least {built} days before the day" if built else "first seen before the day"
            lines = [f"profile gap {built} days: profiles hold the list papers {held}; days are eligible by them"]
        else:
            lines = [f"profile gap {chosen} days chose the pairs; their profiles are built with a gap of {built} days"]
        if self.protocol.get("library_titles"):
            lines.append(
                "library titles: profiles also hold the list papers in no listing, by title alone, "
                "from the month after their id's month"
            )
        missing = self.protocol.get("lists_without_pairs") or []
        if missing:
            lines.append(
                f"lists without an eligible pair at profile gap {chosen} days ({len(missing)}): {', '.join(missing)}"
            )
        return lines

    def _pairs(self) -> int:
        return len({(r["list"], r["day"]) for r in self.rows})

    def _interval(self, value: float, low: float, high: float, signed: bool = False) -> str:
        """A value and its interval; one pair has no interval to show, so it says n = 1."""
        number = "{:+.3f}" if signed else "{:.3f}"
        if self._pairs() == 1:
            return number.format(value) + " (n = 1)"
        return f"{number.format(value)} [{number.format(low)}, {number.format(high)}]"

    def format_table(self, *, n_resamples: int = 1000, seed: int = 0, baseline: str | None = None) -> str:
        """Plain text within 100 columns: scorer x metric (macro, 95% interval), per-list nDCG@10, differences to a
        baseline."""
        width = max(len(s) for s in [*self.scorers, "scorer"])
        pairs, lists = self._pairs(), len(self.lists)
        lines = [
            f"{pairs} {'pair' if pairs == 1 else 'pairs'} over {lists} {'list' if lists == 1 else 'lists'}; "
            "macro averages over lists, [95% bootstrap interval]"
        ]
        lines += [wrapped for line in self._protocol_lines() for wrapped in _wrap(line)]
        cells = {}
        for s in self.scorers:
            macro, ci = self.macro(s), self.confidence_intervals(s, n_resamples=n_resamples, seed=seed)
            cells[s] = [self._interval(macro[m], *ci[m]) for m in METRICS]
        cell = max(21, *(len(c) for row in cells.values() for c in row))
        # As many metrics side by side as fit, in blocks of even size.
        fit = max(1, (WIDTH - width) // (cell + 2))
        blocks = math.ceil(len(METRICS) / fit)
        per_block = math.ceil(len(METRICS) / blocks)
        for start in range(0, len(METRICS), per_block):
            chosen = range(start, min(start + per_block, len(METRICS)))
            if start:
                lines.append("")
            titles = "  ".join(f"{METRIC_TITLES[METRICS[i]]:<{cell}}" for i in chosen)
            lines.append(f"{'scorer':<{width}}  {titles}".rstrip())
            for s in self.scorers:
                lines.append((f"{s:<{width}}  " + "  ".join(f"{cells[s][i]:<{cell}}" for i in chosen)).rstrip())
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
                interval = self._interval(d["difference"], d["low"], d["high"], signed=True)
                lines.append(f"{s:<{width}}  {interval}  ({relative:+.1%})")
        return "\n".join(lines) + "\n"

    def summary_line(self, baseline: str | None = None, *, n_resamples: int = 1000, seed: int = 0) -> str:
        """One line: the scorer with the best macro nDCG@10, over how many pairs and lists, and its gain on the
        baseline (with its paired interval) when a baseline was run."""
        best = max(self.scorers, key=lambda s: self.macro(s)["ndcg@10"])  # the first of equals
        pairs, lists = self._pairs(), len(self.lists)
        line = (
            f"summary: best {best}, nDCG@10 {self.macro(best)['ndcg@10']:.3f} on {pairs} "
            f"{'pair' if pairs == 1 else 'pairs'} in {lists} {'list' if lists == 1 else 'lists'}"
        )
        if baseline in self.scorers and baseline != best:
            d = self.compare(best, baseline, n_resamples=n_resamples, seed=seed)
            line += f"; {self._interval(d['difference'], d['low'], d['high'], signed=True)} vs {baseline}"
        return line
