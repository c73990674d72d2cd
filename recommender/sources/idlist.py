"""arXiv id lists in: one id or arxiv.org URL a line; also where other formats find arXiv ids in their fields."""

from __future__ import annotations

import re
from pathlib import Path

from ..schema import Paper, split_arxiv_id
from .guard import reading

# Case-sensitive on purpose: old-style subject classes are upper case (math.AG/0601001), archives lower case.
_ID = r"(?:\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?"
_URL = re.compile(rf"^(?i:(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/)({_ID})(?i:\.pdf)?/?(?:[?#]\S*)?$")
_DOI = re.compile(rf"^(?i:(?:https?://(?:dx\.)?doi\.org/|doi:\s*)?10\.48550/arxiv\.)({_ID})$")
_PREFIXED = re.compile(rf"^(?i:arxiv):\s*({_ID})$")
_IN_TEXT = re.compile(
    rf"(?i:arxiv\.org/(?:abs|pdf)/|10\.48550/arxiv\.|arxiv(?:\s+(?:preprint|e-?print))?\s*:?\s*(?:abs/)?)({_ID})(?!\d)"
)
_COMMENT = re.compile(r"(?:^|\s)#.*$")


def _valid(raw: str) -> tuple[str, int | None] | None:
    """split_arxiv_id, also rejecting new-style ids that arXiv cannot have issued."""
    found = split_arxiv_id(raw)
    if found and "/" not in found[0]:
        # New-style ids start in 0704; numbers have 4 digits until 1412 and 5 from 1501 (catches typos).
        yymm, number = found[0].split(".")
        if int(yymm) < 704 or not 1 <= int(yymm[2:]) <= 12 or len(number) != (4 if int(yymm) < 1501 else 5):
            return None
    return found


def parse_arxiv_ref(text: str) -> tuple[str, int | None] | None:
    """(id, version) named by a bare id, an 'arXiv:' id, an arxiv.org abs/pdf URL or a 10.48550 DOI; else None."""
    text = text.strip()
    match = _URL.match(text) or _DOI.match(text) or _PREFIXED.match(text)
    return _valid(match.group(1) if match else text)


def find_arxiv_id(text: str) -> tuple[str, int | None] | None:
    """The first arXiv id marked as one inside free text, e.g. 'arXiv preprint arXiv:2104.10642'; else None."""
    for match in _IN_TEXT.finditer(text):
        found = _valid(match.group(1))
        if found:
            return found
    return None


def read_id_list(path: Path) -> tuple[list[Paper], list[tuple[str, str]]]:
    """Papers named one a line (ids or URLs; '#' comments, blank lines ignored) and the (what, why) lines skipped."""
    papers: list[Paper] = []
    skipped: list[tuple[str, str]] = []
    with reading(path), path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            text = _COMMENT.sub("", line).strip()
            if not text:
                continue
            found = parse_arxiv_ref(text)
            if found is None:
                skipped.append((f"{path}:{number}", f"not an arXiv id or URL: {text!r}"))
                continue
            arxiv_id, version = found
            # An empty title marks "metadata missing": it is filled from the arXiv API later.
            papers.append(Paper(arxiv_id=arxiv_id, title="", version=version))
    return papers, skipped
