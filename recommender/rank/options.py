"""RankOptions: how a profile's picks are scored and cut, checked once where the record is made."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..schema import MIN_MATCH_LIKES, UsageError
from .explain import KEY_SENTENCES
from .registry import get_strategy
from .strategies import Strategy

if TYPE_CHECKING:
    from ..profile import Profile


def _finite(value: float | None, what: str) -> None:
    if value is not None and not math.isfinite(value):
        raise UsageError(f"{what} must be a finite number, got {value}")


@dataclass(frozen=True)
class RankOptions:
    """How picks are scored and cut from a listing (None: the profile's own setting); checked when made.

    Example: rank_listing(listing, ["vision"], embedder, RankOptions(top=5, diversity=0.3))
    """

    strategy: str | Strategy | None = None
    top: int | None = 10  # None: every candidate
    min_score: float | None = None
    dislike_weight: float | None = None
    diversity: float | None = None
    key_sentences: int | None = KEY_SENTENCES  # picks that get their key sentences (None: all)
    min_match: float | None = None
    must: tuple[str, ...] | None = None  # replaces the profile's must terms for this run
    never: tuple[str, ...] | None = None  # added to the profile's never terms for this run

    def __post_init__(self) -> None:
        # Wrong values fail every profile alike, so they are refused before any profile is ranked.
        if self.strategy is not None:
            get_strategy(self.strategy)
        if self.top is not None and self.top < 1:
            raise UsageError("--top must be at least 1")
        if self.diversity is not None and not 0 <= self.diversity <= 1:  # NaN fails this too
            raise UsageError("--diversity must be between 0 and 1")
        _finite(self.min_score, "--min-score")
        _finite(self.dislike_weight, "--dislike-weight")
        if self.dislike_weight is not None and self.dislike_weight < 0:
            raise UsageError("--dislike-weight must be >= 0 (0: dislikes do not lower scores)")
        if self.min_match is not None and not 0 <= self.min_match <= 1:  # NaN fails this too
            raise UsageError(f"--min-match must be between 0 and 1, got {self.min_match}")
        for what, terms in (("--must", self.must), ("--never", self.never)):
            if terms is not None and not all(term.strip() for term in terms):
                raise UsageError(f"{what} needs a word or phrase, not an empty term")

    def for_profile(self, profile: Profile) -> RankOptions:
        """These options with the profile's own settings where they are None (checked again)."""
        return replace(
            self,
            strategy=self.strategy or profile.strategy,
            min_score=profile.min_score if self.min_score is None else self.min_score,
            dislike_weight=profile.dislike_weight if self.dislike_weight is None else self.dislike_weight,
            diversity=profile.diversity if self.diversity is None else self.diversity,
            min_match=profile.min_match if self.min_match is None else self.min_match,
            must=profile.must if self.must is None else self.must,
            # A union, so filling twice (a run fills, then scoring fills again) changes nothing.
            never=profile.never if self.never is None else tuple(dict.fromkeys(profile.never + self.never)),
        )


DEFAULT_OPTIONS = RankOptions()


def options_from(options: RankOptions | None, **keywords: Any) -> RankOptions:
    """The options given, or the record that the older keyword arguments spell; both at once is an error."""
    if options is None:
        return RankOptions(**keywords)
    changed = [name for name, value in keywords.items() if value != getattr(DEFAULT_OPTIONS, name)]
    if changed:
        raise TypeError(f"give RankOptions or keywords, not both (got {', '.join(changed)})")
    return options


def unused_settings(profile: Profile, strategy: str | Strategy) -> list[str]:
    """The profile's settings that change nothing (for the strategy, or at the profile's size), each with why."""
    from ..profile import DEFAULT_DISLIKE_WEIGHT

    chosen = get_strategy(strategy)
    said = []
    if profile.half_life_days is not None and not chosen.ages_likes:
        said.append(f"half_life_days ({chosen.name} counts every like the same, whatever its age)")
    if profile.dislike_weight != DEFAULT_DISLIKE_WEIGHT:
        if chosen.learns_dislikes:
            said.append(f"dislike_weight ({chosen.name} learns from the disliked papers themselves, unweighted)")
        elif not profile.disliked:
            said.append("dislike_weight (the profile has no disliked papers)")
    if profile.min_match is not None and len(profile.liked) < MIN_MATCH_LIKES:  # its picks carry no match
        said.append(
            f"min_match (no match until the profile has {MIN_MATCH_LIKES} liked papers: it has {len(profile.liked)})"
        )
    return said
