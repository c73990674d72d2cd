"""Listings as records: JSONL (one object per line) and CSV with the same columns."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..schema import Listing, Paper, PaperrecError, person_name
from .guard import json_loads, reading, scrubbed, shown
from .idlist import named_id

COLUMNS = ("id", "title", "abstract", "authors", "categories", "date")
_FIELDS = frozenset((*COLUMNS, "doi", "links", "venue"))  # what a record's keys may name, in lower case
# The names that PubMed's, Scopus's and Web of Science's exports give the columns paperrec reads. A file's own name
# for a field (in any case) comes first.
SYNONYMS = {
    "article title": "title",  # Web of Science
    "document title": "title",
    "create date": "date",  # PubMed: the day the record was made, YYYY/MM/DD
    "publication date": "date",  # Web of Science: often a month only ('DEC 2026'), which dates nothing
}
_DAY = re.compile(r"(\d{4})[-/](\d{2})[-/](\d{2})")
# Inline formatting a title or an abstract may carry ('<i>S. pombe</i>', 'Ca<sup>2+</sup>'). Only a known tag with
# its closing tag is markup: 'The <s> token', 'x < y' and '$a<b>c$' are text, and a stored day reads back as written.
_INLINE = re.compile(
    r"<(i|b|em|strong|sub|sup|span|u|sc|small|tt|font|mark|var|cite|q)(?:\s[^<>]*)?>(.*?)</\1\s*>",
    re.IGNORECASE | re.DOTALL,
)


def without_markup(text: str) -> str:
    """Text without its inline formatting tags (see _INLINE); entities and any other '<' are kept."""
    while "</" in text:
        stripped = _INLINE.sub(r"\2", text)
        if stripped == text:
            break
        text = stripped
    return text


def _strings(values: list[Any]) -> list[str]:
    """A JSON list's items as text; null items are no items (not the text "None")."""
    return [v if isinstance(v, str) else str(v) for v in values if v is not None]


def _as_list(value: Any, where: str, field: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return _strings(scrubbed(value))
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except (ValueError, RecursionError):  # ValueError: also numbers past Python's digit limit
                raise PaperrecError(f"{where}: '{field}' is not a valid JSON list") from None
            if isinstance(parsed, list):
                return _strings(scrubbed(parsed))
        return [part for part in (p.strip() for p in text.split(";")) if part]
    raise PaperrecError(f"{where}: '{field}' must be a list or a ';'-separated string")


def _record_id(text: str) -> str | None:
    """The arXiv id (with its version) or 'doi:' id a record's id or doi column names, as an id list reads it."""
    found = named_id(text)
    if found is None:
        return None
    return found[0] if found[1] is None else f"{found[0]}v{found[1]}"


def paper_from_record(record: dict[str, Any], where: str) -> Paper:
    """Turn one JSONL object or CSV row into a Paper; `where` ('file:line') prefixes errors."""
    with reading(where):
        return _paper_from_record(record, where)


def _whole_day(value: Any) -> str | None:
    """An export's date as YYYY-MM-DD when it is a whole day (YYYY-MM-DD or YYYY/MM/DD first), else None."""
    day = _DAY.match(str(value).strip())
    return "-".join(day.groups()) if day else None


def _named(record: dict[str, Any]) -> dict[str, Any]:
    """The record with its keys as paperrec names them: in lower case, and an export's own names (SYNONYMS) for
    those the record lacks.

    Only paperrec's own `date` must be YYYY-MM-DD. Another file's (a `Date` column, or a SYNONYMS name) dates a
    paper when it is a whole day: Zotero's '2021' or 'April 2020' dates nothing.
    """
    if _FIELDS.issuperset(record):  # paperrec's own files: nothing to rename
        return record
    named = {key.lower() if isinstance(key, str) else key: value for key, value in reversed(record.items())}
    named.update((key, value) for key, value in record.items() if key in _FIELDS)  # 'title' before 'Title'
    if "date" not in record and named.get("date") is not None:
        named["date"] = _whole_day(named["date"])
        if named["date"] is None:
            del named["date"]  # a synonym below may date it
    for synonym, field in SYNONYMS.items():
        value = named.get(synonym)
        if field in named or value is None:
            continue
        if field == "date" and (value := _whole_day(value)) is None:
            continue
        named[field] = value
    return named


def _paper_from_record(record: dict[str, Any], where: str) -> Paper:
    record = _named(record)
    links = _as_list(scrubbed(record.get("links")), where, "links")  # JSONL only: CSV keeps its columns
    venue = scrubbed(record.get("venue")) or ""  # JSONL only, as links
    if not isinstance(venue, str):
        raise PaperrecError(f"{where}: 'venue' must be a string")
    doi = scrubbed(record.get("doi"))  # a journal's listing names its papers by DOI
    record = {key: scrubbed(record.get(key)) for key in COLUMNS}
    title = record.get("title")
    if not isinstance(title, str) or not title.strip():
        raise PaperrecError(f"{where}: missing 'title'")
    raw_id = record.get("id")
    if raw_id is not None and not isinstance(raw_id, str):
        if not isinstance(raw_id, int | float | Decimal):
            raise PaperrecError(f"{where}: 'id' must be a string, got {shown(raw_id)}")
        raw_id = str(raw_id)  # a Decimal prints as written: 2104.10640 keeps its last zero
    if raw_id and raw_id.strip():
        raw_id = _record_id(raw_id) or raw_id  # other ids (a title id, a forum) are Paper.make's to read
    elif isinstance(doi, str):
        raw_id = _record_id(doi)  # a column that holds no DOI ('n/a') names no paper
    abstract = record.get("abstract") or ""
    if not isinstance(abstract, str):
        raise PaperrecError(f"{where}: 'abstract' must be a string")
    raw_date = record.get("date")
    day = None
    if raw_date:
        try:
            day = date.fromisoformat(str(raw_date)[:10])
        except ValueError:
            raise PaperrecError(f"{where}: 'date' must be YYYY-MM-DD, got {shown(raw_date)}") from None
    try:
        return Paper.make(
            title=without_markup(title),
            raw_id=raw_id,
            abstract=without_markup(abstract),
            authors=_as_list(record.get("authors"), where, "authors"),
            categories=_as_list(record.get("categories"), where, "categories"),
            date=day,
            links=links,
            venue=venue,
        )
    except ValueError as error:
        raise PaperrecError(f"{where}: {error}") from None


def paper_to_record(paper: Paper) -> dict[str, Any]:
    """The JSONL record of a paper (the inverse of paper_from_record)."""
    return {
        "id": paper.arxiv_id,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": list(paper.authors),
        "categories": list(paper.categories),
        "date": paper.date.isoformat() if paper.date else None,
        **({"links": list(paper.links)} if paper.links else {}),
        **({"venue": paper.venue} if paper.venue else {}),
    }


def iter_json_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line of a JSONL file that is not blank, read as a stream and not parsed."""
    with reading(path), path.open(encoding="utf-8-sig") as handle:  # -sig: a byte order mark is not text
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line


def json_record(line: str, where: str) -> dict[str, Any]:
    """The JSON object on one line of a JSONL file; an error naming `where` ('file:line') when it is not one."""
    # Without its newline: a line cut short reads as an unterminated string, not a control character.
    record = json_loads(line.rstrip("\r\n"), where, exact=True)
    if not isinstance(record, dict):
        raise PaperrecError(f"{where}: expected a JSON object")
    return record


def iter_json_records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(`file:line`, object) for each line of a JSONL file (blank lines ignored), read as a stream."""
    with reading(path):
        for number, line in iter_json_lines(path):
            where = f"{path}:{number}"
            yield where, json_record(line, where)


def iter_jsonl(path: Path) -> Iterator[Paper]:
    """Papers of a JSONL file, one JSON object per line (blank lines ignored), read as a stream."""
    for where, record in iter_json_records(path):
        yield paper_from_record(record, where)


def _one_day(papers: tuple[Paper, ...]) -> date | None:
    """The date every paper has, else None: `paperrec fetch` dates each paper with the day it announces."""
    days = {paper.date for paper in papers}
    return days.pop() if len(days) == 1 else None


def read_jsonl(path: Path) -> Listing:
    """Parse a JSONL listing: one JSON object per line, blank lines ignored; dated when its papers share one date."""
    papers = tuple(iter_jsonl(path))
    return Listing(papers=papers, date=_one_day(papers), sources=(str(path),))


class _Lines:
    """A CSV file's lines as the csv reader takes them: where each record starts, and whether one ran off the end."""

    def __init__(self, handle: Iterable[str]):
        self._lines = iter(handle)
        self._number = 0
        self._start: int | None = None  # the line the record being read began on
        self._ended = False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        try:
            line = next(self._lines)
        except StopIteration:
            self._ended = True
            raise
        self._number += 1
        if self._start is None and line.strip():
            self._start = self._number
        return line

    def check_closed(self, path: Path) -> None:
        """Refuse the record just read if it ran off the end: an open quote took in the rest of the file."""
        if self._ended and self._start is not None:
            raise PaperrecError(f"{path}:{self._start}: a quote opened in this record is never closed")
        self._start = None


_INITIALS = re.compile(r"[^\W\d_]{1,3}")
# Scopus's export: only it names these columns. Web of Science has a 'Source Title' too, with an 'Article Title'.
_SCOPUS = frozenset(("eid", "author(s) id", "author full names"))


def _medline_name(name: str) -> str:
    """'Nguyen TH' (MEDLINE's surname and initials) or 'Nguyen T.H.' (Scopus's) as 'T. H. Nguyen'; a group's name
    as it is."""
    name = name.strip()
    surname, _, initials = name.partition(",") if "," in name else name.rpartition(" ")  # 'Doe, AB' is written too
    surname, initials = surname.strip(), initials.strip().replace(".", "").replace(" ", "")
    if not surname or not _INITIALS.fullmatch(initials) or not initials.isupper():
        return name
    return person_name(" ".join(f"{letter}." for letter in initials), surname)


def _export_names(fields: Sequence[str]) -> tuple[str | None, str]:
    """The authors column of a PubMed or Scopus export, which writes each author 'Surname Initials', and the mark
    between authors there (None: another file, whose authors are split at ';' as written)."""
    lower = {field.lower() for field in fields}
    authors = next((field for field in fields if field.lower() == "authors"), None)
    if "pmid" in lower:
        return authors, ","  # PubMed: 'Smith J, Doe A.'
    if _SCOPUS & lower or ("source title" in lower and "article title" not in lower):
        return authors, ";"  # Scopus: 'Smith J.; Doe A.' (before 2023 'Smith J., Doe A.')
    return None, ";"


def iter_csv(path: Path) -> Iterator[Paper]:
    """Papers of a CSV file with a header row naming the columns, read as a stream."""
    with reading(path), path.open(encoding="utf-8-sig", newline="") as handle:  # -sig: a byte order mark is not text
        lines = _Lines(handle)
        reader = csv.DictReader(lines)
        try:
            fields = reader.fieldnames
            lines.check_closed(path)
            named = {SYNONYMS.get(f.lower(), f.lower()) for f in fields or ()}
            if "title" not in named:
                raise PaperrecError(f"{path}:1: CSV header must name a 'title' column (or 'Article Title')")
            authors, mark = _export_names(fields or ())
            for row in reader:
                lines.check_closed(path)
                where = f"{path}:{reader.line_num}"
                if None in row:
                    raise PaperrecError(f"{where}: more fields than the header names")
                if authors and row[authors]:
                    cell = row[authors].rstrip(". " if mark == "," else " ")
                    names = cell.split(";" if ";" in cell else mark if mark in cell else ",")  # ';' splits always
                    row[authors] = ";".join(map(_medline_name, names))
                yield paper_from_record(row, where)
        except csv.Error as error:
            raise PaperrecError(f"{path}:{reader.line_num}: {error}") from None


def read_csv(path: Path) -> Listing:
    """Parse a CSV listing with a header row naming the columns; dated when its papers share one date."""
    papers = tuple(iter_csv(path))
    return Listing(papers=papers, date=_one_day(papers), sources=(str(path),))


def to_jsonl(papers: list[Paper] | tuple[Paper, ...]) -> str:
    """Serialise papers as a JSONL listing."""
    return "".join(json.dumps(paper_to_record(p), ensure_ascii=False) + "\n" for p in papers)


def csv_text(records: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    """CSV of records with a header row; list values joined with ';', None as empty."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({column: _csv_cell(record[column]) for column in columns})
    return buffer.getvalue()


# A spreadsheet evaluates a cell that starts with one of these (OWASP "CSV injection"); a leading ' makes it text.
# Cells that already start with quotes before such a character get one more, so that the rule stays reversible.
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _csv_cell(value: Any) -> Any:
    """A list as one ';'-joined cell, None as an empty one; text that a spreadsheet would run as a formula quoted."""
    if isinstance(value, list):
        value = ";".join(value)
    if value is None:
        return ""
    if isinstance(value, str):
        value = _SURROGATE.sub("\ufffd", value)  # a lone surrogate cannot be written as UTF-8
        if _FORMULA.match(value):
            value = "'" + value
        # With "\n" as line terminator the writer quotes cells holding "\n" but not "\r", which no reader then parses.
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def to_csv(papers: list[Paper] | tuple[Paper, ...]) -> str:
    """Serialise papers as a CSV listing (lists joined with ';')."""
    return csv_text(map(paper_to_record, papers), COLUMNS)
