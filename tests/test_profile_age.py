"""How old a profile's likes are: dates from arXiv ids (else the day added), the thresholds and the sentence."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from recommender.profile import LikesAge, Profile, ProfilePaper, likes_age
from recommender.profile.age import OLD_AFTER_DAYS, RECENT_DAYS, RECENT_ENOUGH, paper_date
from recommender.schema import Paper

ADDED = date(2025, 6, 1)


def _like(raw_id: str | None, added: date = ADDED, title: str = "A paper") -> ProfilePaper:
    return ProfilePaper(paper=Paper.make(title=title, raw_id=raw_id), added=added)


def _profile(*likes: ProfilePaper) -> Profile:
    return Profile(name="p", liked=likes)


def _added_on(*days: date) -> Profile:
    """Likes known by title only, so each one's date is the day it was added."""
    return _profile(*(_like(None, day, f"paper {i}") for i, day in enumerate(days)))


@pytest.mark.parametrize(
    ("raw_id", "expected"),
    [
        ("2104.10642", date(2021, 4, 1)),
        ("2104.10642v3", date(2021, 4, 1)),
        ("0704.0001", date(2007, 4, 1)),
        ("1912.01234", date(2019, 12, 1)),
        ("hep-th/9901001", date(1999, 1, 1)),
        ("math.AG/0101001", date(2001, 1, 1)),
        ("cs/9105012", date(1991, 5, 1)),
    ],
)
def test_a_like_is_dated_by_the_month_its_arxiv_id_names(raw_id, expected):
    assert paper_date(_like(raw_id)) == expected


def test_a_like_without_an_arxiv_id_is_dated_by_when_it_was_added():
    entry = _like(None, date(2019, 3, 14))
    assert entry.paper.arxiv_id.startswith("t:")
    assert paper_date(entry) == date(2019, 3, 14)


def test_likes_age_counts_median_recent_and_years():
    day = date(2026, 3, 1)
    profile = _profile(_like("2011.00001"), _like("2106.00002"), _like("2203.00003"), _like(None, date(2026, 2, 1)))
    age = likes_age(profile, day)
    assert age == LikesAge(
        median_days=((day - date(2021, 6, 1)).days + (day - date(2022, 3, 1)).days) / 2,
        recent=1,
        first_year=2020,
        last_year=2022,  # the recent like of 2026 is not among the old likes' years
        likes=4,
    )
    assert age.is_old


def test_no_likes_are_never_old():
    age = likes_age(Profile(name="p", interests=("super-resolution",)), date(2026, 1, 1))
    assert age == LikesAge(median_days=None, recent=0, first_year=None, last_year=None, likes=0)
    assert not age.is_old


def test_old_starts_just_past_the_threshold():
    day = date(2026, 1, 1)
    at = likes_age(_added_on(day - timedelta(days=OLD_AFTER_DAYS)), day)
    past = likes_age(_added_on(day - timedelta(days=OLD_AFTER_DAYS + 1)), day)
    assert at.median_days == OLD_AFTER_DAYS and not at.is_old
    assert past.median_days == OLD_AFTER_DAYS + 1 and past.is_old


def test_recent_likes_end_at_the_recent_window_and_include_papers_after_the_day():
    day = date(2026, 1, 1)
    edge = likes_age(_added_on(day - timedelta(days=RECENT_DAYS)), day)
    outside = likes_age(_added_on(day - timedelta(days=RECENT_DAYS + 1)), day)
    later = likes_age(_added_on(day + timedelta(days=30)), day)
    assert (edge.recent, outside.recent, later.recent) == (1, 0, 1)


def test_enough_recent_likes_make_old_likes_not_old():
    day = date(2026, 1, 1)
    old = [date(2018, 1, 1) + timedelta(days=i) for i in range(2 * RECENT_ENOUGH)]
    recent = [day - timedelta(days=i) for i in range(RECENT_ENOUGH)]
    almost = likes_age(_added_on(*old, *recent[:-1]), day)
    enough = likes_age(_added_on(*old, *recent), day)
    assert almost.median_days > OLD_AFTER_DAYS and almost.recent == RECENT_ENOUGH - 1 and almost.is_old
    assert enough.median_days > OLD_AFTER_DAYS and enough.recent == RECENT_ENOUGH and not enough.is_old


def test_the_sentence_names_the_years():
    span = likes_age(_profile(_like("2001.00001"), _like("2206.00002")), date(2026, 1, 1))
    one = likes_age(_profile(_like("2001.00001"), _like("2006.00002")), date(2026, 1, 1))
    tail = "; today's picks follow them, so like 5 recent papers (Sharpen offers some) to bring them up to date"
    assert span.notice() == "your likes are from 2020\N{EN DASH}2022" + tail
    assert one.notice() == "your likes are from 2020" + tail
    assert one.sentence() == "Your likes are from 2020" + tail + "."  # as the page and the digest show it


def test_the_sentence_counts_the_recent_likes_still_wanted():
    # Only likes make the sentence go away, so it asks for likes, and says how many more once some are in.
    day = date(2026, 1, 1)
    old = [date(2018, 1, 1) + timedelta(days=i) for i in range(2 * RECENT_ENOUGH)]
    recent = [day - timedelta(days=i) for i in range(RECENT_ENOUGH - 1)]
    three = likes_age(_added_on(*old, *recent[:3]), day)
    four = likes_age(_added_on(*old, *recent), day)
    assert three.notice().startswith("your likes are from 2018; ")  # the years of the old likes, not this year's
    assert "so like 2 more recent papers (Sharpen offers some) to bring" in three.notice()
    assert "so like 1 more recent paper (Sharpen offers some) to bring" in four.notice()
    where = four.notice("paperrec like RANK")
    assert where.endswith("so like 1 more recent paper (paperrec like RANK) to bring them up to date")
