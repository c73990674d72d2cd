"""How long a big profile's TF-IDF fit takes, and a `rank` that refits it, as ratios to the code before.

Run: .venv/bin/python benchmarks/tfidf_fit.py [--sizes 1000 8000] [--rounds 3] [--keep DIR]
     [--against OTHER_CHECKOUT]

For each size a home is built as benchmarks/vote_latency.py builds it: a profile of that many bench papers (six in
seven liked) and one stored cs.CV and cs.CL day, with the tests' fake embedder. Old and new code take turns, each
timing in a process of its own (cold, as a command is), `--rounds` times. The seconds are medians; each ratio is the
median of the rounds' ratios (after / before in the same round).
  TF-IDF fit          the space and matrix of the profile's papers and the day's cs.CV papers: scikit-learn's
                      TfidfVectorizer, as the fit was before (`before_fit` below), against `lexical._fit_distinct`.
  TF-IDF fit, kept    the same with the profile's analysis kept by an earlier fit (as after a refit on another day):
                      only the day's papers are read for words, and the file is written again with them.
  rank (refit)        (--against, another checkout's code folder: the code before) `paperrec rank` of the day's
                      cs.CV listing with no stored ranker, so it refits; the analysis kept by the previous refit of
                      the same profile and day. The interpreter's start and the imports are not counted.
  rank, nothing kept  the same with no kept analysis (the first refit after an upgrade, or after deleting it).
Every pair is checked to give the same bits: the terms, idf and the matrix's arrays of each fit; the JSON of each
rank (ranking, scores and match). Seconds depend on the machine and its load; the ratios less so.

Measured on this project's 2-core shared CPU, with other engineers' tests running (load 3-5; `--rounds 3`,
`--against` main at e67ff56; seconds). An earlier run, at load 4, gave 0.41x and 0.45x for the fit, 0.45x and 0.34x
kept, 0.57x and 0.46x for the rank, and 0.55x and 0.66x for the rank with nothing kept: the load moves the ratios.

    profile papers                  1,000                  8,000
    TF-IDF fit          before      0.470 s                3.908 s
                        after       0.231 s  0.47x         1.710 s  0.47x
    TF-IDF fit, kept    after       0.162 s  0.33x         1.383 s  0.40x   (kept analysis: 3 MB and 23 MB)
    rank (refit)        before      0.902 s                5.332 s
                        after       0.528 s  0.59x         2.586 s  0.52x
    rank, nothing kept  after       0.641 s  0.74x         3.707 s  0.62x

Memory: the fit's process peaks where it did (564 MB at 8,000 papers, set by reading the profile; 228 MB before and
236 MB with a kept analysis at 1,000).

The fit counts 1-2-grams as integer codes (recommender/rank/lexical.py). Of what is left at 8,000 papers, in one
warm process: reading the words out of the texts 0.45 s (none for kept texts), the codes 0.2 s and each text's
counts 0.2 s (none for kept texts), sorting the codes 0.17 s, the terms as strings 0.15-0.27 s, writing the kept
analysis again 0.2 s; the TfidfSpace's index of 640k terms takes 0.15-0.25 s more. The strings and the index could
go if the space kept term codes instead; that changes the stored ranker's format, so it was left.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import vote_latency  # benchmarks/ is on the path when this script runs

SIZES = (1000, 8000)


def before_fit(texts: tuple[str, ...]):
    """The fit as it was: scikit-learn's TfidfVectorizer, its vocabulary turned into a TfidfSpace."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    from recommender.rank.lexical import NGRAMS, TOKEN, TfidfSpace

    vectorizer = TfidfVectorizer(
        ngram_range=NGRAMS, sublinear_tf=True, stop_words="english", token_pattern=TOKEN.pattern
    )
    matrix = vectorizer.fit_transform(list(texts))
    terms = [""] * len(vectorizer.vocabulary_)
    for term, column in vectorizer.vocabulary_.items():
        terms[column] = term
    space = TfidfSpace(
        terms=tuple(terms), idf=vectorizer.idf_.astype(np.float64), stop_words=frozenset(vectorizer.get_stop_words())
    )
    return space, matrix, {text: row for row, text in enumerate(texts)}


def fit_texts(home: Path, day: bool = True) -> tuple[str, ...]:
    """The profile's texts and (with `day`) the day's cs.CV texts, sorted as fit_tfidf fits them."""
    from recommender.profile import load_profile
    from recommender.sources.store import read_day

    profile = load_profile(home / "profiles" / "mine.toml")
    papers = [p.paper for p in (*profile.liked, *profile.disliked)]
    papers += list(read_day("cs.CV", vote_latency.DAY).papers) if day else []
    return tuple(sorted(p.text for p in papers))


def time_fit(home: Path, which: str) -> dict:
    """Seconds of one TF-IDF fit of the home's texts, old or new code, and a digest of what it gave."""
    import numpy as np
    import scipy.sparse  # noqa: F401  (imports not timed)
    import sklearn.feature_extraction.text  # noqa: F401

    from recommender.rank import lexical

    texts = fit_texts(home)
    fits = {"before": before_fit, "after": lexical._fit_distinct.__wrapped__}
    fits["kept"] = lambda texts: kept_fit(texts, kept_file(home))
    fit = fits[which]
    gc.collect()
    start = time.perf_counter()
    space, matrix, _ = fit(texts)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB: the process's, its profile's load included
    digest = hashlib.sha256("\n".join(space.terms).encode("utf-8"))
    for array in (space.idf, matrix.data, matrix.indices, matrix.indptr):
        digest.update(np.ascontiguousarray(array).tobytes())
    result = {"seconds": seconds, "digest": digest.hexdigest(), "texts": len(texts), "terms": len(space.terms)}
    return result | {"peak_mb": peak / 1024}


def kept_file(home: Path) -> Path:
    """Where the fit row keeps the profile's analysis (the product keeps it under cache/analysis)."""
    return home / "kept-analysis.npz"


def kept_fit(texts: tuple[str, ...], path: Path):
    """The fit as a refit that stores its ranker runs it: keeping its texts' analysis at path."""
    from recommender.rank import lexical

    with lexical.analysis_kept(path):
        return lexical._fit_distinct.__wrapped__(texts)


def keep_profile_analysis(home: Path) -> int:
    """Keep the analysis of the profile's texts only, as after a refit on another day; its size in bytes."""

    kept_fit(fit_texts(home, day=False), kept_file(home))
    return kept_file(home).stat().st_size


def time_rank(home: Path) -> dict:
    """Seconds of `paperrec rank` of the day with no stored ranker (it refits), and a digest of its output."""
    import numpy  # noqa: F401  (imports not timed, in either code)
    import sklearn.feature_extraction.text
    import sklearn.linear_model
    import sklearn.svm  # noqa: F401
    from typer.testing import CliRunner

    from recommender.cli import app

    listing = home / "listings" / "cs.CV" / f"{vote_latency.DAY.isoformat()}.jsonl"
    args = ["rank", str(listing), "-p", "mine", "--format", "json"]
    start = time.perf_counter()
    result = CliRunner().invoke(app, args)
    seconds = time.perf_counter() - start
    if result.exit_code != 0:
        raise SystemExit(f"{args}: exit {result.exit_code}: {result.output[-2000:]}")
    return {"seconds": seconds, "digest": hashlib.sha256(result.stdout.encode("utf-8")).hexdigest()}


def run_child(home: Path, task: str, code: str | None) -> dict:
    """One timing in a process of its own, with this checkout's code or another's (`code`: its folder)."""
    shutil.rmtree(home / "cache" / "rankers", ignore_errors=True)  # rank refits
    shutil.rmtree(home / "state", ignore_errors=True)  # and sees the same day (no seen-memory)
    if task in ("rank:nothing kept", "fit:kept"):
        shutil.rmtree(home / "cache" / "analysis", ignore_errors=True)
    if task == "fit:kept":
        keep_profile_analysis(home)
    command = [sys.executable, __file__, "--child", str(home), "--task", task]
    env = os.environ | {"OPENBLAS_NUM_THREADS": "1"} | ({"PYTHONPATH": code} if code else {})
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--rounds", type=int, default=3, help="Turns of old and new code per size; medians.")
    parser.add_argument("--keep", type=Path, help="Build the homes here once and reuse them on later runs.")
    parser.add_argument(
        "--against", help="Another checkout's code folder: its `rank` is timed in turn with this one's."
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--task", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        vote_latency.use_fake_model()
        os.environ["PAPERREC_HOME"] = str(args.child)
        task, _, which = args.task.partition(":")
        print(json.dumps(time_fit(args.child, which) if task == "fit" else time_rank(args.child)))
        return
    vote_latency.use_fake_model()
    root = args.keep or Path(tempfile.mkdtemp(prefix="tfidf-fit-"))
    turns = [("TF-IDF fit", "fit:before", None, "before"), ("TF-IDF fit", "fit:after", None, "after")]
    turns += [("TF-IDF fit, kept", "fit:kept", None, "after")]
    if args.against:
        turns += [
            ("rank (refit)", "rank", args.against, "before"),
            ("rank, nothing kept", "rank:nothing kept", None, "after"),
        ]
        turns += [("rank (refit)", "rank:kept", None, "after")]
    rows: dict[str, dict[int, dict[str, list[float]]]] = {}
    for size in args.sizes:
        home = root / str(size)
        if not (home / "profiles" / "mine.toml").is_file():
            start = time.perf_counter()
            vote_latency.build_home(home, size)
            print(f"built {size} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        os.environ["PAPERREC_HOME"] = str(home)
        print(f"{size}: the profile's analysis takes {keep_profile_analysis(home) / 1e6:.1f} MB", file=sys.stderr)
        for _ in range(args.rounds):
            results = {}
            for label, task, code, side in turns:
                result = run_child(home, task, code)
                results[(label, side)] = result
                rows.setdefault(label, {}).setdefault(size, {}).setdefault(side, []).append(result["seconds"])
            for label, baseline in (("TF-IDF fit, kept", "TF-IDF fit"), ("rank, nothing kept", "rank (refit)")):
                if (baseline, "before") in results:
                    results[(label, "before")] = results[(baseline, "before")]
                    rows[label][size]["before"] = rows[baseline][size]["before"]
            for label in {label for label, _ in results}:
                if results[(label, "before")]["digest"] != results[(label, "after")]["digest"]:
                    raise SystemExit(f"{label} at {size}: old and new code gave different results")
            fit = results[("TF-IDF fit", "after")]
            turn = {"before": ("TF-IDF fit", "before"), "after": ("TF-IDF fit", "after")}
            turn["kept"] = ("TF-IDF fit, kept", "after")
            peaks = ", ".join(f"{name} {results[key]['peak_mb']:.0f} MB" for name, key in turn.items())
            print(
                f"{size}: {fit['texts']} texts, {fit['terms']} terms; the fit's process peaked at {peaks}",
                file=sys.stderr,
            )
    print(f"\n{'profile papers':<22}" + "".join(f"{s:>28,}" for s in args.sizes))
    for label, by_size in rows.items():
        cells = []
        for size in args.sizes:
            before, after = by_size[size]["before"], by_size[size]["after"]
            ratio = statistics.median(a / b for a, b in zip(after, before, strict=True))  # within a round
            cells.append(f"{statistics.median(before):7.3f} s {statistics.median(after):7.3f} s {ratio:5.2f}x")
        print(f"{label:<22}" + "".join(f"{c:>28}" for c in cells))
    print(f"{'':<22}" + "".join(f"{'before     after   ratio':>28}" for _ in args.sizes))
    if args.keep is None:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
