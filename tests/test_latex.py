"""LaTeX in titles and abstracts: rendered as text or MathML, unknown macros kept as source, hostile text inert."""

from __future__ import annotations

import html5lib
import pytest

from recommender.latex import mathml, pieces, to_html, to_text

MATHML = {"math", "mrow", "mi", "mn", "mo", "mtext", "msup", "msub", "msubsup", "mfrac", "msqrt", "mover", "munder"}
HOSTILE = [
    "$<script>alert(1)</script>$",
    r"$\text{<script>alert(1)</script>}$",
    r"$\text{<img src=x onerror=alert(1)>}$",
    r"$\href{javascript:alert(1)}{x}$",
    r"\href{javascript:alert(1)}{click}",
    r"\url{javascript:alert(1)}",
    r"$x$<script>alert(1)</script>$y$",
    r"\textbf{<script>alert(1)</script>}",
    r"\foo{<script>alert(1)</script>}",
    r'$\mathrm{"onmouseover=alert(1)}$',
    r"$\color{red} x$",
    r"$\style{color:red}{x}$",
    r"$\begin{array}<script>$",
    "</code><script>alert(1)</script>",
    r"\begin{itemize}\item <b>x</b>\end{itemize}",
    r"$$ \\ $ \{ $",
    r"$\text{&lt;script&gt;alert(1)&lt;/script&gt;}$",
    r"$a &amp; b$ \text{&#60;script&#62;}",
]


def _elements(html: str) -> list:
    fragment = html5lib.parseFragment(html, treebuilder="etree", namespaceHTMLElements=False)
    found = [e for e in fragment.iter() if isinstance(e.tag, str)][1:]  # the fragment's own root first
    for element in found:
        element.tag = element.tag.rpartition("}")[2]  # html5lib puts <math> in the MathML namespace
    return found


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (r"\textbf{Fast} video SR", "Fast video SR"),
        (r"A $\times$4 upscaler", "A \N{MULTIPLICATION SIGN}4 upscaler"),
        (r"$\alpha$-blending", "\N{GREEK SMALL LETTER ALPHA}-blending"),
        (r"Error of $\mathcal{O}(n^2)$", "Error of \N{MATHEMATICAL SCRIPT CAPITAL O}(n^2)"),
        (r"\emph{Efficient} {U}-Net", "Efficient U-Net"),
        (r"\texttt{DeepSeek-R1} in \textsc{Turbo}", "DeepSeek-R1 in Turbo"),
        (r"a 5% gain in R&D, $\epsilon$-greedy", "a 5% gain in R&D, \N{GREEK LUNATE EPSILON SYMBOL}-greedy"),
        ("costs $5 and no formula", "costs $5 and no formula"),
    ],
)
def test_simple_latex_reads_as_text(text, shown):
    assert to_text(text) == shown


def test_plain_text_is_left_exactly_as_it_is():
    text = "A {U}-Net -- with ~ spaces, 5% gains & <b>tags</b>"
    assert pieces(text) == ((pieces(text)[0]),) and to_text(text) == text
    assert to_html(text) == "A {U}-Net -- with ~ spaces, 5% gains &amp; &lt;b&gt;tags&lt;/b&gt;"
    assert pieces("") == ()


def test_what_no_library_renders_stays_as_its_source_in_code():
    found = pieces(r"We use \foo{bar}{baz} and $\unknownmacro x$ here")
    assert [(p.kind, p.text) for p in found] == [
        ("text", "We use "),
        ("source", r"\foo{bar}{baz}"),
        ("text", " and "),
        ("source", r"$\unknownmacro x$"),
        ("text", " here"),
    ]
    assert to_html(r"We use \foo{a<b}") == r"We use <code>\foo{a&lt;b}</code>"


def test_math_is_mathml_on_the_page_and_text_elsewhere():
    text = r"Rate $\alpha \times x^2$ wins"
    assert to_html(text) == "Rate \N{GREEK SMALL LETTER ALPHA}\N{MULTIPLICATION SIGN} x^2 wins"
    page = to_html(text, math=True)
    assert page.startswith("Rate <math") and page.endswith("</math> wins")
    tags = {e.tag for e in _elements(page)}
    assert tags <= MATHML and "msup" in tags
    assert "xmlns" not in page  # the page's HTML parser knows <math>; no namespace prefix leaks


def test_mathml_is_refused_when_the_library_emits_anything_outside_the_allowed_tags():
    assert mathml(r"\href{https://x.org}{x}") is None  # an href attribute
    assert mathml(r"\color{red} x") is None  # mathcolor: not needed to read a formula
    assert mathml("x_{") is None  # latex2mathml's own error
    assert mathml(r"\text{a<b}") is None  # not well-formed: refused
    assert mathml(r"\text{<b>bold</b>}") is None  # latex2mathml copies markup from \text: refused
    assert "<mo>&lt;</mo>" in mathml("p < 0.05")  # a comparison is a formula like any other


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("math", [False, True])
def test_hostile_latex_is_inert(text, math):
    html = str(to_html(text, math=math))
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    for element in _elements(html):
        assert element.tag == "code" or element.tag in MATHML, element.tag
        assert set(element.attrib) <= {"display", "stretchy", "mathvariant"}, element.attrib
    if "<script" in text and not math:
        assert "&lt;script" in html  # shown as text, never run (in MathML: one <mo>/<mi> per character)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (r"as in \cite{he2016deep}, we", "as in [he2016deep], we"),
        (r"methods \citep{a, b}.", "methods [a, b]."),
        (r"by \citet[p.~3]{smith2020} and \citealp*{jones}", "by [smith2020] and [jones]"),
        (r"\parencite{x} \textcite{y} \autocite{z}", "[x] [y] [z]"),
        (r"as \citep[see][p.~3]{a, b} and \parencite[cf.][]{c}", "as [a, b] and [c]"),  # both notes
    ],
)
def test_a_citation_reads_as_its_keys_in_brackets(text, shown):
    assert to_text(text) == shown
    assert "<cit.>" not in to_html(text) and "&lt;cit.&gt;" not in to_html(text)


@pytest.mark.parametrize(
    "text",
    [
        "Pricing at $5 or $10: a study",
        "Revenue grew from $1.2 billion to $3.4 billion.",
        "It costs $5 a run and $ 3 more",
        "between $5-$10 a month",
        "from $1,000/$5,000",
    ],
)
def test_dollar_amounts_are_prices_not_formulas(text):
    """pandoc's rule for a single-dollar formula: no space inside either dollar, no digit after the closing one."""
    assert to_text(text) == text
    assert "<math" not in str(to_html(text, True))


def test_a_formula_next_to_a_price_is_still_read():
    assert to_text(r"Sparse $\beta$-VAEs for $5") == "Sparse β-VAEs for $5"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            r"with $ k $ neighbours and $ \mathcal{O}(n \log n) $ time",
            "with k neighbours and \N{MATHEMATICAL SCRIPT CAPITAL O}(n log n) time",
        ),
        (r"$\alpha $-nets", "\u03b1-nets"),
        (r"$k$-NN and $\ell_1$ at m$^{2}$", "k-NN and \u2113_1 at m^2"),
    ],
)
def test_formulas_spaced_as_mathjax_allows_are_still_read(text, shown):
    assert to_text(text) == shown


def test_a_formula_ends_before_the_next_one_opens():
    # A formula never holds its own opener: an unclosed one is source, and a text of openers alone is read in one
    # pass, not once per opener (a feed's title of 40,000 of them took 20 s).
    assert [(p.kind, p.text) for p in pieces("where \\( a \\( b \\) and")] == [
        ("text", "where "),
        ("source", "\\("),
        ("text", " a "),
        ("math", "b"),
        ("text", " and"),
    ]
    assert [p.kind for p in pieces("x \\[ a \\\\[2pt] b \\] y")] == ["text", "math", "text"]  # a line break's \\[
    for opener in ("\\(", "\\["):
        assert to_text(opener * 20_000) == opener * 20_000


@pytest.mark.parametrize("text", ["$" + "{" * 3000 + "$", "$" + "\\(" * 2000 + "$", "\\[" + "\\frac{" * 2000 + "\\]"])
def test_latex_nested_past_the_parsers_depth_stays_its_source(text):
    # A feed's title can nest a formula thousands deep: the parser's recursion must not take the page or email down.
    assert to_text(text) == text
    assert "<math" not in to_html(text, True)
