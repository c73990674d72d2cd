"""arXiv's category taxonomy as shipped: loaded from the package's data file, and every category a profile sets is
checked against it with a one-line error that names the unknown code and its closest match."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender.cli import app
from recommender.profile import change_profile, load_profile, set_categories
from recommender.schema import UsageError
from recommender.sources.arxiv import check_category
from recommender.sources.taxonomy import arxiv_categories, category_groups, validate_categories

REPO = Path(__file__).resolve().parent.parent


def test_the_taxonomy_holds_every_archive_and_the_categories_in_use():
    known = arxiv_categories()
    assert len(known) > 150
    for code in ("cs.CV", "cs.LG", "stat.ML", "eess.IV", "math.AG", "hep-th", "quant-ph", "gr-qc", "astro-ph.GA"):
        assert code in known, code
    for code in ("cond-mat.str-el", "physics.optics", "q-bio.NC", "q-fin.ST", "econ.EM", "nlin.CD", "math-ph"):
        assert code in known, code
    assert known["cs.CV"].name == "Computer Vision and Pattern Recognition"
    assert known["cs.CV"].group == "Computer Science"
    assert known["math"].group == "Mathematics"  # an archive on its own is its whole listing
    groups = [group for group, _ in category_groups()]
    assert groups[0] == "Computer Science" and len(groups) == len(set(groups)) == 8
    assert sum(len(members) for _, members in category_groups()) == len(known)
    assert arxiv_categories() is known  # read once


def test_the_data_file_ships_with_the_package():
    build = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "data/*.tsv" in build["tool"]["setuptools"]["package-data"]["recommender"]
    assert (REPO / "recommender" / "data" / "arxiv_categories.tsv").is_file()


def test_the_example_profiles_follow_known_categories():
    for path in (REPO / "profiles").glob("*.toml"):
        assert validate_categories(load_profile(path).categories), path


def test_validate_strips_and_drops_repeats():
    assert validate_categories([" cs.CV", "cs.LG", "cs.CV"]) == ("cs.CV", "cs.LG")
    assert validate_categories([]) == ()


def test_a_category_in_another_case_is_read_as_arxiv_spells_it():
    assert validate_categories(["cs.cv", "CS.CV", "Hep-Th", "physics.OPTICS", "math"]) == (
        "cs.CV",
        "hep-th",
        "physics.optics",
        "math",
    )
    assert check_category(" cs.lg ") == "cs.LG" and check_category("STAT.ML") == "stat.ML"


def test_a_profile_files_category_in_another_case_is_read_as_arxiv_spells_it(tmp_path):
    # The store's folders, the page's category picker and its Fetch today key by arXiv's spelling: 'cs.cv' in a
    # hand-written file would miss them all while the morning run ranks it.
    path = tmp_path / "lower.toml"
    path.write_text('schema = 1\nname = "lower"\ncategories = ["cs.cv", "STAT.ML", "cs.CVV"]\n')
    assert load_profile(path).categories == ("cs.CV", "stat.ML", "cs.CVV")  # a typo stays, for the run to name


@pytest.mark.parametrize(
    ("given", "hint"),
    [
        ("cs.CVV", "did you mean cs.CV (Computer Vision and Pattern Recognition)?"),
        ("hep_th", "did you mean hep-th"),
        ("vision", "see the list at https://arxiv.org/category_taxonomy"),
        ("neuroscience", "; 'neuroscience' is a category of bioRxiv: follow it as the source biorxiv:neuroscience"),
        ("Cell Biology", "is a category of bioRxiv: follow it as the source biorxiv:cell_biology"),
        ("pathology", "is a category of bioRxiv and medRxiv: follow it as the source biorxiv:pathology or medrxiv:"),
    ],
)
def test_an_unknown_category_is_one_line_with_the_closest_match(given, hint):
    with pytest.raises(UsageError) as caught:
        validate_categories(["cs.LG", given])
    message = str(caught.value)
    assert message.startswith(f"unknown arXiv category {given!r}") and hint in message and "\n" not in message


def test_set_categories_refuses_a_typo_and_undo_restores_what_the_file_held(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('schema = 1\nname = "p"\ncategories = ["cs.XX"]  # mine\n')
    with pytest.raises(UsageError, match=r"cs\.XX"):
        set_categories(["cs.XX"])
    edited = change_profile(path, [set_categories(["cs.CV"])])
    assert load_profile(path).categories == ("cs.CV",)
    change_profile(path, edited.undo())  # the file's own old value comes back, checked or not
    assert load_profile(path).categories == ("cs.XX",) and "# mine" in path.read_text()


def test_a_profile_with_a_typo_fails_alone_in_the_morning_run(home, fake_model, fake_arxiv):
    folder = home / "profiles"
    folder.mkdir(parents=True)
    liked = '[[liked]]\nid = "2001.00001"\ntitle = "Image super-resolution"\nabstract = "super-resolution"\n'
    (folder / "good.toml").write_text(f'schema = 1\nname = "good"\ncategories = ["cs.CV"]\n{liked}')
    (folder / "typo.toml").write_text(f'schema = 1\nname = "typo"\ncategories = ["cs.CVV"]\n{liked}')
    (folder / "lower.toml").write_text(f'schema = 1\nname = "lower"\ncategories = ["cs.cv"]\n{liked}')
    result = CliRunner().invoke(app, ["today", "-f", "json"])
    assert result.exit_code == 1 and {p["profile"] for p in json.loads(result.stdout)} == {"good", "lower"}
    [error] = [line for line in result.stderr.splitlines() if line.startswith("paperrec: error:")]
    assert "'typo'" in error and "typo.toml" in error and "did you mean cs.CV" in error
    assert {asked[0] for asked in fake_arxiv.asked} == {("cs.CV",)}  # the typo was never fetched; cs.cv is cs.CV
