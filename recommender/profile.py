"""Profile: a TOML file of liked and disliked papers and free-text interests; load, save, edit, embed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from .embed import CachedEmbedder
from .paths import atomic_write_text
from .schema import Paper, PaperrecError
from .sources.metadata import Lookup, MetadataCache, complete_papers

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
    "diversity",
    "half_life_days",
}
SECTIONS = ("liked", "disliked")


@dataclass(frozen=True)
class ProfilePaper:
    """A paper in a profile, with the day it was added and its weight."""

    paper: Paper
    added: date
    weight: float = 1.0


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
    diversity: float = 0.0  # 0: pure relevance; up to 1: favour picks unlike those above them (MMR)
    half_life_days: float | None = None  # recency: a like this many days old counts half
    extra: dict[str, Any] = field(default_factory=dict)  # keys a newer paperrec wrote; kept on save

    @property
    def ids(self) -> set[str]:
        """Ids of every paper in the profile, liked or disliked."""
        return {p.paper.arxiv_id for p in self.liked + self.disliked}

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
    weight = table.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
        raise PaperrecError(f"{where}: 'weight' must be a number >= 0")
    try:
        paper = Paper.make(
            title=title, raw_id=raw_id, abstract=_require(table.get("abstract", ""), str, where, "abstract")
        )
    except ValueError as error:
        raise PaperrecError(f"{where}: {error}") from None
    return ProfilePaper(paper=paper, added=added, weight=float(weight))


def profile_from_dict(data: dict[str, Any], where: str, default_name: str) -> Profile:
    """Build a Profile from parsed TOML, checking types; `where` prefixes error messages."""
    schema = data.get("schema", SCHEMA_VERSION)
    if schema != SCHEMA_VERSION:
        raise PaperrecError(f"{where}: unsupported profile schema {schema!r} (this paperrec reads schema 1)")
    sections = {}
    for section in SECTIONS:
        tables = _require(data.get(section, []), list, where, section)
        sections[section] = tuple(_paper_from_table(t, f"{where}: {section}[{i + 1}]") for i, t in enumerate(tables))
    dislike_weight = _number(data.get("dislike_weight", DEFAULT_DISLIKE_WEIGHT), where, "dislike_weight")
    min_score = data.get("min_score")
    half_life = data.get("half_life_days")
    diversity = _number(data.get("diversity", 0.0), where, "diversity")
    if not 0 <= diversity <= 1:
        raise PaperrecError(f"{where}: 'diversity' must be between 0 and 1")
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
        diversity=diversity,
        half_life_days=None if half_life is None else _number(half_life, where, "half_life_days"),
        extra={k: v for k, v in data.items() if k not in _KNOWN_KEYS},
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


def _paper_table(entry: ProfilePaper) -> dict[str, Any]:
    table: dict[str, Any] = {"id": entry.paper.arxiv_id, "title": entry.paper.title, "abstract": entry.paper.abstract}
    table["added"] = entry.added
    if entry.weight != 1.0:
        table["weight"] = entry.weight
    return table


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
        "diversity": profile.diversity or None,
        "half_life_days": profile.half_life_days,
    }
    data.update({key: value for key, value in optional.items() if value not in (None, [])})
    data.update(profile.extra)
    data["liked"] = [_paper_table(p) for p in profile.liked]
    data["disliked"] = [_paper_table(p) for p in profile.disliked]
    return tomli_w.dumps(data, multiline_strings=False)


def save_profile(profile: Profile, path: Path) -> None:
    """Write the profile atomically: the old file stays intact if anything fails."""
    text = profile_to_toml(profile)
    try:
        atomic_write_text(Path(path), text)
    except OSError as error:
        raise PaperrecError(f"cannot write profile {path}: {error.strerror or error}") from None


def add_papers(
    profile: Profile, papers: Iterable[Paper], section: str = "liked", added: date | None = None
) -> tuple[Profile, list[Paper]]:
    """Add papers to liked or disliked (moving them out of the other); returns the profile and what was new."""
    if section not in SECTIONS:
        raise ValueError(f"section must be one of {SECTIONS}")
    other = "disliked" if section == "liked" else "liked"
    day = added or date.today()
    current = list(getattr(profile, section))
    present = {p.paper.arxiv_id for p in current}
    new: list[Paper] = []
    for paper in papers:
        if paper.arxiv_id in present:
            continue
        present.add(paper.arxiv_id)
        current.append(ProfilePaper(paper=paper, added=day))
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
    """What an import did: the updated profile, papers added, and what was skipped and why."""

    profile: Profile
    added: tuple[Paper, ...]
    already_present: int
    skipped: tuple[tuple[str, str], ...]
    without_abstract: int
    notice: str | None = None


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
    from .sources.imports import read_collections

    collection = read_collections(list(files), fmt)
    if not collection.papers and not collection.skipped:
        raise PaperrecError(f"no papers found in {', '.join(str(f) for f in files)}")
    present = {p.paper.arxiv_id for p in getattr(profile, section)}
    fresh = [p for p in collection.papers if p.arxiv_id not in present]  # no lookups for papers already there
    completion = complete_papers(fresh, lookup, cache)
    updated, added = add_papers(profile, completion.papers, section)
    skipped = tuple(collection.skipped) + tuple(
        (arxiv_id, "no title or abstract: arXiv metadata could not be fetched") for arxiv_id in completion.unresolved
    )
    return ImportReport(
        profile=updated,
        added=tuple(added),
        already_present=len(collection.papers) - len(fresh) + len(completion.papers) - len(added),
        skipped=skipped,
        without_abstract=sum(1 for p in added if not p.abstract),
        notice=completion.notice,
    )
