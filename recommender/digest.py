"""The HTML digest: one self-contained page (inline CSS, no script, no external request) for a browser or a mailbox.

The page and the web app share one template partial per pick (templates/_pick.html); everything user-controlled is
escaped by jinja2's autoescape, never by hand. What a pick shows is computed once here, as a PickView.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING

from .schema import Paper, Pick, printable, safe_url

if TYPE_CHECKING:
    import jinja2
    import numpy as np

    from .run import Section

VoteLink = Callable[["Section", Pick, str], str]  # (section, pick, "like" | "dislike") -> URL of a one-click vote

MAX_AUTHORS = 8


def code_urls(paper: Paper) -> tuple[str, ...]:
    """Links to code of a paper: at most two of the code-host addresses in its abstract, made safe for an href."""
    return tuple(u for u in map(safe_url, paper.code_urls[:2]) if u)


@dataclass(frozen=True)
class Standing:
    """Where a score stands in its day: its position among n scores, as a phrase and a bar length (0-100)."""

    position: int
    total: int

    @property
    def top_percent(self) -> int:
        return max(1, math.ceil(100 * self.position / self.total))

    @property
    def label(self) -> str:
        if self.total == 1:
            return "the only paper scored today"
        return f"top {self.top_percent}% of today's {self.total} papers (#{self.position})"

    @property
    def bar(self) -> int:
        """Bar length in steps of 5, so a stylesheet class can draw it without a style attribute."""
        fill = 100 * (1 - (self.position - 1) / self.total)
        return max(5, min(100, round(fill / 5) * 5))


def standing(scores: np.ndarray | None, score: float) -> Standing | None:
    """The standing of `score` among a day's scores (None when the day is unknown)."""
    if scores is None or len(scores) == 0:
        return None
    return Standing(position=int((scores > score + 1e-12).sum()) + 1, total=len(scores))


@dataclass(frozen=True)
class Reason:
    """A liked paper that a pick is close to."""

    title: str
    url: str | None
    similarity: int  # percent


@dataclass(frozen=True)
class PickView:
    """What the pick partial shows, every text printable and every URL http(s)."""

    rank: int
    arxiv_id: str
    anchor: str
    title: str
    url: str | None
    pdf_url: str | None
    code_urls: tuple[str, ...]
    code_on_abstract_page: bool  # the abstract says "this https URL": the link is on the abstract page
    authors: str
    date: str
    categories: tuple[str, ...]
    match: str
    bar: int
    reasons: tuple[Reason, ...]
    terms: tuple[str, ...]
    abstract: tuple[str, str, str]  # before, key sentence, after
    vote_like: str | None = None
    vote_dislike: str | None = None


def anchor(arxiv_id: str) -> str:
    """An element id for a paper (ids like hep-th/9901001 contain characters ids should not)."""
    return "p-" + re.sub(r"[^A-Za-z0-9]", "-", arxiv_id)


def _authors(authors: Sequence[str]) -> str:
    names = [printable(a) for a in authors]
    shown = ", ".join(names[:MAX_AUTHORS])
    return f"{shown} et al. ({len(names)} authors)" if len(names) > MAX_AUTHORS else shown


def split_abstract(abstract: str, sentence: str) -> tuple[str, str, str]:
    """The abstract around its key sentence: (before, sentence, after); the sentence empty when it is not found."""
    text, key = printable(abstract), printable(sentence).strip()
    where = text.find(key) if key else -1
    if where < 0:
        return text, "", ""
    return text[:where], key, text[where + len(key) :]


def _match_label(pick: Pick, place: Standing | None) -> str:
    """What a reader needs: how likely a like is (the calibrated match), and where the pick stands in its day."""
    likely = f"{pick.match:.0%} match" if pick.match is not None else ""
    where = place.label if place else ("" if likely else f"score {pick.score:.2f}")
    return " · ".join(part for part in (likely, where) if part)


def pick_view(
    pick: Pick, scores: np.ndarray | None = None, *, like: str | None = None, dislike: str | None = None
) -> PickView:
    """The view of one pick: its texts made printable, its links, where it stands among `scores`, its reasons."""
    paper, because = pick.paper, pick.because
    place = standing(scores, pick.score)
    reasons = tuple(
        Reason(
            printable(title), safe_url(f"https://arxiv.org/abs/{i}") if not i.startswith("t:") else None, round(s * 100)
        )
        for i, title, s in (because.papers if because else ())
    )
    return PickView(
        rank=pick.rank,
        arxiv_id=paper.arxiv_id,
        anchor=anchor(paper.arxiv_id),
        title=printable(paper.title),
        url=safe_url(paper.url),
        pdf_url=safe_url(paper.pdf_url),
        code_urls=tuple(u for u in map(safe_url, code_urls(paper)) if u),
        code_on_abstract_page="this https URL" in paper.abstract and paper.url is not None,
        authors=_authors(paper.authors),
        date=paper.date.isoformat() if paper.date else "",
        categories=tuple(printable(c) for c in paper.categories),
        match=_match_label(pick, place),
        bar=place.bar if place else 0,
        reasons=reasons,
        terms=tuple(printable(t) for t in (because.terms if because else ())),
        abstract=split_abstract(paper.abstract, because.sentence if because else ""),
        vote_like=safe_url(like),
        vote_dislike=safe_url(dislike),
    )


@dataclass(frozen=True)
class SectionView:
    """One profile's part of the digest."""

    name: str
    anchor: str
    day: str
    scored: int
    hidden_seen: int
    picks: tuple[PickView, ...]


def section_view(section: Section, vote_link: VoteLink | None = None) -> SectionView:
    """The view of one run section: its picks with their standing in the day and, when given, vote links."""
    scores = section.scored.scores if section.scored is not None else None
    picks = tuple(
        pick_view(
            pick,
            scores,
            like=vote_link(section, pick, "like") if vote_link else None,
            dislike=vote_link(section, pick, "dislike") if vote_link else None,
        )
        for pick in section.picks
    )
    days = {p.paper.date for p in section.picks if p.paper.date}
    return SectionView(
        name=printable(section.profile.name),
        anchor="s-" + re.sub(r"[^A-Za-z0-9]", "-", section.profile.name),
        day=max(days).isoformat() if days else "",
        scored=len(section.scored) if section.scored is not None else len(section.picks),
        hidden_seen=section.hidden_seen,
        picks=picks,
    )


@cache
def environment() -> jinja2.Environment:
    """The template environment: the package's templates folder, autoescaped (every template is HTML)."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("recommender", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def render_html(
    sections: Sequence[Section],
    *,
    title: str | None = None,
    vote_link: VoteLink | None = None,
    now: datetime | None = None,
    note: str | None = None,
) -> str:
    """The digest of a run's sections as one self-contained HTML page (a note, if given, under the heading).

    Example: render_html(run_today([], open_embedder(), seen=None).sections)
    """
    views = [section_view(s, vote_link) for s in sections]
    days = sorted({v.day for v in views if v.day})
    moment = now or datetime.now()
    heading = title or f"paperrec — {days[-1] if days else date.today().isoformat()}"
    return (
        environment()
        .get_template("digest.html")
        .render(
            title=printable(heading),
            sections=views,
            generated=moment.strftime("%Y-%m-%d %H:%M"),
            voting=vote_link is not None,
            note=printable(note) if note else "",
        )
    )
