"""Picks out: terminal table, JSON, JSONL, CSV, Markdown, RSS (Atom) and BibTeX renderings of ranked picks."""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

from .schema import Because, Pick, UsageError
from .sources.records import csv_text

PICK_COLUMNS = (
    "rank",
    "id",
    "title",
    "abstract",
    "authors",
    "categories",
    "date",
    "url",
    "pdf_url",
    "score",
    "profile",
)


def because_record(because: Because | None) -> dict[str, Any] | None:
    """The JSON form of a pick's reasons."""
    if because is None:
        return None
    return {
        "papers": [{"id": i, "title": t, "similarity": s} for i, t, s in because.papers],
        "terms": list(because.terms),
        "sentence": because.sentence,
    }


def pick_record(pick: Pick) -> dict[str, Any]:
    """The public JSON object of a pick (PICK_COLUMNS, then `because`; later versions only add keys)."""
    paper = pick.paper
    return {
        "rank": pick.rank,
        "id": paper.arxiv_id,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": list(paper.authors),
        "categories": list(paper.categories),
        "date": paper.date.isoformat() if paper.date else None,
        "url": paper.url,
        "pdf_url": paper.pdf_url,
        "score": round(pick.score, 6),
        "profile": pick.profile,
        "because": because_record(pick.because),
    }


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _first_author(authors: Sequence[str]) -> str:
    if not authors:
        return ""
    surname = authors[0].split()[-1] if authors[0].split() else authors[0]
    return surname + (" et al." if len(authors) > 1 else "")


def to_table(picks: Sequence[Pick], width: int | None = None) -> str:
    """A two-line-per-pick table that fits the terminal: rank, score, id, title; then author and link."""
    if not picks:
        return "No picks.\n"
    width = width or shutil.get_terminal_size((100, 24)).columns
    width = max(width, 50)
    id_width = max(len("id"), *(len(p.paper.arxiv_id) for p in picks))
    prefix = f"{'#':>3}  {'score':>6}  {'id':<{id_width}}  "
    title_width = width - len(prefix)
    lines = [prefix + "title"]
    indent = " " * len(prefix)
    for pick in picks:
        paper = pick.paper
        lines.append(
            f"{pick.rank:>3}  {pick.score:>6.3f}  {paper.arxiv_id:<{id_width}}  {_shorten(paper.title, title_width)}"
        )
        detail = " · ".join(part for part in (_first_author(paper.authors), paper.url or "") if part)
        if detail:
            lines.append(indent + _shorten(detail, title_width))
        if pick.because is not None and pick.because.papers:
            _, title, similarity = pick.because.papers[0]
            reason = f"because: {title}"
            if pick.because.terms:
                reason += " · " + ", ".join(pick.because.terms[:3])
            lines.append(indent + _shorten(reason, title_width - 7) + f" ({similarity:.2f})")
    return "\n".join(lines) + "\n"


def to_json(picks: Sequence[Pick]) -> str:
    """A JSON list of pick objects in rank order."""
    return json.dumps([pick_record(p) for p in picks], ensure_ascii=False, indent=2) + "\n"


def to_jsonl(picks: Sequence[Pick]) -> str:
    """One JSON pick object per line."""
    return "".join(json.dumps(pick_record(p), ensure_ascii=False) + "\n" for p in picks)


def to_csv(picks: Sequence[Pick]) -> str:
    """CSV with the pick columns; lists joined with ';', null as empty."""
    return csv_text(map(pick_record, picks), PICK_COLUMNS)


def _md_escape(text: str) -> str:
    return text.replace("[", "\\[").replace("]", "\\]")


def to_markdown(picks: Sequence[Pick]) -> str:
    """A Markdown reading list: a heading per pick with its link, score and abstract."""
    if not picks:
        return "_No picks._\n"
    profile = picks[0].profile
    parts = [f"# paperrec picks for {profile}\n"]
    for pick in picks:
        paper = pick.paper
        title = f"[{_md_escape(paper.title)}]({paper.url})" if paper.url else _md_escape(paper.title)
        meta = [f"score {pick.score:.3f}", f"`{paper.arxiv_id}`"]
        if paper.authors:
            meta.append(", ".join(paper.authors))
        parts.append(f"### {pick.rank}. {title}\n{' · '.join(meta)}\n")
        if paper.abstract:
            parts.append(f"> {paper.abstract}\n")
    return "\n".join(parts)


ATOM_NS = "http://www.w3.org/2005/Atom"


def to_rss(picks: Sequence[Pick], now: datetime | None = None) -> str:
    """An Atom feed of one profile's picks that a feed reader can subscribe to (entry ids are stable)."""
    now = now or datetime.now(UTC)
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    profile = picks[0].profile if picks else "paperrec"
    ElementTree.register_namespace("", ATOM_NS)

    def add(parent: ElementTree.Element, tag: str, text: str | None = None, **attrs: str) -> ElementTree.Element:
        element = ElementTree.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    feed = ElementTree.Element(f"{{{ATOM_NS}}}feed")
    add(feed, "title", f"paperrec picks for {profile}")
    add(feed, "id", f"urn:paperrec:profile:{_slug(profile)}")
    add(feed, "updated", stamp)
    add(feed, "generator", "paperrec")
    author = add(feed, "author")
    add(author, "name", "paperrec")
    for pick in picks:
        paper = pick.paper
        entry = add(feed, "entry")
        add(entry, "title", f"{pick.rank}. {paper.title}")
        add(entry, "id", paper.url or f"urn:paperrec:{paper.arxiv_id}")
        if paper.url:
            add(entry, "link", href=paper.url, rel="alternate", type="text/html")
        if paper.pdf_url:
            add(entry, "link", href=paper.pdf_url, rel="related", type="application/pdf", title="PDF")
        published = f"{paper.date.isoformat()}T00:00:00Z" if paper.date else stamp
        add(entry, "published", published)
        add(entry, "updated", stamp)
        for name in paper.authors:
            add(add(entry, "author"), "name", name)
        for category in paper.categories:
            add(entry, "category", term=category)
        add(entry, "summary", f"score {pick.score:.3f} for {pick.profile}. {paper.abstract}".strip(), type="text")
    ElementTree.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(feed, encoding="unicode") + "\n"


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "x"


def _bibtex_value(text: str) -> str:
    # Braces must balance inside {...}; bare & % # would break LaTeX, so they are escaped once.
    text = re.sub(r"(?<!\\)([&%#])", r"\\\1", text).rstrip("\\")
    depth = 0
    kept = []
    for char in text:
        if char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                continue
            depth -= 1
        kept.append(char)
    return "".join(kept) + "}" * depth


def _bibtex_key(pick: Pick, used: set[str]) -> str:
    paper = pick.paper
    surname = _slug(paper.authors[0].split()[-1]) if paper.authors and paper.authors[0].split() else ""
    year = str(paper.date.year) if paper.date else ""
    if not year and paper.has_arxiv_id and re.match(r"\d{4}\.", paper.arxiv_id):
        year = "20" + paper.arxiv_id[:2]
    words = [w for w in _slug(paper.title).split("-") if len(w) > 3]
    key = (surname.replace("-", "") + year + (words[0] if words else "")) or _slug(paper.arxiv_id).replace("-", "")
    candidate, n = key, 1
    while candidate in used:
        n += 1
        candidate = f"{key}{chr(ord('a') + n - 2)}" if n <= 27 else f"{key}{n}"
    used.add(candidate)
    return candidate


def to_bibtex(picks: Sequence[Pick]) -> str:
    """BibTeX @misc entries with eprint, archivePrefix, primaryClass and url, ready for a reference manager."""
    used: set[str] = set()
    entries = []
    for pick in picks:
        paper = pick.paper
        fields: list[tuple[str, str]] = [("title", "{" + paper.title + "}")]
        if paper.authors:
            fields.append(("author", " and ".join(paper.authors)))
        if paper.date:
            fields.append(("year", str(paper.date.year)))
        elif paper.has_arxiv_id and re.match(r"\d{4}\.", paper.arxiv_id):
            fields.append(("year", "20" + paper.arxiv_id[:2]))
        if paper.has_arxiv_id:
            fields += [("eprint", paper.arxiv_id), ("archivePrefix", "arXiv")]
            if paper.categories:
                fields.append(("primaryClass", paper.categories[0]))
            fields.append(("url", paper.url or ""))
        if paper.abstract:
            fields.append(("abstract", paper.abstract))
        fields.append(("note", f"paperrec score {pick.score:.3f} for {pick.profile}"))
        body = ",\n".join(f"  {name} = {{{_bibtex_value(value)}}}" for name, value in fields)
        entries.append(f"@misc{{{_bibtex_key(pick, used)},\n{body}\n}}\n")
    return "\n".join(entries)


RENDERERS: dict[str, Callable[[Sequence[Pick]], str]] = {
    "table": to_table,
    "json": to_json,
    "jsonl": to_jsonl,
    "csv": to_csv,
    "markdown": to_markdown,
    "rss": to_rss,
    "bibtex": to_bibtex,
}


def render(picks: Sequence[Pick], fmt: str = "table") -> str:
    """Render picks in one of RENDERERS' formats."""
    if fmt not in RENDERERS:
        raise UsageError(f"unknown format {fmt!r}: choose one of {', '.join(RENDERERS)}")
    return RENDERERS[fmt](picks)


def render_sections(sections: Sequence[tuple[str, Sequence[Pick]]], fmt: str = "table") -> str:
    """Render several profiles' picks: one section each for table/markdown, one flat list for data formats."""
    if fmt not in RENDERERS:
        raise UsageError(f"unknown format {fmt!r}: choose one of {', '.join(RENDERERS)}")
    if len(sections) == 1:
        return RENDERERS[fmt](sections[0][1])
    if fmt == "rss":
        raise UsageError("an RSS feed holds one profile: give --output with {profile} in the file name")
    if fmt in ("table", "markdown"):
        parts = []
        for name, picks in sections:
            heading = f"== {name} ==\n" if fmt == "table" else ""
            body = RENDERERS[fmt](picks) if picks or fmt == "table" else f"# paperrec picks for {name}\n\n_No picks._\n"
            parts.append(heading + body)
        return "\n".join(parts)
    return RENDERERS[fmt]([pick for _, picks in sections for pick in picks])
