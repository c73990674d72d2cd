"""paperrec: rank a day's arXiv listing by a profile of papers you liked."""

from .embed import CachedEmbedder, Embedder, EmbeddingCache
from .export import pick_record, render
from .profile import Profile, ProfilePaper, add_papers, load_profile, new_profile, remove_papers, save_profile
from .rank import STRATEGIES, recommend, score, top_picks
from .schema import Listing, Paper, PaperrecError, Pick, UsageError
from .sources import read_listing, read_listings

__version__ = "0.1.0"

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
