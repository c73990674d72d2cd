"""What the learners train against: papers not liked, shown in the same form as the likes are.

A library imported without abstracts (a DBLP or Google Scholar BibTeX, an offline id list) gives likes that are
titles alone, while the day's papers have abstracts. Trained on that, both learners separate short texts from long
ones instead of topics, and rank a day by how title-like its abstracts read. So as large a share of the negatives
is shown by title alone as the likes have no abstract. Measured with `benchmarks/aging_study.py`: +0.057 nDCG@10
[+0.005, +0.117] for likes two years older than the day, +0.046 [+0.005, +0.087] at 180 days; likes that all have
abstracts train exactly as before.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ..embed import CachedEmbedder
from ..schema import Paper
from .strategies import ScoringInput


def bare_share(liked: Sequence[Paper]) -> float:
    """The share of the liked papers that have no abstract."""
    return sum(1 for p in liked if not p.abstract) / len(liked) if liked else 0.0


def form_matched(
    papers: Sequence[Paper], vectors: np.ndarray, liked: Sequence[Paper], embedder: CachedEmbedder
) -> tuple[np.ndarray, list[str]]:
    """Vectors and texts of the negative papers, the same share of them by title alone as the likes without an
    abstract; which papers is fixed by their ids, so a day's papers in any order give the same negatives."""
    texts = [p.text for p in papers]
    count = round(bare_share(liked) * len(papers))
    chosen = sorted(range(len(papers)), key=lambda i: (zlib.crc32(papers[i].arxiv_id.encode()), i))[:count]
    chosen = [i for i in chosen if papers[i].abstract]  # a paper without an abstract is a title already
    if not chosen:
        return vectors, texts
    titles = [replace(papers[i], abstract="") for i in chosen]
    matched = np.array(vectors, copy=True)
    matched[chosen] = embedder.embed_papers(titles)
    for i, paper in zip(chosen, titles, strict=True):
        texts[i] = paper.text
    return matched, texts


def in_likes_form(inp: ScoringInput, papers: Sequence[Paper], embedder: CachedEmbedder) -> ScoringInput:
    """The input with its negatives (row-aligned with `papers`) matched to the likes' form by form_matched."""
    vectors, texts = form_matched(papers, inp.negatives, inp.liked_papers, embedder)
    return inp if vectors is inp.negatives else replace(inp, negatives=vectors, negative_texts=texts)
