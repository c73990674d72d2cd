"""Raw embedding throughput of each backend and setting, measured in one process, as ratios to torch fp32.

Run: .venv/bin/python benchmarks/throughput.py [--n 300] [--repeat 3] [--bench ../shared/bench]
Needs the 'onnx' extra for the ONNX rows (they are skipped without it). Writes benchmarks/results/throughput.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from recommender.embed import Embedder  # noqa: E402
from recommender.sources import read_listing  # noqa: E402

SETTINGS = [  # (label, backend, max_seq_length)
    ("torch fp32, 256 tokens", "torch", None),
    ("torch fp32, 128 tokens", "torch", 128),
    ("onnx fp32, 256 tokens", "onnx", None),
    ("onnx int8, 256 tokens", "onnx-int8", None),
    ("onnx int8, 128 tokens", "onnx-int8", 128),
]


def real_abstracts(bench: Path, n: int) -> list[str]:
    """n real title + abstract texts from the bench's listings (a fixed, spread-out sample)."""
    files = sorted((bench / "listings" / "cs.CV").glob("*.jsonl"))
    texts = [p.text for f in files[:: max(1, len(files) // 20)] for p in read_listing(f).papers]
    step = max(1, len(texts) // n)
    return texts[::step][:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, default=REPO.parent / "shared" / "bench")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if "PAPERREC_HOME" not in os.environ:
        os.environ["PAPERREC_HOME"] = str(REPO / "benchmarks" / "results" / "home")  # where ONNX exports go
    texts = real_abstracts(args.bench, args.n)
    has_onnx = importlib.util.find_spec("onnxruntime") is not None
    settings = [s for s in SETTINGS if has_onnx or not s[1].startswith("onnx")]
    embedders = {}
    for label, backend, length in settings:
        embedder = Embedder(backend=backend, max_seq_length=length)
        start = time.perf_counter()
        embedder.encode(texts[:4])  # load (and export once, for ONNX)
        embedders[label] = (embedder, time.perf_counter() - start)
    reference = embedders[settings[0][0]][0].encode(texts)
    rates: dict[str, list[float]] = {label: [] for label, *_ in settings}
    cosines = {}
    for _ in range(args.repeat):  # interleaved, so machine noise hits every setting alike
        for label, *_ in settings:
            embedder = embedders[label][0]
            start = time.perf_counter()
            vectors = embedder.encode(texts)
            rates[label].append(len(texts) / (time.perf_counter() - start))
            similarity = (vectors * reference).sum(axis=1)
            cosines[label] = (float(similarity.mean()), float(similarity.min()))
    base = statistics.median(rates[settings[0][0]])
    rows = []
    print(f"{len(texts)} real abstracts, {args.repeat} interleaved runs, {os.cpu_count()} CPUs, {platform.processor()}")
    print(f"{'setting':<24} {'texts/s':>8} {'ratio':>6} {'first call s':>12}  cosine to torch fp32 (mean / min)")
    for label, backend, length in settings:
        rate = statistics.median(rates[label])
        mean, low = cosines[label]
        load = embedders[label][1]
        print(f"{label:<24} {rate:8.1f} {rate / base:6.2f} {load:12.1f}  {mean:.4f} / {low:.4f}")
        rows.append(
            {"setting": label, "backend": backend, "max_seq_length": length or 256, "texts_per_s": rate,
             "ratio_to_torch_fp32": rate / base, "first_call_s": load, "cosine_mean": mean, "cosine_min": low}
        )  # fmt: skip
    lengths = np.array([len(embedders[settings[0][0]][0]._load().tokenizer(t)["input_ids"]) for t in texts])
    print(
        f"abstracts longer than 256 tokens: {np.mean(lengths > 256):.0%}; longer than 128: {np.mean(lengths > 128):.0%}"
    )
    out = REPO / "benchmarks" / "results" / "throughput.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"cpus": os.cpu_count(), "n": len(texts), "rows": rows}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
