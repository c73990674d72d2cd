"""The profile model: liked and disliked papers, interests and settings; read from TOML, written whole, embedded."""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..schema import STRATEGY_NAMES, NotFound, Paper, PaperrecError, did_you_mean, split_arxiv_id
from ..sources.taxonomy import arxiv_spelling

if TYPE_CHECKING:  # numpy and the embedder load only when vectors are needed, not for a like
    import numpy as np

    from ..embed import CachedEmbedder

SCHEMA_VERSION = 1
DEFAULT_STRATEGY = "hybrid"
DEFAULT_DISLIKE_WEIGHT = 0.5
_KNOWN_KEYS = {
    "schema",
    "name",
    "description",
    "categories",
    "sources",
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
    "zotero",
    "zotero_collection",
}
# Settings a line added at the end of the file puts in the last paper's table, where they do nothing.
_SETTINGS = _KNOWN_KEYS - {"schema", "name", "description", "liked", "disliked", "pending"}
ZOTERO_KEYS = ("library", "collection", "tag")  # the [zotero] table: where `profile sync` reads the library
SECTIONS = ("liked", "disliked")
# The arrays of tables an edit changes: the two sections, and papers known by id only, waiting for their text.
TABLES = (*SECTIONS, "pending")


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
    sources: tuple[str, ...] = ()  # specs such as 'biorxiv:neuroscience' ('paperrec sources' lists the kinds)
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
    zotero: dict[str, str] = field(default_factory=dict)  # [zotero]: the library this profile syncs from
    zotero_collection: str = ""  # the Zotero collection every like is also saved to (Web API)
    # (key, section, paper id) of each setting written inside a paper's table, for the file's warning
    misplaced: tuple[tuple[str, str, str], ...] = field(default=(), compare=False)

    @property
    def ids(self) -> set[str]:
        """Ids of every paper in the profile, liked, disliked or pending."""
        return {i for p in self.liked + self.disliked for i in p.paper.ids} | {p.arxiv_id for p in self.pending}

    @property
    def match_keys(self) -> set[str]:
        """What a copy of one of its papers shares with it: an id, or a title and first author (as sources merge)."""
        from ..sources.merge import match_keys

        return {k for p in self.liked + self.disliked for k in match_keys(p.paper)} | {p.arxiv_id for p in self.pending}

    def is_empty(self) -> bool:
        """True when there is nothing to score against."""
        return not self.liked and not self.interests

    def papers(self, section: str) -> tuple[ProfilePaper, ...]:
        """The papers of one section, 'liked' or 'disliked'."""
        if section == "liked":
            return self.liked
        if section == "disliked":
            return self.disliked
        raise ValueError(f"section must be one of {SECTIONS}, not {section!r}")

    def section_of(self, arxiv_id: str) -> str | None:
        """'liked' or 'disliked' when the profile has the paper, 'pending' when it has only its id, else None."""
        for section in SECTIONS:
            if any(p.paper.arxiv_id == arxiv_id for p in self.papers(section)):
                return section
        if any(p.arxiv_id == arxiv_id for p in self.pending):
            return "pending"
        return None

    def entry(self, arxiv_id: str) -> ProfilePaper | PendingPaper | None:
        """The profile's entry for this id (liked, disliked or pending), None when it has none."""
        for entry in self.liked + self.disliked:
            if entry.paper.arxiv_id == arxiv_id:
                return entry
        return next((p for p in self.pending if p.arxiv_id == arxiv_id), None)


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


class _BadValue(PaperrecError):
    """A key's value the loader refuses; the key lets the message name its line in the file."""

    def __init__(self, message: str, key: str):
        super().__init__(message)
        self.key = key.split(".")[0]  # 'zotero.tag': the line of the [zotero] table


class _BadTable(PaperrecError):
    """A [[liked]], [[disliked]] or [[pending]] table the loader refuses; its place lets the message name its line."""

    def __init__(self, message: str, section: str, index: int, count: int, key: str | None = None):
        super().__init__(message)
        self.section, self.index, self.count = section, index, count  # count: the section's tables
        self.key = key  # the key refused in it, when one was


def _require(value: Any, kind: type | tuple[type, ...], where: str, what: str) -> Any:
    if not isinstance(value, kind):
        raise _BadValue(f"{where}: '{what}' has the wrong type ({type(value).__name__})", what)
    return value


def _number(value: Any, where: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _BadValue(f"{where}: '{what}' must be a number", what)
    if not math.isfinite(value):  # nan and inf are valid TOML but make every score nan
        raise _BadValue(f"{where}: '{what}' must be a finite number, not {value}", what)
    return float(value)


_LIST_EXAMPLES = {"categories": '["cs.CV"]', "sources": '["openreview:TMLR"]', "authors": '["Ada Lovelace"]'}


def _str_list(value: Any, where: str, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        wrong = type(value).__name__ if not isinstance(value, list) else "list holding a non-string"
        example = _LIST_EXAMPLES.get(what, '["…"]')
        raise _BadValue(f"{where}: '{what}' must be a list of strings, like {example}, not a {wrong}", what)
    return tuple(value)


def paper_from_table(table: Any, where: str) -> ProfilePaper:
    """A [[liked]] or [[disliked]] table as a ProfilePaper, checking its types; `where` prefixes errors."""
    _require(table, dict, where, "paper")
    at = where
    if isinstance(table.get("id"), str) and table["id"].strip():  # in a long file an index alone is hard to find
        where = f"{where} (id {table['id'].strip()})"
    title = table.get("title")
    if not isinstance(title, str) or not title.strip():
        raise PaperrecError(f"{where}: missing 'title'")
    raw_id = table.get("id")
    if isinstance(raw_id, int | float) and not isinstance(raw_id, bool):  # a hand-written id without its quotes
        raise _BadValue(f"{where}: 'id' must be in quotes, like id = \"2104.10642\"", "id")
    if raw_id is not None:
        _require(raw_id, str, where, "id")
    added = table.get("added", date.today())
    if not isinstance(added, date):
        raise _BadValue(f"{where}: 'added' must be a TOML date like 2021-04-22", "added")
    if isinstance(added, datetime):  # a TOML date-time: recency arithmetic works in days
        added = added.date()
    weight = table.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight) or weight < 0:
        shown = f"the string {weight!r}" if isinstance(weight, str) else weight
        raise _BadValue(f"{where}: 'weight' must be a number >= 0, not {shown}", "weight")
    try:
        paper = Paper.make(
            title=title,
            raw_id=raw_id,
            abstract=_require(table.get("abstract", ""), str, where, "abstract"),
            authors=_str_list(table.get("authors", []), where, "authors"),
            links=_str_list(table.get("links", []), where, "links"),
        )
    except ValueError as error:  # the id itself, which the message names
        raise PaperrecError(f"{at}: {error}") from None
    return ProfilePaper(paper=paper, added=added, weight=float(weight))


def _day(table: dict[str, Any], where: str) -> date:
    added = table.get("added", date.today())
    if not isinstance(added, date):
        raise _BadValue(f"{where}: 'added' must be a TOML date like 2021-04-22", "added")
    return added.date() if isinstance(added, datetime) else added


def pending_from_table(table: Any, where: str) -> PendingPaper:
    """A [[pending]] table: an arXiv id, the section it is for (liked unless said) and the day it was added."""
    _require(table, dict, where, "pending paper")
    raw_id = _require(table.get("id"), str, where, "id")
    found = split_arxiv_id(raw_id)
    if found is None:
        raise _BadValue(f"{where}: 'id' must be an arXiv id, not {raw_id!r}", "id")
    section = _require(table.get("section", "liked"), str, where, "section")
    if section not in SECTIONS:
        raise _BadValue(f"{where}: 'section' must be 'liked' or 'disliked', not {section!r}", "section")
    return PendingPaper(arxiv_id=found[0], section=section, added=_day(table, where))


def pending_table(pending: PendingPaper) -> dict[str, Any]:
    """A pending paper as its [[pending]] table."""
    return {"id": pending.arxiv_id, "section": pending.section, "added": pending.added}


def profile_from_dict(data: dict[str, Any], where: str, default_name: str, text: str | None = None) -> Profile:
    """Build a Profile from parsed TOML, checking types; `where` prefixes error messages, with the line in `text` of
    the table or key refused (`sr.toml:1234: liked[69] (id 2301.00006): ...`) where it is known."""
    try:
        return _profile_from_dict(data, where, default_name)
    except (_BadValue, _BadTable) as error:
        line = None if text is None else _line_of(text, error)
        if line is None or not str(error).startswith(f"{where}: "):
            raise PaperrecError(str(error)) from None
        raise PaperrecError(f"{where}:{line}: {str(error)[len(where) + 2 :]}") from None


def _line_of(text: str, error: _BadValue | _BadTable) -> int | None:
    """The line of the table or top-level key an error is about, where the text says it for sure."""
    from .lines import key_line, table_line

    if isinstance(error, _BadTable):
        return table_line(text, error.section, error.index, error.count, error.key)
    return key_line(text, error.key)


def _tables(tables: list[Any], section: str, where: str, read: Callable[[Any, str], Any]) -> tuple[Any, ...]:
    """Each table of a section read by `read`; an error says which table, for its line."""
    read_tables = []
    for index, table in enumerate(tables):
        try:
            read_tables.append(read(table, f"{where}: {section}[{index + 1}]"))
        except PaperrecError as error:
            key = error.key if isinstance(error, _BadValue) else None
            raise _BadTable(str(error), section, index, len(tables), key) from None
    return tuple(read_tables)


def _profile_from_dict(data: dict[str, Any], where: str, default_name: str) -> Profile:
    schema = data.get("schema", SCHEMA_VERSION)
    if schema != SCHEMA_VERSION:
        raise _BadValue(f"{where}: unsupported profile schema {schema!r} (this paperrec reads schema 1)", "schema")
    sections = {}
    for section in SECTIONS:
        tables = _require(data.get(section, []), list, where, section)
        sections[section] = _tables(tables, section, where, paper_from_table)
    pending = _tables(_require(data.get("pending", []), list, where, "pending"), "pending", where, pending_from_table)
    dislike_weight = _number(data.get("dislike_weight", DEFAULT_DISLIKE_WEIGHT), where, "dislike_weight")
    if dislike_weight < 0:  # a negative weight would raise the papers like the dislikes
        raise _BadValue(f"{where}: 'dislike_weight' must be >= 0 (0: dislikes do not lower scores)", "dislike_weight")
    min_score = data.get("min_score")
    min_match = data.get("min_match")
    min_match = None if min_match is None else _number(min_match, where, "min_match")
    if min_match is not None and not 0 <= min_match <= 1:
        raise _BadValue(f"{where}: 'min_match' must be between 0 and 1 (a probability)", "min_match")
    half_life = data.get("half_life_days")
    diversity = _number(data.get("diversity", 0.0), where, "diversity")
    if not 0 <= diversity <= 1:
        raise _BadValue(f"{where}: 'diversity' must be between 0 and 1", "diversity")
    half_life = None if half_life is None else _number(half_life, where, "half_life_days")
    if half_life is not None and half_life <= 0:
        raise _BadValue(f"{where}: 'half_life_days' must be > 0 (leave it out to ignore recency)", "half_life_days")
    misplaced = tuple(
        (key, section, str(table.get("id", f"#{i + 1}")))
        for section in TABLES
        for i, table in enumerate(data.get(section, []))
        for key in table
        if key in _SETTINGS
    )
    return Profile(
        name=_require(data.get("name", default_name), str, where, "name"),
        description=_require(data.get("description", ""), str, where, "description"),
        # As arXiv spells them, as the store's folders and the page's picker do; a typo is left for the run to name.
        categories=tuple(map(arxiv_spelling, _str_list(data.get("categories", []), where, "categories"))),
        sources=_str_list(data.get("sources", []), where, "sources"),
        strategy=_strategy(data.get("strategy", DEFAULT_STRATEGY), where),
        interests=_sentences(_str_list(data.get("interests", []), where, "interests")),
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
        zotero=_zotero_table(data.get("zotero", {}), where),
        zotero_collection=_require(data.get("zotero_collection", ""), str, where, "zotero_collection").strip(),
        misplaced=misplaced,
    )


def _strategy(value: Any, where: str) -> str:
    """The profile's strategy, a registered name; a typo is an error naming the file, the value and the names."""
    name = _require(value, str, where, "strategy")
    if name in STRATEGY_NAMES:
        return name
    hint = did_you_mean(name, STRATEGY_NAMES)
    raise _BadValue(f"{where}: unknown strategy {name!r} (known: {', '.join(STRATEGY_NAMES)}){hint}", "strategy")


def _zotero_table(value: Any, where: str) -> dict[str, str]:
    """The [zotero] table: strings under the keys paperrec knows; an error names anything else."""
    _require(value, dict, where, "zotero")
    for key, item in value.items():
        if key not in ZOTERO_KEYS:
            raise _BadValue(f"{where}: unknown key 'zotero.{key}' (known: {', '.join(ZOTERO_KEYS)})", "zotero")
        _require(item, str, where, f"zotero.{key}")
    return {k: value[k] for k in ZOTERO_KEYS if value.get(k)}


def profile_file_warning(profile: Profile, path: Path | str) -> str | None:
    """One line on what a hand edit left odd in a profile file, else None: keys paperrec does not know (a typo such
    as 'nevr'), a setting inside a paper's table (a line added at the end of the file), and a paper entered twice
    (two files merged by hand), which counts each time."""
    import difflib

    said = []
    if profile.extra:
        named = []
        for key in profile.extra:
            close = difflib.get_close_matches(key, sorted(_KNOWN_KEYS), n=1)
            named.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        said.append(f"unknown {'key' if len(named) == 1 else 'keys'} {', '.join(named)} ignored")
    for key, section, arxiv_id in profile.misplaced[:3]:
        said.append(
            f"{key!r} is a key of the [[{section}]] paper {arxiv_id} above it, not a setting: "
            "move it above the first [[liked]], [[disliked]] or [[pending]]"
        )
    counts: dict[str, dict[str, int]] = {}
    for section in ("liked", "disliked"):
        for entry in profile.papers(section):
            counts.setdefault(entry.paper.arxiv_id, {}).setdefault(section, 0)
            counts[entry.paper.arxiv_id][section] += 1
    twice = [(i, c) for i, c in counts.items() if sum(c.values()) > 1]
    for arxiv_id, sections in twice[:3]:
        how = " and ".join(
            f"{name} {'twice' if n == 2 else f'{n} times'}" if n > 1 else name for name, n in sections.items()
        )
        said.append(f"{arxiv_id} is {how}")
    if len(twice) > 3:
        said.append(f"and {len(twice) - 3} more papers are entered more than once")
    if twice:
        said[-1] += ": each entry counts, so keep one"
    return f"warning: {path}: {'; '.join(said)}" if said else None


def unknown_profile(path: Path) -> NotFound:
    """The error for a profile file that does not exist, naming the closest profile of the profiles folder."""
    from ..paths import profile_files, profiles_dir

    folder = profiles_dir()
    ours = folder.is_dir() and path.parent.resolve() == folder.resolve()  # elsewhere a .toml need not be a profile
    names = [p.stem for p in profile_files(folder)] if ours else []
    hint = did_you_mean(path.stem, names)
    return NotFound(f"unknown profile: {path} does not exist{hint} (see 'paperrec profile list')")


# The last profile read from each path, with the text it was read from. A page of the web app reads its profile
# several times, and a profile of thousands of papers takes a tenth of a second to parse. The file is still read
# each time: only the same text (on the same day, which a table without 'added' takes) skips the parse. An edit
# leaves what it wrote here, so the vote after it (and the page) need not parse the file it just wrote.
_READ: dict[str, tuple[str, date, dict[str, Any], Profile]] = {}
_READ_MAX = 32
_READ_LOCK = threading.Lock()


def load_profile(path: Path) -> Profile:
    """Read a profile TOML file; errors name the file and, for syntax errors, line and column."""
    path = Path(path)
    if not path.is_file():
        raise unknown_profile(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PaperrecError(f"{path}: cannot read profile ({error})") from None
    return own_copy(parsed_profile(text, path)[1])


def own_copy(profile: Profile) -> Profile:
    """The profile with dicts of its own, so a caller that adds or drops a key cannot change what is kept for the next
    reader."""
    return replace(profile, extra=dict(profile.extra), zotero=dict(profile.zotero))


def parsed_profile(text: str, path: Path) -> tuple[dict[str, Any], Profile]:
    """The TOML data and the profile of a profile file's text (parsed once per text and day); callers only read them."""
    key, today = str(path), date.today()
    with _READ_LOCK:
        kept = _READ.get(key)
    if kept is not None and kept[0] == text and kept[1] == today:
        return kept[2], kept[3]
    data = parse_toml(text, path)
    profile = profile_from_dict(data, str(path), default_name=path.stem, text=text)
    remember_parsed(path, text, data, profile)
    return data, profile


def remember_parsed(path: Path, text: str, data: dict[str, Any], profile: Profile) -> None:
    """Keep what a profile file's text parses into, for the next reader of the same text."""
    with _READ_LOCK:
        _READ.pop(str(path), None)
        if len(_READ) >= _READ_MAX:
            del _READ[next(iter(_READ))]
        _READ[str(path)] = (text, date.today(), data, profile)


def parse_toml(text: str, path: Path) -> dict[str, Any]:
    """Parsed TOML text of the profile at path; a syntax error names the file, line and column."""
    import rtoml

    try:
        return rtoml.loads(text)
    except rtoml.TomlParsingError as error:
        message = " ".join(str(error).split())
        raise PaperrecError(f"{path}: invalid TOML: {message}{_duplicate_key(text, message)}") from None


def _duplicate_key(text: str, message: str) -> str:
    """For a 'duplicate key at line N' error: which key, and the line of its first setting in the same table."""
    found = re.match(r"duplicate key at line (\d+)", message)
    lines = text.splitlines()
    if found is None or not 0 < int(found.group(1)) <= len(lines):
        return ""
    number = int(found.group(1))
    key = lines[number - 1].split("=", 1)[0].strip()
    if not key or key.startswith("["):  # a table header given twice: rtoml's line and column say enough
        return ""
    for earlier in range(number - 1, 0, -1):
        line = lines[earlier - 1].strip()
        if line.startswith("["):  # the table's header: a key above it is another table's
            break
        if "=" in line and line.split("=", 1)[0].strip() == key:
            return f": {key!r} is set at line {earlier} and again at line {number}; keep one"
    return ""


# A paper's keys in the order paperrec writes them; a key it adds to an existing entry takes its place in this order.
PAPER_KEYS = ("id", "title", "authors", "abstract", "links", "added", "weight")


def paper_table(entry: ProfilePaper) -> dict[str, Any]:
    """A paper as its [[liked]] / [[disliked]] table."""
    table: dict[str, Any] = {"id": entry.paper.arxiv_id, "title": entry.paper.title}
    if entry.paper.authors:
        table["authors"] = list(entry.paper.authors)
    if entry.paper.abstract:  # a missing abstract reads as an empty one, and refresh fills it all the same
        table["abstract"] = entry.paper.abstract
    if entry.paper.links:  # every page of a merged paper: a later copy under another id is known through them
        table["links"] = list(entry.paper.links)
    table["added"] = entry.added
    if entry.weight != 1.0:
        table["weight"] = entry.weight
    return table


# A list that fits in this many columns stays on its key's line, as a person writes it; a longer one has an item a line.
LINE_WIDTH = 100
# An array of plain values as tomli_w writes it: an item a line, indented by four spaces, each with its comma.
_ARRAY_LINES = re.compile(r"^([^\s#\[][^\n]*? = )\[\n((?:    (?![\[\]{])[^\n]*,\n)+)\]$", re.M)


def array_text(prefix: str, items: list[str], newline: str = "\n") -> str:
    """`prefix` (a key and ' = ') and an array of rendered values: on one line where it fits LINE_WIDTH, else an
    item a line."""
    line = f"{prefix}[{', '.join(items)}]"
    if len(line) <= LINE_WIDTH:
        return line
    return f"{prefix}[{newline}" + "".join(f"    {item},{newline}" for item in items) + "]"


def short_arrays(text: str, keep: tuple[str, ...] = ()) -> str:
    """tomli_w's text with each array of plain values on one line where it fits (not those of the keys `keep`)."""

    def join(match: re.Match[str]) -> str:
        if match.group(1)[: -len(" = ")] in keep:
            return match.group(0)
        return array_text(match.group(1), [line[4:-1] for line in match.group(2).splitlines()])

    return _ARRAY_LINES.sub(join, text)


def tables_text(section: str, tables: list[dict[str, Any]]) -> str:
    """Flat tables as [[section]] tables, one blank line between them, short arrays on one line."""
    import tomli_w

    return "\n".join(
        f"[[{section}]]\n" + short_arrays(tomli_w.dumps(table, multiline_strings=False)) for table in tables
    )


def profile_to_toml(profile: Profile) -> str:
    """The profile as human-readable TOML (the format load_profile reads)."""
    import tomli_w

    data: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "name": profile.name,
        "description": profile.description,
        "categories": list(profile.categories),
        **({"sources": list(profile.sources)} if profile.sources else {}),
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
    if profile.zotero_collection:
        data["zotero_collection"] = profile.zotero_collection
    data.update(profile.extra)
    if profile.zotero:
        data["zotero"] = dict(profile.zotero)
    sections = {section: [paper_table(p) for p in profile.papers(section)] for section in SECTIONS}
    data.update({section: [] for section, tables in sections.items() if not tables})
    if profile.pending:
        sections["pending"] = [pending_table(p) for p in profile.pending]
    # Interests stay one a line, as the editor writes them: sentences read best that way.
    text = short_arrays(tomli_w.dumps(data, multiline_strings=False), keep=("interests",))
    # [[liked]] tables last and never inline (tomli_w inlines short arrays), so likes append at the end
    return "\n".join([text.rstrip("\n") + "\n"] + [tables_text(s, t) for s, t in sections.items() if t])


Days = date | Mapping[str, date] | None  # one day for every paper, or each paper's own by id (today if absent)


def day_of(added: Days, arxiv_id: str) -> date:
    """The day a paper is added on: its own in a mapping, else the one day given, else today."""
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
    current = list(profile.papers(section))
    present = {p.paper.arxiv_id for p in current}
    new: list[Paper] = []
    for paper in papers:
        if paper.arxiv_id in present:
            continue
        present.add(paper.arxiv_id)
        current.append(ProfilePaper(paper=paper, added=day_of(added, paper.arxiv_id)))
        new.append(paper)
    moved = tuple(p for p in profile.papers(other) if p.paper.arxiv_id not in present)
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


def _sentences(interests: Iterable[str]) -> tuple[str, ...]:
    """The interests that say something: a blank one (a template's placeholder, `-i ""`) would score as noise."""
    return tuple(text for text in interests if text.strip())


def new_profile(
    name: str,
    liked: Iterable[Paper] = (),
    *,
    description: str = "",
    categories: Iterable[str] = (),
    interests: Iterable[str] = (),
    sources: Iterable[str] = (),
) -> Profile:
    """A fresh profile liking the given papers (duplicates by id collapse)."""
    profile = Profile(
        name=name,
        description=description,
        categories=tuple(categories),
        interests=_sentences(interests),
        sources=tuple(sources),
    )
    return add_papers(profile, liked, "liked")[0]
