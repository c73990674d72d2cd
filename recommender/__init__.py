"""paperrec: rank a day's arXiv listing by a profile of papers you liked.

In a notebook:
    import recommender as pr
    embedder = pr.open_embedder()
    scored = pr.score_listing(pr.read_listing("day.md"), pr.load_profile("me.toml"), embedder)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# The public API, by the module that defines each name: the one table that __all__, dir() and lazy loading read.
# Names load on first use, so `paperrec --help` and other commands that need no vectors never import numpy.
_EXPORTS = {
    "embed": ("CachedEmbedder", "Embedder", "EmbeddingCache", "open_embedder"),
    "export": ("pick_record", "render"),
    "notify": ("load_targets", "send_picks"),
    "profile": (
        "Profile",
        "ProfilePaper",
        "add_papers",
        "change_profile",
        "load_profile",
        "new_profile",
        "remove_papers",
        "save_profile",
    ),
    "rank": (
        "STRATEGIES",
        "RankOptions",
        "Scored",
        "Strategy",
        "get_strategy",
        "recommend",
        "score",
        "score_listing",
        "top_picks",
    ),
    "run": ("Run", "Section", "rank_listing", "run_today", "summarise_run"),
    "schema": ("Because", "Listing", "Paper", "PaperrecError", "Pick", "UsageError"),
    "sources": ("read_listing", "read_listings"),
    "sources.arxiv": ("fetch_listing",),
    "summary": ("SummaryCache", "summarise"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted([*_MODULE_OF, "__version__"])

if TYPE_CHECKING:
    from .embed import CachedEmbedder, Embedder, EmbeddingCache, open_embedder
    from .export import pick_record, render
    from .notify import load_targets, send_picks
    from .profile import (
        Profile,
        ProfilePaper,
        add_papers,
        change_profile,
        load_profile,
        new_profile,
        remove_papers,
        save_profile,
    )
    from .rank import (
        STRATEGIES,
        RankOptions,
        Scored,
        Strategy,
        get_strategy,
        recommend,
        score,
        score_listing,
        top_picks,
    )
    from .run import Run, Section, rank_listing, run_today, summarise_run
    from .schema import Because, Listing, Paper, PaperrecError, Pick, UsageError
    from .sources import read_listing, read_listings
    from .sources.arxiv import fetch_listing
    from .summary import SummaryCache, summarise


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'recommender' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_MODULE_OF[name]}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
