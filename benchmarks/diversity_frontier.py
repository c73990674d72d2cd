"""Diversity frontier: nDCG@10 and the mean pairwise cosine of the top 10 for MMR settings, on the bench.

Usage: python benchmarks/diversity_frontier.py [BENCH] [--strategy hybrid] [--days 5]
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np

from recommender.embed import CachedEmbedder, Embedder, EmbeddingCache
from recommender.evaluate import case_input, load_bench, make_case, ranking_metrics
from recommender.paths import cache_path
from recommender.rank import diversify, order, score
from recommender.strategies import USES_NEGATIVES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench", nargs="?", default="../shared/bench")
    parser.add_argument("--strategy", default="hybrid")
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--settings", default="0,0.3,0.5,0.6,0.7")
    args = parser.parse_args()
    settings = [float(x) for x in args.settings.split(",")]
    bench = load_bench(args.bench)
    embedder = CachedEmbedder(Embedder(), EmbeddingCache(cache_path()), progress=False)
    per_list: dict[float, dict[str, list[tuple[float, float]]]] = defaultdict(lambda: defaultdict(list))
    for name, day in bench.pairs(args.days):
        case = make_case(bench, name, day, embedder)
        scores = score(case_input(case, with_negatives=args.strategy in USES_NEGATIVES), args.strategy)
        ranked = order(case.candidates, scores)
        for setting in settings:
            top = diversify(ranked, scores, case.candidate_vectors, setting, 10)
            ids = [case.candidates[i].arxiv_id for i in top + [i for i in ranked if i not in top]]
            sims = case.candidate_vectors[top] @ case.candidate_vectors[top].T  # (10, 10)
            mean_pairwise = (sims.sum() - np.trace(sims)) / (len(top) * (len(top) - 1))
            per_list[setting][name].append((ranking_metrics(ids, case.positives)["ndcg@10"], mean_pairwise))
    base = None
    print(f"{args.strategy}, {args.days} days per list, macro over lists")
    print("diversity  nDCG@10  change  mean pairwise cosine (top 10)  change")
    for setting in settings:
        ndcg = np.mean([np.mean([x[0] for x in v]) for v in per_list[setting].values()])
        sim = np.mean([np.mean([x[1] for x in v]) for v in per_list[setting].values()])
        base = base or (ndcg, sim)
        print(f"{setting:9.1f}  {ndcg:7.3f}  {ndcg / base[0] - 1:+6.1%}  {sim:28.3f}  {sim / base[1] - 1:+6.1%}")


if __name__ == "__main__":
    main()
