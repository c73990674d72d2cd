"""arXiv's category taxonomy, shipped as a data file: the category picker works offline and categories are checked."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from ..schema import UsageError


@dataclass(frozen=True)
class Category:
    """One arXiv category ('cs.CV') or a whole archive ('math'), with its name and top-level group."""

    code: str
    name: str
    group: str


@functools.cache
def arxiv_categories() -> dict[str, Category]:
    """Every arXiv category by code, in the data file's order (grouped, then by code)."""
    text = resources.files("recommender").joinpath("data", "arxiv_categories.tsv").read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    return {code: Category(code, name, group) for code, name, group in rows[1:]}


@functools.cache
def category_groups() -> tuple[tuple[str, tuple[Category, ...]], ...]:
    """The categories by top-level group ('Computer Science', 'Physics'), in the data file's order."""
    groups: dict[str, list[Category]] = {}
    for category in arxiv_categories().values():
        groups.setdefault(category.group, []).append(category)
    return tuple((group, tuple(members)) for group, members in groups.items())


@functools.cache
def _by_folded_case() -> dict[str, str]:
    """Each code by its lower-case form (no two of arXiv's codes differ only in case)."""
    return {code.lower(): code for code in arxiv_categories()}


def arxiv_spelling(code: str) -> str:
    """The code as arXiv spells it ('cs.cv' is 'cs.CV'); one arXiv lacks in any case is returned as given."""
    return _by_folded_case().get(code.strip().lower(), code)


def validate_categories(codes: Iterable[str]) -> tuple[str, ...]:
    """The codes stripped, spelled as arXiv does and without repeats; UsageError naming the first unknown one."""
    checked: list[str] = []
    for given in codes:
        code = _by_folded_case().get(given.strip().lower())
        if code is None:
            raise UsageError(f"unknown arXiv category {given!r}{_suggestion(given.strip())}")
        if code not in checked:
            checked.append(code)
    return tuple(checked)


def _suggestion(code: str) -> str:
    """'; did you mean cs.CV?' for a near miss, else a pointer to the list."""
    elsewhere = _elsewhere(code)  # a biology server's own category name beats a far-fetched code ('pathology')
    if elsewhere:
        return elsewhere
    known, folded = arxiv_categories(), _by_folded_case()
    close = difflib.get_close_matches(code.lower(), folded, n=1)  # in one case, as codes are read
    if close:
        return f"; did you mean {folded[close[0]]} ({known[folded[close[0]]].name})?"
    return "; see the list at https://arxiv.org/category_taxonomy (e.g. cs.CV, stat.ML, hep-th)"


def _elsewhere(code: str) -> str:
    """A pointer to bioRxiv's or medRxiv's category of that name ('neuroscience'), else ""."""
    from .biorxiv import BIORXIV, MEDRXIV, category_key  # imported on this error's path only

    key = category_key(code)
    servers = [s for s in (BIORXIV, MEDRXIV) if key and key in {category_key(name) for name in s.categories}]
    if not servers:
        return ""
    names, specs = " and ".join(s.label for s in servers), " or ".join(f"{s.name}:{key}" for s in servers)
    return f"; {code!r} is a category of {names}: follow it as the source {specs} (--source, 'paperrec sources')"
