"""Ranking study on the bench, on the path `rank` runs: the default against its halves, its fusion variants and the
author and category features, with paired bootstrap intervals; and the negative policy.

    PAPERREC_HOME=... python benchmarks/ranking_study.py --bench ../shared/bench --days 6 [--negatives]

Each pair is scored once through score_listing (the default hybrid, model fitted for the pair, never stored); the
variants reuse that fit: the even fusion, each half alone, reciprocal rank fusion of the halves, and the fusion
plus the author and category terms, a kNN-similarity term, pseudo-relevance feedback (closeness to the day's
top 3 picks) or a title-only TF-IDF SVM, the fusion weight chosen per profile on a time split of its likes, each
half weighted by its Platt slope (reliability), and one joint SVM on embeddings and TF-IDF in place of the two.
`--negatives` compares the default's negatives (the day's other papers) with adding the listing day before.
`--calibration` checks `match` on days chosen without their positives; with `--small`, for profiles of an interest
alone, 1, 3, 5 and 10 likes and the full profile (why no match is shown below 5 liked papers).
Results (table and JSON) go to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from rank_variants import ADAPTIVE_SHARES, adaptive_share, author_affinity, category_lift, sparing_closest

from recommender.embed import open_embedder
from recommender.evaluate import EvalCase, evaluate, load_bench, strategy_scorer
from recommender.rank import Scored
from recommender.rank.calibrate import fit_platt
from recommender.rank.hybrid import DEFAULT_HYBRID, HybridRanker
from recommender.rank.lexical import fit_tfidf
from recommender.rank.strategies import ScoringInput, knn, unit_mean, zscore

AUTHOR_WEIGHTS = (0.5, 1.0)
CATEGORY_WEIGHTS = (0.25, 0.5)
EXTRA_WEIGHTS = (0.5, 1.0)  # a third z-scored signal added to the fusion (whose two halves weigh 1 each)
PRF_TOP = 3  # pseudo-relevance feedback: the day's top picks taken as likes
JOINT_SCALES = (1.0, 2.0)  # the embedding's weight against the TF-IDF row in one joint SVM


def variants() -> dict:
    """Scorers sharing one default fit per pair."""
    memo: dict[int, tuple[Scored, dict[str, np.ndarray]]] = {}
    default = strategy_scorer("hybrid")

    def parts(case: EvalCase) -> tuple[Scored, dict[str, np.ndarray]]:
        if id(case) not in memo:
            memo.clear()
            scored = default(case)
            inp, ranker = scored.inputs, scored.inputs.ranker
            semantic = zscore(ranker.semantic_scores(inp.candidates))
            lexical = zscore(ranker.lexical_scores(inp.candidate_texts))
            liked = inp.liked_papers
            authors = author_affinity(liked, inp.liked_weights(365.0)[: len(liked)], inp.candidate_papers)[0]
            categories = category_lift(liked, inp.candidate_papers)[0]
            near = zscore(knn(inp))  # mean cosine to the 5 closest likes: local where the linear model is global
            top = np.argsort(-scored.scores)[:PRF_TOP]
            feedback = zscore(inp.candidates @ unit_mean(inp.candidates[top]))  # the day's best picks as likes
            ranks = [np.argsort(np.argsort(-v)) for v in (semantic, lexical)]
            rank_fusion = sum(1.0 / (60 + r) for r in ranks)  # reciprocal rank fusion (k = 60)
            share = time_split_share(inp)
            memo[id(case)] = (scored, {"semantic": semantic, "lexical": lexical, "authors": authors,
                                        "categories": categories, "knn": near, "prf": feedback,
                                        "rank fusion": rank_fusion, "titles": title_svm(inp),
                                        "time split": 2 * (share * semantic + (1 - share) * lexical),
                                        "reliability": reliability_fusion(inp, ranker),
                                        **{f"joint {a}": joint_svm(inp, a) for a in JOINT_SCALES}})  # fmt: skip
        return memo[id(case)]

    def make(kind: str, weight: float = 0.0):
        def scorer(case: EvalCase):
            scored, p = parts(case)
            if kind == "default":
                return scored
            if kind == "even":
                values = p["semantic"] + p["lexical"]
            elif kind in ("semantic", "lexical", "rank fusion", "time split", "reliability") or kind.startswith(
                "joint"
            ):
                values = p[kind]
            elif kind == "authors alone":  # the feature alone, meaning breaks its ties
                values = p["authors"] + 1e-3 * p["semantic"]
            elif kind == "categories alone":
                values = p["categories"] + 1e-3 * p["semantic"]
            else:
                values = scored.scores + weight * p[kind]
            return _remap(scored, values)

        return scorer

    scorers = {"centroid": strategy_scorer("centroid"), "tfidf-svm": strategy_scorer("tfidf-svm")}
    scorers |= {"semantic half": make("semantic"), "lexical half": make("lexical"), "hybrid even": make("even")}
    scorers["hybrid (default)"] = make("default")
    scorers |= {"authors alone": make("authors alone"), "categories alone": make("categories alone")}
    scorers |= {f"default + {w} authors": make("authors", w) for w in AUTHOR_WEIGHTS}
    scorers |= {f"default + {w} categories": make("categories", w) for w in CATEGORY_WEIGHTS}
    scorers |= {f"default + {w} knn": make("knn", w) for w in EXTRA_WEIGHTS}
    scorers |= {f"default + {w} prf": make("prf", w) for w in EXTRA_WEIGHTS}
    scorers |= {f"default + {w} titles": make("titles", w) for w in EXTRA_WEIGHTS}
    scorers["rank fusion"] = make("rank fusion")
    scorers["reliability-weighted fusion"] = make("reliability")
    scorers |= {f"joint SVM, embeddings x {a}": make(f"joint {a}") for a in JOINT_SCALES}
    scorers["time-split share"] = make("time split")
    return scorers


def reliability_fusion(inp: ScoringInput, ranker: HybridRanker) -> np.ndarray:
    """Each half's z-score weighted by its Platt slope: how sharply its held-out likes stand out of the day."""
    fused = np.zeros(len(inp.candidates))
    for day, held in (
        (ranker.semantic_scores(inp.candidates), ranker.cv_semantic_),
        (ranker.lexical_scores(inp.candidate_texts), ranker.cv_lexical_),
    ):
        center, spread = day.mean(), day.std() or 1.0
        z_day, z_held = (day - center) / spread, (held - center) / spread
        labels = np.r_[np.ones(len(z_held)), np.zeros(len(z_day))]
        weights = np.r_[np.full(len(z_held), 0.02 * len(z_day) / max(len(z_held), 1)), np.ones(len(z_day))]
        fused += fit_platt(np.r_[z_held, z_day], labels, weights, smooth=False).slope * z_day
    return fused


def joint_svm(inp: ScoringInput, scale: float) -> np.ndarray:
    """One linear SVM on [scale x embedding, TF-IDF row] (likes against the day's candidates), in place of two."""
    from scipy import sparse
    from sklearn.svm import LinearSVC

    negatives, negative_texts = inp.negative_pool()
    space, matrix = fit_tfidf(list(inp.profile.liked_texts) + list(negative_texts))
    rows = space.rows(inp.candidate_texts)
    day_matrix = sparse.csr_matrix(
        (
            np.concatenate([v for _, v in rows]),
            np.concatenate([c for c, _ in rows]),
            np.cumsum([0] + [len(c) for c, _ in rows]),
        ),
        shape=(len(rows), len(space.terms)),
    )
    train = sparse.hstack([sparse.csr_matrix(scale * np.vstack([inp.liked, negatives])), matrix]).tocsr()
    day = sparse.hstack([sparse.csr_matrix(scale * inp.candidates), day_matrix]).tocsr()
    labels = np.r_[np.ones(len(inp.liked)), np.zeros(len(negatives))]
    weights = np.r_[inp.liked_weights(inp.half_life_days or DEFAULT_HYBRID.half_life_days), np.ones(len(negatives))]
    model = LinearSVC(C=0.1, class_weight="balanced", random_state=0).fit(train, labels, sample_weight=weights)
    return model.decision_function(day)


def title_svm(inp: ScoringInput) -> np.ndarray:
    """z-scored decision values of a linear SVM on TF-IDF of titles alone (likes against the day's candidates)."""
    from sklearn.svm import LinearSVC

    liked = [p.title for p in inp.liked_papers]
    titles = liked + [p.title for p in inp.candidate_papers]
    _, matrix = fit_tfidf(titles)
    labels = np.r_[np.ones(len(liked)), np.zeros(len(titles) - len(liked))]
    model = LinearSVC(C=0.1, class_weight="balanced", random_state=0).fit(matrix, labels)
    return zscore(model.decision_function(matrix[len(liked) :]))


def time_split_share(inp: ScoringInput, shares: tuple[float, ...] = ADAPTIVE_SHARES) -> float:
    """The semantic share that ranks the newest fifth of the likes best (mean reciprocal rank among a seeded fifth
    of the negatives), with both halves fitted on the rest; ties and small profiles go to the even fusion."""
    liked, (negatives, negative_texts) = inp.liked, inp.negative_pool()
    added = inp.profile.added
    by_age = np.argsort([d.toordinal() if d else 0 for d in added[: len(liked)]], kind="stable")
    if len(added) < len(liked):
        by_age = np.arange(len(liked))
    n_valid, n_held = max(2, len(liked) // 5), len(negatives) // 5
    valid, train = by_age[-n_valid:], by_age[:-n_valid]
    order = np.random.default_rng(0).permutation(len(negatives))
    held, rest = order[:n_held], order[n_held:]
    if len(train) < 5 or len(rest) < 5 or n_held < 5:
        return 0.5
    texts = list(inp.profile.liked_texts)
    weights = inp.liked_weights(inp.half_life_days or DEFAULT_HYBRID.half_life_days)
    model = HybridRanker(folds=len(liked) + len(negatives) + 1).fit(  # more folds than rows: no cross-validation
        np.vstack([liked[train], negatives[rest]]),
        [texts[i] for i in train] + [negative_texts[i] for i in rest],
        np.r_[np.ones(len(train)), np.zeros(len(rest))],
        sample_weight=np.r_[weights[train], np.ones(len(rest))],
    )
    is_negative = np.r_[np.zeros(n_valid, bool), np.ones(n_held, bool)]
    halves = []
    for values in (
        model.semantic_scores(np.vstack([liked[valid], negatives[held]])),
        model.lexical_scores([texts[i] for i in valid] + [negative_texts[i] for i in held]),
    ):
        reference = values[is_negative]
        halves.append((values - reference.mean()) / (reference.std() or 1.0))

    def mrr(share: float) -> float:
        fused = share * halves[0] + (1 - share) * halves[1]
        return float(np.mean([1 / (1 + np.sum(fused[is_negative] > x)) for x in fused[~is_negative]]))

    quality = {share: mrr(share) for share in shares}
    best = max(quality.values())
    return min((w for w, q in quality.items() if q >= best - 1e-9), key=lambda w: abs(w - 0.5))


def grid() -> dict:
    """The default against other regularisation, sparing the closest negatives, a fusion share chosen per profile
    and recency-weighted training."""
    from recommender.evaluate import product_scores
    from recommender.rank.hybrid import HybridConfig, hybrid_strategy

    scorers = {"hybrid (default)": strategy_scorer("hybrid")}
    for label, config in {
        "semantic C 0.3": HybridConfig(semantic_c=0.3),
        "semantic C 3": HybridConfig(semantic_c=3.0),
        "lexical C 0.03": HybridConfig(lexical_c=0.03),
        "lexical C 0.3": HybridConfig(lexical_c=0.3),
    }.items():
        scorers[label] = strategy_scorer(hybrid_strategy(config, label))
    for label, share in {"spare closest 5 %": 0.05, "spare closest 10 %": 0.10}.items():
        scorers[label] = strategy_scorer(sparing_closest(share, name=label))
    scorers["adaptive share (top 5 %)"] = strategy_scorer(adaptive_share(name="adaptive share (top 5 %)"))

    def recency(case: EvalCase) -> Scored:
        return product_scores(case, case.user_profile(half_life_days=180.0), "hybrid")

    scorers["recency-weighted (180 d)"] = recency
    return scorers


def centred(inp: ScoringInput, likes_too: bool = True) -> ScoringInput:
    """The input with the candidates (and the likes) moved off the day's mean direction and made unit again."""
    from dataclasses import replace

    mean = inp.candidates.mean(axis=0)

    def centre(vectors: np.ndarray) -> np.ndarray:
        moved = vectors - mean
        return (moved / np.maximum(np.linalg.norm(moved, axis=1, keepdims=True), 1e-9)).astype(np.float32)

    liked = centre(inp.profile.liked) if likes_too else inp.profile.liked
    return replace(inp, candidates=centre(inp.candidates), profile=replace(inp.profile, liked=liked))


def centring() -> dict:
    """Cosine on vectors centred on the day's mean: the centroid, and the hybrid's small-profile path (kNN +
    TF-IDF similarity below 5 likes), at each cold-start size; the likes centred too, or only the candidates."""
    from dataclasses import replace

    from recommender.evaluate import COLD_START_SIZES, cold_start_scorers
    from recommender.rank import STRATEGIES
    from recommender.rank.strategies import MIN_CLASSIFIER_POSITIVES, Strategy, centroid, tfidf

    plain_hybrid = STRATEGIES["hybrid"]

    def variant(name: str, likes_too: bool) -> Strategy:
        def both(inp: ScoringInput) -> tuple[np.ndarray, np.ndarray | None]:
            if len(inp.liked) >= MIN_CLASSIFIER_POSITIVES:
                return plain_hybrid.score_with_held_out(inp)
            return zscore(knn(centred(inp, likes_too))) + zscore(tfidf(inp)), None

        return replace(plain_hybrid, name=name, score=lambda inp: both(inp)[0], score_with_held_out=both)

    scorers = cold_start_scorers(
        [
            STRATEGIES["centroid"],
            Strategy("centroid centred", lambda inp: centroid(centred(inp)), "centroid, centred"),
            Strategy("centroid, candidates centred", lambda inp: centroid(centred(inp, False)), "candidates centred"),
            plain_hybrid,
            variant("hybrid, small path centred", True),
            variant("hybrid, small path, candidates centred", False),
        ]
    )
    # At these sizes the hybrid's variants take the learned path: the same scores as the default's.
    learned = {"full"} | {str(n) for n in COLD_START_SIZES if n >= MIN_CLASSIFIER_POSITIVES}
    return {k: f for k, f in scorers.items() if not (k.startswith("hybrid,") and k.partition("@")[2] in learned)}


def _remap(scored: Scored, values: np.ndarray) -> np.ndarray:
    return values  # scored.candidates are the case's candidates in order (nothing is excluded on the bench)


def _blind_cases(bench, embedder, days: int, limit: int | None) -> Iterator[EvalCase]:
    """For each pair, the case of the listing day before its day: chosen without looking at its positives (none, one
    or several alike). Days with too few candidates and profiles too small to score are left out."""
    from bisect import bisect_left

    from recommender.evaluate import MIN_CANDIDATES, MIN_PROFILE, make_case

    for list_name, day in bench.pairs(days, limit=limit):
        before = bench.days[bisect_left(bench.days, day) - 1] if bisect_left(bench.days, day) else None
        if before is None or len(bench.candidates(before)) < MIN_CANDIDATES:
            continue
        case = make_case(bench, list_name, before, embedder)
        if len(case.profile) >= MIN_PROFILE:
            yield case


def calibration_check(bench, embedder, days: int, limit: int | None) -> str:
    """`match` on days chosen without looking at their positives: for each pair, the listing day before its day
    (no, one or several positives alike), scored as `rank` scores it; Platt with and without smoothed targets."""
    from recommender.rank.calibrate import expected_calibration_error, reliability_table
    from recommender.rank.scoring import match_scores

    default = strategy_scorer("hybrid")
    found: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {"smoothed (default)": [], "unsmoothed": []}
    for case in _blind_cases(bench, embedder, days, limit):
        scored = default(case)
        labels = np.array([p.arxiv_id in case.user_list for p in scored.candidates], dtype=np.float64)
        top = np.argsort(-scored.scores, kind="stable")[:10]
        for label, smooth in (("smoothed (default)", True), ("unsmoothed", False)):
            matches = match_scores(
                scored.inputs, scored.strategy, scored.scores, held_out=scored.held_out, smooth=smooth
            )
            found[label].append((matches, labels, top))
    rows = next(iter(found.values()))
    positives = np.array([y.sum() for _, y, _ in rows])
    lines = [
        f"match on {len(rows)} days chosen without their positives (the day before each pair's day): "
        f"{positives.mean():.2f} positives a day, {np.mean(positives == 0):.0%} of the days with none"
    ]
    for label, rows in found.items():
        every, liked = np.concatenate([m for m, _, _ in rows]), np.concatenate([y for _, y, _ in rows])
        top_m, top_y = np.concatenate([m[t] for m, _, t in rows]), np.concatenate([y[t] for _, y, t in rows])
        ece, ece_top = expected_calibration_error(every, liked), expected_calibration_error(top_m, top_y)
        lines.append(
            f"{label:<20} ECE {ece:.4f}  top 10 {ece_top:.4f}"
            f"  expected likes a day {every.sum() / len(rows):.2f} (actual {liked.sum() / len(rows):.2f})"
            f"  top 10: mean match {top_m.mean():.3f}, liked {top_y.mean():.3f}"
        )
        for row in reliability_table(every, liked):
            lines.append(
                f"    {row['low']:.1f}-{row['high']:.1f} {row['papers']:>7} {row['mean_match']:.3f} {row['liked']:.3f}"
            )
    return "\n".join(lines)


def small_profile_calibration(bench, embedder, days: int, limit: int | None) -> str:
    """`match` of small profiles (an interest alone, 1, 3, 5, 10 likes, the full profile) on the same blind days: why
    paperrec shows no match below MIN_MATCH_LIKES liked papers."""
    from recommender.evaluate import COLD_START_SIZES, small_profile
    from recommender.evaluate.cases import product_scores
    from recommender.rank.calibrate import expected_calibration_error

    found: dict[int | None, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {
        size: [] for size in (*COLD_START_SIZES, None)
    }
    for case in _blind_cases(bench, embedder, days, limit):
        for size in found:
            profile = case.user_profile() if size is None else small_profile(case, size)
            scored = product_scores(case, profile, "hybrid")
            liked = [p.arxiv_id in case.user_list and p.arxiv_id not in profile.ids for p in scored.candidates]
            top = np.argsort(-scored.scores, kind="stable")[:10]
            found[size].append((np.asarray(scored.matches), np.array(liked, dtype=np.float64), top))
    lines = [f"match of small profiles on {len(found[None])} days chosen without their positives"]
    for size, rows in found.items():
        every, liked = np.concatenate([m for m, _, _ in rows]), np.concatenate([y for _, y, _ in rows])
        top_m, top_y = np.concatenate([m[t] for m, _, t in rows]), np.concatenate([y[t] for _, y, t in rows])
        first_m, first_y = np.array([m[t[0]] for m, _, t in rows]), np.array([y[t[0]] for _, y, t in rows])
        label = "full" if size is None else "interest" if size == 0 else f"{size} likes"
        lines.append(
            f"{label:<9} ECE {expected_calibration_error(every, liked):.4f}"
            f"  top 10: ECE {expected_calibration_error(top_m, top_y):.4f}, mean match {top_m.mean():.3f},"
            f" liked {top_y.mean():.3f}  top pick: mean match {first_m.mean():.3f}, liked {first_y.mean():.3f}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, default=Path("../shared/bench"))
    parser.add_argument("--days", type=int, default=6)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--negatives", action="store_true", help="compare negative policies instead")
    parser.add_argument("--grid", action="store_true", help="compare regularisation and recency-weighted training")
    parser.add_argument("--active", type=int, help="K ratings: suggested by match or by boundary, or random")
    parser.add_argument("--calibration", action="store_true", help="match on days chosen without their positives")
    parser.add_argument("--small", action="store_true", help="with --calibration: profiles of 0-10 likes too")
    parser.add_argument("--centring", action="store_true", help="cosine on vectors centred on the day's mean")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    bench = load_bench(args.bench)
    embedder = open_embedder()
    if args.calibration:
        check = small_profile_calibration if args.small else calibration_check
        text = check(bench, embedder, args.days, args.limit)
        print(text)
        args.out.mkdir(parents=True, exist_ok=True)
        stem = "ranking_calibration" + ("_small" if args.small else "")
        (args.out / f"{stem}_days{args.days}.txt").write_text(text + "\n")
        return 0
    if args.negatives:
        scorers = {
            "day (default)": strategy_scorer("hybrid"),
            "day + day before": strategy_scorer("hybrid", shown_negatives=True),
        }
        baseline, name = "day (default)", "negatives"
    elif args.active:
        from rank_variants import boundary_uncertainty

        from recommender.evaluate import active_scorers

        # The default (uncertainty of the calibrated match) against closeness to the top-5 % boundary.
        scorers = active_scorers(args.active)
        by_boundary = active_scorers(args.active, uncertainty=boundary_uncertainty)
        scorers |= {f"{n} (boundary)": f for n, f in by_boundary.items() if n.endswith("suggested")}
        baseline, name = "hybrid@5 none", "active"
    elif args.centring:
        scorers, baseline, name = centring(), None, "centring"
    elif args.grid:
        scorers, baseline, name = grid(), "hybrid (default)", "grid"
    else:
        scorers, baseline, name = variants(), "tfidf-svm", "study"
    result = evaluate(bench, scorers, embedder, days=args.days, limit=args.limit, progress=sys.stderr.isatty())
    table = result.format_table(baseline=baseline)
    lines = [table, "per list: default minus the better of its halves (semantic, lexical)"]
    if args.centring:
        lines[1:] = ["centred against plain, at each profile size (paired)"]
        for scorer in result.scorers:
            base, _, size = scorer.partition("@")
            if base not in ("centroid", "hybrid"):
                plain = f"{base.split(' ')[0].rstrip(',')}@{size}"
                d, ours, theirs = result.compare(scorer, plain), result.macro(scorer), result.macro(plain)
                lines.append(f"  {scorer:<48} {ours['ndcg@10']:.3f} vs {theirs['ndcg@10']:.3f}"
                             f"  {d['difference']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]")  # fmt: skip
    if not (args.negatives or args.grid or args.active or args.centring):
        default, semantic, lexical = (result.per_list(s) for s in ("hybrid (default)", "semantic half", "lexical half"))
        even = result.per_list("hybrid even")
        for list_name in result.lists:
            best = max(semantic[list_name]["ndcg@10"], lexical[list_name]["ndcg@10"])
            lines.append(f"  {list_name:<30} default {default[list_name]['ndcg@10'] - best:+.3f}"
                         f"  even {even[list_name]['ndcg@10'] - best:+.3f}")  # fmt: skip
        lines.append("each fusion against the default; its worst list against the better half")
        singles = {"centroid", "tfidf-svm", "semantic half", "lexical half", "authors alone", "categories alone"}
        for name in [s for s in result.scorers if s not in singles]:
            d, per_list = result.compare(name, "hybrid (default)"), result.per_list(name)
            worst = min(
                per_list[n]["ndcg@10"] - max(semantic[n]["ndcg@10"], lexical[n]["ndcg@10"]) for n in result.lists
            )
            lines.append(f"  {name:<30} {d['difference']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]  worst {worst:+.3f}")
        d = result.compare("hybrid (default)", "centroid")
        lines.append(f"hybrid (default) - centroid: {d['difference']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]")
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"ranking_{name}_days{args.days}.txt").write_text(text)
    (args.out / f"ranking_{name}_days{args.days}.json").write_text(json.dumps(result.to_json(), indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
