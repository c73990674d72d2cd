"""Picks out: terminal table, JSON, JSONL, CSV and Markdown renderings of ranked picks."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable, Sequence
from typing import Any

from .schema import Pick, UsageError

PICK_COLUMNS = (
    "rank",
    "id",
    "title",
    "abstract",
    "authors",
    "categories",
    "date",
    "url",
    "pdf_url",
    "score",
    "profile",
)


def pick_record(pick: Pick) -> dict[str, Any]:
    """The public JSON object of a pick (keys in PICK_COLUMNS order; later versions only add keys)."""
    paper = pick.paper
    return {
        "rank": pick.rank,
        "id": paper.arxiv_id,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": list(paper.authors),
        "categories": list(paper.categories),
        "date": paper.date.isoformat() if paper.date else None,
        "url": paper.url,
        "pdf_url": paper.pdf_url,
        "score": round(pick.score, 6),
        "profile": pick.profile,
    }


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _first_author(authors: Sequence[str]) -> str:
    if not authors:
        return ""
    surname = authors[0].split()[-1] if authors[0].split() else authors[0]
    return surname + (" et al." if len(authors) > 1 else "")


def to_table(picks: Sequence[Pick], width: int | None = None) -> str:
    """A two-line-per-pick table that fits the terminal: rank, score, id, title; then author and link."""
    if not picks:
        return "No picks.\n"
    width = width or shutil.get_terminal_size((100, 24)).columns
    width = max(width, 50)
    id_width = max(len("id"), *(len(p.paper.arxiv_id) for p in picks))
    prefix = f"{'#':>3}  {'score':>6}  {'id':<{id_width}}  "
    title_width = width - len(prefix)
    lines = [prefix + "title"]
    indent = " " * len(prefix)
    for pick in picks:
        paper = pick.paper
        lines.append(
            f"{pick.rank:>3}  {pick.score:>6.3f}  {paper.arxiv_id:<{id_width}}  {_shorten(paper.title, title_width)}"
        )
        detail = " · ".join(part for part in (_first_author(paper.authors), paper.url or "") if part)
        if detail:
            lines.append(indent + _shorten(detail, title_width))
    return "\n".join(lines) + "\n"


def to_json(picks: Sequence[Pick]) -> str:
    """A JSON list of pick objects in rank order."""
    return json.dumps([pick_record(p) for p in picks], ensure_ascii=False, indent=2) + "\n"


def to_jsonl(picks: Sequence[Pick]) -> str:
    """One JSON pick object per line."""
    return "".join(json.dumps(pick_record(p), ensure_ascii=False) + "\n" for p in picks)


def to_csv(picks: Sequence[Pick]) -> str:
    """CSV with the pick columns; lists joined with ';', null as empty."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=PICK_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for pick in picks:
        record = pick_record(pick)
        record["authors"] = ";".join(record["authors"])
        record["categories"] = ";".join(record["categories"])
        writer.writerow({k: "" if v is None else v for k, v in record.items()})
    return buffer.getvalue()


def _md_escape(text: str) -> str:
    return text.replace("[", "\\[").replace("]", "\\]")


def to_markdown(picks: Sequence[Pick]) -> str:
    """A Markdown reading list: a heading per pick with its link, score and abstract."""
    if not picks:
        return "_No picks._\n"
    profile = picks[0].profile
    parts = [f"# paperrec picks for {profile}\n"]
    for pick in picks:
        paper = pick.paper
        title = f"[{_md_escape(paper.title)}]({paper.url})" if paper.url else _md_escape(paper.title)
        meta = [f"score {pick.score:.3f}", f"`{paper.arxiv_id}`"]
        if paper.authors:
            meta.append(", ".join(paper.authors))
        parts.append(f"### {pick.rank}. {title}\n{' · '.join(meta)}\n")
        if paper.abstract:
            parts.append(f"> {paper.abstract}\n")
    return "\n".join(parts)


RENDERERS: dict[str, Callable[[Sequence[Pick]], str]] = {
    "table": to_table,
    "json": to_json,
    "jsonl": to_jsonl,
    "csv": to_csv,
    "markdown": to_markdown,
}


def render(picks: Sequence[Pick], fmt: str = "table") -> str:
    """Render picks in one of RENDERERS' formats."""
    if fmt not in RENDERERS:
        raise UsageError(f"unknown format {fmt!r}: choose one of {', '.join(RENDERERS)}")
    return RENDERERS[fmt](picks)
