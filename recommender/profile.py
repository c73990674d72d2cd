"""Profile: a TOML file of liked and disliked papers and free-text interests; load, save, edit, embed."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .paths import atomic_write_text, locked, remove_stale_temporaries
from .schema import Paper, PaperrecError, split_arxiv_id
from .sources.metadata import Lookup, MetadataCache, complete_papers

if TYPE_CHECKING:  # numpy and the embedder load only when vectors are needed, not for a like
    import numpy as np

    from .embed import CachedEmbedder

SCHEMA_VERSION = 1
DEFAULT_STRATEGY = "hybrid"
DEFAULT_DISLIKE_WEIGHT = 0.5
_KNOWN_KEYS = {
    "schema",
    "name",
    "description",
    "categories",
    "strategy",
    "interests",
    "liked",
    "disliked",
    "dislike_weight",
    "must",
    "never",
    "min_score",
    "min_match",
    "diversity",
    "half_life_days",
    "pending",
}
SECTIONS = ("liked", "disliked")
# The arrays of tables an edit changes: the two sections, and papers known by id only, waiting for their text.
_TABLES = (*SECTIONS, "pending")


@dataclass(frozen=True)
class ProfilePaper:
    """A paper in a profile, with the day it was added and its weight."""

    paper: Paper
    added: date
    weight: float = 1.0


@dataclass(frozen=True)
class PendingPaper:
    """A paper known by arXiv id only (an offline import): it joins `section` once its title and abstract are known."""

    arxiv_id: str
    section: str = "liked"
    added: date = field(default_factory=date.today)


@dataclass(frozen=True)
class Profile:
    """A researcher's interests: liked and disliked papers, free-text interests, and how to score."""

    name: str
    description: str = ""
    categories: tuple[str, ...] = ()
    strategy: str = DEFAULT_STRATEGY
    interests: tuple[str, ...] = ()
    liked: tuple[ProfilePaper, ...] = ()
    disliked: tuple[ProfilePaper, ...] = ()
    dislike_weight: float = DEFAULT_DISLIKE_WEIGHT
    must: tuple[str, ...] = ()  # keep only papers that mention one of these terms
    never: tuple[str, ...] = ()  # drop papers that mention any of these terms
    min_score: float | None = None  # hide picks scoring below this
    min_match: float | None = None  # hide picks less likely than this to be liked (a probability)
    diversity: float = 0.0  # 0: pure relevance; up to 1: favour picks unlike those above them (MMR)
    half_life_days: float | None = None  # recency: a like this many days old counts half
    extra: dict[str, Any] = field(default_factory=dict)  # keys a newer paperrec wrote; kept on save
    # Never ranked against (they have no text yet); 'paperrec profile refresh' or the next online import fills them.
    pending: tuple[PendingPaper, ...] = ()

    @property
    def ids(self) -> set[str]:
        """Ids of every paper in the profile, liked, disliked or pending."""
        return {p.paper.arxiv_id for p in self.liked + self.disliked} | {p.arxiv_id for p in self.pending}

    def is_empty(self) -> bool:
        """True when there is nothing to score against."""
        return not self.liked and not self.interests


@dataclass(frozen=True)
class ProfileVectors:
    """Unit vectors of a profile's papers: liked (with interests appended), their weights, disliked."""

    liked: np.ndarray  # (n_liked + n_interests, dim)
    weights: np.ndarray  # (n_liked + n_interests,)
    disliked: np.ndarray  # (n_disliked, dim)
    added: tuple[date | None, ...] = ()  # row-aligned with liked; None for interests
    liked_texts: tuple[str, ...] = ()  # row-aligned with liked, for lexical strategies
    disliked_texts: tuple[str, ...] = ()


def profile_vectors(profile: Profile, embedder: CachedEmbedder) -> ProfileVectors:
    """Embed a profile's liked papers, interests and disliked papers through the cache."""
    import numpy as np

    liked_texts = [p.paper.text for p in profile.liked] + list(profile.interests)
    disliked_texts = [p.paper.text for p in profile.disliked]
    vectors = embedder.embed(liked_texts + disliked_texts)
    n_liked = len(liked_texts)
    dim = vectors.shape[1] if vectors.size else 0
    weights = np.array([p.weight for p in profile.liked] + [1.0] * len(profile.interests), dtype=np.float32)
    return ProfileVectors(
        liked=vectors[:n_liked] if n_liked else np.zeros((0, dim), np.float32),
        weights=weights,
        disliked=vectors[n_liked:] if disliked_texts else np.zeros((0, dim), np.float32),
        added=tuple(p.added for p in profile.liked) + (None,) * len(profile.interests),
        liked_texts=tuple(liked_texts),
        disliked_texts=tuple(disliked_texts),
    )


def _require(value: Any, kind: type | tuple[type, ...], where: str, what: str) -> Any:
    if not isinstance(value, kind):
        raise PaperrecError(f"{where}: '{what}' has the wrong type ({type(value).__name__})")
    return value


def _number(value: Any, where: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PaperrecError(f"{where}: '{what}' must be a number")
    if not math.isfinite(value):  # nan and inf are valid TOML but make every score nan
        raise PaperrecError(f"{where}: '{what}' must be a finite number, not {value}")
    return float(value)


def _str_list(value: Any, where: str, what: str) -> tuple[str, ...]:
    items = _require(value, list, where, what)
    return tuple(_require(v, str, where, what) for v in items)


def _paper_from_table(table: Any, where: str) -> ProfilePaper:
    _require(table, dict, where, "paper")
    title = table.get("title")
    if not isinstance(title, str) or not title.strip():
        raise PaperrecError(f"{where}: missing 'title'")
    raw_id = table.get("id")
    if raw_id is not None:
        _require(raw_id, str, where, "id")
    added = table.get("added", date.today())
    if not isinstance(added, date):
        raise PaperrecError(f"{where}: 'added' must be a TOML date like 2021-04-22")
    if isinstance(added, datetime):  # a TOML date-time: recency arithmetic works in days
        added = added.date()
    weight = table.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight) or weight < 0:
        raise PaperrecError(f"{where}: 'weight' must be a number >= 0, not {weight}")
    try:
        paper = Paper.make(
            title=title, raw_id=raw_id, abstract=_require(table.get("abstract", ""), str, where, "abstract")
        )
    except ValueError as error:
        raise PaperrecError(f"{where}: {error}") from None
    return ProfilePaper(paper=paper, added=added, weight=float(weight))


def _day(table: dict[str, Any], where: str) -> date:
    added = table.get("added", date.today())
    if not isinstance(added, date):
        raise PaperrecError(f"{where}: 'added' must be a TOML date like 2021-04-22")
    return added.date() if isinstance(added, datetime) else added


def _pending_from_table(table: Any, where: str) -> PendingPaper:
    """A [[pending]] table: an arXiv id, the section it is for (liked unless said) and the day it was added."""
    _require(table, dict, where, "pending paper")
    raw_id = _require(table.get("id"), str, where, "id")
    found = split_arxiv_id(raw_id)
    if found is None:
        raise PaperrecError(f"{where}: 'id' must be an arXiv id, not {raw_id!r}")
    section = _require(table.get("section", "liked"), str, where, "section")
    if section not in SECTIONS:
        raise PaperrecError(f"{where}: 'section' must be 'liked' or 'disliked', not {section!r}")
    return PendingPaper(arxiv_id=found[0], section=section, added=_day(table, where))


def _pending_table(pending: PendingPaper) -> dict[str, Any]:
    return {"id": pending.arxiv_id, "section": pending.section, "added": pending.added}


def profile_from_dict(data: dict[str, Any], where: str, default_name: str) -> Profile:
    """Build a Profile from parsed TOML, checking types; `where` prefixes error messages."""
    schema = data.get("schema", SCHEMA_VERSION)
    if schema != SCHEMA_VERSION:
        raise PaperrecError(f"{where}: unsupported profile schema {schema!r} (this paperrec reads schema 1)")
    sections = {}
    for section in SECTIONS:
        tables = _require(data.get(section, []), list, where, section)
        sections[section] = tuple(_paper_from_table(t, f"{where}: {section}[{i + 1}]") for i, t in enumerate(tables))
    pending_tables = _require(data.get("pending", []), list, where, "pending")
    pending = tuple(_pending_from_table(t, f"{where}: pending[{i + 1}]") for i, t in enumerate(pending_tables))
    dislike_weight = _number(data.get("dislike_weight", DEFAULT_DISLIKE_WEIGHT), where, "dislike_weight")
    min_score = data.get("min_score")
    min_match = data.get("min_match")
    min_match = None if min_match is None else _number(min_match, where, "min_match")
    if min_match is not None and not 0 <= min_match <= 1:
        raise PaperrecError(f"{where}: 'min_match' must be between 0 and 1 (a probability)")
    half_life = data.get("half_life_days")
    diversity = _number(data.get("diversity", 0.0), where, "diversity")
    if not 0 <= diversity <= 1:
        raise PaperrecError(f"{where}: 'diversity' must be between 0 and 1")
    half_life = None if half_life is None else _number(half_life, where, "half_life_days")
    if half_life is not None and half_life <= 0:
        raise PaperrecError(f"{where}: 'half_life_days' must be > 0 (leave it out to ignore recency)")
    return Profile(
        name=_require(data.get("name", default_name), str, where, "name"),
        description=_require(data.get("description", ""), str, where, "description"),
        categories=_str_list(data.get("categories", []), where, "categories"),
        strategy=_require(data.get("strategy", DEFAULT_STRATEGY), str, where, "strategy"),
        interests=_str_list(data.get("interests", []), where, "interests"),
        liked=sections["liked"],
        disliked=sections["disliked"],
        dislike_weight=dislike_weight,
        must=_str_list(data.get("must", []), where, "must"),
        never=_str_list(data.get("never", []), where, "never"),
        min_score=None if min_score is None else _number(min_score, where, "min_score"),
        min_match=min_match,
        diversity=diversity,
        half_life_days=half_life,
        extra={k: v for k, v in data.items() if k not in _KNOWN_KEYS},
        pending=pending,
    )


def load_profile(path: Path) -> Profile:
    """Read a profile TOML file; errors name the file and, for syntax errors, line and column."""
    path = Path(path)
    if not path.is_file():
        raise PaperrecError(f"unknown profile: {path} does not exist (see 'paperrec profile list')")
    import rtoml

    try:
        data = rtoml.loads(path.read_text(encoding="utf-8"))
    except rtoml.TomlParsingError as error:
        raise PaperrecError(f"{path}: invalid TOML: {' '.join(str(error).split())}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise PaperrecError(f"{path}: cannot read profile ({error})") from None
    return profile_from_dict(data, str(path), default_name=path.stem)


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    import rtoml

    try:
        return rtoml.loads(text)
    except rtoml.TomlParsingError as error:
        raise PaperrecError(f"{path}: invalid TOML: {' '.join(str(error).split())}") from None


def _paper_table(entry: ProfilePaper) -> dict[str, Any]:
    table: dict[str, Any] = {"id": entry.paper.arxiv_id, "title": entry.paper.title, "abstract": entry.paper.abstract}
    table["added"] = entry.added
    if entry.weight != 1.0:
        table["weight"] = entry.weight
    return table


def _tables_text(section: str, tables: list[dict[str, Any]]) -> str:
    """Flat tables as [[section]] tables, one blank line between them."""
    import tomli_w

    return "\n".join(f"[[{section}]]\n" + tomli_w.dumps(table, multiline_strings=False) for table in tables)


def profile_to_toml(profile: Profile) -> str:
    """The profile as human-readable TOML (the format load_profile reads)."""
    import tomli_w

    data: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "name": profile.name,
        "description": profile.description,
        "categories": list(profile.categories),
        "strategy": profile.strategy,
        "interests": list(profile.interests),
    }
    if profile.dislike_weight != DEFAULT_DISLIKE_WEIGHT:
        data["dislike_weight"] = profile.dislike_weight
    optional = {
        "must": list(profile.must),
        "never": list(profile.never),
        "min_score": profile.min_score,
        "min_match": profile.min_match,
        "diversity": profile.diversity or None,
        "half_life_days": profile.half_life_days,
    }
    data.update({key: value for key, value in optional.items() if value not in (None, [])})
    data.update(profile.extra)
    sections = {section: [_paper_table(p) for p in getattr(profile, section)] for section in SECTIONS}
    data.update({section: [] for section, tables in sections.items() if not tables})
    if profile.pending:
        sections["pending"] = [_pending_table(p) for p in profile.pending]
    text = tomli_w.dumps(data, multiline_strings=False)
    # [[liked]] tables last and never inline (tomli_w inlines short arrays), so likes append at the end
    return "\n".join([text.rstrip("\n") + "\n"] + [_tables_text(s, t) for s, t in sections.items() if t])


def _write_profile_text(path: Path, text: str) -> None:
    try:
        atomic_write_text(path, text)
    except OSError as error:
        raise PaperrecError(f"cannot write profile {path}: {error.strerror or error} (the file is unchanged)") from None


def save_profile(profile: Profile, path: Path) -> None:
    """Write the profile from scratch, atomically and under its lock: the old file stays intact if anything fails."""
    path = Path(path)
    text = profile_to_toml(profile)
    with locked(path):
        _check_writable(path, _real(path))
        remove_stale_temporaries(_real(path))
        _write_profile_text(path, text)


Days = date | Mapping[str, date] | None  # one day for every paper, or each paper's own by id (today if absent)


def _day_of(added: Days, arxiv_id: str) -> date:
    if isinstance(added, Mapping):
        return added.get(arxiv_id) or date.today()
    return added or date.today()


def add_papers(
    profile: Profile, papers: Iterable[Paper], section: str = "liked", added: Days = None
) -> tuple[Profile, list[Paper]]:
    """Add papers to liked or disliked (moving them out of the other); returns the profile and what was new."""
    if section not in SECTIONS:
        raise ValueError(f"section must be one of {SECTIONS}")
    other = "disliked" if section == "liked" else "liked"
    current = list(getattr(profile, section))
    present = {p.paper.arxiv_id for p in current}
    new: list[Paper] = []
    for paper in papers:
        if paper.arxiv_id in present:
            continue
        present.add(paper.arxiv_id)
        current.append(ProfilePaper(paper=paper, added=_day_of(added, paper.arxiv_id)))
        new.append(paper)
    moved = tuple(p for p in getattr(profile, other) if p.paper.arxiv_id not in present)
    return replace(profile, **{section: tuple(current), other: moved}), new


def remove_papers(profile: Profile, ids: Iterable[str]) -> tuple[Profile, list[str]]:
    """Remove papers by id from liked and disliked; returns the profile and the ids that were found."""
    wanted = set(ids)
    found = [p.paper.arxiv_id for p in profile.liked + profile.disliked if p.paper.arxiv_id in wanted]
    return (
        replace(
            profile,
            liked=tuple(p for p in profile.liked if p.paper.arxiv_id not in wanted),
            disliked=tuple(p for p in profile.disliked if p.paper.arxiv_id not in wanted),
        ),
        found,
    )


def new_profile(
    name: str,
    liked: Iterable[Paper] = (),
    *,
    description: str = "",
    categories: Iterable[str] = (),
    interests: Iterable[str] = (),
) -> Profile:
    """A fresh profile liking the given papers (duplicates by id collapse)."""
    profile = Profile(name=name, description=description, categories=tuple(categories), interests=tuple(interests))
    return add_papers(profile, liked, "liked")[0]


@dataclass(frozen=True)
class ImportReport:
    """What an import did: the updated profile, papers added, and what happened to every other entry, and why."""

    profile: Profile
    added: tuple[Paper, ...]
    already_present: int
    skipped: tuple[tuple[str, str], ...]
    without_abstract: int
    notice: str | None = None
    path: Path | None = None  # the profile file written, when the import wrote one
    merged: int = 0  # entries that were another entry's work (same arXiv id, DOI, or title and year)
    pending: tuple[str, ...] = ()  # arXiv ids kept by id only, until their title and abstract are known
    filled: tuple[Paper, ...] = ()  # papers pending from an earlier import whose text this import found
    ignored: int = 0  # notes, attachments and annotations: not papers
    read: int = 0  # entries read from the files, papers and not-papers


@dataclass(frozen=True)
class _Collected:
    """Papers read from import files and completed with metadata, before they are added to a profile."""

    listed: int  # papers in the files (after merging duplicates)
    fresh: int  # of those, not already in the profile when looked at
    papers: tuple[Paper, ...]  # the fresh ones with a title
    skipped: tuple[tuple[str, str], ...]
    notice: str | None
    added: dict[str, date] = field(default_factory=dict)  # each paper's own date in the files, by id
    merged: int = 0
    pending: tuple[str, ...] = ()  # fresh arXiv ids without a title: the lookup was not possible
    filled: tuple[Paper, ...] = ()  # the profile's pending papers the lookup completed
    gone: tuple[str, ...] = ()  # the profile's pending ids arXiv answered for without them
    ignored: int = 0
    read: int = 0


def _collect(
    files: Sequence[Path],
    fmt: str | None,
    present: set[str],
    lookup: Lookup | None,
    cache: MetadataCache | None,
    waiting: Sequence[str] = (),
) -> _Collected:
    """Read, merge and complete the files' papers; `waiting` (pending ids of the profile) are completed alongside."""
    from .sources.imports import read_collections

    collection = read_collections(list(files), fmt)
    if not collection.papers and not collection.skipped and not collection.ignored:
        raise PaperrecError(f"no papers found in {', '.join(str(f) for f in files)}")
    fresh = [p for p in collection.papers if p.arxiv_id not in present]  # no lookups for papers already there
    waiting = [i for i in waiting if i not in {p.arxiv_id for p in fresh}]
    completion = complete_papers(fresh + [Paper(arxiv_id=i, title="") for i in waiting], lookup, cache)
    later = set(waiting)
    missing = set(completion.missing)
    skipped = tuple(collection.skipped) + tuple(
        (arxiv_id, "not on arXiv: the arXiv API knows no paper of this id")
        for arxiv_id in completion.unresolved
        if arxiv_id in missing and arxiv_id not in later
    )
    days = {p.arxiv_id: d for p, d in zip(collection.papers, collection.added, strict=True) if d is not None}
    return _Collected(
        listed=len(collection.papers),
        fresh=len(fresh),
        papers=tuple(p for p in completion.papers if p.arxiv_id not in later),
        skipped=skipped,
        notice=completion.notice,
        added={i: d for i, d in days.items() if d <= date.today()},  # a date in the future is a typo
        merged=collection.merged,
        pending=tuple(i for i in completion.unresolved if i not in missing and i not in later),
        filled=tuple(p for p in completion.papers if p.arxiv_id in later),
        gone=tuple(i for i in completion.missing if i in later),
        ignored=len(collection.ignored),
        read=collection.read + len(collection.skipped) + len(collection.ignored),
    )


def _check_not_empty(collected: _Collected, files: Sequence[Path], path: Path) -> None:
    """Refuse to create a profile from files that gave nothing to keep, saying why in one line."""
    if collected.papers or collected.pending or collected.filled:
        return
    names = ", ".join(str(f) for f in files)
    if collected.listed:
        return  # all already there: nothing new, but nothing wrong
    why = f": {len(collected.skipped)} entries skipped, e.g. {collected.skipped[0][0]}: {collected.skipped[0][1]}"
    raise PaperrecError(f"no paper to import from {names}{why if collected.skipped else ''}; {path} was not created")


def _report(profile: Profile, collected: _Collected, added: list[Paper], path: Path | None = None) -> ImportReport:
    fresh_ids = {p.arxiv_id for p in collected.papers}
    return ImportReport(
        profile=profile,
        added=tuple(p for p in added if p.arxiv_id in fresh_ids),
        already_present=collected.listed
        - collected.fresh
        + len(collected.papers)
        - sum(1 for p in added if p.arxiv_id in fresh_ids),
        skipped=collected.skipped,
        without_abstract=sum(1 for p in added if not p.abstract and p.arxiv_id in fresh_ids),
        notice=collected.notice,
        path=path,
        merged=collected.merged,
        pending=collected.pending,
        filled=collected.filled,
        ignored=collected.ignored,
        read=collected.read,
    )


def import_papers(
    profile: Profile,
    files: Sequence[Path],
    *,
    fmt: str | None = None,
    lookup: Lookup | None = None,
    cache: MetadataCache | None = None,
    section: str = "liked",
) -> ImportReport:
    """Add the papers of BibTeX, Zotero, id-list or listing files to a profile, fetching missing abstracts."""
    present = {p.paper.arxiv_id for p in getattr(profile, section)}
    collected = _collect(files, fmt, present, lookup, cache)
    updated, added = add_papers(profile, collected.papers, section, collected.added)
    updated = replace(updated, pending=updated.pending + _new_pending(updated, collected, section))
    return _report(updated, collected, added)


def _new_pending(profile: Profile, collected: _Collected, section: str) -> tuple[PendingPaper, ...]:
    """Pending entries for the collected ids without text that the profile does not have yet."""
    have = profile.ids
    return tuple(
        PendingPaper(arxiv_id=i, section=section, added=collected.added.get(i) or date.today())
        for i in collected.pending
        if i not in have
    )


# Editing a profile file in place. The file is the researcher's own text: an edit changes only the
# [[liked]] / [[disliked]] tables it adds, moves or removes, so comments, key order, blank lines and keys
# paperrec does not know survive. Each edit is made on the text directly where the layout allows
# (fast on big profiles), otherwise with tomlkit; either way the result is parsed again and must hold
# exactly the data expected, or nothing is written.

_HEADER = re.compile(r"^[ \t]*\[(\[)?[ \t]*([^\[\]\r\n]*?)[ \t]*\](\])?[ \t]*(?:#[^\r\n]*)?(?=\r?$)", re.M)
_COMMENT_LINE = re.compile(r"[ \t]*#[^\r\n]*\r?\n?")
T = TypeVar("T")


@dataclass(frozen=True)
class _Header:
    start: int
    end: int  # end of the header line, before its newline
    section: str | None  # "liked" or "disliked" for their [[...]] headers, else None


def _section_of(match: re.Match[str]) -> str | None:
    if not (match.group(1) and match.group(3)):
        return None
    key = match.group(2)
    if len(key) > 2 and key[0] == key[-1] and key[0] in "\"'":
        key = key[1:-1]
    return key if key in _TABLES else None


def _regions(text: str, headers: list[_Header]) -> list[tuple[int, int]]:
    """Each header's span: from the comment lines right above it to where the next header's span begins."""
    starts = []
    for header in headers:
        start = header.start
        while start > 0:
            line_start = text.rfind("\n", 0, start - 1) + 1
            if not _COMMENT_LINE.fullmatch(text, line_start, start):
                break
            start = line_start
        starts.append(start)
    return [(start, starts[i + 1] if i + 1 < len(starts) else len(text)) for i, start in enumerate(starts)]


def _empty_array_line(section: str) -> re.Pattern[str]:
    key = rf"(?:{section}|\"{section}\"|'{section}')"
    return re.compile(rf"^[ \t]*{key}[ \t]*=[ \t]*\[[ \t]*\][ \t]*(?:#[^\r\n]*)?\r?\n?", re.M)


@dataclass(frozen=True)
class _Change:
    """Tables to drop (by section and index) and tables to append to one section, moved ones with their source."""

    removals: dict[str, list[int]]
    section: str
    appended: list[tuple[dict[str, Any], tuple[str, int] | None]]


def _edit_text_fast(text: str, data: dict[str, Any], change: _Change) -> str | None:
    """The edited text, made by cutting and appending text; None where the layout needs tomlkit."""
    if '"""' in text or "'''" in text:
        return None  # a multi-line string could hold lines that look like headers
    headers = [_Header(m.start(), m.end(), _section_of(m)) for m in _HEADER.finditer(text)]
    regions = _regions(text, headers)
    by_section: dict[str, list[int]] = {section: [] for section in _TABLES}
    for i, header in enumerate(headers):
        if header.section:
            by_section[header.section].append(i)
    for section in _TABLES:
        tables = data.get(section, [])
        if isinstance(tables, list) and tables and len(tables) != len(by_section[section]):
            return None  # some tables are inline or written in a way the header scan does not see
    newline = "\r\n" if "\r\n" in text else "\n"
    cut = {by_section[section][index] for section, indices in change.removals.items() for index in indices}
    pieces = []
    for section, (table, source) in ((change.section, a) for a in change.appended):
        if source is None:
            pieces.append(_tables_text(section, [table]).replace("\n", newline))
            continue
        start, end = regions[by_section[source[0]][source[1]]]
        header = headers[by_section[source[0]][source[1]]]
        piece = text[start : header.start] + f"[[{section}]]" + text[header.end : end]
        if "added" in table:
            piece = re.sub(
                r"^([ \t]*added[ \t]*=[ \t]*)[0-9][0-9:.+TZ -]*?([ \t]*(?:#[^\r\n]*)?\r?)$",
                rf"\g<1>{table['added'].isoformat()}\g<2>",
                piece,
                count=1,
                flags=re.M,
            )
        pieces.append(piece.rstrip("\r\n") + newline)
    edits = [(*regions[i], "") for i in cut]
    block = newline.join(pieces)
    kept_in_section = [i for i in by_section[change.section] if i not in cut]
    if pieces and kept_in_section:  # right after the section's last table, before its trailing blank lines
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


def _edit_text_tomlkit(text: str, change: _Change) -> str:
    import tomlkit
    from tomlkit.items import AoT

    doc = tomlkit.parse(text)
    for section, indices in change.removals.items():
        tables = doc[section]
        for index in sorted(indices, reverse=True):
            del tables[index]
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
        for table, _ in change.appended:
            current.append(tomlkit.item(table))
    return tomlkit.dumps(doc)


def _canonical(data: dict[str, Any]) -> str:
    sections = {section: data.get(section) or [] for section in _TABLES}
    return json.dumps({**data, **sections}, sort_keys=True, default=repr)


def _expected(data: dict[str, Any], change: _Change) -> dict[str, Any]:
    expected = dict(data)
    for section, indices in change.removals.items():
        expected[section] = [t for i, t in enumerate(data[section]) if i not in set(indices)]
    if change.appended:
        expected[change.section] = list(expected.get(change.section) or []) + [t for t, _ in change.appended]
    return expected


class ProfileEdit:
    """A profile file opened for editing (under its lock): add and remove papers; the rest of the text stays."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self.original = text
        self.text = text
        self.data = _parse_toml(text, path)
        self.profile = profile_from_dict(self.data, str(path), default_name=path.stem)

    @property
    def changed(self) -> bool:
        """True when the text differs from the file's."""
        return self.text != self.original

    def add(self, papers: Iterable[Paper], section: str = "liked", added: Days = None) -> list[Paper]:
        """Add papers to liked or disliked, moving them out of the other section; returns the papers new to it."""
        if section not in SECTIONS:
            raise ValueError(f"section must be one of {SECTIONS}")
        other = "disliked" if section == "liked" else "liked"
        present = {p.paper.arxiv_id for p in getattr(self.profile, section)}
        in_other: dict[str, list[int]] = {}
        for index, entry in enumerate(getattr(self.profile, other)):
            in_other.setdefault(entry.paper.arxiv_id, []).append(index)
        appended: list[tuple[dict[str, Any], tuple[str, int] | None]] = []
        new: list[Paper] = []
        for paper in papers:
            if paper.arxiv_id in present:
                continue
            present.add(paper.arxiv_id)
            new.append(paper)
            day = _day_of(added, paper.arxiv_id)
            if paper.arxiv_id in in_other:  # a move keeps the table's own keys and comments
                index = in_other[paper.arxiv_id][0]
                table = dict(self.data[other][index])
                if "added" in table:
                    table["added"] = day
                appended.append((table, (other, index)))
            else:
                appended.append((_paper_table(ProfilePaper(paper=paper, added=day)), None))
        removed = sorted(i for arxiv_id, indices in in_other.items() if arxiv_id in present for i in indices)
        self._apply(_Change({other: removed} if removed else {}, section, appended))
        return new

    def set_pending(self, new: Sequence[PendingPaper], done: Iterable[str] = ()) -> list[PendingPaper]:
        """Keep papers by id until their text is known, and drop those `done` with; returns the pending ones added."""
        finished = set(done)
        known = {p.arxiv_id for p in self.profile.pending if p.arxiv_id not in finished}
        removed = [i for i, p in enumerate(self.profile.pending) if p.arxiv_id in finished]
        added: list[PendingPaper] = []
        for pending in new:
            if pending.arxiv_id not in known:
                known.add(pending.arxiv_id)
                added.append(pending)
        appended = [(_pending_table(p), None) for p in added]
        self._apply(_Change({"pending": removed} if removed else {}, "pending", appended))
        return added

    def remove(self, ids: Iterable[str]) -> list[str]:
        """Remove papers by arXiv id (any version) from liked, disliked and pending; returns the ids found."""
        wanted = {(split_arxiv_id(i) or (i.strip(), None))[0] for i in ids}
        removals: dict[str, list[int]] = {}
        found: list[str] = []
        for section in _TABLES:
            for index, entry in enumerate(getattr(self.profile, section)):
                arxiv_id = entry.arxiv_id if section == "pending" else entry.paper.arxiv_id
                if arxiv_id in wanted:
                    removals.setdefault(section, []).append(index)
                    found.append(arxiv_id)
        self._apply(_Change(removals, "liked", []))
        return list(dict.fromkeys(found))  # an id both liked and still pending is one paper

    def _candidates(self, change: _Change) -> Iterator[str]:
        """Edited texts to try, best first: the text edit, then tomlkit's (with the file's CRLF newlines)."""
        fast = _edit_text_fast(self.text, self.data, change)
        if fast is not None:
            yield fast
        try:
            text = _edit_text_tomlkit(self.text, change)
        except Exception:  # tomlkit may reject what rtoml read; then no edit is possible
            return
        if "\r\n" in self.text and "\n" not in self.text.replace("\r\n", ""):
            yield text.replace("\r\n", "\n").replace("\n", "\r\n")
        yield text

    def _profile_after(self, change: _Change) -> Profile:
        """The profile with the change applied, re-checking only the tables it appended (fast on big profiles)."""
        sections: dict[str, list[Any]] = {}
        for section in _TABLES:
            dropped = set(change.removals.get(section, ()))
            sections[section] = [p for i, p in enumerate(getattr(self.profile, section)) if i not in dropped]
        read = _pending_from_table if change.section == "pending" else _paper_from_table
        for table, _ in change.appended:
            where = f"{self.path}: {change.section}[{len(sections[change.section]) + 1}]"
            sections[change.section].append(read(table, where))
        return replace(self.profile, **{section: tuple(papers) for section, papers in sections.items()})

    def _apply(self, change: _Change) -> None:
        if not change.removals and not change.appended:
            return
        want = _canonical(_expected(self.data, change))
        for text in self._candidates(change):
            try:
                data = _parse_toml(text, self.path)
            except PaperrecError:
                continue
            if _canonical(data) == want:
                self.text, self.data = text, data
                self.profile = self._profile_after(change)
                return
        raise PaperrecError(f"{self.path}: cannot apply this edit without changing other parts; edit the file by hand")


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _editable(path: Path) -> Path:
    """The file to rewrite for path (a symlink's target), refusing a missing or read-only profile."""
    if not path.is_file():
        raise PaperrecError(f"unknown profile: {path} does not exist (see 'paperrec profile list')")
    real = _real(path)
    _check_writable(path, real)
    return real


def _check_writable(path: Path, real: Path) -> None:
    """Refuse to replace a file the user made read-only (an atomic replace would otherwise succeed)."""
    try:
        mode = real.stat().st_mode
    except FileNotFoundError:
        return
    # the mode bits too: root may write anything, but a read-only profile is not to be changed
    if not os.access(real, os.W_OK) or not mode & 0o222:
        raise PaperrecError(f"{path} is read-only: make it writable (chmod u+w) to edit it")


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")  # no newline translation: the text is written back as it was
    except (OSError, UnicodeDecodeError) as error:
        raise PaperrecError(f"{path}: cannot read profile ({error})") from None


@contextmanager
def edit_profile(path: Path) -> Iterator[ProfileEdit]:
    """Open a profile file for editing under its lock; on leaving the block, write the changes atomically.

    Example: with edit_profile(path) as edit: edit.add([paper], "liked")
    """
    path = Path(path)
    target = _editable(path)
    with locked(target):
        remove_stale_temporaries(target)
        edit = ProfileEdit(path, _read_text(target))
        yield edit
        if edit.changed:
            _write_profile_text(target, edit.text)


def update_profile(path: Path, change: Callable[[ProfileEdit], T]) -> T:
    """Apply change to the profile file under its lock and save what it did; returns what change returns."""
    with edit_profile(path) as edit:
        return change(edit)


def rate_papers(
    path: Path, papers: Iterable[Paper], section: str = "liked", added: date | None = None
) -> tuple[Profile, list[Paper]]:
    """Like or dislike papers in the profile file (moving them out of the other section); returns what was new."""
    with edit_profile(path) as edit:
        new = edit.add(papers, section, added)
    return edit.profile, new


def unrate_papers(path: Path, ids: Iterable[str]) -> tuple[Profile, list[str]]:
    """Remove papers by arXiv id from the profile file; returns the profile and the ids found."""
    with edit_profile(path) as edit:
        found = edit.remove(ids)
    return edit.profile, found


def import_into_profile(
    path: Path,
    files: Sequence[Path],
    *,
    fmt: str | None = None,
    lookup: Lookup | None = None,
    cache: MetadataCache | None = None,
    section: str = "liked",
) -> ImportReport:
    """Add the papers of library files to the profile file at path, creating it (named after the file) if missing.

    Abstracts are looked up before the lock is taken; the papers are merged under it, so edits made
    meanwhile by another paperrec are kept. Papers known only by id (offline) are kept pending; the
    profile's pending papers are completed by the same lookup.
    """
    path = Path(path)
    exists = path.is_file()
    current = load_profile(path) if exists else new_profile(path.stem)
    waiting = [p.arxiv_id for p in current.pending] if lookup is not None else []
    present = {p.paper.arxiv_id for p in getattr(current, section)}
    collected = _collect(files, fmt, present, lookup, cache, waiting)
    if not exists:
        _check_not_empty(collected, files, path)
        with locked(path):
            if not path.is_file():  # else another paperrec created it meanwhile: add to that one
                updated, added = add_papers(current, collected.papers, section, collected.added)
                updated = replace(updated, pending=_new_pending(updated, collected, section))
                _check_writable(path, _real(path))
                remove_stale_temporaries(_real(path))
                _write_profile_text(path, profile_to_toml(updated))
                return _report(updated, collected, added, path)
    with edit_profile(path) as edit:
        added = _apply_collected(edit, collected, section)
    return _report(edit.profile, collected, added, path)


def _apply_collected(edit: ProfileEdit, collected: _Collected, section: str) -> list[Paper]:
    """Add the collected papers, move completed pending papers to their sections and keep the new pending ones."""
    added = edit.add(collected.papers, section, collected.added)
    by_id = {p.arxiv_id: p for p in edit.profile.pending}
    for target in SECTIONS:
        filled = [p for p in collected.filled if p.arxiv_id in by_id and by_id[p.arxiv_id].section == target]
        added += edit.add(filled, target, {p.arxiv_id: by_id[p.arxiv_id].added for p in filled})
    done = [p.arxiv_id for p in collected.filled] + list(collected.gone)
    edit.set_pending(_new_pending(edit.profile, collected, section), done)
    return added


@dataclass(frozen=True)
class RefreshReport:
    """What a refresh did: pending papers filled in (now liked or disliked), still pending, or not on arXiv."""

    profile: Profile
    path: Path
    filled: tuple[Paper, ...]
    pending: tuple[str, ...]  # still without text (the lookup failed or is offline)
    gone: tuple[str, ...]  # the arXiv API knows no paper of these ids: removed from the profile
    notice: str | None = None


def refresh_profile(path: Path, lookup: Lookup | None, cache: MetadataCache | None = None) -> RefreshReport:
    """Look up the titles and abstracts of a profile's pending papers and move them to their sections.

    Example: refresh_profile(Path("vision.toml"), lookup, cache)
    """
    path = Path(path)
    current = load_profile(path)
    waiting = [p.arxiv_id for p in current.pending]
    if not waiting:
        return RefreshReport(current, path, (), (), ())
    completion = complete_papers([Paper(arxiv_id=i, title="") for i in waiting], lookup, cache)
    missing = set(completion.missing)
    with edit_profile(path) as edit:
        by_id = {p.arxiv_id: p for p in edit.profile.pending}
        filled: list[Paper] = []
        for target in SECTIONS:
            papers = [p for p in completion.papers if p.arxiv_id in by_id and by_id[p.arxiv_id].section == target]
            edit.add(papers, target, {p.arxiv_id: by_id[p.arxiv_id].added for p in papers})
            filled += papers
        edit.set_pending((), [p.arxiv_id for p in filled] + sorted(missing))
    return RefreshReport(
        profile=edit.profile,
        path=path,
        filled=tuple(filled),
        pending=tuple(p.arxiv_id for p in edit.profile.pending),
        gone=tuple(i for i in waiting if i in missing),
        notice=completion.notice,
    )


def create_profile(
    path: Path,
    profile: Profile,
    files: Sequence[Path] = (),
    *,
    fmt: str | None = None,
    lookup: Lookup | None = None,
    cache: MetadataCache | None = None,
    force: bool = False,
) -> ImportReport:
    """Write a new profile file, liking the papers of the given library files; refuses to overwrite without force."""
    path = Path(path)
    if path.exists() and not force:
        raise PaperrecError(f"profile {path} already exists: add papers with 'paperrec profile import', or --force")
    collected = _collect(files, fmt, set(), lookup, cache) if files else _Collected(0, 0, (), (), None)
    if files:
        _check_not_empty(collected, files, path)
    created, added = add_papers(profile, collected.papers, "liked", collected.added)
    created = replace(created, pending=_new_pending(created, collected, "liked"))
    with locked(path):
        if path.exists() and not force:
            raise PaperrecError(f"profile {path} already exists: add papers with 'paperrec profile import', or --force")
        _check_writable(path, _real(path))
        remove_stale_temporaries(_real(path))
        _write_profile_text(path, profile_to_toml(created))
    return _report(created, collected, added, path)
