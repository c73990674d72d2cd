"""How long a big profile's TF-IDF fit takes, and a `rank` that refits it, as ratios to the code before.

Run: .venv/bin/python benchmarks/tfidf_fit.py [--sizes 1000 8000] [--rounds 3] [--keep DIR] [--cached]
     [--against OTHER_CHECKOUT]

For each size a home is built as benchmarks/vote_latency.py builds it: a profile of that many bench papers (six in
seven liked) and one stored cs.CV and cs.CL day, with the tests' fake embedder. Old and new code take turns, each
timing in a process of its own (cold, as a command is), `--rounds` times; the figures are medians, and each ratio is
the median of the rounds' ratios.
  TF-IDF fit    the space and matrix of the profile's papers and the day's cs.CV papers: scikit-learn's
                TfidfVectorizer, as the fit was before (`before_fit` below), against `lexical._fit_distinct`.
  likes cached  (--cached) the same fit with the profile's analysed terms read from an .npz written before
                (`cached_fit` below): what a cache of the likes' analysis between processes would give.
  rank (refit)  (--against, another checkout's code folder: the code before) `paperrec rank` of the day's cs.CV
                listing with no stored ranker, so it refits. The interpreter's start and the imports are not counted.
Every pair is checked to give the same bits: the terms, idf and the matrix's arrays of each fit; the JSON of each
rank (ranking, scores and match). Seconds depend on the machine and its load; the ratios less so.

Measured on this project's 2-core shared CPU with another engineer's jobs running (`--rounds 3 --cached`,
`--against` main at a17da0c; seconds):

    profile papers                     1,000                      8,000
    TF-IDF fit          before  0.455 s                    3.667 s
                        after   0.228 s  0.52x             2.323 s  0.63x
    likes cached        after   0.128 s  0.29x  (3 MB)     0.930 s  0.25x  (23 MB on disk)
    rank (refit)        before  0.794 s                    5.337 s
                        after   0.570 s  0.72x             3.871 s  0.73x

The fit counts 1-2-grams as integer codes (recommender/rank/lexical.py). Of what is left at 8,000 papers (in one
warm process, about 1.5 s): reading the words out of the texts 0.45 s, the codes 0.2 s, each text's counts 0.2 s,
sorting the codes 0.17 s, the terms as strings 0.15 s; the TfidfSpace's index of 640k terms takes 0.15-0.25 s more.
Cached likes were not kept: only a refit that stores its ranker should write such a file, and the fit does not know
which refit that is, so the path would have to be passed down through the hybrid's fit.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
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


# Measured and not kept: each text's analysed terms kept on disk between processes, so that a refit analyses only
# the day's new texts (the likes rarely change between refits). See the module's docstring for its figures.
def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def write_analysed(texts: list[str], path: Path) -> int:
    """Each text's term codes and counts in one .npz, as such a cache would keep them; its size in bytes."""
    import numpy as np
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from recommender.rank import lexical

    docs = [[t for t in lexical.TOKEN.findall(text.lower()) if t not in ENGLISH_STOP_WORDS] for text in texts]
    words = sorted(set(itertools.chain.from_iterable(docs)))
    codes, bounds = lexical._ngram_codes(docs, words)
    per_text = [Counter(codes[start:end]) for start, end in itertools.pairwise(bounds)]
    np.savez(
        path,
        words=np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8),
        keys=np.array([_digest(text) for text in texts], dtype="S16"),
        sizes=np.array([len(c) for c in per_text], dtype=np.int64),
        codes=np.fromiter(itertools.chain.from_iterable(per_text), dtype=np.int64),
        counts=np.fromiter(itertools.chain.from_iterable(c.values() for c in per_text), dtype=np.int32),
    )
    return path.stat().st_size


def cached_fit(texts: tuple[str, ...], path: Path):
    """The fit, each text found in the cache file read from it and only the others analysed."""
    import numpy as np
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfTransformer

    from recommender.rank import lexical

    with np.load(path, allow_pickle=False) as stored:
        cached_words = stored["words"].tobytes().decode("utf-8").split("\n")
        keys, sizes, codes, counts = (stored[name] for name in ("keys", "sizes", "codes", "counts"))
    row_of = dict(zip(keys.tolist(), range(len(keys)), strict=True))
    rows = [row_of.get(_digest(text), -1) for text in texts]
    new = [text for text, row in zip(texts, rows, strict=True) if row < 0]
    docs = [[t for t in lexical.TOKEN.findall(text.lower()) if t not in ENGLISH_STOP_WORDS] for text in new]
    words = sorted(set(cached_words).union(itertools.chain.from_iterable(docs)))
    place = dict(zip(words, range(len(words)), strict=True))
    moved = np.fromiter(map(place.__getitem__, cached_words), dtype=np.int64, count=len(cached_words))
    heads, tails = np.divmod(codes, len(cached_words) + 1)  # the cached codes, in the new word list's places
    codes = moved[heads] * (len(words) + 1) + np.where(tails > 0, 1 + moved[tails - 1], 0)
    new_codes, bounds = lexical._ngram_codes(docs, words)
    per_new = iter([Counter(new_codes[start:end]) for start, end in itertools.pairwise(bounds)])
    offsets = np.r_[0, np.cumsum(sizes)]
    parts_codes, parts_counts, text_sizes = [], [], []
    for row in rows:
        if row >= 0:
            parts_codes.append(codes[offsets[row] : offsets[row + 1]])
            parts_counts.append(counts[offsets[row] : offsets[row + 1]])
        else:
            counter = next(per_new)
            parts_codes.append(np.fromiter(counter, dtype=np.int64, count=len(counter)))
            parts_counts.append(np.fromiter(counter.values(), dtype=np.int32, count=len(counter)))
        text_sizes.append(len(parts_codes[-1]))
    terms, matrix = lexical.count_matrix(
        np.concatenate(parts_codes), np.concatenate(parts_counts), np.array(text_sizes, dtype=np.int64), words
    )
    transformer = TfidfTransformer(sublinear_tf=True)
    matrix = transformer.fit(matrix).transform(matrix, copy=False)
    space = lexical.TfidfSpace(
        terms=tuple(terms), idf=transformer.idf_.astype(np.float64), stop_words=ENGLISH_STOP_WORDS
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
    fit = fits.get(which) or (lambda texts: cached_fit(texts, home / "analysed.npz"))
    gc.collect()
    start = time.perf_counter()
    space, matrix, _ = fit(texts)
    seconds = time.perf_counter() - start
    digest = hashlib.sha256("\n".join(space.terms).encode("utf-8"))
    for array in (space.idf, matrix.data, matrix.indices, matrix.indptr):
        digest.update(np.ascontiguousarray(array).tobytes())
    return {"seconds": seconds, "digest": digest.hexdigest(), "texts": len(texts), "terms": len(space.terms)}


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
    parser.add_argument("--cached", action="store_true", help="Also time the fit with the profile's analysis on disk.")
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
    if args.cached:
        turns += [("TF-IDF fit, likes cached", "fit:cached", None, "after")]
    if args.against:
        turns += [("rank (refit)", "rank", args.against, "before"), ("rank (refit)", "rank", None, "after")]
    rows: dict[str, dict[int, dict[str, list[float]]]] = {}
    for size in args.sizes:
        home = root / str(size)
        if not (home / "profiles" / "mine.toml").is_file():
            start = time.perf_counter()
            vote_latency.build_home(home, size)
            print(f"built {size} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        if args.cached:
            os.environ["PAPERREC_HOME"] = str(home)
            stored = write_analysed(list(fit_texts(home, day=False)), home / "analysed.npz")
            print(f"{size}: the likes' analysis takes {stored / 1e6:.1f} MB on disk", file=sys.stderr)
        for _ in range(args.rounds):
            results = {}
            for label, task, code, side in turns:
                result = run_child(home, task, code)
                results[(label, side)] = result
                rows.setdefault(label, {}).setdefault(size, {}).setdefault(side, []).append(result["seconds"])
            if args.cached:
                results[("TF-IDF fit, likes cached", "before")] = results[("TF-IDF fit", "before")]
                rows["TF-IDF fit, likes cached"][size]["before"] = rows["TF-IDF fit"][size]["before"]
            for label in {label for label, _ in results}:
                if results[(label, "before")]["digest"] != results[(label, "after")]["digest"]:
                    raise SystemExit(f"{label} at {size}: old and new code gave different results")
            fit = results[("TF-IDF fit", "after")]
            print(f"{size}: {fit['texts']} texts, {fit['terms']} terms; same results", file=sys.stderr)
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
