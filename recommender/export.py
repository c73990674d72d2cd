"""Picks out: terminal table, JSON, JSONL, CSV, Markdown, RSS (Atom) and BibTeX renderings of ranked picks."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import textwrap
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from .digest import render_html
from .schema import Because, Paper, PaperrecError, Pick, UsageError, clean_text, paper_key, printable, safe_url
from .sources.records import csv_text, paper_to_record
from .summary import LABEL

_SURROGATE = re.compile("[\ud800-\udfff]")

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
    "code_url",
    "score",
    "match",
    "profile",
)


def because_record(because: Because | None) -> dict[str, Any] | None:
    """The JSON form of a pick's reasons."""
    if because is None:
        return None
    record: dict[str, Any] = {
        "papers": [{"id": i, "title": t, "similarity": s} for i, t, s in because.papers],
        "terms": list(because.terms),
        "sentence": because.sentence,
    }
    if because.interests:  # a profile of interests alone: the key appears only then, so other output is unchanged
        record["interests"] = [{"text": text, "similarity": s} for text, s in because.interests]
    return record


SHOWN_TERMS = 3  # terms on a pick's one-line reason (each already said once: rank.explain joins their pieces)


def closest_reason(because: Because | None) -> tuple[str, float] | None:
    """What a pick is closest to, and how close: the first liked paper's title, else 'your interest "..."'."""
    if because is None:
        return None
    if because.papers:
        return because.papers[0][1], because.papers[0][2]
    if because.interests:
        return f'your interest "{because.interests[0][0]}"', because.interests[0][1]
    return None


def _as_read(text: str) -> str:
    """`text` without escape sequences, its LaTeX as text (`$\\beta$` is β)."""
    from .latex import to_text as latex_text

    # Escape sequences go first: LaTeX would read the backslash in ESC \ as a macro's.
    return latex_text(printable(text))


def because_line(because: Because | None, *, latex: bool = False) -> str:
    """Why a pick was made, on one line: the closest liked paper and its similarity, then the top terms ("" if none).

    Example: "Video super-resolution (0.82) · video, frames". With `latex` the title's LaTeX reads as text.
    """
    if because is None:
        return ""
    parts = []
    closest = closest_reason(because)
    if closest is not None:
        title, similarity = closest
        title = _as_read(title) if latex else printable(title)
        parts.append(f"{clean_text(title)} ({similarity:.2f})")
    if because.terms:
        parts.append(", ".join(clean_text(printable(term)) for term in because.terms[:SHOWN_TERMS]))
    return " · ".join(parts)


def pick_record(pick: Pick) -> dict[str, Any]:
    """The public JSON object of a pick (PICK_COLUMNS, then `because`, then `summary` when there is one; later versions
    only add keys)."""
    paper = pick.paper
    record = {
        "rank": pick.rank,
        **paper_to_record(paper),
        "url": paper.url,
        "pdf_url": paper.pdf_url,
        "code_url": safe_url(paper.code_url),
        "score": round(pick.score, 6),
        "match": None if pick.match is None else round(pick.match, 4),
        "profile": pick.profile,
        "because": because_record(pick.because),
    }
    if pick.summary is not None:  # summaries off: the object is as it always was
        record["summary"] = _line(pick.summary)  # a language model's line: untrusted text, like a feed's
    return record


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _first_author(authors: Sequence[str]) -> str:
    if not authors:
        return ""
    surname = authors[0].split()[-1] if authors[0].split() else authors[0]
    return surname + (" et al." if len(authors) > 1 else "")


def _line(text: str) -> str:
    """One line of a terminal field: no escape sequences or control characters, whitespace collapsed."""
    return clean_text(printable(text))


def to_table(picks: Sequence[Pick], width: int | None = None, *, wrap: bool | None = None) -> str:
    """A table of picks: rank, score, id, title; then author and link, and why.

    On a terminal long titles are shortened to fit its width; elsewhere (a file, a pipe, `wrap=True`) they wrap onto
    more lines, so nothing is lost. A URL is never cut: when it does not fit beside the author it gets its own line.
    Titles read as on the page: `$\\beta$` is β (JSON and CSV keep the LaTeX as listed).
    """
    if not picks:
        return "No picks.\n"
    if wrap is None:
        wrap = not sys.stdout.isatty()
    width = max(width or shutil.get_terminal_size((100, 24)).columns, 50)
    ids = [_line(p.paper.arxiv_id) for p in picks]
    id_width = max(len("id"), *map(len, ids))
    matched = any(p.match is not None for p in picks)  # picks made without a calibrated match get no column
    prefix = f"{'#':>3}  {'score':>6}  " + ("match  " if matched else "") + f"{'id':<{id_width}}  "
    title_width = width - len(prefix)
    indent = " " * len(prefix)

    def fit(text: str, room: int = title_width) -> list[str]:
        return textwrap.wrap(text, room, break_on_hyphens=False) or [""] if wrap else [_shorten(text, room)]

    lines = [prefix + "title"]
    for pick, arxiv_id in zip(picks, ids, strict=True):
        paper = pick.paper
        first, *rest = fit(_line(_as_read(paper.title)))
        match = ("-" if pick.match is None else f"{pick.match:.0%}").rjust(5) + "  " if matched else ""
        lines.append(f"{pick.rank:>3}  {pick.score:>6.3f}  {match}{arxiv_id:<{id_width}}  {first}")
        lines += [indent + line for line in rest]
        author, url = _first_author([_line(name) for name in paper.authors]), _line(paper.url or "")
        together = " · ".join(part for part in (author, url) if part)
        if len(together) <= title_width:
            lines += [indent + together] if together else []
        else:
            lines += [indent + line for line in (fit(author) if author else [])] + ([indent + url] if url else [])
        reason = closest_reason(pick.because)
        if pick.because is not None and reason is not None:
            title, similarity = reason
            # The similarity follows the paper it belongs to, as in CSV and Markdown, not the terms after it.
            closest, score = f"because: {_line(_as_read(title))}", f" ({similarity:.2f})"
            terms = ", ".join(_line(term) for term in pick.because.terms[:SHOWN_TERMS])
            if wrap:
                lines += [indent + line for line in fit(closest + score + (f" · {terms}" if terms else ""))]
            else:
                reason = _shorten(closest, title_width - len(score)) + score
                room = title_width - len(reason) - 3
                lines.append(indent + reason + (f" · {_shorten(terms, room)}" if terms and room > 4 else ""))
        if pick.summary:
            lines += [indent + line for line in fit(f"{LABEL.lower()}: {_line(pick.summary)}")]
    return "\n".join(lines) + "\n"


def _encodable(text: str) -> str:
    """`text` with each lone surrogate (from a JSON escape like \\ud800) as U+FFFD, so that it encodes as UTF-8."""
    return _SURROGATE.sub("\ufffd", text)


def to_json(picks: Sequence[Pick]) -> str:
    """A JSON list of pick objects in rank order."""
    return _encodable(json.dumps([pick_record(p) for p in picks], ensure_ascii=False, indent=2) + "\n")


def to_jsonl(picks: Sequence[Pick]) -> str:
    """One JSON pick object per line."""
    return _encodable("".join(json.dumps(pick_record(p), ensure_ascii=False) + "\n" for p in picks))


def to_csv(picks: Sequence[Pick]) -> str:
    """CSV with the pick columns and `because` on one line; lists joined with ';', null as empty."""
    rows = ({**pick_record(p), "because": because_line(p.because)} for p in picks)
    return csv_text(rows, (*PICK_COLUMNS, "because"))


# Markdown: HTML's three specials as entities (every Markdown dialect decodes them, not all honour \<), and the
# punctuation that forms links, emphasis, code, headings' closing #s, tables, strikethrough or math escaped with \.
# GitHub and Obsidian read $...$ as a formula; \$ is their way to write a dollar.
_MD_SPECIAL = re.compile(r"[\\`*_\[\]#|~<>&$]")
_MD_ENTITY = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
# At the start of a line these open a list, a quote, a thematic break or a setext underline.
_MD_LINE_START = re.compile(r"^(?:[-+=]|\d+(?=[.)]))")


def _md_escape(text: str) -> str:
    """`text` as Markdown inline text that renders as exactly `text`, on one line."""
    text = clean_text(printable(text))
    return _MD_SPECIAL.sub(lambda m: _MD_ENTITY.get(m.group(), "\\" + m.group()), text)


def _md_line(text: str) -> str:
    """`text` as the start of a Markdown line that renders as a plain paragraph."""
    text = _md_escape(text)
    start = _MD_LINE_START.match(text)
    if start is None:
        return text
    head = start.group()
    return ("\\" + head) if not head.isdigit() else head + "\\" + text[len(head)] + text[len(head) + 1 :]


def _md_code(text: str) -> str:
    """`text` as a Markdown code span: fenced by more backticks than it holds, padded if it starts or ends with one."""
    text = clean_text(printable(text))
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def to_markdown(picks: Sequence[Pick], *, profile: str | None = None, day: date | None = None) -> str:
    """A Markdown reading list: a heading with the profile, day and count, then per pick its link, score, reason and
    abstract.

    Titles and abstracts read as on the page (`$\\beta$` is β), as in the table and the email's text. Markdown
    viewers differ: a plain one shows `$...$` as it is, GitHub's renders it. Text keeps one look in all of them.
    """
    if not picks and profile is None:
        return "_No picks._\n"
    parts = [_md_heading(profile or picks[0].profile, day, len(picks))]
    if not picks:
        return parts[0] + "\n_No picks._\n"
    for pick in picks:
        paper = pick.paper
        url = safe_url(paper.url)
        title = _md_escape(_as_read(paper.title))
        title = f"[{title}]({url})" if url else title
        meta = [f"score {pick.score:.3f}", _md_code(paper.arxiv_id)]
        authors = ", ".join(filter(None, map(_md_escape, paper.authors)))
        if authors:
            meta.append(authors)
        code = safe_url(paper.code_url)
        if code:
            meta.append(f"[code]({code})")
        parts.append(f"### {pick.rank}. {title}\n{' · '.join(meta)}\n")
        because = because_line(pick.because, latex=True)
        if because:
            parts.append(_md_line(f"because: {because}") + "\n")
        if pick.summary:
            parts.append(f"_{_md_escape(LABEL)}:_ {_md_escape(pick.summary)}\n")
        abstract = _md_line(_as_read(paper.abstract))
        if abstract:
            parts.append(f"> {abstract}\n")
    return "\n".join(parts)


def _md_heading(profile: str, day: date | None, count: int) -> str:
    when = f"{day.isoformat()}, " if day else ""
    return f"# paperrec picks for {_md_escape(profile)}: {when}{count} {'pick' if count == 1 else 'picks'}\n"


ATOM_NS = "http://www.w3.org/2005/Atom"
# Characters XML 1.0 does not allow anywhere, not even as &#...; references; an XML parser stops at the first one.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 forbids (vertical tab and form feed become spaces)."""
    return _XML_FORBIDDEN.sub(lambda m: " " if m.group() in "\x0b\x0c" else "", text)


def to_rss(picks: Sequence[Pick], now: datetime | None = None, *, profile: str | None = None) -> str:
    """An Atom feed of one profile's picks that a feed reader can subscribe to (entry ids are stable).

    An empty day keeps the profile's title and id when `profile` is given, so a reader sees the same feed.
    """
    now = now or datetime.now(UTC)
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    profile = profile or (picks[0].profile if picks else "paperrec")
    ElementTree.register_namespace("", ATOM_NS)

    def add(parent: ElementTree.Element, tag: str, text: str | None = None, **attrs: str) -> ElementTree.Element:
        element = ElementTree.SubElement(
            parent, f"{{{ATOM_NS}}}{tag}", {key: xml_text(value) for key, value in attrs.items()}
        )
        if text is not None:
            element.text = xml_text(text)
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
        url, pdf_url = safe_url(paper.url), safe_url(paper.pdf_url)
        entry = add(feed, "entry")
        add(entry, "title", f"{pick.rank}. {_as_read(paper.title)}")  # a feed reader shows text, not TeX
        add(entry, "id", url or f"urn:paperrec:{paper.arxiv_id}")
        if url:
            add(entry, "link", href=url, rel="alternate", type="text/html")
        if pdf_url:
            add(entry, "link", href=pdf_url, rel="related", type="application/pdf", title="PDF")
        code_url = safe_url(paper.code_url)
        if code_url:
            add(entry, "link", href=code_url, rel="related", type="text/html", title="code")
        published = f"{paper.date.isoformat()}T00:00:00Z" if paper.date else stamp
        add(entry, "published", published)
        add(entry, "updated", stamp)
        for name in paper.authors:
            add(add(entry, "author"), "name", name)
        for category in paper.categories:
            add(entry, "category", term=category)
        because = because_line(pick.because, latex=True)
        reason = f" Because: {because}." if because else ""
        add(
            entry,
            "summary",
            f"score {pick.score:.3f} for {pick.profile}.{reason} {_as_read(paper.abstract)}".strip(),
            type="text",
        )
    ElementTree.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(feed, encoding="unicode") + "\n"


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "x"


# BibTeX text outside math, character by character: what LaTeX (or BibTeX) would read as markup is spelled out.
# Literal braces are \{ and \} where they pair up; an unpaired one would unbalance the value for BibTeX itself,
# which counts braces even after a backslash, so then they are \textbraceleft{} and \textbraceright{}.
_BIBTEX_CHAR = {
    "\\": r"\textbackslash{}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    **{char: "\\" + char for char in "&%#_$"},
}
_BIBTEX_WORD_BRACE = {"{": r"\textbraceleft{}", "}": r"\textbraceright{}"}
# Unlike the XML set, C1 controls and DEL go too: LaTeX has no use for them.
_BIBTEX_DROP = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def _braces_pair(braces: str) -> bool:
    depth = 0
    for brace in braces:
        depth += 1 if brace == "{" else -1
        if depth < 0:
            return False
    return depth == 0


def _math_is_verbatim(math: str) -> bool:
    """True when math can stay as written: its braces balance both as BibTeX and as bibtexparser count them."""
    return _braces_pair(re.sub(r"[^{}]", "", math)) and _braces_pair(re.sub(r"\\[{}]|[^{}]", "", math))


def _bibtex_value(text: str) -> str:
    """`text` as the inside of a braced BibTeX value that paperrec's importer and LaTeX read back as `text`."""
    from .sources.bibtex import split_math

    text = clean_text(_BIBTEX_DROP.sub("", _SURROGATE.sub("\ufffd", text)))
    parts = split_math(text)
    texts = [part for index, part in enumerate(parts) if index % 2 == 0 or not _math_is_verbatim(part)]
    paired = _braces_pair("".join(re.sub(r"[^{}]", "", part) for part in texts))
    out = []
    for index, part in enumerate(parts):
        if index % 2 and _math_is_verbatim(part):
            out.append(part)
            continue
        previous = ""
        for char in part:
            if char == previous and char in "-'`":
                out.append("{}")  # keeps -- from becoming a dash and '' or `` from becoming a quote
            if char in "{}":
                out.append("\\" + char if paired else _BIBTEX_WORD_BRACE[char])
            else:
                out.append(_BIBTEX_CHAR.get(char, char))
            previous = char
    return "".join(out)


def _bibtex_authors(authors: Sequence[str]) -> str:
    """An author field: each name as BibTeX splits it back, braced whole where it would not be (a comma, 'and')."""
    from .sources.bibtex import latex_to_text, parse_authors

    values = [value for value in map(_bibtex_value, authors) if value]
    names = tuple(map(latex_to_text, values))
    field = " and ".join(v if parse_authors(v) == (n,) else "{" + v + "}" for v, n in zip(values, names, strict=True))
    if parse_authors(field) != names:
        field = " and ".join("{" + value + "}" for value in values)
    return field


def bibtex_key(paper: Paper) -> str:
    """The citation key of a paper, from its id alone, so a day's export appended to another never clashes.

    Example: bibtex_key(paper of 2606.31347) == "arxiv2606.31347"; a t: id (a title hash) gives "title-<hash>".
    A DOI gives "doi10.1101-2026.12.04.600400" (its first '/' as '-', others as ':'), or "doi-<hash>" when it holds
    characters a key cannot.
    """
    if paper.arxiv_id.startswith("doi:"):
        doi = paper.arxiv_id.removeprefix("doi:")
        # The prefix holds no '-' and the suffix no ':', so each DOI has its own key.
        if re.fullmatch(r"10\.[0-9.]+/[a-z0-9._/-]+", doi):
            return "doi" + doi.replace("/", "-", 1).replace("/", ":")
        return "doi-" + hashlib.sha256(paper.arxiv_id.encode("utf-8")).hexdigest()[:12]
    if not paper.has_arxiv_id:
        tail = paper.arxiv_id.removeprefix("t:")
        if not re.fullmatch(r"[0-9a-f]{12}", tail):  # an id of another source: only its hash is safe in a key
            tail = hashlib.sha256(paper.arxiv_id.encode("utf-8")).hexdigest()[:12]
        return "title-" + tail
    # Old-style ids hold a '/' (hep-th/9901001), which some reference managers refuse in a key.
    return "arxiv" + re.sub(r"[^A-Za-z0-9.-]", "-", paper.arxiv_id)


def _bibtex_key(pick: Pick, used: set[str]) -> str:
    key = bibtex_key(pick.paper)
    candidate, n = key, 1
    while candidate in used:  # one paper picked for two profiles of the same run
        n += 1
        candidate = f"{key}-{n}"
    used.add(candidate)
    return candidate


_SERVERS = {"www.biorxiv.org": "bioRxiv", "www.medrxiv.org": "medRxiv"}


def _bibtex_journal(paper: Paper) -> str:
    """The journal a paper's BibTeX entry names: its venue, else the preprint server it links ('': none, or arXiv).

    Example: a bioRxiv posting stored before papers kept a venue gives "bioRxiv", from its page on bioRxiv.
    """
    if paper.has_arxiv_id:  # an arXiv paper also in a journal keeps its arXiv entry, as before
        return ""
    if paper.arxiv_id.startswith("openreview:"):  # its venue is a conference's decision or "Submission", no journal
        return ""
    if paper.venue:
        return paper.venue
    for link in paper.links:
        host = link.split("/")[2].lower() if link.count("/") >= 2 else ""
        # The page must be this paper's own: Cold Spring Harbor's journals share bioRxiv's DOI prefix.
        if host in _SERVERS and paper_key(link) == paper.arxiv_id:
            return _SERVERS[host]
    return ""


def to_bibtex(picks: Sequence[Pick]) -> str:
    """BibTeX entries, ready for a reference manager: @misc with eprint, archivePrefix, primaryClass and url for arXiv;
    @article with journal, year, doi and url for a journal's paper or a bioRxiv or medRxiv preprint; else @misc."""
    used: set[str] = set()
    entries = []
    for pick in picks:
        paper = pick.paper
        fields: list[tuple[str, str]] = [("title", "{" + _bibtex_value(paper.title) + "}")]
        authors = _bibtex_authors(paper.authors)
        if authors:
            fields.append(("author", authors))
        # bioRxiv's and medRxiv's own citation export names the server as the journal of an @article.
        journal = _bibtex_value(_bibtex_journal(paper))
        if journal:
            fields.append(("journal", journal))
        if paper.date:
            fields.append(("year", str(paper.date.year)))
        elif paper.has_arxiv_id and re.match(r"\d{4}\.", paper.arxiv_id):
            fields.append(("year", "20" + paper.arxiv_id[:2]))
        if paper.has_arxiv_id:
            fields += [("eprint", _bibtex_value(paper.arxiv_id)), ("archivePrefix", "arXiv")]
            if paper.categories:
                fields.append(("primaryClass", _bibtex_value(paper.categories[0])))
            url = safe_url(paper.url)
            if url:
                fields.append(("url", url))
        else:
            if paper.arxiv_id.startswith("doi:"):
                fields.append(("doi", _bibtex_value(paper.arxiv_id[4:])))
            url = safe_url(paper.url)
            if url:
                fields.append(("url", url))
        abstract = _bibtex_value(paper.abstract)
        if abstract:
            fields.append(("abstract", abstract))
        fields.append(("note", f"paperrec score {pick.score:.3f} for {_bibtex_value(pick.profile)}"))
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
        entries.append(f"@{'article' if journal else 'misc'}{{{_bibtex_key(pick, used)},\n{body}\n}}\n")
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


def render_sections(
    sections: Sequence[tuple[str, Sequence[Pick]]], fmt: str = "table", days: Sequence[date | None] = ()
) -> str:
    """Render several profiles' picks: one section each for table/markdown, one flat list for data formats.

    `days` (row-aligned with sections, optional) puts each section's day in its Markdown heading.
    """
    if fmt not in RENDERERS:
        raise UsageError(f"unknown format {fmt!r}: choose one of {', '.join(RENDERERS)}")
    days = list(days) or [None] * len(sections)
    if fmt == "markdown":
        return "\n".join(
            to_markdown(picks, profile=name, day=day) for (name, picks), day in zip(sections, days, strict=True)
        )
    if len(sections) == 1:
        if fmt == "rss":  # an empty feed still names its profile
            return to_rss(sections[0][1], profile=sections[0][0])
        return RENDERERS[fmt](sections[0][1])
    if fmt == "rss":
        raise UsageError("an RSS feed holds one profile: give --output with {profile} in the file name")
    if fmt == "table":
        return "\n".join(f"== {_line(name)} ==\n" + to_table(picks) for name, picks in sections)
    return RENDERERS[fmt]([pick for _, picks in sections for pick in picks])


PROFILE_PLACEHOLDER = "{profile}"
_SLUG_MAX = 64


def profile_slug(profile_path: Path | None, profile_name: str) -> str:
    """A file-name-safe stand-in for a profile: its file's stem, else its name, as [A-Za-z0-9._-] without '..'."""
    for source in (profile_path.stem if profile_path is not None else "", profile_name):
        slug = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9._-]", "_", source)).strip(".")
        if len(slug) > _SLUG_MAX:
            # Two long names that share a prefix must not end up writing the same file.
            digest = hashlib.sha1(source.encode("utf-8", "replace")).hexdigest()[:8]
            slug = slug[: _SLUG_MAX - 9].rstrip(".") + "-" + digest
        if slug:
            return slug
    return "profile"


def output_path(template: Path, profile_path: Path | None, profile_name: str) -> Path:
    """Where one profile's picks go: each {profile} in `template` replaced by profile_slug, never outside its folder.

    Example: output_path(Path("feeds/paperrec-{profile}.xml"), None, "../../x") == Path("feeds/paperrec-_._x.xml")
    """
    text = str(template)
    if PROFILE_PLACEHOLDER not in text:
        return template
    slug = profile_slug(profile_path, profile_name)
    # The folder the user named is everything before the first component holding the placeholder.
    parts = template.parts
    first = next(index for index, part in enumerate(parts) if PROFILE_PLACEHOLDER in part)
    base = Path(*parts[:first]) if first else Path()
    filled = [part.replace(PROFILE_PLACEHOLDER, slug) for part in parts[first:]]
    result = base.joinpath(*filled)
    inside = os.path.relpath(os.path.normpath(result), os.path.normpath(base))
    named = [part for part, was in zip(filled, parts[first:], strict=True) if PROFILE_PLACEHOLDER in was]
    if any(part in ("", ".", "..") for part in named) or inside == os.pardir or inside.startswith(os.pardir + os.sep):
        raise UsageError(f"--output {template}: the file for profile {profile_name!r} would land outside {base}")
    return result


def write_text(text: str, output: Path) -> None:
    """Write an export atomically (new files follow the umask), or into a FIFO or device; errors name the file."""
    from .paths import atomic_write_text

    try:
        atomic_write_text(output, text)
    except OSError as error:
        raise PaperrecError(f"cannot write {output}: {error.strerror or error}") from None


FORMATS = (*RENDERERS, "html")  # html: the digest (recommender.digest), which needs whole run sections
FORMAT_ALIASES = {"atom": "rss"}  # the feed is Atom: a user who asks for it by that name gets it


def format_name(fmt: str) -> str:
    """The output format a name asks for (an alias such as 'atom' names 'rss')."""
    return FORMAT_ALIASES.get(fmt, fmt)


def check_format(fmt: str, output: Path | None = None, n_profiles: int = 1) -> None:
    """A usage error unless fmt is an output format that can hold n_profiles' picks in `output` (None: stdout)."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if fmt == "rss" and n_profiles > 1 and PROFILE_PLACEHOLDER not in str(output or ""):
        raise UsageError("an RSS feed holds one profile: give --output with {profile} in the file name")


def render_run(sections: Sequence[Any], fmt: str) -> str:
    """Render a run's sections (with .profile, .picks, .path, .scored, as recommender.run.Section) in a format."""
    check_format(fmt)
    if fmt == "html":
        return render_html(sections)
    days = [s.listing.date if getattr(s, "listing", None) is not None else None for s in sections]
    return render_sections([(s.profile.name, s.picks) for s in sections], fmt, days)


@dataclass(frozen=True)
class Written:
    """Where a run's sections were written, and one line per file that could not be."""

    paths: tuple[Path, ...]
    errors: tuple[str, ...] = ()


def write_sections(sections: Sequence[Any], fmt: str, output: Path) -> Written:
    """Write a run's sections to `output`: one file, or one per profile when the name holds {profile} (then the
    profile's file-name slug, never a path). A file that cannot be written stops no other profile's."""
    if PROFILE_PLACEHOLDER not in str(output):
        files = [(output, sections)]
    else:
        targets = [output_path(output, s.path, s.profile.name) for s in sections]
        clashes = sorted({str(t) for t in targets if targets.count(t) > 1})
        if clashes:
            raise UsageError(f"--output {output}: several profiles would write {clashes[0]}; rename one profile file")
        files = [(target, [section]) for section, target in zip(sections, targets, strict=True)]
    written, errors = [], []
    for target, part in files:
        try:
            write_text(render_run(part, fmt), target)
        except PaperrecError as error:  # e.g. one feed's file made read-only: the other feeds still go out
            errors.append(str(error))
            continue
        written.append(target)
    return Written(tuple(written), tuple(errors))
