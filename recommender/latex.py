"""Simple LaTeX in titles and abstracts, as a reader sees it: text, math, or its own source where nothing renders it.

pylatexenc parses the text and turns what it knows (`\\textbf{..}`, `$\\alpha$`, `$\\times$`) into text. On the page,
math may be MathML from latex2mathml instead. A macro neither library knows stays as its source, shown in <code>.
Every part is escaped before it becomes markup. MathML is rebuilt from a parsed tree of allowed tags and attributes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from .sources.citations import ARGUMENTS, CITATIONS, citation_text

if TYPE_CHECKING:
    from pylatexenc.latex2text import LatexNodes2Text
    from pylatexenc.macrospec import LatexContextDb

_BARE = re.compile(r"(?<!\\)([%&])")  # "5% of" and "R&D" in abstracts are text, not a comment or a table cell
# What looks like LaTeX: a formula, a macro with its arguments, an escaped character, a group (two levels deep).
# An argument may follow two optional ones, as a citation's notes do: \citep[see][p.~3]{key}.
# A formula in single dollars, so that prices stay text ("from $5 to $10", "$5-$10"): no space inside either dollar
# (pandoc's rule; not its "no digit after": titles write "$\times$4"), or, spaced as arXiv's MathJax allows, one
# letter ("$ k $") or a formula's marks (\ ^ _ {). Two amounts joined by a dash or a slash are never one formula.
_DOLLARS = (
    r"\$(?![\d.,]+[-\u2013/]?\$\d)"
    r"(?:(?=\S)(?:[^$\\]|\\.)+?(?<=\S)|[ \t]*[A-Za-z][ \t]*|(?=[^$]*[\\^_{])(?:[^$\\]|\\.)+?)\$"
)
# \( and \[ formulas end before another of their kind opens (the \\[ of a line break is none): a text of openers is
# read in one pass, not once per opener.
_ISLAND = re.compile(
    r"\$\$.+?\$\$|" + _DOLLARS + r"|\\\((?:(?!(?<!\\)\\\().)+?\\\)|\\\[(?:(?!(?<!\\)\\\[).)+?\\\]"
    r"|\\[A-Za-z]+\*?(?:\s*(?:\[[^\[\]{}]*\]){0,2}\{(?:[^{}]|\{[^{}]*\})*\})*"
    r"|\\."
    r"|\{(?:[^{}]|\{[^{}]*\})*\}",
    re.S,
)
_EXTRA_MACROS = {
    **dict.fromkeys(
        ("texttt", "textsf", "textsc", "textup", "textnormal", "mathsf", "mathtt", "boldsymbol", "bm"), "%(1)s"
    ),
    "textsuperscript": "^%(1)s",
    "textsubscript": "_%(1)s",
}
# What a formula needs to be read: no links, colours or styles.
_TAG_NAMES = (
    "math mrow mi mn mo ms mtext mspace msup msub msubsup mfrac msqrt mroot mover munder munderover mtable mtr mtd "
    "mstyle mpadded mphantom menclose"
)
_ATTRIBUTE_NAMES = (
    "display stretchy fence separator lspace rspace accent accentunder movablelimits largeop symmetric minsize "
    "maxsize mathvariant displaystyle scriptlevel linethickness notation form width height depth columnalign "
    "rowspacing columnspacing"
)
_MATHML_TAGS, _MATHML_ATTRIBUTES = frozenset(_TAG_NAMES.split()), frozenset(_ATTRIBUTE_NAMES.split())
_SAFE_VALUE = re.compile(r"[\w .%#-]*")


@dataclass(frozen=True)
class Piece:
    """A run of a text: plain text, a formula, or LaTeX source that no library renders."""

    kind: str  # "text", "math" or "source"
    text: str  # what a reader sees: the text, the formula as text, or the source
    latex: str = ""  # a formula's LaTeX without its delimiters (math only)


@cache
def _converter() -> LatexNodes2Text:
    from pylatexenc.latex2text import LatexNodes2Text

    return LatexNodes2Text(latex_context=_known(), math_mode="text")


@cache
def _known() -> LatexContextDb:
    """pylatexenc's macros, and a few font and script macros that abstracts use and it leaves out."""
    from pylatexenc.latex2text import MacroTextSpec, get_default_latex_context_db

    known = get_default_latex_context_db()
    extra = [MacroTextSpec(name, simplify_repl=form) for name, form in _EXTRA_MACROS.items()]
    extra += [MacroTextSpec(name, simplify_repl=citation_text) for name in CITATIONS]
    known.add_context_category("paperrec", macros=extra, prepend=True)
    return known


@cache
def _grammar() -> LatexContextDb:
    """pylatexenc's parser's macros, with the arguments of the extra ones."""
    from pylatexenc.latexwalker import get_default_latex_context_db
    from pylatexenc.macrospec import MacroSpec

    grammar = get_default_latex_context_db()
    macros = [MacroSpec(name, "{") for name in _EXTRA_MACROS] + [MacroSpec(name, ARGUMENTS) for name in CITATIONS]
    grammar.add_context_category("paperrec", macros=macros, prepend=True)
    return grammar


def _renderable(node: Any) -> bool:
    """True when pylatexenc knows every macro and environment in the node."""
    from pylatexenc import latexwalker as lw

    if node is None:
        return True
    if isinstance(node, lw.LatexMacroNode):
        if _known().get_macro_spec(node.macroname) is None:
            return False
        arguments = node.nodeargd.argnlist if node.nodeargd is not None else []
        return all(_renderable(a) for a in arguments)
    if isinstance(node, lw.LatexEnvironmentNode) and _known().get_environment_spec(node.environmentname) is None:
        return False
    return all(_renderable(child) for child in getattr(node, "nodelist", None) or [])


def _as_text(node: Any) -> str | None:
    """The node as text by pylatexenc, None when it cannot (a macro missing its arguments, say)."""
    try:
        return _converter().nodelist_to_text([node])
    except Exception:  # pylatexenc raises what its handlers raise (IndexError, KeyError, ...)
        return None


def _parse(source: str) -> list[Any] | None:
    from pylatexenc import latexwalker as lw

    try:
        nodes = lw.LatexWalker(source, latex_context=_grammar(), tolerant_parsing=False).get_latex_nodes()[0]
    except (lw.LatexWalkerError, RecursionError):  # a formula nested thousands deep (a feed's) stays its source
        return None
    return nodes if "".join(n.latex_verbatim() for n in nodes) == source else None


def _render(island: str) -> list[Piece]:
    """One stretch of LaTeX (a formula, a macro with its arguments, a group) as pieces."""
    from pylatexenc import latexwalker as lw

    nodes = _parse(_BARE.sub(r"\\\1", island))
    if nodes is None:
        return [Piece("source", island)]
    out: list[Piece] = []
    i = 0
    while i < len(nodes):
        node, i = nodes[i], i + 1
        if isinstance(node, lw.LatexCharsNode):
            out.append(Piece("text", node.chars))
            continue
        verbatim = node.latex_verbatim()
        rendered = _as_text(node) if _renderable(node) else None
        if rendered is None:
            while isinstance(node, lw.LatexMacroNode) and i < len(nodes) and isinstance(nodes[i], lw.LatexGroupNode):
                verbatim, i = verbatim + nodes[i].latex_verbatim(), i + 1  # \unknown{its}{arguments}, whole
            out.append(Piece("source", verbatim))
        elif isinstance(node, lw.LatexMathNode):
            inner = "".join(n.latex_verbatim() for n in node.nodelist)
            out.append(Piece("math", rendered.strip(), inner.strip()))
        else:
            out.append(Piece("text", rendered))
    return out


@lru_cache(maxsize=4096)
def pieces(text: str) -> tuple[Piece, ...]:
    """The text cut into plain text, formulas and unrendered source, in order.

    Only the stretches that look like LaTeX are parsed (pylatexenc reads a long text slowly); the rest stays as it is.
    """
    out: list[Piece] = []
    at = 0
    if "\\" in text or "$" in text:
        for found in _ISLAND.finditer(text):
            out.append(Piece("text", text[at : found.start()]))
            out.extend(_render(found.group()))
            at = found.end()
    out.append(Piece("text", text[at:]))
    merged: list[Piece] = []
    for piece in out:
        if merged and piece.kind == merged[-1].kind == "text":
            merged[-1] = Piece("text", merged[-1].text + piece.text)
        elif piece.text or piece.kind != "text":
            merged.append(piece)
    return tuple(merged)


def to_text(text: str) -> str:
    """The text with its LaTeX rendered as text (source kept where nothing renders it)."""
    return "".join(p.text for p in pieces(text))


def mathml(latex: str) -> Markup | None:
    """A formula as MathML by latex2mathml, rebuilt from allowed tags and attributes only; None when it cannot be."""
    import xml.etree.ElementTree as ET

    from latex2mathml.converter import convert

    try:
        root = ET.fromstring(convert(latex))
    except Exception:  # latex2mathml raises its own error types for each malformed formula
        return None
    for element in root.iter():
        element.tag = str(element.tag).rpartition("}")[2]
        if element.tag not in _MATHML_TAGS:
            return None
        for name, value in element.attrib.items():
            if name not in _MATHML_ATTRIBUTES or not _SAFE_VALUE.fullmatch(value):
                return None
    return Markup(ET.tostring(root, encoding="unicode"))  # ElementTree escapes every text and attribute value


def to_html(text: str, math: bool = False) -> Markup:
    """The text as escaped HTML: rendered LaTeX as text, formulas as MathML when `math`, unrendered source in <code>."""
    parts: list[Markup] = []
    for piece in pieces(text):
        if piece.kind == "source":
            parts.append(Markup("<code>%s</code>") % piece.text)
        elif piece.kind == "math" and math and (formula := mathml(piece.latex)) is not None:
            parts.append(formula)
        else:
            parts.append(escape(piece.text))
    return Markup("").join(parts)
