"""Citation macros (\\cite and its natbib and biblatex forms) as text: their keys in brackets, "[he2016deep]".

pylatexenc writes "<cit.>", which looks like a tag and says less. The import and the page read citations alike.
"""

from __future__ import annotations

from typing import Any

CITATIONS = (
    "cite",
    "citep",
    "citet",
    "citealp",
    "citealt",
    "citeauthor",
    "citeyear",
    "parencite",
    "textcite",
    "autocite",
)
ARGUMENTS = "*[[{"  # a star, two optional notes ([p.~3]), the keys


def citation_text(node: Any) -> str:
    """A citation macro node's keys in brackets, as written: "[a, b]"."""
    arguments = node.nodeargd.argnlist if node.nodeargd is not None else []
    keys = arguments[-1].latex_verbatim().strip("{}") if arguments and arguments[-1] is not None else ""
    return "[" + ", ".join(k.strip() for k in keys.split(",") if k.strip()) + "]"
