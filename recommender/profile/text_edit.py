"""Profile files edited as text: [[liked]] / [[disliked]] tables cut and appended, and keys set on their lines.

The profile editor (edit.py) decides what changes; this module makes the change on the file's text so that the
researcher's comments, key order and blank lines survive, falling back to tomlkit where the layout needs it.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from .lines import multi_line_strings, outside_strings
from .model import PAPER_KEYS, SECTIONS, TABLES, array_text, tables_text

# Editing a profile file in place. The file is the researcher's own text: an edit changes only the
# [[liked]] / [[disliked]] tables it adds, moves or removes, so comments, key order, blank lines and keys
# paperrec does not know survive. Each edit is made on the text directly where the layout allows
# (fast on big profiles), otherwise with tomlkit; either way the result is parsed again and must hold
# exactly the data expected, or nothing is written.

# A header starts a line; the first may follow a byte-order mark, which stays where it is.
_HEADER = re.compile(
    r"(?:^|(?<=\A\ufeff))[ \t]*\[(\[)?[ \t]*([^\[\]\r\n]*?)[ \t]*\](\])?[ \t]*(?:#[^\r\n]*)?(?=\r?$)", re.M
)
_COMMENT_LINE = re.compile(r"[ \t]*#[^\r\n]*\r?\n?")


@dataclass(frozen=True)
class _Header:
    start: int
    end: int  # end of the header line, before its newline
    section: str | None  # "liked" or "disliked" for their [[...]] headers, else None
    key: tuple[int, int] = (0, 0)  # where the table's name is in the header, so a move renames only that


def _header_section(match: re.Match[str]) -> str | None:
    if not (match.group(1) and match.group(3)):
        return None
    key = match.group(2)
    if len(key) > 2 and key[0] == key[-1] and key[0] in "\"'":
        key = key[1:-1]
    return key if key in TABLES else None


def _header_matches(text: str, strings: list[tuple[int, int]] | None = None) -> list[re.Match[str]]:
    """What _HEADER.finditer(text) finds, tried only on lines whose first non-blank character is '[' and outside the
    multi-line `strings` given.

    The regex alone tries every position of a long abstract; this is five times faster on a big profile.
    """
    found = []
    position = text.find("[")
    while position != -1:
        line_start = text.rfind("\n", 0, position) + 1 or int(text.startswith("\ufeff"))
        match = _HEADER.match(text, line_start) if not text[line_start:position].strip(" \t") else None
        if match is not None and (not strings or outside_strings(strings, match.start())):
            found.append(match)
            position = text.find("[", match.end())
        else:
            position = text.find("\n", position)  # the line's first '[' is not a header's: the next line
            position = -1 if position == -1 else text.find("[", position)
    return found


def _regions(text: str, headers: list[_Header], strings: list[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
    """Each header's span: from the comment lines right above it (below any multi-line string of `strings`) to where
    the next header's span begins."""
    ends = [0] + [end for _, end in strings or ()]
    starts = [_comments_above(text, h.start, ends[bisect.bisect_right(ends, h.start) - 1]) for h in headers]
    return [(start, starts[i + 1] if i + 1 < len(starts) else len(text)) for i, start in enumerate(starts)]


def _comments_above(text: str, position: int, floor: int = 0) -> int:
    """The start of the comment lines right above the line starting at `position` (not above `floor`), which belong
    to that line; `position` when there are none."""
    while position > floor:
        line_start = text.rfind("\n", 0, position - 1) + 1
        if line_start < floor or not _COMMENT_LINE.fullmatch(text, line_start, position):
            break
        position = line_start
    return position


def _empty_array_line(section: str) -> re.Pattern[str]:
    key = rf"(?:{section}|\"{section}\"|'{section}')"
    return re.compile(rf"^[ \t]*{key}[ \t]*=[ \t]*\[[ \t]*\][ \t]*(?:#[^\r\n]*)?\r?\n?", re.M)


@dataclass(frozen=True)
class TableEdit:
    """Tables to drop (by section and index) and tables to add to one section, moved ones with their source."""

    removals: dict[str, list[int]]
    section: str
    # Each table with where it moves from (section, index), or its own text to write as it is, or None: a new table.
    appended: list[tuple[dict[str, Any], tuple[str, int] | str | None]]
    at: int | None = None  # the added tables go before the section's table of this index, once removals are made

    def before(self, kept: int) -> int | None:
        """The index among `kept` remaining tables that the added ones go before; None when they go after the last."""
        return self.at if self.at is not None and 0 <= self.at < kept else None


@dataclass(frozen=True)
class _Layout:
    strings: list[tuple[int, int]]  # the multi-line strings: a line inside one that looks like a header is not one
    headers: list[_Header]
    regions: list[tuple[int, int]]
    by_section: dict[str, list[int]]  # each section's tables, as indices of their headers


def _layout(text: str, data: dict[str, Any]) -> _Layout | None:
    """Where the text's tables are; None where some are inline or written in a way the header scan does not see."""
    strings = multi_line_strings(text)
    headers = [_Header(m.start(), m.end(), _header_section(m), m.span(2)) for m in _header_matches(text, strings)]
    by_section: dict[str, list[int]] = {section: [] for section in TABLES}
    for i, header in enumerate(headers):
        if header.section:
            by_section[header.section].append(i)
    for section in TABLES:
        tables = data.get(section, [])
        if isinstance(tables, list) and tables and len(tables) != len(by_section[section]):
            return None
    return _Layout(strings, headers, _regions(text, headers, strings), by_section)


def section_texts(text: str, data: dict[str, Any], section: str) -> list[str] | None:
    """Each table of a section as the file has it, the comment lines above it included; None where the layout needs
    tomlkit."""
    layout = _layout(text, data)
    if layout is None:
        return None
    return [text[slice(*layout.regions[i])] for i in layout.by_section[section]]


def edit_text_fast(text: str, data: dict[str, Any], change: TableEdit) -> str | None:
    """The edited text, made by cutting and appending text; None where the layout needs tomlkit."""
    layout = _layout(text, data)
    if layout is None:
        return None
    strings, headers, regions, by_section = layout.strings, layout.headers, layout.regions, layout.by_section
    newline = "\r\n" if "\r\n" in text else "\n"
    cut = {by_section[section][index] for section, indices in change.removals.items() for index in indices}
    pieces = []
    for section, (table, source) in ((change.section, a) for a in change.appended):
        if source is None:
            pieces.append(tables_text(section, [table]).replace("\n", newline))
            continue
        if isinstance(source, str):  # a table put back as the file had it
            pieces.append(source.rstrip("\r\n") + newline)
            continue
        start, end = regions[by_section[source[0]][source[1]]]
        header = headers[by_section[source[0]][source[1]]]
        piece = text[start:end]
        if "added" in table:  # its line is below the header: the header's place in the piece stays
            piece = _set_added(piece, table["added"], [(a - start, b - start) for a, b in strings if start < b])
        key = (header.key[0] - start, header.key[1] - start)
        piece = piece[: key[0]] + section + piece[key[1] :]  # the header's comment stays
        pieces.append(piece.rstrip("\r\n") + newline)
    edits = [(*regions[i], "") for i in cut]
    block = newline.join(pieces)
    kept_in_section = [i for i in by_section[change.section] if i not in cut]
    before = change.before(len(kept_in_section))
    if pieces and before is not None:  # where a moved table was: above the next table's comments, a blank line after
        at = regions[kept_in_section[before]][0]
        edits.append((at, at, block + newline))
    elif pieces and kept_in_section:  # right after the section's last table, before its trailing blank lines
        start, end = regions[kept_in_section[-1]]
        lines = text[start:end].splitlines(keepends=True)
        while lines and not lines[-1].strip():
            lines.pop()
        at = start + sum(len(line) for line in lines)
        edits.append((at, at, ("" if text[:at].endswith("\n") else newline) + newline + block))
    elif pieces and data.get(change.section) == []:  # `disliked = []` gives way to [[disliked]] tables
        match = _empty_array_line(change.section).search(text, 0, regions[0][0] if regions else len(text))
        if match is None:
            return None
        edits.append((match.start(), match.end(), ""))
    elif pieces and data.get(change.section) is not None:
        return None
    result = _splice(text, edits)
    if cut and regions[max(cut)][1] == len(text):
        result = result.rstrip("\r\n") + newline if result.strip() else ""
    if pieces and not kept_in_section:  # the section's first table: at the end of the file
        if result and not result.endswith("\n"):
            result += newline
        if result.strip() and not result.endswith(newline * 2):
            result += newline
        result += block
    return result


_ADDED_LINE = re.compile(r"^([ \t]*added[ \t]*=[ \t]*)[0-9][0-9:.+TZ -]*?([ \t]*(?:#[^\r\n]*)?\r?)$", re.M)


def _set_added(piece: str, day: Any, strings: list[tuple[int, int]]) -> str:
    """A table's text with its `added` line (the first outside its multi-line strings) set to `day`."""
    for match in _ADDED_LINE.finditer(piece):
        if outside_strings(strings, match.start()):
            return piece[: match.start()] + match.group(1) + _date_text(day) + match.group(2) + piece[match.end() :]
    return piece


def _date_text(day: Any) -> str:
    """A date or date-time as TOML writes it, UTC as 'Z'."""
    text = day.isoformat()
    return text[: -len("+00:00")] + "Z" if text.endswith("+00:00") else text


def _splice(text: str, edits: list[tuple[int, int, str]]) -> str:
    """Text with each (start, end) span replaced; the spans do not overlap."""
    out: list[str] = []
    position = 0
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1])):
        out.append(text[position:start])
        out.append(replacement)
        position = end
    out.append(text[position:])
    return "".join(out)


# A key's value on one line: a basic or literal string, or an array closed on the same line.
_ONE_LINE_VALUE = r"(?:\"(?:[^\"\\\r\n]|\\.)*\"|'[^'\r\n]*'|\[[^\r\n]*?\])"

Keys = dict[tuple[str, int], dict[str, Any]]  # (section, index) -> keys to set in that table (None: remove the key)


def _key_line(key: str) -> re.Pattern[str]:
    """The line of `key` (bare or quoted, as TOML allows) holding a one-line value."""
    name = rf"(?:{key}|\"{key}\"|'{key}')"
    return re.compile(rf"^([ \t]*{name}[ \t]*=[ \t]*){_ONE_LINE_VALUE}([ \t]*(?:#[^\r\n]*)?)(\r?\n|$)", re.M)


def _one_line(value: Any) -> str:
    """A string, or a list of strings, as a TOML value on one line."""
    import tomli_w

    if isinstance(value, list):
        return "[" + ", ".join(map(_one_line, value)) + "]"
    return tomli_w.dumps({"v": value}, multiline_strings=False).strip()[len("v = ") :]


def set_keys_text(text: str, data: dict[str, Any], wanted: Keys) -> str | None:
    """The text with keys of [[liked]] / [[disliked]] tables set on their own lines; None where it needs tomlkit.

    A key the table has gets its new value on its line, its comment kept. A new key goes on a line of its own where
    a new entry has it: above the first key that follows it in PAPER_KEYS (and the comment lines right above that
    key), else after the table's last key, before the blank lines and comments that lead to the next table.
    """
    if '"""' in text or "'''" in text:
        return None  # a multi-line string could hold lines that look like headers or keys
    headers = [_Header(m.start(), m.end(), _header_section(m)) for m in _header_matches(text)]
    regions = _regions(text, headers)
    by_section = {section: [i for i, h in enumerate(headers) if h.section == section] for section in SECTIONS}
    for section in SECTIONS:
        tables = data.get(section) or []
        if not isinstance(tables, list) or len(tables) != len(by_section[section]):
            return None  # inline tables, or a layout the header scan does not see
    newline = "\r\n" if "\r\n" in text else "\n"
    edits: list[tuple[int, int, str]] = []
    for (section, index), keys in wanted.items():
        header = headers[by_section[section][index]]
        start, end = header.end, regions[by_section[section][index]][1]
        new_lines: dict[tuple[int, bool], list[str]] = {}  # (offset, whether it starts a line) -> the new lines
        removed = {key for key, value in keys.items() if value is None}
        for key, value in sorted(keys.items(), key=lambda item: _order(item[0])):
            rendered = _one_line(value) if value is not None else ""
            line = _key_line(key).search(text, start, end)
            if line is not None and value is not None:
                edits.append((line.start(), line.end() - len(line.group(3)), line.group(1) + rendered + line.group(2)))
            elif line is not None:  # the line goes with the newline before it, as it was added
                before = 2 if text[line.start() - 2 : line.start()] == "\r\n" else 1
                edits.append((line.start() - before, line.end() - len(line.group(3)), ""))
            elif isinstance(value, list):  # a long list (a paper's fifty authors) an item a line, as new tables have
                at = _new_key_at(text, start, end, key, removed)
                new_lines.setdefault(at, []).append(array_text(f"{key} = ", [_one_line(i) for i in value], newline))
            elif value is not None:
                new_lines.setdefault(_new_key_at(text, start, end, key, removed), []).append(f"{key} = {rendered}")
        for (at, line_start), added in new_lines.items():
            lines = (line + newline if line_start else newline + line for line in added)
            edits.append((at, at, "".join(lines)))
    return _splice(text, edits)


def _order(key: str) -> int:
    """Where a key comes among a paper's keys as new entries are written (unknown keys last)."""
    return PAPER_KEYS.index(key) if key in PAPER_KEYS else len(PAPER_KEYS)


def _new_key_at(text: str, start: int, end: int, key: str, removed: set[str]) -> tuple[int, bool]:
    """Where a new `key` of the table text[start:end] goes: the start of the line of the first key after it in
    PAPER_KEYS (not one being `removed`), above the comment lines right above that key (True); else the end of the
    table's last key line, before its newline (False)."""
    later = [k for k in PAPER_KEYS[_order(key) + 1 :] if k not in removed]
    if later:
        names = "|".join(rf"{k}|\"{k}\"|'{k}'" for k in later)
        found = re.compile(rf"^[ \t]*(?:{names})[ \t]*=", re.M).search(text, start, end)
        if found is not None:
            return _comments_above(text, found.start(), start), True
    lines = text[start:end].splitlines(keepends=True)
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith("#")):
        lines.pop()
    return start + len("".join(lines).rstrip("\r\n")), False


def close_inline(table: Any) -> None:
    """Drop the separators tomlkit leaves in an inline table after its last keys were removed."""
    from tomlkit.items import InlineTable, Null

    if not isinstance(table, InlineTable):
        return
    body = table.value.body
    last = max((i for i, (key, _) in enumerate(body) if key is not None), default=-1)
    tail = body[last + 1 :]
    removed = [i for i, (_, item) in enumerate(tail) if isinstance(item, Null)]
    if removed:  # what followed the last removed key (the space before the brace) stays
        del body[last + 1 :]
        body.extend(tail[removed[-1] + 1 :])


def set_keys_tomlkit(text: str, wanted: Keys) -> str:
    """The text with keys of [[liked]] / [[disliked]] tables set by tomlkit (a None value removes the key)."""
    import tomlkit

    document = tomlkit.parse(text)
    for (section, index), keys in wanted.items():
        table = document[section][index]
        for key, value in keys.items():
            if value is not None:
                table[key] = value
            elif key in table:
                del table[key]
                close_inline(table)
    return tomlkit.dumps(document)


def edit_text_tomlkit(text: str, change: TableEdit) -> str:
    import tomlkit
    from tomlkit.items import AoT

    doc = tomlkit.parse(text)
    newline = "\r\n" if "\r\n" in text else "\n"
    own = {s: _own_table(doc, s, table) for table, s in change.appended if isinstance(s, tuple)}
    for section, indices in change.removals.items():
        tables = doc[section]
        for index in sorted(indices, reverse=True):
            del tables[index]
        if not len(tables):  # the section's last table gone: no `liked = []` in its place, as the text path has it
            del doc[section]
    if change.appended:
        current = doc.get(change.section)
        if not isinstance(current, AoT):
            earlier = current.unwrap() if current is not None else []  # e.g. `disliked = []`
            if current is not None:
                del doc[change.section]
            current = tomlkit.aot()
            for table in earlier:
                current.append(tomlkit.item(table))
            doc.append(change.section, current)
        at = change.before(len(current))
        for offset, (table, source) in enumerate(change.appended):
            # A new table as the text path writes it (short lists on one line); a moved one the file's own.
            item = own.get(source) if isinstance(source, tuple) else None
            if item is None and isinstance(source, tuple):
                item = tomlkit.item(table)
            elif item is None:
                item = tomlkit.parse(source or tables_text(change.section, [table]))[change.section][0]
            if at is not None:  # where a moved table was, a blank line after it as the text path writes it
                if at + offset < len(current):  # the comment lines above the table there stay its own
                    after = current.body[at + offset]
                    after.trivia.indent = _cut_comments(_body_above(doc, current, at + offset)) + after.trivia.indent
                item.add(tomlkit.ws(newline))
                current.insert(at + offset, item)
                continue
            before = current.body[-1].as_string() if current.body else tomlkit.dumps(doc)  # the section new
            if not before.endswith(newline * 2):  # a blank line before each table, as the text path writes them
                item.trivia.indent = newline + item.trivia.indent.lstrip("\r\n")
            current.append(item)
    result = tomlkit.dumps(doc)
    if text.endswith(newline) and not text.endswith(newline * 2):  # a cut last table leaves no blank line at the end
        result = result.rstrip("\r\n") + newline
    return result


def _own_table(doc: Any, source: tuple[str, int], table: dict[str, Any]) -> Any:
    """The document's [[section]] table at `source` to move, with its comments, its strings as written and the
    comment lines right above it, its keys set as `table` has them; None for an inline table or one that holds tables
    (their headers name the section): those are made anew."""
    import tomlkit
    from tomlkit.items import AoT, Table

    tables = doc[source[0]]
    item = tables[source[1]]
    if not isinstance(tables, AoT) or any(isinstance(value, Table | AoT) for _, value in item.value.body):
        return None
    # The comment lines above it end the table before, or what precedes the tables.
    item.trivia.indent = _cut_comments(_body_above(doc, tables, source[1])) + item.trivia.indent.lstrip("\r\n")
    if source[1] + 1 < len(tables):  # and those at its end are the next table's
        after = tables.body[source[1] + 1]
        after.trivia.indent = _cut_comments(item.value.body) + after.trivia.indent
    for key, value in table.items():
        if item.get(key) != value:  # a date as the text path writes it (UTC as 'Z')
            item[key] = tomlkit.value(_date_text(value)) if isinstance(value, date) else value
    return item


def _body_above(doc: Any, tables: Any, index: int) -> list[tuple[Any, Any]]:
    """The tomlkit body whose last lines are right above the table `index` of the array of tables `tables`."""
    from tomlkit.items import AoT, Table

    if index:
        return tables.body[index - 1].value.body
    body = doc.body[: next(i for i, (_, value) in enumerate(doc.body) if value is tables)]
    while body and isinstance(body[-1][1], AoT | Table):  # the last table of the section before
        last = body[-1][1]
        if isinstance(last, AoT):
            if not last.body:
                return []
            last = last.body[-1]
        body = last.value.body
    return body


def _cut_comments(body: list[tuple[Any, Any]]) -> str:
    """The comment lines that end a tomlkit body, emptied there (in place, so its index of keys holds)."""
    from tomlkit.items import Comment

    above: list[str] = []
    for _, line in reversed(body):
        if not isinstance(line, Comment):
            break
        above.insert(0, line.as_string())
        line.trivia.indent = line.trivia.comment = line.trivia.trail = ""
    return "".join(above)


def same_data(data: dict[str, Any], expected: dict[str, Any]) -> bool:
    """True when parsed data holds exactly what was expected: the same keys, types and values (an absent section and
    an empty one alike, a list and a tuple alike)."""

    def sections(tables: dict[str, Any]) -> dict[str, Any]:
        return {**tables, **{section: tables.get(section) or [] for section in TABLES}}

    return _same(sections(data), sections(expected))


def _same(a: Any, b: Any) -> bool:
    # Walked rather than compared as JSON (as it was): half the time of an edit of a profile of thousands of papers.
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(map(_same, a, b))
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(value, b[key]) for key, value in a.items())
    return a == b or (a != a and b != b)  # NaN, which TOML can hold, is itself


def expected_data(data: dict[str, Any], change: TableEdit) -> dict[str, Any]:
    expected = dict(data)
    for section, indices in change.removals.items():
        expected[section] = [t for i, t in enumerate(data[section]) if i not in set(indices)]
    if change.appended:
        tables = list(expected.get(change.section) or [])
        at = change.before(len(tables))
        at = len(tables) if at is None else at
        expected[change.section] = tables[:at] + [t for t, _ in change.appended] + tables[at:]
    return expected
