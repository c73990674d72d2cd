"""Diversity frontier: nDCG@10 and the mean pairwise cosine of the top 10 for MMR settings, on the bench.

Each (list, day) pair is scored by `score_listing`, the path `paperrec rank` runs: the list's earlier papers are the
profile's likes and the bench day is the listing (so the day's other papers are the learners' negatives).

Usage: python benchmarks/diversity_frontier.py [BENCH] [--strategy hybrid] [--days 5] [--limit N]
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np

from recommender import Listing, Profile, open_embedder, score_listing
from recommender.evaluate import load_bench, ranking_metrics
from recommender.profile import ProfilePaper
from recommender.rank import diversify, order


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench", nargs="?", default="../shared/bench")
    parser.add_argument("--strategy", default="hybrid")
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--settings", default="0,0.3,0.5,0.6,0.7")
    parser.add_argument("--limit", type=int, default=None, help="At most this many (list, day) pairs.")
    args = parser.parse_args()
    settings = [float(x) for x in args.settings.split(",")]
    bench = load_bench(args.bench)
    embedder = open_embedder(progress=False)
    per_list: dict[float, dict[str, list[tuple[float, float]]]] = defaultdict(lambda: defaultdict(list))
    for name, day in bench.pairs(args.days, limit=args.limit):
        liked = tuple(ProfilePaper(paper=p, added=p.date or day) for p in bench.profile(name, day))
        profile = Profile(name=f"bench-{name}", liked=liked, strategy=args.strategy)
        scored = score_listing(Listing(papers=bench.candidates(day), date=day), profile, embedder)
        ranked = order(scored.candidates, scored.scores)
        for setting in settings:
            top = diversify(ranked, scored.scores, scored.vectors, setting, 10)
            ids = [scored.candidates[i].arxiv_id for i in top + [i for i in ranked if i not in top]]
            sims = scored.vectors[top] @ scored.vectors[top].T  # (10, 10)
            mean_pairwise = (sims.sum() - np.trace(sims)) / (len(top) * (len(top) - 1))
            per_list[setting][name].append((ranking_metrics(ids, bench.positives(name, day))["ndcg@10"], mean_pairwise))
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
