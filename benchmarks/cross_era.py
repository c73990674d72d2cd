"""Likes five years old, with abstracts: a 2021 library by topic, ranked on 2025-26 days.

    PAPERREC_HOME=... python benchmarks/cross_era.py --bench ../shared/bench --days 6 [--fresh-profiles]

The bench's curated lists hold their old papers by title alone, so they cannot show the vocabulary drift of a library
with abstracts (liked 2021 reinforcement-learning papers never say "LLM"; half of a 2026 day does). The bench's 2021
listings do have abstracts. This study makes one list per topic from the bench's own listings: every listed paper
whose title names the topic (TOPICS below). Each list then goes through the aging study's protocol and scorers
(benchmarks/aging_study.py) with a profile gap of 1,000 days: a profile holds only the topic's 2021 papers (the newest
300), and the days are 2025-26 days with at least one paper of the topic. `--fresh-profiles` scores the same pairs
with profiles of the topic's papers before the day (2025-26), so aged and fresh compare on the same pairs.
`--halves` scores the aging study's `--halves` set instead: the hybrid's two halves and the fusions measured there.

A paper is relevant when its title names the topic: the same rule that chose the likes, so the relevance is lexical
and favours the lexical scorers. What it measures is what a researcher sees on the first morning after importing an
old library: whether the picks are on the library's topic.
Results (table and JSON) go to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

from aging_study import halves, scorers  # benchmarks/ is on the path when this script runs

from recommender.embed import open_embedder
from recommender.evaluate import evaluate, load_bench
from recommender.sources.records import iter_json_records
from recommender.sources.store import iter_stored

GAP_DAYS = 1000  # every 2021 listing day is at least this far before the first 2025 day

# Topics both eras' listings carry (2021: cs.CL, cs.IR, cs.MM, cs.CV, cs.LG; 2025-26: cs.CV, cs.CL, cs.AI and more),
# each by the words a title uses for it. Chosen before any run, for topics a researcher follows for years.
TOPICS = {
    "reinforcement-learning": r"\breinforcement learning\b",
    "graph-neural-networks": r"\bgraph neural networks?\b|\bGNNs?\b",
    "machine-translation": r"\b(machine|neural) translation\b",
    "speech-recognition": r"\bspeech recognition\b|\bASR\b",
    "object-detection": r"\bobject detection\b",
    "federated-learning": r"\bfederated\b",
    "knowledge-distillation": r"\bdistillation\b",
    "question-answering": r"\bquestion answering\b",
    "semantic-segmentation": r"\bsemantic segmentation\b",
    "adversarial-robustness": r"\badversarial (attacks?|robustness|examples?)\b",
    "point-clouds": r"\bpoint clouds?\b",
    "knowledge-graphs": r"\bknowledge graphs?\b",
}


def topic_lists(bench: Path) -> dict[str, list[str]]:
    """Each topic's ids: every listed paper whose title names it."""
    patterns = {name: re.compile(pattern, re.IGNORECASE) for name, pattern in TOPICS.items()}
    found: dict[str, set[str]] = {name: set() for name in TOPICS}
    for stored in iter_stored(bench / "listings"):
        for _, record in iter_json_records(stored.path):
            title = str(record.get("title") or "")
            for name, pattern in patterns.items():
                if pattern.search(title):
                    found[name].add(str(record["id"]))
    return {name: sorted(ids) for name, ids in found.items()}


def topic_bench(bench: Path, folder: Path) -> dict[str, list[str]]:
    """A bench folder whose lists are the topics (the listings and metadata linked from the real bench)."""
    (folder / "lists").mkdir(parents=True)
    (folder / "listings").symlink_to((bench / "listings").resolve())
    if (bench / "papers-meta.jsonl").is_file():
        (folder / "papers-meta.jsonl").symlink_to((bench / "papers-meta.jsonl").resolve())
    lists = topic_lists(bench)
    for name, ids in lists.items():
        (folder / "lists" / f"{name}.jsonl").write_text("".join(json.dumps({"id": i}) + "\n" for i in ids))
    return lists


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, default=Path("../shared/bench"))
    parser.add_argument("--days", type=int, default=6)
    parser.add_argument("--fresh-profiles", action="store_true", help="the same pairs, with 2025-26 profiles")
    parser.add_argument("--halves", action="store_true", help="the hybrid's halves and other fusions instead")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        lists = topic_bench(args.bench, Path(scratch) / "bench")
        result = evaluate(
            load_bench(Path(scratch) / "bench"),
            halves() if args.halves else scorers(),
            open_embedder(),
            days=args.days,
            profile_gap_days=GAP_DAYS,
            fresh_profiles=args.fresh_profiles,
            progress=sys.stderr.isatty(),
        )
    sizes = ", ".join(f"{name} {len(ids)}" for name, ids in lists.items())
    lines = [f"topic lists (papers whose title names the topic, both eras): {sizes}", ""]
    lines.append(result.format_table(baseline="hybrid (default)"))
    per_list = {s: result.per_list(s) for s in result.scorers}
    lines.append("lists where each is below centroid, and its difference from tfidf-svm")
    for name in result.scorers:
        below = sum(per_list[name][n]["ndcg@10"] < per_list["centroid"][n]["ndcg@10"] for n in result.lists)
        d = result.compare(name, "tfidf-svm") if name != "tfidf-svm" else None
        vs = f"  vs tfidf-svm {d['difference']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]" if d else ""
        lines.append(f"  {name:<40} below centroid on {below:>2}{vs}")
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"cross_era_days{args.days}{'_fresh' if args.fresh_profiles else ''}{'_halves' if args.halves else ''}"
    (args.out / f"{stem}.txt").write_text(text)
    (args.out / f"{stem}.json").write_text(json.dumps(result.to_json(), indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
