"""Cold start: the same pairs scored from small profiles, down to an interest sentence alone."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from ..profile import Profile
from ..rank import Scored, Strategy, get_strategy
from .cases import EvalCase, product_scores

COLD_START_SIZES = (0, 1, 3, 5, 10)  # 0: the interest sentence alone
_ACRONYMS = {
    "llm": "large language model",
    "llms": "large language models",
    "mllm": "multimodal large language model",
    "lm": "language model",
    "ml": "machine learning",
    "rl": "reinforcement learning",
    "cot": "chain-of-thought",
    "rag": "retrieval-augmented generation",
    "vla": "vision-language-action",
    "vln": "vision-language navigation",
}


def topic_of(list_name: str) -> str:
    """A list's topic in a few words, from its name: 'rl-reasoning-mllm' -> 'reinforcement learning reasoning
    multimodal large language model' (common acronyms spelled out, as a user would type the interest)."""
    words = [w for w in re.split(r"[-_\s]+", list_name.lower()) if w]
    return " ".join(_ACRONYMS.get(w, w) for w in words)


def small_profile(case: EvalCase, size: int, **settings: Any) -> Profile:
    """The pair's profile cut to its `size` most recent likes; size 0: only an interest sentence, the list's topic."""
    if size == 0:
        return case.user_profile((), interests=(topic_of(case.list_name),), **settings)
    return case.user_profile(case.profile[-size:], **settings)


def cold_start_scorers(
    strategies: Sequence[str | Strategy] = ("centroid", "hybrid"), sizes: Sequence[int] = COLD_START_SIZES
) -> dict[str, Callable[[EvalCase], Scored]]:
    """Scorers named 'strategy@size' ('@interest' for size 0, '@full' for the whole profile)."""

    def make(strategy: str | Strategy, size: int | None) -> Callable[[EvalCase], Scored]:
        def scorer(case: EvalCase) -> Scored:
            profile = case.user_profile() if size is None else small_profile(case, size)
            return product_scores(case, profile, strategy)

        return scorer

    scorers = {}
    for size in [*sizes, None]:
        label = "full" if size is None else "interest" if size == 0 else str(size)
        for strategy in strategies:
            scorers[f"{get_strategy(strategy).name}@{label}"] = make(strategy, size)
    return scorers
