"""One day from several sources: each kind fetched on its own, merged into one listing, a report line per source."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

from ..schema import Listing, PaperrecError, TemporaryFailure
from .merge import merge_sources
from .once import in_a_run
from .registry import SOURCES, Spec

# fetch(keys, day, include_cross=..., [offline=True], [store=...]) -> (listing, notice or None)
Fetch = Callable[..., tuple[Listing, str | None]]


@dataclass(frozen=True)
class SourceReport:
    """What one kind of source gave the day: its papers, how many merged into another's, a notice, or its error."""

    name: str  # the label and keys, e.g. 'bioRxiv neuroscience'
    papers: int = 0
    merged: int = 0
    day: date | None = None
    notice: str | None = None
    error: PaperrecError | None = None

    def line(self, dated: bool = False) -> str:
        """One line: 'bioRxiv neuroscience: 12 papers, 2 merged away', or why the source is empty; `dated` names the
        source's day after its name."""
        if self.error is not None:
            if isinstance(self.error, TemporaryFailure):
                return f"{self.name}: unreachable, retry later ({self.error})"
            return f"{self.name}: failed ({self.error})"
        if not self.papers:
            when = f"on {self.day}" if self.day else "for the day"
            return f"{self.name}: no postings {when}" + (f" ({self.notice})" if self.notice else "")
        merged = f", {self.merged} merged away" if self.merged else ""
        papers = "1 paper" if self.papers == 1 else f"{self.papers} papers"
        name = f"{self.name} {self.day}" if dated and self.day else self.name
        return f"{name}: {papers}{merged}" + (f" ({self.notice})" if self.notice else "")


@dataclass(frozen=True)
class SourcesDay:
    """The merged listing of a day and one report per kind of source, in the order the sources were named."""

    listing: Listing
    reports: tuple[SourceReport, ...]

    def lines(self) -> list[str]:
        """The report lines, one per source; each names its day when the sources' days differ."""
        days = {report.day for report in self.reports if report.day and report.papers and report.error is None}
        return [report.line(dated=len(days) > 1) for report in self.reports]


def newest_day(specs: Sequence[Spec], now: datetime) -> date:
    """The newest day any of `specs` has at `now`: arXiv's latest announcement, a feed's today, the others' yesterday
    (UTC), as a run without --date takes the newest of its sources' days."""
    from .arxiv import latest_announcement
    from .daily import latest_posting_day

    days = [
        latest_announcement(now)
        if spec.kind == "arxiv"
        else now.astimezone(UTC).date()
        if spec.kind == "feed"
        else latest_posting_day(now)
        for spec in specs
    ]
    return max(days, default=latest_announcement(now))


def _groups(specs: Sequence[Spec]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for spec in specs:
        groups.setdefault(spec.kind, []).append(spec.key)
    return groups


@in_a_run()
def fetch_sources(
    specs: Sequence[Spec],
    day: date | None = None,
    *,
    include_cross: bool = False,
    offline: bool = False,
    store: Path | None = None,
    fetchers: Mapping[str, Fetch] | None = None,
) -> SourcesDay:
    """Fetch each kind of source for `day` (None: each one's latest), merge them, and report each.

    A failing source is a line of the report and the others are still merged. When every source fails, the error is
    raised: the one error when one kind was named, else all lines joined (TemporaryFailure when each may pass).
    The fetches are one run (once.in_a_run): a host one source could not connect to is not tried again for the next.
    Example: fetch_sources(parse_specs(['cs.CV', 'biorxiv:neuroscience'])).
    """
    listings: list[Listing] = []
    reports: list[SourceReport] = []
    errors: list[PaperrecError] = []
    groups = _groups(specs)
    for kind, keys in groups.items():
        source = SOURCES[kind]
        name = f"{source.label} {' '.join(map(source.shown, keys))}"
        fetch = (fetchers or {}).get(kind) or source.fetcher()
        options: dict[str, object] = {"include_cross": include_cross}
        if offline:  # a fetcher of one's own need not know the option
            options["offline"] = True
        if store is not None:
            options["store"] = store
        try:
            listing, notice = fetch(list(keys), day, **options)
        except PaperrecError as error:
            if len(groups) == 1:
                raise
            errors.append(error)
            reports.append(SourceReport(name, day=day, error=error))
            continue
        listings.append(listing)
        reports.append(SourceReport(name, len(listing.papers), 0, listing.date or day, notice))
    if errors and len(errors) == len(groups):
        message = "; ".join(report.line() for report in reports)
        if all(isinstance(error, TemporaryFailure) for error in errors):
            raise TemporaryFailure(message)
        raise PaperrecError(message)
    if len(listings) == 1:  # one source: its listing as it is, as before there were several
        return SourcesDay(listings[0], tuple(reports))
    merged, counts = merge_sources(listings)
    fetched = iter(counts)
    reports = [report if report.error else replace(report, merged=next(fetched)) for report in reports]
    return SourcesDay(merged, tuple(reports))
