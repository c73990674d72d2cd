"""BibTeX collections in (Better BibTeX, JabRef, Google Scholar, DBLP): entries to Papers via bibtexparser 2."""

from __future__ import annotations

import logging
import re
import unicodedata
from pathlib import Path

import bibtexparser
from bibtexparser.exceptions import ParsingException
from bibtexparser.middlewares import NormalizeFieldKeys
from bibtexparser.middlewares.names import parse_single_name_into_parts, split_multiple_persons_names
from bibtexparser.model import (
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    ImplicitComment,
    ParsingFailedBlock,
)

from ..schema import Paper, PaperrecError, clean_text
from .guard import iso_day
from .idlist import find_arxiv_id, parse_arxiv_ref

# Math is kept verbatim, as in arXiv listings; an escaped \$ neither opens nor closes it.
_MATH = re.compile(r"((?<!\\)\$\$.+?(?<!\\)\$\$|(?<!\\)\$.+?(?<!\\)\$|\\\(.+?\\\))", re.DOTALL)
_COMBINING = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "c": "\u0327",
    "v": "\u030c",
    "u": "\u0306",
    "H": "\u030b",
    "k": "\u0328",
    "r": "\u030a",
    "d": "\u0323",
    "b": "\u0331",
}
_LETTERS = {"ss": "ß", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "aa": "å", "AA": "Å", "o": "ø", "O": "Ø"}
_LETTERS |= {"l": "ł", "L": "Ł", "i": "\N{LATIN SMALL LETTER DOTLESS I}", "j": "ȷ"}
_WORDS = {
    "LaTeX": "LaTeX",
    "TeX": "TeX",
    "ldots": "…",
    "dots": "…",
    "textendash": "\N{EN DASH}",
    "textemdash": "\N{EM DASH}",
    "textbackslash": "\\",
    "textbraceleft": "{",
    "textbraceright": "}",
    "textasciitilde": "~",
    "textasciicircum": "^",
    "textunderscore": "_",
}
# One pass over the text, so that what one rule produces is never read again by another (the backslash of a
# \textbackslash must not escape the brace after it), and a brace still splits a ligature as in LaTeX: -{}- is two
# hyphens. Groups: 1-3 an accent like \'e or \'{e}; 4-6 one like \c{c} or \c c; 7 a letter like \ss; 8 an escaped
# character like \&; 9 a command. What is left: a line break \\ or control space, a ligature, a brace or a tie.
_TOKEN = re.compile(
    r"""\\([`'^"~=.])\s*(?:\{\s*(\\[ij]|[A-Za-z])\s*\}|(\\[ij]|[A-Za-z]))"""
    r"|\\([cvuHkrdb])(?:\s*\{\s*(\\[ij]|[A-Za-z])\s*\}|\s+([A-Za-z]))"
    r"|\\(ss|ae|AE|oe|OE|aa|AA|o|O|l|L|i|j)(?![A-Za-z])(?:\{\}|\s+)?"
    r"|\\([&%_#${}])"
    r"|\\([A-Za-z]+)\*?"
    r"|\\\\|\\ |---|--|``|''|[{}~]"
)
_OTHER = {"---": "\N{EM DASH}", "--": "\N{EN DASH}", "``": "“", "''": "”", "{": "", "}": ""}
_ENTRY_HEAD = re.compile(r"@\s*(\w+)\s*[{(]\s*([^,\s]+)\s*,")
_CATEGORY = re.compile(r"^(?:[a-z]+(?:-[a-z]+)?\.[A-Za-z\-]+|[a-z]+-[a-z]+)$")


def _token(match: re.Match[str]) -> str:
    mark = match.group(1) or match.group(4)
    if mark:
        base = next(g for g in (match.group(2), match.group(3), match.group(5), match.group(6)) if g)
        base = base.lstrip("\\")  # an accent on a dotless \i or \j sits on a plain i or j
        return unicodedata.normalize("NFC", base + _COMBINING[mark])
    if match.group(7):
        return _LETTERS[match.group(7)]
    if match.group(8):
        return match.group(8)
    if match.group(9):
        return _WORDS.get(match.group(9), "")
    return _OTHER.get(match.group(), " ")


def split_math(value: str) -> list[str]:
    """`value` cut at its math ($..$, $$..$$, \\(..\\)), which lands at the odd positions and is kept verbatim."""
    return _MATH.split(value)


def latex_to_text(value: str) -> str:
    """Plain text of a BibTeX value: braces, accents and formatting commands resolved, $math$ kept as written."""
    parts = split_math(value)
    return clean_text("".join(part if index % 2 else _TOKEN.sub(_token, part) for index, part in enumerate(parts)))


def _fields(entry: Entry, enclosed: bool) -> dict[str, str]:
    """Field values by lower-case name; `enclosed` values (from blocks the parser gave up on) lose their {} or ""."""
    fields: dict[str, str] = {}
    for field in entry.fields:
        value = field.value if isinstance(field.value, str) else str(field.value)
        if enclosed and len(value) >= 2 and value[0] + value[-1] in ("{}", '""'):
            value = value[1:-1]
        fields[field.key.lower()] = value
    return fields


def _arxiv_id(fields: dict[str, str]) -> tuple[str, int | None] | None:
    """The entry's arXiv id: eprint, url, doi, then 'arXiv:...' mentions in journal, note or howpublished."""
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "arxiv").strip().lower()
    exact = [fields.get("eprint", "")] if prefix == "arxiv" else []
    exact += [fields.get("arxivid", ""), fields.get("url", ""), fields.get("doi", "")]
    for value in exact:
        found = parse_arxiv_ref(value) if value.strip() else None
        if found:
            return found
    for name in ("journal", "note", "howpublished"):
        found = find_arxiv_id(fields.get(name, ""))
        if found:
            return found
    return None


def parse_authors(value: str) -> tuple[str, ...]:
    """'Last, First and First Last and others' as ('First Last', 'First Last')."""
    names = []
    for raw in split_multiple_persons_names(value):
        if raw.strip().lower() == "others":
            continue
        name = latex_to_text(parse_single_name_into_parts(raw, strict=False).merge_first_name_first)
        if name:
            names.append(name)
    return tuple(names)


def _paper(fields: dict[str, str]) -> Paper | None:
    """The Paper for an entry's fields; None when it has neither an arXiv id nor a title."""
    found = _arxiv_id(fields)
    title = latex_to_text(fields.get("title", ""))
    if not found and not title:
        return None
    abstract = latex_to_text(fields.get("abstract", ""))
    authors = parse_authors(fields.get("author", ""))
    category = clean_text(fields.get("primaryclass") or fields.get("eprintclass") or "")
    categories = (category,) if _CATEGORY.match(category) else ()
    day = iso_day(fields.get("date", ""))
    if found:
        # An empty title marks "metadata missing", as for bare ids.
        arxiv_id, version = found
        return Paper(
            arxiv_id, title, abstract=abstract, authors=authors, categories=categories, date=day, version=version
        )
    return Paper.make(title, None, abstract=abstract, authors=authors, categories=categories, date=day)


def _where(path: Path, block: ParsingFailedBlock | Entry) -> str:
    """'file:line @type{key}' for a block, as far as it is known."""
    line = f":{block.start_line + 1}" if block.start_line is not None else ""
    if isinstance(block, Entry):
        return f"{path}{line} @{block.entry_type}{{{block.key}}}"
    head = _ENTRY_HEAD.match((block.raw or "").lstrip())
    return f"{path}{line} @{head.group(1)}{{{head.group(2)}}}" if head else f"{path}{line}"


def read_bibtex(path: Path) -> tuple[list[Paper], list[tuple[str, str]]]:
    """Papers of a .bib file in file order and the (what, why) entries skipped: broken, or without id and title."""
    text = path.read_text(encoding="utf-8-sig")
    # bibtexparser logs each broken entry itself; we report them once, in the skipped list.
    logging.getLogger("bibtexparser").setLevel(logging.ERROR + 10)
    try:
        library = bibtexparser.parse_string(text, append_middleware=[NormalizeFieldKeys()])
    except ParsingException as error:
        raise PaperrecError(f"{path}: cannot parse BibTeX ({error})") from None
    papers: list[Paper] = []
    skipped: list[tuple[str, str]] = []
    for block in library.blocks:
        if isinstance(block, Entry):
            entry, enclosed = block, False
        elif isinstance(block, DuplicateBlockKeyBlock | DuplicateFieldKeyBlock):
            # A duplicated key or field still leaves a whole entry (or @string); the parser hands it over unprocessed.
            if not isinstance(block.ignore_error_block, Entry):
                continue
            entry, enclosed = block.ignore_error_block, True
        elif isinstance(block, ParsingFailedBlock):
            reason = getattr(block.error, "abort_reason", None) or str(block.error) or type(block.error).__name__
            skipped.append((_where(path, block), f"malformed BibTeX entry: {clean_text(reason)}"))
            continue
        else:
            continue
        paper = _paper(_fields(entry, enclosed))
        if paper is None:
            skipped.append((_where(path, entry), "neither an arXiv id nor a title"))
        else:
            papers.append(paper)
    if text.strip() and all(isinstance(block, ImplicitComment) for block in library.blocks):
        raise PaperrecError(f"{path}: no BibTeX entries found (expected '@article{{key, title = ...}}' blocks)")
    return papers, skipped
