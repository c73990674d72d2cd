"""Where in a profile's text a table or a top-level key is, so an error can name its line.

TOML parsers give no positions, so the text is scanned: a header is a line of its own outside multi-line strings,
and the N-th [[liked]] header is the N-th liked table.
"""

from __future__ import annotations

import bisect
import re

_STRING_OR_COMMENT = re.compile(
    r'"""(?:[^"\\]|\\[\s\S]|"(?!""))*"{3,5}'  # a multi-line basic string, up to two quotes of its own at its end
    r"|'''[\s\S]*?'{3,5}"  # a multi-line literal string
    r'|"(?:[^"\\\r\n]|\\.)*"'
    r"|'[^'\r\n]*'"
    r"|#[^\r\n]*"
)
_HEADER_LINE = re.compile(r"^[ \t]*\[(\[?)[ \t]*([^\[\]\r\n]*?)[ \t]*\]\]?[ \t]*(?:#[^\r\n]*)?\r?$", re.M)


def multi_line_strings(text: str) -> list[tuple[int, int]]:
    """Where the multi-line strings are, in order: a line inside one is neither a header nor a key."""
    if '"""' not in text and "'''" not in text:
        return []
    return [m.span() for m in _STRING_OR_COMMENT.finditer(text) if m.group().startswith(('"""', "'''"))]


def outside_strings(spans: list[tuple[int, int]], position: int) -> bool:
    at = bisect.bisect_right(spans, (position, position)) - 1  # the last string starting before the position
    return at < 0 or spans[at][1] <= position


def _unquoted(name: str) -> str:
    return name[1:-1] if len(name) > 1 and name[0] == name[-1] and name[0] in "\"'" else name


def _headers(text: str) -> tuple[list[tuple[int, int]], list[re.Match[str]]]:
    spans = multi_line_strings(text)
    return spans, [m for m in _HEADER_LINE.finditer(text) if outside_strings(spans, m.start())]


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _key_pattern(key: str) -> re.Pattern[str]:
    name = re.escape(key)
    return re.compile(rf"^[ \t]*(?:{name}|\"{name}\"|'{name}')[ \t]*=", re.M)


def table_line(text: str, section: str, index: int, count: int, key: str | None = None) -> int | None:
    """The line of `key` in the `index`-th (from 0) [[section]] table of `count`, else of the table's header; None
    when the headers do not count `count` (tables written inline)."""
    spans, headers = _headers(text)
    tables = [m for m in headers if m.group(1) and _unquoted(m.group(2)) == section]
    if len(tables) != count:
        return None
    start = tables[index].start()
    if key is not None:
        end = next((m.start() for m in headers if m.start() > start), len(text))
        keys = [m.start() for m in _key_pattern(key).finditer(text, start, end) if outside_strings(spans, m.start())]
        if len(keys) == 1:
            return _line(text, keys[0])
    return _line(text, start)


def key_line(text: str, key: str) -> int | None:
    """The line of a top-level key (or of its [key] table); None unless exactly one line sets it (a dotted key)."""
    spans, headers = _headers(text)
    end = headers[0].start() if headers else len(text)  # a top-level key is above the first table
    keys = [m.start() for m in _key_pattern(key).finditer(text, 0, end) if outside_strings(spans, m.start())]
    keys += [m.start() for m in headers if not m.group(1) and _unquoted(m.group(2)) == key]
    return _line(text, keys[0]) if len(keys) == 1 else None
