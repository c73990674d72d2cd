"""BibTeX collections in (Better BibTeX, JabRef, Google Scholar, DBLP): entries to Papers via bibtexparser 2."""

from __future__ import annotations

import functools
import logging
import re
from datetime import date
from pathlib import Path
from typing import Any

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

from ..schema import Paper, PaperrecError, clean_text, person_name
from .citations import ARGUMENTS, CITATIONS, citation_text
from .guard import iso_day
from .idlist import (
    Reference,
    bibcode_arxiv_id,
    find_arxiv_id,
    find_forum,
    normalise_doi,
    parse_arxiv_ref,
    parse_arxiv_refs,
    record_paper,
)
from .markdown import strip_html

# Math is kept verbatim, as in arXiv listings; an escaped \$ neither opens nor closes it.
_MATH = re.compile(r"((?<!\\)\$\$.+?(?<!\\)\$\$|(?<!\\)\$.+?(?<!\\)\$|\\\(.+?\\\))", re.DOTALL)
# Characters that make a text part LaTeX at all; a part without any is already plain text (most abstracts).
_LATEX = re.compile(r"[\\{}~%&]|--|``|''")
# A bare % or & in a BibTeX value is text to every reference manager that wrote it, not a comment or a column.
_BARE = re.compile(r"(?<!\\)((?:\\\\)*)([%&])")
_ENTRY_HEAD = re.compile(r"@\s*(\w+)\s*[{(]\s*([^,\s={}()]+)")
_CATEGORY = re.compile(r"^(?:[a-z]+(?:-[a-z]+)?\.[A-Za-z\-]+|[a-z]+-[a-z]+)$")
# What follows a value that runs on into the next field: 'title = {X}\n  author = {Y}' with the comma missing.
_RUN_ON = re.compile(r"\s+([A-Za-z][\w\-]*)\s*=\s*\S")
_FORUM_FIELDS = ("url", "note", "howpublished", "eprint")
# textgreek's letters, which Better BibTeX writes for Greek in text ('TGF-{\textbeta}'); \textmu stays the micro sign.
_GREEK_NAMES = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda nu xi omikron pi rho sigma tau upsilon phi chi psi"
    " omega"
)
_GREEK = dict(zip(_GREEK_NAMES.split(), "αβγδεζηθικλνξοπρστυφχψω", strict=True))
_MONTHS = {
    name: number
    for number, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}


@functools.cache
def _decoder() -> tuple[Any, Any]:
    """pylatexenc's walker context and text converter, taught what BibTeX exporters write that it lacks."""
    from pylatexenc import latex2text, latexwalker, macrospec

    logging.getLogger("pylatexenc").setLevel(logging.ERROR + 10)  # it logs every tolerated oddity
    walker_db = latexwalker.get_default_latex_context_db()
    walker_db.add_context_category(
        "paperrec",
        macros=[
            macrospec.MacroSpec("href", "{{"),
            macrospec.MacroSpec("url", "{"),
            *(macrospec.MacroSpec(name, ARGUMENTS) for name in CITATIONS),
        ],
        prepend=True,
    )
    text_db = latex2text.get_default_latex_context_db()
    macros = [
        # Zotero and paperrec's own export write these for characters LaTeX would read as markup.
        latex2text.MacroTextSpec("textbraceleft", "{"),
        latex2text.MacroTextSpec("textbraceright", "}"),
        latex2text.MacroTextSpec("textasciicircum", "^"),
        latex2text.MacroTextSpec("textless", "<"),  # Mendeley writes a title's <i> as {\textless}i{\textgreater}
        latex2text.MacroTextSpec("textgreater", ">"),
        latex2text.MacroTextSpec("texttimes", "\N{MULTIPLICATION SIGN}"),
        latex2text.MacroTextSpec("textperiodcentered", "\N{MIDDLE DOT}"),
        latex2text.MacroTextSpec("textminus", "\N{MINUS SIGN}"),  # '-80 °C' must not read '80 °C'
        latex2text.MacroTextSpec("textpermille", "\N{PER MILLE SIGN}"),
        latex2text.MacroTextSpec("textunderscore", "_"),
        latex2text.MacroTextSpec("textbar", "|"),
        *(latex2text.MacroTextSpec(f"text{name}", letter) for name, letter in _GREEK.items()),
        *(latex2text.MacroTextSpec(f"text{name.title()}", letter.upper()) for name, letter in _GREEK.items()),
        latex2text.MacroTextSpec("url", "%(1)s"),
        latex2text.MacroTextSpec("href", "%(2)s"),
        *(latex2text.MacroTextSpec(name, simplify_repl=citation_text) for name in CITATIONS),
    ]
    # !` and ?` are Spanish ligatures to LaTeX but plain punctuation in every title we have seen.
    specials = [latex2text.SpecialsTextSpec("!`", "!`"), latex2text.SpecialsTextSpec("?`", "?`")]
    text_db.add_context_category("paperrec", macros=macros, specials=specials, prepend=True)
    converter = latex2text.LatexNodes2Text(latex_context=text_db, math_mode="verbatim", strict_latex_spaces=True)
    return walker_db, converter


def _decode(part: str) -> str:
    """A text part (no math) as plain text, by pylatexenc: accents, escapes, symbols, formatting commands."""
    if not _LATEX.search(part):
        return part
    from pylatexenc import latexwalker

    walker_db, converter = _decoder()
    walker = latexwalker.LatexWalker(_BARE.sub(r"\1\\\2", part), latex_context=walker_db, tolerant_parsing=True)
    nodes, _, _ = walker.get_latex_nodes()
    return converter.nodelist_to_text(nodes)


def split_math(value: str) -> list[str]:
    """`value` cut at its math ($..$, $$..$$, \\(..\\)), which lands at the odd positions and is kept verbatim."""
    return _MATH.split(value)


def latex_to_text(value: str) -> str:
    """Plain text of a BibTeX value: accents, escapes and commands resolved by pylatexenc, $math$ kept as written.

    Zotero escapes a title's own LaTeX ($\\alpha$ is written \\$\\textbackslash alpha\\$): decoding the escapes
    gives back the title as Zotero shows it, math included: r"\\$\\textbackslash alpha\\$" reads "$\\alpha$".
    """
    parts = split_math(value)
    return clean_text("".join(part if index % 2 else _decode(part) for index, part in enumerate(parts)))


def _fields(entry: Entry, enclosed: bool) -> dict[str, str]:
    """Field values by lower-case name; `enclosed` values (from blocks the parser gave up on) lose their {} or ""."""
    fields: dict[str, str] = {}
    for field in entry.fields:
        value = field.value if isinstance(field.value, str) else str(field.value)
        if enclosed and len(value) >= 2 and value[0] + value[-1] in ("{}", '""'):
            value = value[1:-1]
        fields[field.key.lower()] = value
    return fields


def _arxiv_id(fields: dict[str, str], key: str) -> tuple[str, int | None] | None:
    """The entry's arXiv id, from the fields that name only an id first, then from any field that mentions one.

    eprint/arxivid (Better BibTeX, JabRef, Mendeley), url (Mendeley puts several there), doi 10.48550/arXiv.*, the ADS
    fields (adsurl, eid, pages = {arXiv:...}, a bibcode as the key), DBLP's CoRR volume 'abs/...', then 'arXiv:...'
    mentions in journal, note, howpublished, address and the rest.
    """
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "arxiv").strip().lower()
    declared = fields.get("eprint", "") if prefix == "arxiv" else ""
    found = parse_arxiv_ref(declared, placeholder="archiveprefix" in fields) if declared.strip() else None
    if found:
        return found
    exact = [fields.get("arxivid", ""), fields.get("arxiv", ""), fields.get("doi", ""), fields.get("adsurl", "")]
    for value in exact:
        found = parse_arxiv_ref(value) if value.strip() else None
        if found:
            return found
    found = parse_arxiv_refs(fields.get("url", ""))
    if found:
        return found
    bibcode = bibcode_arxiv_id(key)  # NASA ADS uses the bibcode as the entry key
    if bibcode:
        return bibcode, None
    if re.fullmatch(r"(?i)corr|arxiv|arxiv e-prints", fields.get("journal", "").strip()):
        found = parse_arxiv_ref(fields.get("volume", "").strip().removeprefix("abs/"))
        if found:
            return found
    named = ("eid", "pages", "journal", "note", "howpublished", "address", "annote", "annotation", "addendum")
    for name in (*named, *(name for name in fields if name not in named and name != "abstract")):
        found = find_arxiv_id(fields.get(name, ""))
        if found:
            return found
    return None


def _year(fields: dict[str, str]) -> int | None:
    """The publication year: 'year', else the start of a BibLaTeX 'date' (2021, 2021-04, 2021-04-21)."""
    match = re.match(r"\s*\{?\s*(\d{4})\b", fields.get("year", "")) or re.match(r"\s*(\d{4})\b", fields.get("date", ""))
    return int(match.group(1)) if match else None


# When the entry joined the library (Better BibTeX and JabRef 'timestamp', BibDesk 'date-added', BibSonomy
# 'added-at'), or was last read ('urldate', which Zotero writes): closer to the day a paper was liked than its
# publication date.
_ADDED_FIELDS = ("timestamp", "dateadded", "date-added", "added-at", "urldate")


def _stamp(fields: dict[str, str]) -> date | None:
    """When the entry was added to the library or accessed, if it says."""
    for name in _ADDED_FIELDS:
        # JabRef may write 2024.03.05; a time after the day is ignored.
        day = iso_day(re.sub(r"^(\d{4})[./](\d{2})[./](\d{2})", r"\1-\2-\3", fields.get(name, "").strip().strip("{}")))
        if day is not None:
            return day
    return None


def _added(fields: dict[str, str], year: int | None) -> date | None:
    """The entry's own date: when it was added or accessed, else BibLaTeX 'date', else 'year' with 'month' (the 1st
    of it; January without a month)."""
    stamp = _stamp(fields)
    if stamp is not None:
        return stamp
    day = iso_day(fields.get("date", ""))
    if day is not None or year is None:
        return day
    raw = fields.get("month", "").strip().strip("{}").strip().lower()
    month = int(raw) if raw.isdigit() else _MONTHS.get(raw[:3], 0)
    month = month if 1 <= month <= 12 else 1
    try:
        return date(year, month, 1)
    except ValueError:  # a year such as 0000
        return None


def parse_authors(value: str) -> tuple[str, ...]:
    """'Last, First and First Last and others' as ('First Last', 'First Last')."""
    names = []
    for raw in split_multiple_persons_names(value):
        if raw.strip().lower() == "others":
            continue
        parts = parse_single_name_into_parts(raw, strict=False)
        if parts.von or parts.jr:
            name = latex_to_text(parts.merge_first_name_first)
        else:  # a CJK name keeps its order (王芳)
            name = person_name(latex_to_text(" ".join(parts.first)), latex_to_text(" ".join(parts.last)))
        if name:
            names.append(name)
    return tuple(names)


# Mendeley writes a title's <i> as {\textless}i{\textgreater}. Before 2026-12-05 these macros read as nothing.
_ANGLE_MACRO = re.compile(r"\\text(?:less|greater)(?![A-Za-z])")


def _earlier_titles(raw: str, title: str) -> tuple[str, ...]:
    """The title as the version before 2026-12-05 read it, when that differs: a profile may keep it by that title."""
    earlier = latex_to_text(_ANGLE_MACRO.sub("", raw)) if _ANGLE_MACRO.search(raw) else title
    return (earlier,) if earlier != title else ()


def _reference(fields: dict[str, str], key: str) -> Reference | None:
    """The reference for an entry's fields; None when it has neither an arXiv id nor a title."""
    found = _arxiv_id(fields, key)
    title = strip_html(latex_to_text(fields.get("title", "")))  # a title's <i>, as CSL, RIS and RDF titles lose it
    if not found and not title:
        return None
    category = clean_text(fields.get("primaryclass") or fields.get("eprintclass") or "")
    doi = normalise_doi(fields.get("doi", "")) or normalise_doi(fields.get("url", ""))
    # OpenReview's own BibTeX puts the forum in url; others write it in note or howpublished.
    forum = next(filter(None, (find_forum(fields.get(name, "")) for name in _FORUM_FIELDS)), None)
    paper = record_paper(
        found,
        doi,
        forum,
        title,
        abstract=strip_html(latex_to_text(fields.get("abstract", ""))),  # Crossref's JATS ('<jats:p>') is not text
        authors=parse_authors(fields.get("author", "")),
        categories=(category,) if _CATEGORY.match(category) else (),
        date=iso_day(fields.get("date", "")),
    )
    if paper is None:
        return None
    year = _year(fields)
    doi = normalise_doi(fields.get("doi", ""))
    aliases = _earlier_titles(fields.get("title", ""), title)
    return Reference(
        paper, doi=doi, year=year, added=_added(fields, year), stamped=_stamp(fields) is not None, aliases=aliases
    )


def _run_on(fields: dict[str, str], raw: str | None = None) -> str | None:
    """The field name a value ran on into (a missing comma before it), if any.

    A value the entry's raw text holds whole inside one {…} or "…" was written as one value, whatever it reads like
    ('{{A} and =0}' is an author list, not a field 'and').
    """
    for value in fields.values():
        end = _first_group_end(value.lstrip())
        match = _RUN_ON.match(value.lstrip(), end) if end else None
        if match and not (raw and ("{" + value + "}" in raw or '"' + value + '"' in raw)):
            return match.group(1)
    return None


def _first_group_end(value: str) -> int | None:
    """Where the value's first {…} or "…" group ends (braces balanced), or None if it opens none or never closes."""
    if not value or value[0] not in '{"':
        return None
    depth = 0
    for i, char in enumerate(value):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0 and value[0] == "{":
                return i + 1
        elif char == '"' and i > 0 and depth == 0 and value[0] == '"':
            return i + 1
    return None


def _where(path: Path, block: ParsingFailedBlock | Entry) -> str:
    """'file:line @type{key}' for a block, as far as it is known."""
    line = f":{block.start_line + 1}" if block.start_line is not None else ""
    if isinstance(block, Entry):
        return f"{path}{line} @{block.entry_type}{{{block.key}}}"
    head = _ENTRY_HEAD.match((block.raw or "").lstrip())
    return f"{path}{line} @{head.group(1)}{{{head.group(2)}}}" if head else f"{path}{line}"


def bibtex_references(path: Path) -> tuple[list[Reference], list[tuple[str, str]]]:
    """References of a .bib file in file order and the (what, why) entries skipped: broken, or without id and title."""
    text = path.read_text(encoding="utf-8-sig")
    # bibtexparser logs each broken entry itself; we report them once, in the skipped list.
    logging.getLogger("bibtexparser").setLevel(logging.ERROR + 10)
    try:
        library = bibtexparser.parse_string(text, append_middleware=[NormalizeFieldKeys()])
    except ParsingException as error:
        raise PaperrecError(f"{path}: cannot parse BibTeX ({error})") from None
    references: list[Reference] = []
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
            skipped.append((_where(path, block), f"malformed BibTeX entry: {_failure(block)}"))
            continue
        else:
            continue
        fields = _fields(entry, enclosed)
        field = _run_on(fields, entry.raw)
        if field:
            why = f"malformed BibTeX entry: a comma is missing before the field {field!r}"
            skipped.append((_where(path, entry), why))
            continue
        reference = _reference(fields, entry.key)
        if reference is None:
            skipped.append((_where(path, entry), "neither an arXiv id nor a title"))
        else:
            references.append(reference)
    if text.strip() and all(isinstance(block, ImplicitComment) for block in library.blocks):
        raise PaperrecError(f"{path}: no BibTeX entries found (expected '@article{{key, title = ...}}' blocks)")
    return references, skipped


def _failure(block: ParsingFailedBlock) -> str:
    """Why bibtexparser gave up on a block, in words a user can act on."""
    reason = clean_text(getattr(block.error, "abort_reason", None) or str(block.error) or type(block.error).__name__)
    if reason.startswith("Expected comma after entry key"):
        return "a comma is missing after the entry key"
    return reason


def read_bibtex(path: Path) -> tuple[list[Paper], list[tuple[str, str]]]:
    """Papers of a .bib file in file order and the (what, why) entries skipped: broken, or without id and title."""
    references, skipped = bibtex_references(path)
    return [r.paper for r in references], skipped
