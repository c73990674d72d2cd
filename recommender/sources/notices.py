"""Notices that journals post as entries of their listings: corrections and retractions, told by their titles."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..schema import Paper, given_first, normalise_title
from .markdown import strip_html

# What a notice's title starts with, and what kind of notice it is. The words end in ':' or a dash, or go on to
# a quoted title (Elsevier's 'Corrigendum to "..." [Cell 1 (2024) 1-2]'), so 'Correction to the Born rule' is a paper.
_ENDS = r"\s*(?::|[-\u2013\u2014]\s|(?=[\"'\u2018\u201c]))"
NOTICES = (
    ("correction", r"(?:author|authors'?|publisher|editorial|editor's)\s+correction" + _ENDS),
    ("correction", r"(?:correction|corrigendum|erratum|addendum)(?:\s+(?:to|for))?" + _ENDS),
    ("correction", r"correction\s+for\s+[^,:]{1,80}?\bet\s+al\.?,"),  # PNAS: 'Correction for Smith et al., Title'
    ("retraction", r"(?:retraction(?:\s+note|\s+notice)?|notice\s+of\s+retraction)(?:\s+(?:to|for|of))?" + _ENDS),
    ("retraction", r"retracted(?:\s+article)?" + _ENDS),
    ("retraction", r"(?:editorial\s+)?expression\s+of\s+concern(?:\s+(?:to|for|about|regarding|on))?" + _ENDS),
)
_PATTERNS = tuple((kind, re.compile(r"\s*" + pattern + r"\s*", re.IGNORECASE)) for kind, pattern in NOTICES)
_CITED = re.compile(r"\s*\[[^\[\]]*\]\s*\.?\s*$")  # the notice's citation of the paper: '[Cell 185 (2022) 1-10]'
# A title this long names one paper. A shorter one ('Deep learning', 'A review') names many: an author in common must
# say it is the same. Not the authors always: a notice is often the editors' ('The PLOS ONE Editors').
MIN_TITLE_WORDS = 5
# Where one side has no authors to compare (a hand-written entry), a title this long still names one paper.
MIN_UNSIGNED_WORDS = 3


@dataclass(frozen=True)
class Notice:
    """A correction or retraction notice: its kind, the normalised title of the paper it names, and its authors."""

    kind: str  # 'correction' or 'retraction' (an expression of concern is news of the same kind)
    names: str  # the title of the paper it names, as title_key gives it
    authors: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()  # the notice's own id and the ids its links name (often the paper's DOI)

    def is_of(self, paper: Paper) -> bool:
        """True when the notice names this paper: by an id its links name, or by its title, long enough
        (MIN_TITLE_WORDS) or with an author in common (MIN_UNSIGNED_WORDS where one side has no authors)."""
        if set(self.ids) & set(paper.ids):
            return True
        if not self.names or self.names != title_key(paper.title):
            return False
        words = len(self.names.split())
        if words >= MIN_TITLE_WORDS:
            return True
        ours, theirs = _surnames(self.authors), _surnames(paper.authors)
        return bool(ours & theirs) if ours and theirs else words >= MIN_UNSIGNED_WORDS


def _surnames(authors: Iterable[str]) -> set[str]:
    """The authors' surnames as titles compare: 'J. Smith' and 'Smith, John' are 'smith'."""
    return {words[-1] for name in authors if (words := normalise_title(given_first(name)).split())}


def title_key(title: str) -> str:
    """A title as notices and papers compare: tags, case, accents and punctuation gone."""
    return normalise_title(strip_html(title))


def notice_of(title: str, authors: Sequence[str] = (), ids: Sequence[str] = ()) -> Notice | None:
    """The notice a title (by these authors, with these ids) makes, else None for a paper.

    Example: notice_of('Retraction Note: Piezo1 licenses looping').names is 'piezo1 licenses looping'.
    """
    text = strip_html(title)
    for kind, pattern in _PATTERNS:
        match = pattern.match(text)
        if match:
            return Notice(kind, title_key(_CITED.sub("", text[match.end() :])), tuple(authors), tuple(ids))
    return None
