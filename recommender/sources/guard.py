"""Untrusted input made safe: text without lone surrogates, any parser failure as one PaperrecError line."""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..paths import open_database
from ..schema import PaperrecError, TemporaryFailure, UsageError

# Lone surrogates come from JSON escapes ("\ud800") and XML character references; they cannot be encoded as
# UTF-8, so a paper holding one would fail much later, when it is hashed, cached or written out.
_SURROGATE = re.compile("[\ud800-\udfff]")
# An XML character reference, as bytes: checked before feedparser reads a feed.
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,20}));")
# SQLite's primary result codes for a file that is not (or no longer) a database.
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26


def scrub(text: str) -> str:
    """The text with each lone surrogate replaced by U+FFFD, so it can always be encoded as UTF-8."""
    # Most text is ASCII, which holds no surrogate: the check is ~100 x faster than the search on an abstract.
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


def scrubbed(value: Any) -> Any:
    """A str scrubbed, a list's strings scrubbed (one level: the list fields of a record), anything else as is."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [scrub(v) if isinstance(v, str) else v for v in value]
    return value


def shown(value: Any, width: int = 60) -> str:
    """A short, printable repr of an untrusted value for an error message."""
    text = repr(value) if isinstance(value, str) else type(value).__name__
    return text if len(text) <= width else text[: width - 3] + "..."


def one_line(error: BaseException) -> str:
    """An exception's message on one line, or its type name when it has none."""
    return " ".join(scrub(str(error)).split()) or type(error).__name__


@contextmanager
def reading(where: str | Path) -> Iterator[None]:
    """Turn what untrusted input can make a parser raise deep down into one PaperrecError line naming `where`."""
    try:
        yield
    except PaperrecError:
        raise
    except UnicodeDecodeError:
        raise PaperrecError(f"{where}: not a UTF-8 text file") from None
    except OSError as error:
        raise PaperrecError(f"{where}: cannot read ({error.strerror or one_line(error)})") from None
    except RecursionError:
        raise PaperrecError(f"{where}: nested too deeply to read") from None
    except MemoryError:
        raise PaperrecError(f"{where}: too large to read into memory") from None
    except (ValueError, OverflowError, TypeError, KeyError, IndexError, AttributeError, UnicodeError) as error:
        # The last line of defence: each parser checks what it knows, this catches what input found beyond that.
        raise PaperrecError(f"{where}: cannot read ({one_line(error)})") from None


# ---- derived SQLite files ------------------------------------------------------------------------------------------


def _char_ref(match: re.Match[bytes]) -> bytes:
    """A character reference kept, or U+FFFD's when it names no character (a surrogate, NUL, beyond U+10FFFF)."""
    code = int(match[1], 16) if match[1] else int(match[2])
    return match[0] if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else b"&#xFFFD;"


def as_parsed_text(data: bytes) -> bytes:
    """An XML document in UTF-8 as feedparser will read it (UTF-16, UTF-32 or EBCDIC too), for a check of its markup;
    the bytes as they are when their encoding cannot be told."""
    from feedparser.encodings import convert_to_utf8

    try:
        return convert_to_utf8({}, data, {})
    except Exception:  # feedparser then meets the same trouble, and says so in its own way
        return data


def feed_document(data: bytes, where: str) -> Any:
    """feedparser's result for an RSS or Atom document; one PaperrecError line when it is not well-formed or not a
    feed. The caller refuses what its source never sends (a DTD, entities) first."""
    import xml.sax

    import feedparser

    if b"&#" in data:  # feedparser's fallback parser crashes on a reference to a surrogate: it becomes U+FFFD
        data = _CHAR_REF.sub(_char_ref, data)
    # Bytes, not str: a str would be taken as a URL or a path. sanitize_html would damage '$p<q$' in an abstract.
    with reading(where):
        parsed = feedparser.parse(io.BytesIO(data), sanitize_html=False, resolve_relative_uris=False)
    error = parsed.get("bozo_exception")
    if isinstance(error, xml.sax.SAXException):
        raise PaperrecError(f"{where} is not well-formed XML ({' '.join(scrub(str(error)).split())[:200]})")
    if not parsed.get("version"):
        raise PaperrecError(f"{where} is not an RSS or Atom feed")
    return parsed


def is_corrupt(error: BaseException | None) -> bool:
    """True for SQLite's "not a database" and "disk image is malformed" errors, not for locks or permissions."""
    if not isinstance(error, sqlite3.DatabaseError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return type(error) is sqlite3.DatabaseError
    return code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)


def move_aside(path: Path, what: str, reason: str) -> Path:
    """Rename a damaged derived file (and its WAL files) to <name>.corrupt-<UTC time>; say so in one stderr line."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    try:
        path.replace(target)
        for suffix in ("-wal", "-shm"):
            # A stale write-ahead log next to a fresh file would be replayed into it.
            sidecar = path.with_name(path.name + suffix)
            if sidecar.exists():
                sidecar.replace(target.with_name(target.name + suffix))
    except OSError as error:
        raise PaperrecError(
            f"the {what} {path} is damaged ({reason}) and cannot be moved aside ({error.strerror or error}): "
            "delete it, it is rebuilt"
        ) from None
    print(f"paperrec: the {what} {path} was damaged ({reason}); moved it to {target.name}, rebuilding", file=sys.stderr)
    return target


def open_derived(path: Path, table: str, what: str, probe: str) -> sqlite3.Connection:
    """open_database for a file of derived data: a damaged one is moved aside and started afresh.

    `probe` is a cheap query over the table, so a file whose header survived but whose pages did not is caught too.
    """
    try:
        database = open_database(path, table, what)
    except PaperrecError as error:
        cause = error.__cause__ or error.__context__
        if not is_corrupt(cause):
            raise
        move_aside(path, what, one_line(cause))
        return open_database(path, table, what)
    try:
        database.execute(probe).fetchall()
    except sqlite3.DatabaseError as error:
        database.close()
        if not is_corrupt(error):
            raise PaperrecError(f"cannot read the {what} {path}: {one_line(error)}") from None
        move_aside(path, what, one_line(error))
        return open_database(path, table, what)
    return database


def reopened(
    database: sqlite3.Connection,
    path: Path,
    what: str,
    error: sqlite3.DatabaseError,
    reopen: Callable[[], sqlite3.Connection],
) -> sqlite3.Connection:
    """A fresh derived file after `error` found this one damaged (it is moved aside); other errors are one line."""
    if not is_corrupt(error):
        raise PaperrecError(f"cannot use the {what} {path}: {one_line(error)}") from None
    database.close()
    move_aside(path, what, one_line(error))
    return reopen()


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def iso_day(text: str) -> date | None:
    """A YYYY-MM-DD date at the start of text; None for a bare year, other forms or an impossible date."""
    if not _ISO_DATE.match(text.strip()):
        return None
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


def json_loads(text: str, where: str, *, with_line: bool = False, exact: bool = False) -> Any:
    """Parsed JSON; every way it can fail is one PaperrecError naming `where` (and the line, with_line).

    With `exact`, numbers with a point or exponent are Decimals, so `2104.10640` keeps its last zero.
    """
    if not text.strip():  # json would say "Expecting value" at the end of the blank lines
        raise PaperrecError(f"{where}: empty, where JSON was expected")
    try:
        return json.loads(text, parse_float=Decimal if exact else None)
    except json.JSONDecodeError as error:
        line = f":{error.lineno}" if with_line else ""
        # json's messages end in "at" or name no place; the place is the column on a named line, else line and column.
        place = (
            f"column {error.colno}"
            if with_line or "\n" not in text.strip()
            else f"line {error.lineno} column {error.colno}"
        )
        raise PaperrecError(f"{where}{line}: invalid JSON ({error.msg.removesuffix(' at')} at {place})") from None
    except RecursionError:
        raise PaperrecError(f"{where}: invalid JSON (nested too deeply)") from None
    except ValueError as error:  # a number past Python's limit on digits
        raise PaperrecError(f"{where}: invalid JSON ({str(error).split(':')[0]})") from None


def checked_keys(keys: Iterable[str], check: Callable[[str], str], what: str, example: str) -> list[str]:
    """The keys a fetch was given, each checked and kept once; a UsageError naming `example` when none is given."""
    checked = list(dict.fromkeys(check(key) for key in keys))
    if not checked:
        raise UsageError(f"no {what} given; name one like {example}")
    return checked


def choose_format(
    path: Path, override: str | None, formats: Iterable[str], extensions: dict[str, str], *, what: str, option: str
) -> str:
    """A file's format: the override if it is one of `formats`, else the one its extension names; UsageError else."""
    known = list(formats)
    if override:
        if override not in known:
            raise UsageError(f"unknown {what} {override!r}: choose one of {', '.join(known)}")
        return override
    found = extensions.get(path.suffix.lower())
    if found is None:
        suffix = path.suffix or "(none)"
        raise UsageError(
            f"{path}: cannot tell the format from the extension {suffix!r}; use {option} {'|'.join(known)}"
        )
    return found


def answer_object(content: bytes | str, label: str) -> dict:
    """A JSON API's answer as its top-level object; a damaged or other answer is a TemporaryFailure (a glitch of the
    moment, usually), naming the source as `label` ('OpenAlex')."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    try:
        data = json_loads(text, f"{label}'s answer")
    except PaperrecError as error:
        raise TemporaryFailure(f"{error}; try again later") from None
    if not isinstance(data, dict):
        raise TemporaryFailure(f"{label}'s answer is not a JSON object; try again later")
    return data


def read_secret(variable: str, key_file: Path, what: str) -> str | None:
    """A service's key: $variable, else the first non-blank line of key_file (refused unless mode 0600); None when
    neither is there."""
    value = os.environ.get(variable, "").strip()
    if value:
        return value
    try:
        info = key_file.stat()
    except OSError:
        return None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UsageError(f"{key_file} holds a secret but others may read it: chmod 600 {key_file}")
    try:
        lines = [line.strip() for line in key_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as error:
        raise PaperrecError(f"cannot read the {what} {key_file}: {error}") from None
    return lines[0] if lines else None
