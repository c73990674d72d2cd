"""What the learners train against: papers not liked, shown in the same form as the likes are.

A library imported without abstracts (a DBLP or Google Scholar BibTeX, an offline id list) gives likes that are
titles alone, while the day's papers have abstracts. Trained on that, both learners separate short texts from long
ones instead of topics, and rank a day by how title-like its abstracts read. So as large a share of the negatives
is shown by title alone as the liked papers have no abstract.
`benchmarks/aging_study.py --library` measures it (README, Ranking quality); likes that all have abstracts train
exactly as before.
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
    papers: Sequence[Paper], vectors: np.ndarray, share: float, embedder: CachedEmbedder
) -> tuple[np.ndarray, list[str]]:
    """Vectors and texts of the negative papers with `share` of them by title alone: papers without an abstract
    count, and the rest are the papers whose ids hash lowest, so a day's papers in any order give the same ones."""
    texts = [p.text for p in papers]
    already = sum(1 for p in papers if not p.abstract)
    need = round(share * len(papers)) - already
    with_abstract = [i for i, p in enumerate(papers) if p.abstract]
    chosen = sorted(sorted(with_abstract, key=lambda i: (zlib.crc32(papers[i].arxiv_id.encode()), i))[: max(need, 0)])
    if not chosen:
        return vectors, texts
    titles = [replace(papers[i], abstract="") for i in chosen]
    matched = np.array(vectors, copy=True)
    matched[chosen] = embedder.embed_papers(titles)
    for i, paper in zip(chosen, titles, strict=True):
        texts[i] = paper.text
    return matched, texts


def in_likes_form(inp: ScoringInput, papers: Sequence[Paper], embedder: CachedEmbedder) -> ScoringInput:
    """The input with its negatives (row-aligned with `papers`) as large a share by title as its liked papers have
    no abstract. Interest sentences are left out: a query, not a paper's title, and not measured on the bench."""
    vectors, texts = form_matched(papers, inp.negatives, bare_share(inp.liked_papers), embedder)
    return inp if vectors is inp.negatives else replace(inp, negatives=vectors, negative_texts=texts)
