"""Listings in: read markdown, JSONL and CSV listing files into a Listing."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from ..schema import Listing, Paper, PaperrecError, UsageError
from .guard import choose_format, reading
from .markdown import read_markdown
from .records import (
    iter_csv,
    iter_json_records,
    iter_jsonl,
    paper_from_record,
    paper_to_record,
    read_csv,
    read_jsonl,
    to_csv,
    to_jsonl,
)

FORMATS = {"md": read_markdown, "jsonl": read_jsonl, "csv": read_csv}
_EXTENSIONS = {".md": "md", ".markdown": "md", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}

__all__ = [
    "FORMATS",
    "detect_format",
    "iter_json_records",
    "iter_papers",
    "merge_listings",
    "paper_from_record",
    "paper_to_record",
    "read_listing",
    "read_listings",
    "to_csv",
    "to_jsonl",
]


def detect_format(path: Path, input_format: str | None = None) -> str:
    """The listing format: the override if given, else from the file extension."""
    return choose_format(path, input_format, FORMATS, _EXTENSIONS, what="input format", option="--input-format")


STDIN = "-"


def _checked(path: Path, input_format: str | None) -> str:
    fmt = detect_format(path, input_format)
    if not path.exists():
        raise PaperrecError(f"{path}: no such file")
    if path.is_dir():
        raise PaperrecError(f"{path}: is a directory, expected a listing file")
    return fmt


@contextmanager
def _opened(path: Path, input_format: str | None) -> Iterator[tuple[Path, str]]:
    """The file to parse and its format; standard input (`-`, which needs an explicit format) is spooled to a
    temporary file first, and errors name it `<stdin>`."""
    if str(path) != STDIN:
        yield path, _checked(path, input_format)
        return
    if not input_format:
        raise UsageError(f"reading a listing from standard input (-) needs --input-format {'|'.join(FORMATS)}")
    fmt = detect_format(path, input_format)
    with tempfile.TemporaryDirectory(prefix="paperrec-stdin-") as folder:
        spooled = Path(folder) / f"stdin.{fmt}"
        with spooled.open("wb") as handle:
            shutil.copyfileobj(sys.stdin.buffer, handle)
        try:
            yield spooled, fmt
        except PaperrecError as error:
            raise type(error)(str(error).replace(str(spooled), "<stdin>")) from None


def read_listing(path: Path | str, input_format: str | None = None) -> Listing:
    """Read one listing file (or standard input, `-`) in any supported format."""
    with _opened(Path(path), input_format) as (source, fmt), reading(source):
        listing = FORMATS[fmt](source)
    return listing if source == Path(path) else replace(listing, sources=("<stdin>",))  # not the spooled copy's name


def iter_papers(path: Path | str, input_format: str | None = None) -> Iterator[Paper]:
    """The papers of a file (or standard input, `-`) as a stream (JSONL and CSV are never held in memory whole)."""
    streams = {"jsonl": iter_jsonl, "csv": iter_csv}
    with _opened(Path(path), input_format) as (source, fmt), reading(source):
        if fmt in streams:
            yield from streams[fmt](source)
        else:
            yield from FORMATS[fmt](source).papers


def merge_listings(listings: list[Listing]) -> Listing:
    """Merge listings by id, keeping the first occurrence's order and uniting categories."""
    merged: dict[str, Paper] = {}
    for listing in listings:
        for paper in listing.papers:
            known = merged.get(paper.arxiv_id)
            if known is None:
                merged[paper.arxiv_id] = paper
            else:
                extra = tuple(c for c in paper.categories if c not in known.categories)
                if extra:
                    merged[paper.arxiv_id] = replace(known, categories=known.categories + extra)
    dates = {listing.date for listing in listings if listing.date}
    categories = {listing.category for listing in listings if listing.category}
    return Listing(
        papers=tuple(merged.values()),
        category=categories.pop() if len(categories) == 1 else None,
        date=dates.pop() if len(dates) == 1 else None,
        sources=tuple(s for listing in listings for s in listing.sources),
    )


def read_listings(paths: list[Path] | list[str], input_format: str | None = None) -> Listing:
    """Read several listing files and merge them by id; an empty result is an error."""
    if not paths:
        raise UsageError("no listing file given")
    listing = merge_listings([read_listing(p, input_format) for p in paths])
    if not listing.papers:
        names = ", ".join(str(p) for p in paths)
        raise PaperrecError(f"{names}: no papers in the listing")
    return listing
