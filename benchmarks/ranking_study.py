"""Ranking study on the bench, on the path `rank` runs: the default against its halves, its fusion variants and the
author and category features, with paired bootstrap intervals; and the negative policy.

    PAPERREC_HOME=... python benchmarks/ranking_study.py --bench ../shared/bench --days 6 [--negatives]

Each pair is scored once through score_listing (the default hybrid, model fitted for the pair, never stored); the
variants reuse that fit: the even fusion, each half alone, reciprocal rank fusion of the halves, and the fusion
plus the author and category terms, a kNN-similarity term or pseudo-relevance feedback (closeness to the day's
top 3 picks).
`--negatives` compares the default's negatives (the day's other papers) with adding the listing day before.
Results (table and JSON) go to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from recommender.embed import open_embedder
from recommender.evaluate import EvalCase, evaluate, load_bench, strategy_scorer
from recommender.rank import Scored
from recommender.rank.features import author_affinity, category_lift
from recommender.rank.hybrid import zscore
from recommender.rank.strategies import knn, unit_mean

AUTHOR_WEIGHTS = (0.5, 1.0)
CATEGORY_WEIGHTS = (0.25, 0.5)
EXTRA_WEIGHTS = (0.5, 1.0)  # a third z-scored signal added to the fusion (whose two halves weigh 1 each)
PRF_TOP = 3  # pseudo-relevance feedback: the day's top picks taken as likes


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
            memo[id(case)] = (scored, {"semantic": semantic, "lexical": lexical, "authors": authors,
                                        "categories": categories, "knn": near, "prf": feedback,
                                        "rank fusion": rank_fusion})  # fmt: skip
        return memo[id(case)]

    def make(kind: str, weight: float = 0.0):
        def scorer(case: EvalCase):
            scored, p = parts(case)
            if kind == "default":
                return scored
            if kind == "even":
                values = p["semantic"] + p["lexical"]
            elif kind in ("semantic", "lexical", "rank fusion"):
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
    scorers["rank fusion"] = make("rank fusion")
    return scorers


def grid() -> dict:
    """The default against other regularisation, recency-weighted training and pseudo-relevance feedback."""
    from recommender.evaluate import product_scores
    from recommender.rank.strategies import HybridConfig, hybrid_strategy

    scorers = {"hybrid (default)": strategy_scorer("hybrid")}
    for label, config in {
        "semantic C 0.3": HybridConfig(semantic_c=0.3),
        "semantic C 3": HybridConfig(semantic_c=3.0),
        "lexical C 0.03": HybridConfig(lexical_c=0.03),
        "lexical C 0.3": HybridConfig(lexical_c=0.3),
        "spare closest 5 %": HybridConfig(spare_closest=0.05),
        "spare closest 10 %": HybridConfig(spare_closest=0.10),
    }.items():
        scorers[label] = strategy_scorer(hybrid_strategy(config, label))

    def recency(case: EvalCase) -> Scored:
        return product_scores(case, case.user_profile(half_life_days=180.0), "hybrid")

    scorers["recency-weighted (180 d)"] = recency
    return scorers


def _remap(scored: Scored, values: np.ndarray) -> np.ndarray:
    return values  # scored.candidates are the case's candidates in order (nothing is excluded on the bench)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, default=Path("../shared/bench"))
    parser.add_argument("--days", type=int, default=6)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--negatives", action="store_true", help="compare negative policies instead")
    parser.add_argument("--grid", action="store_true", help="compare regularisation and recency-weighted training")
    parser.add_argument("--active", type=int, help="K ratings: suggested by match or by boundary, or random")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    bench = load_bench(args.bench)
    embedder = open_embedder()
    if args.negatives:
        scorers = {
            "day (default)": strategy_scorer("hybrid"),
            "day + day before": strategy_scorer("hybrid", shown_negatives=True),
        }
        baseline, name = "day (default)", "negatives"
    elif args.active:
        from recommender.evaluate import active_scorers
        from recommender.rank.active import boundary_uncertainty

        # The default (uncertainty of the calibrated match) against closeness to the top-5 % boundary.
        scorers = active_scorers(args.active)
        by_boundary = active_scorers(args.active, uncertainty=boundary_uncertainty)
        scorers |= {f"{n} (boundary)": f for n, f in by_boundary.items() if n.endswith("suggested")}
        baseline, name = "hybrid@5 none", "active"
    elif args.grid:
        scorers, baseline, name = grid(), "hybrid (default)", "grid"
    else:
        scorers, baseline, name = variants(), "tfidf-svm", "study"
    result = evaluate(bench, scorers, embedder, days=args.days, limit=args.limit, progress=sys.stderr.isatty())
    table = result.format_table(baseline=baseline)
    lines = [table, "per list: default minus the better of its halves (semantic, lexical)"]
    if not (args.negatives or args.grid or args.active):
        default, semantic, lexical = (result.per_list(s) for s in ("hybrid (default)", "semantic half", "lexical half"))
        even = result.per_list("hybrid even")
        for list_name in result.lists:
            best = max(semantic[list_name]["ndcg@10"], lexical[list_name]["ndcg@10"])
            lines.append(f"  {list_name:<30} default {default[list_name]['ndcg@10'] - best:+.3f}"
                         f"  even {even[list_name]['ndcg@10'] - best:+.3f}")  # fmt: skip
        for a, b in [("hybrid (default)", "hybrid even"), ("hybrid (default)", "centroid")] + [
            (s, "hybrid (default)") for s in result.scorers if s.startswith("default +")
        ]:
            d = result.compare(a, b)
            lines.append(f"{a} - {b}: {d['difference']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]")
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"ranking_{name}_days{args.days}.txt").write_text(text)
    (args.out / f"ranking_{name}_days{args.days}.json").write_text(json.dumps(result.to_json(), indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
