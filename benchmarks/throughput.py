"""Raw embedding throughput of each backend and setting, measured in one process, as ratios to torch fp32.

With --threads, also the thread lever: torch and onnxruntime (int8) at 1 thread against their defaults.

Run: .venv/bin/python benchmarks/throughput.py [--n 300] [--repeat 3] [--bench ../shared/bench] [--threads]
     [--model PATH --torch-only]  (another sentence-transformers model, e.g. all-mpnet-base-v2, beside the default)
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
from recommender.paths import onnx_dir  # noqa: E402
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
    parser.add_argument("--threads", action="store_true", help="also measure 1 thread against the defaults")
    parser.add_argument("--model", help="also measure this model (a local sentence-transformers folder), torch fp32")
    parser.add_argument("--torch-only", action="store_true", help="only the torch fp32 rows")
    args = parser.parse_args()
    if "PAPERREC_HOME" not in os.environ:
        os.environ["PAPERREC_HOME"] = str(REPO / "benchmarks" / "results" / "home")  # where ONNX exports go
    texts = real_abstracts(args.bench, args.n)
    has_onnx = importlib.util.find_spec("onnxruntime") is not None
    settings = [s for s in SETTINGS if (has_onnx and not args.torch_only) or not s[1].startswith("onnx")]
    if args.torch_only:
        settings = settings[:1]
    models = {label: None for label, *_ in settings}
    if args.model:
        label = f"torch fp32, {Path(args.model).name}"
        settings.append((label, "torch", None))
        models[label] = args.model
    embedders = {}
    for label, backend, length in settings:
        kwargs = {"model": models[label]} if models[label] else {}
        embedder = Embedder(backend=backend, max_seq_length=length, **kwargs)
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
            if vectors.shape == reference.shape:  # another model's vectors live in another space
                similarity = (vectors * reference).sum(axis=1)
                cosines[label] = (float(similarity.mean()), float(similarity.min()))
            else:
                cosines[label] = (float("nan"), float("nan"))
    base = statistics.median(rates[settings[0][0]])
    rows = []
    print(f"{len(texts)} real abstracts, {args.repeat} interleaved runs, {os.cpu_count()} CPUs, {platform.processor()}")
    print(f"{'setting':<24} {'texts/s':>8} {'ratio':>6} {'first call s':>12}  cosine to torch fp32 (mean / min)")
    for label, backend, length in settings:
        rate = statistics.median(rates[label])
        mean, low = cosines[label]
        load = embedders[label][1]
        print(f"{label:<24} {rate:8.1f} {rate / base:6.2f} {load:12.1f}  {mean:.4f} / {low:.4f}")
        tokens = length or (None if models[label] else 256)  # None: the other model's own
        rows.append(
            {"setting": label, "backend": backend, "max_seq_length": tokens, "texts_per_s": rate,
             "ratio_to_torch_fp32": rate / base, "first_call_s": load, "cosine_mean": mean, "cosine_min": low}
        )  # fmt: skip
    lengths = np.array([len(embedders[settings[0][0]][0]._load().tokenizer(t)["input_ids"]) for t in texts])
    print(
        f"abstracts longer than 256 tokens: {np.mean(lengths > 256):.0%}; longer than 128: {np.mean(lengths > 128):.0%}"
    )
    threads = thread_sweep(embedders, settings, texts, args.repeat) if args.threads else []
    out = REPO / "benchmarks" / "results" / "throughput.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {"cpus": os.cpu_count(), "n": len(texts), "rows": rows, "threads": threads}
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")


def thread_sweep(embedders: dict, settings: list, texts: list[str], repeat: int) -> list[dict[str, object]]:
    """Throughput at 1 thread vs the library default (all cores), torch fp32 and onnx int8, interleaved."""
    import torch

    torch_default = torch.get_num_threads()
    torch_embedder = embedders[settings[0][0]][0]
    variants = {  # label -> (embedder, torch threads or None, onnxruntime session or None)
        f"torch fp32, {torch_default} threads (default)": (torch_embedder, torch_default, None),
        "torch fp32, 1 thread": (torch_embedder, 1, None),
    }
    int8 = next(
        (embedders[label][0] for label, backend, length in settings if backend == "onnx-int8" and not length), None
    )
    if int8 is not None:
        import onnxruntime

        encoder = int8._load_onnx()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        model = str(onnx_dir(int8.model_id) / "model_int8.onnx")
        single = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        variants["onnx int8, default threads"] = (int8, None, encoder.session)
        variants["onnx int8, 1 thread"] = (int8, None, single)
    rates: dict[str, list[float]] = {label: [] for label in variants}
    for _ in range(repeat):
        for label, (embedder, torch_threads, session) in variants.items():
            if torch_threads is not None:
                torch.set_num_threads(torch_threads)
            if session is not None:
                embedder._load_onnx().session = session
            start = time.perf_counter()
            embedder.encode(texts)
            rates[label].append(len(texts) / (time.perf_counter() - start))
    torch.set_num_threads(torch_default)
    print("threads (same texts, interleaved):")
    rows = []
    for label in variants:
        rate = statistics.median(rates[label])
        print(f"  {label:<32} {rate:8.1f} texts/s")
        rows.append({"setting": label, "texts_per_s": rate})
    return rows


if __name__ == "__main__":
    main()
