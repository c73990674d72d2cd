"""paperrec: rank a day's arXiv listing by a profile of papers you liked."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# The public API, by the module that defines each name. Loaded on first use, so `paperrec --help` and other
# commands that need no vectors never import numpy and the pipeline behind it.
_EXPORTS = {
    "embed": ("CachedEmbedder", "Embedder", "EmbeddingCache"),
    "export": ("pick_record", "render"),
    "profile": (
        "Profile",
        "ProfilePaper",
        "add_papers",
        "load_profile",
        "new_profile",
        "remove_papers",
        "save_profile",
    ),
    "rank": ("STRATEGIES", "recommend", "score", "top_picks"),
    "schema": ("Listing", "Paper", "PaperrecError", "Pick", "UsageError"),
    "sources": ("read_listing", "read_listings"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "STRATEGIES",
    "CachedEmbedder",
    "Embedder",
    "EmbeddingCache",
    "Listing",
    "Paper",
    "PaperrecError",
    "Pick",
    "Profile",
    "ProfilePaper",
    "UsageError",
    "__version__",
    "add_papers",
    "load_profile",
    "new_profile",
    "pick_record",
    "read_listing",
    "read_listings",
    "recommend",
    "remove_papers",
    "render",
    "save_profile",
    "score",
    "top_picks",
]

if TYPE_CHECKING:
    from .embed import CachedEmbedder, Embedder, EmbeddingCache
    from .export import pick_record, render
    from .profile import Profile, ProfilePaper, add_papers, load_profile, new_profile, remove_papers, save_profile
    from .rank import STRATEGIES, recommend, score, top_picks
    from .schema import Listing, Paper, PaperrecError, Pick, UsageError
    from .sources import read_listing, read_listings


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'recommender' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_MODULE_OF[name]}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value
