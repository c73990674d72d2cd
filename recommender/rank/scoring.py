"""A listing scored for a profile (score_listing), and the picks cut from it with their reasons (recommend)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np

from ..embed import CachedEmbedder
from ..paths import analysis_path, ranker_path
from ..profile import Profile, likes_age, profile_vectors
from ..schema import Listing, Paper, PaperrecError, Pick
from ..sources.merge import match_keys
from ..sources.notices import notice_of
from .calibrate import MIN_MATCH_LIKES, calibrate, folds, like_rate
from .explain import KEY_SENTENCES, explain
from .hybrid import training_key
from .lexical import analysis_kept
from .negatives import in_likes_form
from .options import RankOptions, options_from
from .registry import get_strategy
from .select import apply_rules, top_picks
from .strategies import ScoringInput, Strategy, unit_mean, zscore


def score(inp: ScoringInput, strategy: str | Strategy = "centroid") -> np.ndarray:
    """Score each candidate with a strategy; most subtract dislike_weight x cosine to the dislikes' mean."""
    return score_with_held_out(inp, strategy)[0]


def score_with_held_out(
    inp: ScoringInput, strategy: str | Strategy = "centroid"
) -> tuple[np.ndarray, np.ndarray | None]:
    """Each candidate's score, and the likes' held-out scores when the strategy gives them in the same pass (else
    None); most strategies' scores lose dislike_weight x cosine to the dislikes' mean.

    A strategy that learns from dislikes as negatives gets no penalty. A standardised one (the hybrid) does,
    z-scored like its scores: one dislike among hundreds of negatives barely moves a linear model.
    """
    chosen = get_strategy(strategy)
    if len(inp.liked) == 0:
        raise PaperrecError("the profile has no liked papers or interests to rank against")
    if chosen.score_with_held_out is not None:
        scores, held = chosen.score_with_held_out(inp)
    else:
        scores, held = chosen.score(inp), None
    if not chosen.learns_dislikes and len(inp.profile.disliked) and inp.dislike_weight:
        closeness = inp.candidates @ unit_mean(inp.profile.disliked)  # (n_candidates,)
        scores = scores - inp.dislike_weight * (zscore(closeness) if chosen.standardised else closeness)
    return np.asarray(scores, dtype=np.float64), None if held is None else np.asarray(held, dtype=np.float64)


def stored_model(
    profile_name: str,
    inp: ScoringInput,
    strategy: Strategy,
    model_key: str,
    prepare: Callable[[ScoringInput], ScoringInput] | None = None,
) -> Any:
    """What the strategy learns for the profile: loaded when the profile is unchanged since it was fitted, else fitted
    (on `prepare(inp)` when given) and stored.

    It is keyed by the profile's likes, weights and dislikes, not by the day's papers, so later days reuse it.
    A stored model that cannot be read is refitted; one that cannot be written is only not reused.
    """
    if strategy.fit is None:
        return None
    key = training_key(
        strategy.name, model_key, inp.profile.liked_texts, inp.liked_weights(), inp.profile.disliked_texts
    )
    path = ranker_path(profile_name)
    model = strategy.load(path, key) if strategy.load is not None else None
    if model is None:
        with analysis_kept(analysis_path(profile_name)):  # a refit analyses only the texts new since the last
            model = strategy.fit(prepare(inp) if prepare is not None else inp)
        if model is not None:
            # Derived data: when it cannot be written the next run refits, nothing else is lost.
            with contextlib.suppress(OSError, PaperrecError):
                model.save(path, key)
    return model


@dataclass(frozen=True, eq=False)
class Scored:
    """A listing scored for a profile: the candidates (listing order), their vectors and scores, and what was used."""

    profile: Profile
    strategy: Strategy
    candidates: tuple[Paper, ...]
    vectors: np.ndarray  # (n_candidates, dim)
    scores: np.ndarray  # (n_candidates,)
    inputs: ScoringInput | None  # what the strategy saw; None when no paper was left to score
    listed: int = 0  # papers in the listing
    known: int = 0  # of them, already in the profile
    excluded: int = 0  # of them, excluded by the caller (e.g. already shown)
    ruled_out: int = 0  # of them, dropped by the profile's must/never rules
    notices: tuple[Paper, ...] = ()  # of them, a journal's correction and retraction notices: never candidates
    held_out: np.ndarray | None = None  # the likes' held-out scores, when the strategy gave them with the scores

    def __len__(self) -> int:
        return len(self.candidates)

    @cached_property
    def matches(self) -> np.ndarray:
        """Each candidate's match: the calibrated probability that the profile likes it, (n_candidates,)."""
        if self.inputs is None:
            return np.zeros(0)
        return match_scores(self.inputs, self.strategy, self.scores, held_out=self.held_out)

    @property
    def shown_matches(self) -> np.ndarray | None:
        """The matches that picks carry: None for a profile of fewer than MIN_MATCH_LIKES liked papers."""
        return self.matches if len(self.profile.liked) >= MIN_MATCH_LIKES else None

    def subset(self, rows: Sequence[int]) -> Scored:
        """The same scoring restricted to the candidates at `rows`, keeping the day's calibration (not refitted)."""
        rows = list(rows)
        part = replace(
            self,
            candidates=tuple(self.candidates[i] for i in rows),
            vectors=self.vectors[rows],
            scores=self.scores[rows],
        )
        part.__dict__["matches"] = self.matches[rows]  # fills the cached property: the whole day's match, shared
        return part

    def score_of(self, arxiv_id: str) -> float:
        """The score of one candidate, by id."""
        for paper, value in zip(self.candidates, self.scores, strict=True):
            if paper.arxiv_id == arxiv_id:
                return float(value)
        raise KeyError(arxiv_id)


def held_out_scores(inp: ScoringInput, strategy: Strategy) -> np.ndarray:
    """Each liked row's score by the strategy when it is left out of the profile, on the candidates' scale.

    The strategy's own held-out scores when it keeps them (the hybrid: cross-validated at fit time), else
    calibrate.FOLDS folds of the likes, each scored among the day's candidates against the other likes.
    """
    if strategy.score_with_held_out is not None:
        held = strategy.score_with_held_out(inp)[1]
        if held is not None:
            return np.asarray(held, dtype=np.float64)
    n = len(inp.liked)
    if n < 2:
        return np.zeros(0)
    out = np.zeros(n)
    added = inp.profile.added
    papers = list(inp.liked_papers)
    for part in folds(n):
        keep = np.setdiff1d(np.arange(n), part)
        profile = replace(
            inp.profile,
            liked=inp.liked[keep],
            weights=np.asarray(inp.profile.weights)[keep],
            added=tuple(added[i] for i in keep) if len(added) == n else added,
            liked_texts=tuple(inp.profile.liked_texts[i] for i in keep),
        )
        held_papers = [papers[i] for i in part if i < len(papers)]
        with_papers = len(held_papers) == len(part) and len(inp.candidate_papers) == len(inp.candidates)
        sub = replace(
            inp,
            candidates=np.vstack([inp.liked[part], inp.candidates]),
            candidate_texts=[inp.profile.liked_texts[i] for i in part] + list(inp.candidate_texts),
            profile=profile,
            ranker=None,
            liked_papers=[papers[i] for i in keep if i < len(papers)] if len(papers) == n else (),
            candidate_papers=held_papers + list(inp.candidate_papers) if with_papers else (),
        )
        out[part] = score(sub, strategy)[: len(part)]
    return out


def match_scores(
    inp: ScoringInput,
    strategy: Strategy,
    scores: np.ndarray,
    *,
    held_out: np.ndarray | None = None,
    smooth: bool = True,
) -> np.ndarray:
    """The calibrated match of each candidate: Platt scaling of the likes' held-out scores (as given, else
    held_out_scores) against the day's candidates, weighted to the profile's own like rate (`smooth`: Platt's
    smoothed targets)."""
    n_likes = len(inp.liked_papers) or len(inp.profile.added)
    rate = like_rate(inp.profile.added[:n_likes], inp.today, len(scores))
    held = held_out_scores(inp, strategy) if held_out is None else held_out
    return calibrate(held, scores, rate, smooth=smooth).predict(scores)


def score_listing(
    listing: Listing,
    profile: Profile,
    embedder: CachedEmbedder,
    options: RankOptions | None = None,
    *,
    strategy: str | Strategy | None = None,
    dislike_weight: float | None = None,
    exclude: Collection[str] = frozenset(),
    store: bool = True,
    history: Sequence[Paper] = (),
) -> Scored:
    """Score every paper of a listing for a profile, as `rank` does before it cuts the top picks.

    Of the options, the strategy, the dislike weight and the must/never terms apply (None: the profile's).
    `strategy` and `dislike_weight` are the older keyword form. Correction and retraction notices (see
    sources.notices), papers in the profile, ids in `exclude` (e.g. already seen) and papers failing the must/never
    rules are not candidates. The strategy's negatives are the day's other papers (NEGATIVES), plus `history` (papers
    shown on earlier days, not liked) when given. A learned model is stored per profile unless `store` is False.
    """
    settings = options_from(options, strategy=strategy, dislike_weight=dislike_weight).for_profile(profile)
    chosen = get_strategy(settings.strategy)
    weight = settings.dislike_weight
    if profile.is_empty():
        raise PaperrecError(
            f"profile {profile.name!r} has no liked papers or interests: add some with 'paperrec like' or 'interests'"
        )
    known, excluded, keys = profile.ids, set(exclude), profile.match_keys
    # 'Author Correction: <a liked title>' is not a paper, and would top the day by repeating the liked one.
    told = [(notice_of(p.title) is not None, p) for p in listing.papers]
    notices = tuple(p for is_notice, p in told if is_notice)
    papers = [p for is_notice, p in told if not is_notice]
    # A paper liked under one id (a DOI) is known under another (its arXiv copy) through the links it keeps, or by
    # its title and first author when the copy names no other id.
    unknown = [p for p in papers if keys.isdisjoint(match_keys(p))]
    fresh = [p for p in unknown if p.arxiv_id not in excluded]
    candidates = apply_rules(fresh, settings.must or (), settings.never or ())
    counts = dict(
        listed=len(listing.papers),
        known=len(papers) - len(unknown),
        excluded=len(unknown) - len(fresh),
        ruled_out=len(fresh) - len(candidates),
        notices=notices,
    )
    if not candidates:
        empty = np.zeros((0, 0), np.float32)
        return Scored(profile, chosen, (), empty, np.zeros(0), None, **counts)
    vectors = embedder.embed_papers(candidates)  # (n_candidates, dim)
    texts = [p.text for p in candidates]
    day = listing.day
    inp = ScoringInput(
        candidates=vectors,
        candidate_texts=texts,
        profile=profile_vectors(profile, embedder),
        today=day,
        half_life_days=profile.half_life_days,
        dislike_weight=weight,
        candidate_papers=tuple(candidates),
        liked_papers=tuple(p.paper for p in profile.liked),
        likes_old=likes_age(profile, day).is_old,
    )
    before_fit: Callable[[ScoringInput], ScoringInput] | None = None
    prepared: list[ScoringInput] = []  # the inputs a fit was given: negatives in the likes' form
    if chosen.uses_negatives:
        # Today's other papers stand in for "shown but not liked": most of a day is not for this researcher.
        shown = [p for p in history if p.arxiv_id not in known]
        negatives = np.vstack([vectors, embedder.embed_papers(shown)]) if shown else vectors
        inp = replace(inp, negatives=negatives, negative_texts=texts + [p.text for p in shown])

        def in_form(unmatched: ScoringInput) -> ScoringInput:
            prepared.append(in_likes_form(unmatched, [*candidates, *shown], embedder))
            return prepared[-1]

        if chosen.fit is None or not store:
            inp = in_form(inp)
        else:  # a stored model that is reused needs no negatives, so titles are embedded only for a fit
            before_fit = in_form
    if chosen.fit is not None:
        if store:
            model = stored_model(profile.name, inp, chosen, embedder.encoder.cache_key, before_fit)
            inp = replace(prepared[-1] if prepared else inp, ranker=model)
        else:
            inp = replace(inp, ranker=chosen.fit(inp))
    scores, held_out = score_with_held_out(inp, chosen)
    return Scored(profile, chosen, tuple(candidates), vectors, scores, inp, **counts, held_out=held_out)


def recommend(
    listing: Listing,
    profile: Profile,
    embedder: CachedEmbedder,
    options: RankOptions | None = None,
    *,
    strategy: str | None = None,
    top: int | None = 10,
    min_score: float | None = None,
    dislike_weight: float | None = None,
    diversity: float | None = None,
    exclude: Collection[str] = frozenset(),
    explain_picks: bool = True,
    min_match: float | None = None,
) -> list[Pick]:
    """Rank a listing for a profile: score it (score_listing), cut the top picks, and attach their reasons.

    `options` (None fields: the profile's settings), or the same settings as keywords (the older form).
    """
    options = options_from(
        options,
        strategy=strategy,
        top=top,
        min_score=min_score,
        dislike_weight=dislike_weight,
        diversity=diversity,
        min_match=min_match,
    ).for_profile(profile)
    scored = score_listing(listing, profile, embedder, options, exclude=exclude)
    return pick_from(scored, embedder, options, explain_picks=explain_picks)


def pick_from(
    scored: Scored,
    embedder: CachedEmbedder,
    options: RankOptions | None = None,
    *,
    top: int | None = 10,
    min_score: float | None = None,
    diversity: float = 0.0,
    explain_picks: bool = True,
    key_sentences: int | None = KEY_SENTENCES,
    min_match: float | None = None,
) -> list[Pick]:
    """The top picks of a scored listing (by score, MMR-diversified when asked), each with its match, and their
    reasons (key sentences for the first `key_sentences` picks; None: all). Picks less likely to be liked than
    `min_match` are dropped.

    `options` fills what it leaves None from the profile. The older keywords take top, min_score and diversity as
    given, and only min_match from the profile.
    """
    if not scored.candidates:
        return []
    if options is None:
        min_match = scored.profile.min_match if min_match is None else min_match
        options = RankOptions(
            top=top, min_score=min_score, diversity=diversity, key_sentences=key_sentences, min_match=min_match
        )
    else:
        options = options.for_profile(scored.profile)
    picks = top_picks(
        scored.candidates,
        scored.scores,
        scored.profile.name,
        top=options.top,
        min_score=options.min_score,
        vectors=scored.vectors,
        diversity=options.diversity,
        matches=scored.shown_matches,
        min_match=options.min_match,
    )
    if not explain_picks or scored.inputs is None:
        return picks
    index = {p.arxiv_id: i for i, p in enumerate(scored.candidates)}
    pick_vectors = scored.vectors[[index[p.paper.arxiv_id] for p in picks]]
    liked = [p.paper for p in scored.profile.liked]
    return explain(
        picks,
        pick_vectors,
        scored.inputs,
        liked,
        embedder,
        lexical=scored.strategy.lexical,
        key_sentences=options.key_sentences,
    )
