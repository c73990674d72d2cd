"""The reference markdown daily listing: a '# ArXiv <category> --<date>' header, '### N.Title' lines, '> abstract'."""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from pathlib import Path

from ..schema import Listing, Paper, PaperrecError, clean_text, split_arxiv_id
from .guard import reading

_HEADER = re.compile(r"^#\s+ArXiv\s+(?P<category>\S+)\s+--\s*(?P<date>.+?)\s*$")
_PAPER = re.compile(r"^###\s+(?P<rank>\d+)\.(?P<title>.*?)\s*\[\s*:arrow_down:\s*\]\((?P<pdf>[^)\s]+)\)\s*$")
_PDF_ID = re.compile(r"/pdf/(?P<id>.+?)(?:\.pdf)?/?$")


# Only real tag names are stripped, so LaTeX such as $a<b$ or $x>0$ survives untouched. Besides HTML's, they are
# JATS's and MathML's, as Crossref, OpenAlex and bioRxiv give abstracts ('<jats:p>', '<mml:mi>', bare '<italic>').
_TAG = re.compile(
    r"</?(?:a|abbr|b|br|code|div|em|font|i|li|ol|p|pre|s|small|span|strong|sub|sup|tt|u|ul"
    r"|(?:jats|mml):[a-z][\w.-]*|bold|italic|sc|title|sec|monospace|underline|inline-formula|disp-formula"
    r"|math|mi|mn|mo|mrow|msub|msup|msubsup|mfrac|mtext)(?=[\s/>])[^<>]*>",
    re.IGNORECASE,
)
# Closing block tags break words too: '</jats:title>Text' and Nature's '</p>Text' have no space of their own.
_BREAK = re.compile(r"<\s*(?:br|/?\s*(?:p|div|li|jats:p|jats:title|jats:sec|title|sec))(?=[\s/>])[^<>]*>", re.I)
# Crossref opens most abstracts with a heading that only says what the text is.
_ABSTRACT_HEADING = re.compile(r"^\s*<(jats:)?title>\s*abstract\s*</(jats:)?title>", re.IGNORECASE)


# arXiv shows a code or project link in an abstract as <a href="https://github.com/...">this https URL</a>.
_LINK_AS_WORDS = re.compile(
    r"<a\s[^<>]*?href=\s*[\"'](?P<href>https?://[^\"'<>\s]+)[\"'][^<>]*>\s*this\s+https?\s+URL\s*</a\s*>",
    re.IGNORECASE,
)


def strip_html(fragment: str) -> str:
    """Visible text of an HTML fragment: tags removed, entities unescaped, whitespace collapsed.

    A link whose words are only "this https URL" keeps its address instead: the words say nothing, the address does.
    """
    text = _LINK_AS_WORDS.sub(lambda match: match["href"], _ABSTRACT_HEADING.sub("", fragment))
    text = _BREAK.sub(" ", text)  # a line break separates words once the tag is gone
    return clean_text(html.unescape(_TAG.sub("", text)))


def _parse_header_date(text: str) -> date | None:
    for fmt in ("%a, %d %b %Y", "%d %b %Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def read_markdown(path: Path) -> Listing:
    """Parse a markdown daily listing into a Listing, keeping listing order."""
    with reading(path):
        return _parse_markdown(path, path.read_text(encoding="utf-8-sig"))  # -sig: a byte order mark is not text


def _parse_markdown(path: Path, text: str) -> Listing:
    category: str | None = None
    day: date | None = None
    papers: list[Paper] = []
    pending: tuple[int, str, str, int | None] | None = None  # (line number, title, arxiv id, version)
    abstract_lines: list[str] = []

    def flush() -> None:
        nonlocal pending, abstract_lines
        if pending is not None:
            _, title, arxiv_id, version = pending
            papers.append(
                Paper(
                    arxiv_id=arxiv_id,
                    title=strip_html(title),
                    abstract=strip_html(" ".join(abstract_lines)),
                    categories=(category,) if category else (),
                    date=day,
                    version=version,
                )
            )
        pending, abstract_lines = None, []

    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("### "):
            flush()
            match = _PAPER.match(stripped)
            if not match:
                raise PaperrecError(f"{path}:{number}: expected '### N.Title [ :arrow_down: ](pdf link)'")
            id_match = _PDF_ID.search(match["pdf"])
            split = split_arxiv_id(id_match["id"]) if id_match else None
            if not split:
                raise PaperrecError(f"{path}:{number}: no arXiv id in link {match['pdf']!r}")
            if not strip_html(match["title"]):
                raise PaperrecError(f"{path}:{number}: the paper has no title")
            pending = (number, match["title"], split[0], split[1])
        elif stripped.startswith(">"):
            if pending is None:
                raise PaperrecError(f"{path}:{number}: abstract line before any '### ' paper line")
            abstract_lines.append(stripped[1:])
        elif stripped.startswith("# ") and not papers and pending is None:
            match = _HEADER.match(stripped)
            if not match:
                raise PaperrecError(
                    f"{path}:{number}: expected header '# ArXiv <category> --<weekday>, <d> <Mon> <yyyy>'"
                )
            category = match["category"]
            day = _parse_header_date(match["date"])
            if day is None:
                raise PaperrecError(f"{path}:{number}: cannot read the date {match['date']!r}")
        else:
            raise PaperrecError(f"{path}:{number}: unexpected line in markdown listing: {stripped[:60]!r}")
    flush()
    return Listing(papers=tuple(papers), category=category, date=day, sources=(str(path),))
