"""The HTML digest: hostile text rendered inert, links right, key sentence marked, nothing external, no script."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import html5lib
import numpy as np
import pytest

from recommender.digest import code_urls, pick_view, positions, render_html, split_abstract, standing
from recommender.profile import new_profile
from recommender.run import Section, rank_listing
from recommender.schema import Because, Paper, Pick, safe_url

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "'><iframe src=javascript:alert(1)>",
    "[x](javascript:alert(1))",
    '<a href="javascript:alert(1)">click</a>',
    "</div></body><style>*{display:none}</style>",
    "<!-- comment --> &amp; &lt;b&gt;",
    "nul \x00 bell \x07 esc \x1b[31m red \x1b]8;;http://evil\x1b\\ link",
    "bidi \u202eevil\u202c end \u2028 sep",
    "lone \ud800 surrogate",
    "{{ 7*7 }} {% raw %} ${x}",
]
ALLOWED_TAGS = {"html", "head", "body", "meta", "title", "style", "div", "h1", "h2", "p", "span", "a", "mark", "code"}
ALLOWED_ATTRIBUTES = {"lang", "charset", "name", "content", "class", "id", "href", "data-id", "style", "aria-hidden"}
ALLOWED_ATTRIBUTES |= {"role", "aria-level", "aria-label"}  # what a screen reader reads: never a link or a script
VOTE = "http://127.0.0.1:8787/vote/"


def _tree(html: str):
    return html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)


def _section(texts: list[str], *, scores: np.ndarray | None = None) -> Section:
    papers = [
        Paper.make(
            text,
            f"2101.{i:05d}",
            f"First sentence of {text} is here. The key sentence about {text} matters most! Code at "
            f"https://github.com/o/r{i}. Then javascript:alert(1) and https://evil.example.com/x.",
            [text, "Ada Lovelace"],
            ["cs.CV", text],
            date(2021, 1, 2),
        )
        for i, text in enumerate(texts)
    ]
    picks = [
        Pick(
            paper,
            1.0 - i / 100,
            i + 1,
            "prof",
            Because(
                papers=(("2001.00001", f"liked {text}", 0.81), ("t:abc", text, 0.5)),
                terms=(text, "super resolution"),
                sentence=f"The key sentence about {text} matters most!",
            ),
        )
        for i, (paper, text) in enumerate(zip(papers, texts, strict=True))
    ]
    profile = new_profile("<b>prof</b> " + texts[0])

    class _Scored:  # only what the digest reads
        def __init__(self, values):
            self.scores = values
            self.listed = len(values) + 5  # the day listed papers that were not candidates too
            self.notices = ()

        def __len__(self):
            return len(self.scores)

    values = scores if scores is not None else np.linspace(1, -1, 200)
    return Section(path=Path("prof.toml"), profile=profile, picks=picks, scored=_Scored(values))


def _vote(section, pick, action):
    return f"{VOTE}{pick.paper.arxiv_id}-{action}"


def test_hostile_text_is_inert():
    html = render_html([_section(HOSTILE)], vote_link=_vote, now=datetime(2021, 1, 2, 7, 0))
    root = _tree(html)
    for element in root.iter():
        assert element.tag in ALLOWED_TAGS, element.tag
        assert set(element.attrib) <= ALLOWED_ATTRIBUTES, element.attrib
        if "style" in element.attrib:
            assert element.attrib["style"].startswith("width: ") and element.attrib["style"].endswith("%")
    assert root.find(".//script") is None
    assert len(root.findall(".//style")) == 1
    hrefs = [a.attrib["href"] for a in root.iter("a")]
    for href in hrefs:
        assert href.startswith(("https://arxiv.org/abs/", "https://arxiv.org/pdf/", "https://github.com/o/r", VOTE)), (
            href
        )
        assert href.startswith(("https://", "http://127.0.0.1"))
    text = "".join(root.itertext())
    for hostile in ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>'):
        assert hostile in text  # shown as text, not as markup
    assert not any(ch in text for ch in "\x00\x07\x1b\u202e\u2028\ud800")


def test_links_and_key_sentence():
    section = _section(["Super resolution with transformers", "Diffusion models"])
    root = _tree(render_html([section], vote_link=_vote))
    picks = [d for d in root.iter("div") if d.attrib.get("class") == "pick"]
    assert [p.attrib["data-id"] for p in picks] == ["2101.00000", "2101.00001"]
    first = picks[0]
    links = {"".join(a.itertext()): a.attrib["href"] for a in first.iter("a")}
    assert links["Super resolution with transformers"] == "https://arxiv.org/abs/2101.00000"
    assert links["abstract"] == "https://arxiv.org/abs/2101.00000"  # the email links the abstract, not carries it
    assert links["PDF"] == "https://arxiv.org/pdf/2101.00000"
    assert links["code"] == "https://github.com/o/r0"
    assert links["👍 like"] == VOTE + "2101.00000-like"
    assert links["👎 not interested"] == VOTE + "2101.00000-dislike"
    assert links["liked Super resolution with transformers"] == "https://arxiv.org/abs/2001.00001"
    marks = list(first.iter("mark"))
    assert [m.text for m in marks] == ["The key sentence about Super resolution with transformers matters most!"]
    assert "First sentence of" not in "".join(first.itertext()) and first.find(".//details") is None
    match = next(d for d in first.iter("div") if d.attrib.get("class") == "match")
    assert "".join(match.itertext()) == "#1 of the day's 205 papers"  # no calibrated match here: no raw score


def _card(html: str, arxiv_id: str):
    return next(d for d in _tree(html).iter("div") if d.attrib.get("data-id") == arxiv_id)


def test_a_card_is_a_head_with_votes_beside_the_title_then_one_line_each():
    root = _tree(render_html([_section(["Super resolution with transformers"])], vote_link=_vote))
    card = next(d for d in root.iter("div") if d.attrib.get("class") == "pick")
    parts = [child.attrib.get("class") for child in card]
    assert parts == ["head", "match", "because", "key", "facts"]
    head = card[0]
    assert [c.attrib.get("class") for c in head] == ["heading", "votes"]
    facts = [t for t in card[4].itertext() if t.strip() not in ("", "·")]
    assert facts == [
        "Super resolution with transformers, Ada Lovelace",
        "2021-01-02",
        "cs.CV, Super resolution with transformers",
        "abstract",
        "PDF",
        "code",
    ]
    assert card[4][0].attrib["class"] == "authors"  # no separator before the first fact
    assert (head[0].attrib["role"], head[0].attrib["aria-level"]) == ("heading", "3")  # under its section's h2
    for link in head[1].iter("a"):  # the emoji is hidden from screen readers, the word says what the button does
        emoji, word = link[0], link[0].tail.strip()
        assert emoji.attrib == {"aria-hidden": "true"} and word in ("like", "not interested")
        assert link.attrib["aria-label"] == f"{word} Super resolution with transformers"  # not a list of "like"s


def test_latex_in_the_email_is_text_never_mathml():
    section = _section([r"\textbf{Fast} $\times$4 SR with \foo{x}"])
    html = render_html([section], vote_link=_vote)
    card = _card(html, "2101.00000")
    title = next(a for a in card.iter("a") if a.attrib.get("class") == "title")
    assert "".join(title.itertext()) == "Fast \N{MULTIPLICATION SIGN}4 SR with \\foo{x}"
    assert [c.text for c in title.iter("code")] == ["\\foo{x}"]
    assert "<math" not in html and "MathML" not in html


def test_no_vote_links_without_vote_link():
    root = _tree(render_html([_section(["A paper title here"])]))
    assert not [a for a in root.iter("a") if "👍" in (a.text or "")]


def test_code_urls_only_code_hosts_and_safe_url():
    paper = Paper.make(
        "t",
        "2101.00001",
        "See https://github.com/a/b. And https://gitlab.com/c/d, https://evil.com/x "
        'and https://github.com/x"onmouseover=alert(1) javascript:alert(1)',
    )
    assert code_urls(paper) == ("https://github.com/a/b", "https://gitlab.com/c/d")
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("data:text/html,x") is None
    assert safe_url("https://x.org/a b") == "https://x.org/a%20b"  # encoded, so it cannot end the attribute
    assert safe_url("https://arxiv.org/abs/1") == "https://arxiv.org/abs/1"


def test_standing_reads_like_a_person_would():
    scores = np.array([3.0, 2.0, 1.0, 0.0] * 25)
    place = standing(scores, 3.0, total=120)
    assert place.position == 1 and place.total == 120 and place.label == "#1 of the day's 120 papers"
    low = standing(scores, 0.0)
    assert low.position == 76 and low.total == 100
    assert standing(None, 1.0) is None
    assert standing(np.array([0.5]), 0.5).label == "the day's only paper"
    assert positions(np.array([0.1, 0.9, 0.5, 0.9])).tolist() == [4, 1, 3, 1]


def test_split_abstract_missing_sentence():
    assert split_abstract("One. Two.", "Three.") == ("One. Two.", "", "")
    assert split_abstract("One sentence. Two <b>sentence</b>.", "Two <b>sentence</b>.") == (
        "One sentence. ",
        "Two <b>sentence</b>.",
        "",
    )


def test_pick_view_without_because():
    view = pick_view(Pick(Paper.make("Title only", "t:0123456789ab"), 0.3, 1, "p"))
    assert view.url is None and view.pdf_url is None and view.match == "" and view.abstract == ("", "", "")


def test_digest_of_a_real_run(fake_model, example_listing):
    from recommender.embed import open_embedder

    run = rank_listing(
        __import__("recommender").read_listing(example_listing),
        [str(Path(__file__).parent.parent / "profiles" / "super-resolution.toml")],
        open_embedder(),
        top=5,
    )
    html = render_html(run.sections, title="Today")
    root = _tree(html)
    picks = [d for d in root.iter("div") if d.attrib.get("class") == "pick"]
    assert len(picks) == 5
    assert root.find(".//title").text == "Today"
    assert all(p.find(".//mark") is not None for p in picks)
    text = "".join(root.itertext())
    assert "5 picks from 59 papers" in text and "of the day's 59 papers" in text and "% match" in text
    assert "http://" not in html.replace("http://127.0.0.1", "")  # no plain-http request anywhere
    assert "src=" not in html and "@import" not in html and "url(" not in html


@pytest.mark.parametrize("count", [0, 1])
def test_empty_and_single_sections(count):
    section = _section(["Only paper title"], scores=np.array([0.5]))
    if count == 0:
        section = Section(path=section.path, profile=section.profile, picks=[], scored=None)
    html = render_html([section])
    assert ("No picks today." in html) == (count == 0)


def test_the_example_days_code_links(example_listing):
    from recommender.sources import read_listing

    papers = {p.arxiv_id: p for p in read_listing(example_listing).papers}
    assert code_urls(papers["2104.10642"])[0] == "https://github.com/CS-GangXu/TMNet"


def test_the_calibrated_match_is_shown_with_the_standing():
    from recommender.digest import pick_view

    paper = Paper.make("A paper", "2104.00001", "An abstract that is long enough to be a sentence.")
    view = pick_view(Pick(paper=paper, score=0.1, rank=1, profile="p", match=0.24), np.array([1.5, 0.1, -0.3]), total=9)
    assert (view.match, view.bar, view.standing) == ("24% match", 25, "#2 of the day's 9 papers")  # one number
    bare = pick_view(Pick(paper=paper, score=1.5, rank=1, profile="p"))
    assert (bare.match, bare.bar, bare.standing) == ("", None, "")
    assert [(f.text, f.url) for f in bare.facts] == [  # no authors, date or categories: only the links
        ("abstract", "https://arxiv.org/abs/2104.00001"),
        ("PDF", "https://arxiv.org/pdf/2104.00001"),
    ]


def test_the_footer_says_when_match_will_show_for_a_profile_without_one():
    from dataclasses import replace

    section = _section(["Super resolution", "Video"])  # its picks carry no match: a profile of few likes
    foot = " ".join(p.text or "" for p in _tree(render_html([section])).iter("p") if p.attrib.get("class") == "foot")
    assert "shows once a profile has 5 liked papers" in foot and "20% match" not in foot
    matched = replace(section, picks=tuple(replace(pick, match=0.2) for pick in section.picks))
    foot = " ".join(p.text or "" for p in _tree(render_html([matched])).iter("p") if p.attrib.get("class") == "foot")
    assert "20% match" in foot and "shows once" not in foot


def test_the_footer_says_nothing_of_match_without_picks_and_both_lines_for_a_mixed_digest():
    # No picks say nothing of how many likes a profile has: the footer must not say match waits for likes.
    from dataclasses import replace

    def foot(sections: list[Section]) -> str:
        root = _tree(render_html(sections))
        return " ".join(p.text or "" for p in root.iter("p") if p.attrib.get("class") == "foot")

    few = _section(["Super resolution", "Video"])
    empty = replace(few, picks=[])
    assert "shows once" not in foot([empty]) and "20% match" not in foot([empty])
    matched = replace(few, picks=tuple(replace(pick, match=0.2) for pick in few.picks))
    assert "shows once" not in foot([matched, empty])
    mixed = foot([matched, few])  # a profile of many likes and one of few: each reader finds the line for theirs
    assert "20% match" in mixed and "shows once a profile has 5 liked papers" in mixed


def test_on_the_page_formulas_are_mathml_and_the_abstract_is_behind_a_toggle():
    from recommender.digest import environment

    paper = Paper.make(r"Fast $\times$4 SR <script>x</script>", "2104.00001", r"We reach $\alpha$. The key \foo{y}.")
    view = pick_view(Pick(paper, 0.5, 1, "p", because=Because(sentence=r"The key \foo{y}."), match=0.3))
    template = environment().from_string('{% from "_pick.html" import pick %}{{ pick(v, page=page) }}')
    page = template.render(v=view, page=True)
    card = _card(page, "2104.00001")
    assert card.find(".//details/summary").text == "Abstract"
    assert "<math" in page and "&lt;script&gt;" in page and "<script" not in page
    assert [c.text for c in card.iter("code")] == [r"\foo{y}", r"\foo{y}"]  # the key sentence, and in the abstract
    assert "abstract" not in [a.text for a in card.iter("a")]  # the page has the abstract itself
    email = template.render(v=view, page=False)
    assert "<math" not in email and "<details" not in email and "\N{MULTIPLICATION SIGN}4" in email


def test_one_pick_from_one_paper_reads_in_the_singular():
    section = _section(["Only paper title"], scores=np.array([0.5]))
    section.scored.listed = 1
    text = " ".join(_tree(render_html([section])).find(".//p[@class='meta']").itertext())
    assert "1 pick from 1 paper" in text and "picks" not in text and "papers" not in text


def test_the_digest_says_when_a_profiles_likes_are_old():
    # A reader of the emailed digest sees neither stderr nor the page: the digest says it too, under the profile.
    from dataclasses import replace

    from recommender.profile import Profile, ProfilePaper
    from recommender.schema import Listing

    likes = tuple(ProfilePaper(Paper.make(f"Old paper {i}", f"17{i:02d}.{i:05d}"), date(2018, 1, 1)) for i in (5, 11))
    day = Listing(papers=(), date=date(2021, 4, 22))
    old = replace(_section(["A paper title here"]), profile=Profile(name="old", liked=likes), listing=day)
    root = _tree(render_html([old, _section(["Another title here"])]))
    (line,) = [p for p in root.iter("p") if "old-likes" in p.attrib.get("class", "").split()]  # only the old one
    assert line.text == (
        "Your likes are from 2017; today's picks follow them, "
        "so like 5 recent papers (Sharpen in paperrec serve offers some) to bring them up to date."
    )


def test_a_journal_pick_names_its_journal_on_the_card():
    """A feed or bioRxiv pick says where it appeared, after its date; an arXiv pick's line is as it was."""
    from datetime import date

    from recommender.digest import pick_view

    paper = Paper.make(
        "Cortical maps",
        "doi:10.1038/s41593-026-00001-x",
        "An abstract.",
        ["A. Ng"],
        date=date(2026, 12, 3),
        venue="Nature Neuroscience <b>",
    )
    view = pick_view(Pick(paper=paper, score=1.0, rank=1, profile="p"))
    assert [f.text for f in view.facts][:3] == ["A. Ng", "2026-12-03", "Nature Neuroscience <b>"]
    html = render_html([_section(["Super resolution"])])
    assert "Nature Neuroscience" not in html  # no venue, no fact
    bare = pick_view(Pick(paper=Paper.make("A paper", "2104.00001", "An abstract."), score=1.5, rank=1, profile="p"))
    assert [f.text for f in bare.facts] == ["abstract", "PDF"]


def test_the_digest_and_the_mail_say_when_a_liked_paper_is_retracted():
    from dataclasses import replace

    from recommender.mail import plain_text
    from recommender.profile import Profile, ProfilePaper

    liked = Paper.make("Piezo1 licenses chromatin looping in <i>S. cerevisiae</i>", "doi:10.1038/s41556-025-00777-7")
    notice = Paper.make(
        "Retraction Note: Piezo1 licenses chromatin looping in S. cerevisiae",
        "doi:10.1038/s41556-026-01004-4",
        links=["https://doi.org/10.1038/s41556-026-01004-4"],
    )
    section = _section(["A paper title here"])
    section.scored.notices = (notice,)
    section = replace(section, profile=Profile(name="bio", liked=(ProfilePaper(liked, date(2026, 12, 1)),)))
    (line,) = [p for p in _tree(render_html([section])).iter("p") if p.attrib.get("class") == "notice"]
    assert "".join(line.itertext()) == (
        "A notice on a paper you liked: Retraction Note: Piezo1 licenses chromatin looping in S. cerevisiae"
    )
    text = plain_text([section])
    assert text.startswith(
        "bio\n===\n\nA notice on a paper you liked: Retraction Note: Piezo1 licenses chromatin\n"
        "looping in S. cerevisiae\nhttps://doi.org/10.1038/s41556-026-01004-4\n\n"
    )


def test_a_retraction_of_a_generic_title_is_of_a_liked_paper_only_with_an_author_in_common():
    from dataclasses import replace

    from recommender.profile import Profile, ProfilePaper

    liked = Paper.make("Deep learning", "doi:10.1038/nature14539", authors=["Yann LeCun", "Yoshua Bengio"])
    review = Paper.make("A review", "doi:10.1234/review")  # no authors: a title this short names nothing alone
    section = _section(["A paper title here"])
    profile = Profile(
        name="bio", liked=(ProfilePaper(liked, date(2026, 12, 1)), ProfilePaper(review, date(2026, 12, 1)))
    )
    section = replace(section, profile=profile)
    others = Paper.make("Retraction: Deep learning", "doi:10.1234/r1", authors=["A. Smith"])
    untold = Paper.make("Retraction Note: A review", "doi:10.1234/r2")
    section.scored.notices = (others, untold)
    assert section.liked_retracted() == []
    assert "A notice on a paper you liked" not in render_html([section])
    theirs = Paper.make("Retraction Note: Deep learning", "doi:10.1234/r3", authors=["LeCun, Yann", "Y. Bengio"])
    section.scored.notices = (others, untold, theirs)
    assert section.liked_retracted() == [(theirs, liked)]
