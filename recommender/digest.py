"""The HTML digest: one self-contained page (inline CSS, no script, no external request) for a browser or a mailbox.

The page and the web app share one template partial per pick (templates/_pick.html); everything user-controlled is
escaped by jinja2's autoescape, never by hand. What a pick shows is computed once here, as a PickView.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING

from .schema import MIN_MATCH_LIKES, Paper, Pick, clean_text, counted, link_of, printable, safe_url, terminal_safe
from .sources.markdown import strip_html
from .summary import LABEL as SUMMARY_LABEL

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
    """Where a paper stands in its day: its place in the day's ranking, among every paper the day listed."""

    position: int
    total: int

    @property
    def label(self) -> str:
        if self.total == 1:
            return "the day's only paper"
        return f"#{self.position} of the day's {self.total} papers"


def standing(scores: np.ndarray | None, score: float, total: int | None = None) -> Standing | None:
    """The standing of `score` among a day's scores, out of `total` listed papers (None when the day is unknown)."""
    if scores is None or len(scores) == 0:
        return None
    position = int((scores > score + 1e-12).sum()) + 1
    return Standing(position=position, total=max(total or len(scores), position))


def positions(scores: np.ndarray) -> np.ndarray:
    """Each score's place in the day's ranking, 1-based (ties share the better place), (n_scores,)."""
    import numpy as np

    ascending = np.sort(scores)
    return len(scores) - np.searchsorted(ascending, scores + 1e-12, side="right") + 1


@dataclass(frozen=True)
class Reason:
    """A liked paper that a pick is close to (for a profile of interests alone, its closest interest)."""

    title: str
    url: str | None
    similarity: int  # percent


@dataclass(frozen=True)
class Fact:
    """One item of a card's line of facts: a text, or a link."""

    text: str
    url: str | None = None
    kind: str = ""  # "authors", "venue", "categories" or "abstract" (the digest's link; the page has the abstract)


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
    match: str  # the one number: "24% match" ("" when the pick has no calibrated match)
    bar: int | None  # the match as a bar length in steps of 5 (a stylesheet class per step), None without a match
    standing: str  # the secondary line: the pick's place in the day's ranking
    reasons: tuple[Reason, ...]
    terms: tuple[str, ...]
    abstract: tuple[str, str, str]  # before, key sentence, after
    facts: tuple[Fact, ...] = ()  # authors, date, categories and links, on one line
    vote_like: str | None = None
    vote_dislike: str | None = None
    summary: str = ""  # a language model's line on the paper, one printable line ("" when summaries are off)
    venue: str = ""  # the journal or preprint server its source names ("" for arXiv and unknown)


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


def match_label(pick: Pick) -> str:
    """The one number a reader needs: how likely a like is (the calibrated match); "" when there is none (a profile
    of fewer than MIN_MATCH_LIKES liked papers), since a raw score means nothing to a reader."""
    return f"{pick.match:.0%} match" if pick.match is not None else ""


def _bar(match: float | None) -> int | None:
    """The match as a bar length in steps of 5, so a stylesheet class can draw it without a style attribute."""
    return None if match is None else max(0, min(100, round(20 * match) * 5))


def _facts(view: PickView) -> tuple[Fact, ...]:
    """The card's one line: authors, date, journal, categories, then the abstract, PDF and code links."""
    code = [Fact("code", url) for url in view.code_urls]
    if not code and view.code_on_abstract_page:
        code = [Fact("code", view.url)]
    texts = (
        Fact(view.authors, kind="authors"),
        Fact(view.date),
        Fact(view.venue, kind="venue"),
        Fact(", ".join(view.categories), kind="categories"),
    )
    links = (Fact("abstract", view.url, kind="abstract"), Fact("PDF", view.pdf_url), *code)
    return tuple(f for f in texts if f.text) + tuple(f for f in links if f.url)


def pick_view(
    pick: Pick,
    scores: np.ndarray | None = None,
    *,
    like: str | None = None,
    dislike: str | None = None,
    total: int | None = None,
    place: Standing | None = None,
) -> PickView:
    """The view of one pick: its texts made printable, its links, its reasons, and where it stands in its day
    (`place` as given, else among `scores` out of `total` listed papers)."""
    paper, because = pick.paper, pick.because
    place = place or standing(scores, pick.score, total)
    reasons = tuple(
        Reason(printable(title), safe_url(link_of(i)), round(s * 100))
        for i, title, s in (because.papers if because else ())
    ) or tuple(
        Reason(printable(f"interest “{text}”"), None, round(s * 100))
        for text, s in (because.interests[:1] if because else ())
    )
    view = PickView(
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
        match=match_label(pick),
        bar=_bar(pick.match),
        standing=place.label if place else "",
        reasons=reasons,
        terms=tuple(printable(t) for t in (because.terms if because else ())),
        abstract=split_abstract(paper.abstract, because.sentence if because else ""),
        vote_like=safe_url(like),
        vote_dislike=safe_url(dislike),
        summary=clean_text(printable(pick.summary)) if pick.summary else "",
        venue=printable(paper.venue),
    )
    return replace(view, facts=_facts(view))


@dataclass(frozen=True)
class SectionView:
    """One profile's part of the digest."""

    name: str
    anchor: str
    day: str
    listed: int  # the day's papers, the count each pick's standing is out of
    hidden_seen: int
    picks: tuple[PickView, ...]
    old_likes: str = ""  # the sentence that says the likes are old for the day, when they are
    notices: tuple[tuple[str, str | None], ...] = ()  # (title, address) of the day's retractions of liked papers


# Where a digest's reader finds recent papers to like: the page's Sharpen (a digest may be read far from a terminal).
OLD_LIKES_WHERE = "Sharpen in paperrec serve offers some"


def _listed(section: Section) -> int:
    """How many papers the section's day listed (the scored candidates when the count is not known)."""
    scored = section.scored
    if scored is None:
        return len(section.picks)
    return scored.listed or len(scored)


def notice_views(found: Iterable[tuple[Paper, Paper]]) -> tuple[tuple[str, str | None], ...]:
    """The (title, address) shown of each notice on a liked paper (see run.liked_retracted), for a digest or a page."""
    return tuple((printable(strip_html(notice.title)), safe_url(notice.url)) for notice, _ in found)


def section_view(section: Section, vote_link: VoteLink | None = None, today: date | None = None) -> SectionView:
    """The view of one run section: its picks with their standing in the day and, when given, vote links.

    `today` is the day of the run, for a listing that names no day (the clock's, if not given).
    """
    scores = section.scored.scores if section.scored is not None else None
    listed = _listed(section)
    picks = tuple(
        pick_view(
            pick,
            scores,
            total=listed,
            like=vote_link(section, pick, "like") if vote_link else None,
            dislike=vote_link(section, pick, "dislike") if vote_link else None,
        )
        for pick in section.picks
    )
    day = section.day_on(today or date.today())
    age = section.likes_age()
    return SectionView(
        name=printable(section.profile.name),
        anchor="s-" + re.sub(r"[^A-Za-z0-9]", "-", section.profile.name),
        day=day.isoformat() if day else "",
        listed=listed,
        hidden_seen=section.hidden_seen,
        picks=picks,
        old_likes=age.sentence(OLD_LIKES_WHERE) if age.is_old else "",
        notices=notice_views(section.liked_retracted()),
    )


def _shown(value: object) -> object:
    """A value as a page shows it: text without escape sequences, controls or bidi overrides (lines kept)."""
    if not isinstance(value, str):
        return value
    from markupsafe import Markup

    safe = terminal_safe(value)
    return Markup(safe) if isinstance(value, Markup) else safe


@cache
def environment() -> jinja2.Environment:
    """The template environment: the package's templates folder, autoescaped (every template is HTML).

    The `latex` filter renders a text's LaTeX (`| latex(true)`: formulas as MathML, for the page only).
    """
    import jinja2

    from .latex import to_html

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("recommender", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        finalize=_shown,
    )
    env.filters["latex"] = to_html
    env.filters["anchor"] = anchor  # a paper's element id, for a button that names the paper by its title
    env.filters["safe_url"] = safe_url  # http(s) only: a link from a file or a feed never runs script
    env.globals["summary_label"] = SUMMARY_LABEL
    env.globals["counted"] = counted
    env.globals["min_match_likes"] = MIN_MATCH_LIKES
    return env


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
    moment = now or datetime.now()
    views = [section_view(s, vote_link, moment.date()) for s in sections]
    days = sorted({v.day for v in views if v.day})
    heading = title or f"paperrec — {days[-1] if days else moment.date().isoformat()}"
    return (
        environment()
        .get_template("digest.html")
        .render(
            title=printable(heading),
            sections=views,
            generated=moment.strftime("%Y-%m-%d %H:%M"),
            voting=vote_link is not None,
            note=printable(note) if note else "",
            matched=any(v.bar is not None for s in views for v in s.picks),
            unmatched=any(v.bar is None for s in views for v in s.picks),  # no picks: nothing to say of match
        )
    )
