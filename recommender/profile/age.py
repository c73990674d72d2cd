"""How old a profile's likes are on a given day: old likes teach a ranker their era's words, not their topic."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from datetime import date

from .model import Profile, ProfilePaper

OLD_AFTER_DAYS = 365  # likes whose median age is over this are old
RECENT_DAYS = 90  # a like dated this many days before the day, or less, is recent
RECENT_ENOUGH = 5  # this many recent likes and the likes are not old, whatever their median

_NEW_STYLE = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")  # 2104.10642: April 2021
_OLD_STYLE = re.compile(r"^[a-z][a-z\-]*(?:\.[A-Z]{2})?/(\d{2})(\d{2})\d{3}$")  # hep-th/9901001: January 1999
_FIRST_OLD_YEAR = 91  # old-style ids began in 1991: 91-99 are 19xx, the rest 20xx


@dataclass(frozen=True)
class LikesAge:
    """How old a profile's likes are relative to a day: their median age, how many are recent, the years they span."""

    median_days: float | None  # median age in days (negative: newer than the day); None without likes
    recent: int  # likes dated within RECENT_DAYS before the day, or after it
    first_year: int | None  # the years of the likes that are not recent (of all, when every like is recent)
    last_year: int | None
    likes: int

    @property
    def is_old(self) -> bool:
        """True when the likes are mostly over a year old and too few are recent to learn today's words from."""
        return self.median_days is not None and self.median_days > OLD_AFTER_DAYS and self.recent < RECENT_ENOUGH

    @property
    def years(self) -> str:
        """The years the likes come from: the first and the last joined by an en dash, or one year alone."""
        if self.first_year == self.last_year:
            return str(self.first_year)
        return f"{self.first_year}\N{EN DASH}{self.last_year}"

    def notice(self, where: str = "Sharpen offers some") -> str:
        """One sentence for the user: the years the likes come from, and how many recent likes bring the picks up to
        date (`where`: how to find them, in parentheses)."""
        # Only recent likes end the notice (a dislike does not), so it asks for likes and counts down to none.
        wanted = max(RECENT_ENOUGH - self.recent, 1)
        more = " more" if self.recent else ""
        papers = "paper" if wanted == 1 else "papers"
        return (
            f"your likes are from {self.years}; today's picks follow them, "
            f"so like {wanted}{more} recent {papers} ({where}) to bring them up to date"
        )

    def sentence(self, where: str = "Sharpen offers some") -> str:
        """The notice as a sentence of its own: capitalised, with its full stop."""
        notice = self.notice(where)
        return f"{notice[:1].upper()}{notice[1:]}."


def id_month(arxiv_id: str) -> date | None:
    """The first day of the month an arXiv id names (2104.10642: 2021-04-01), None for any other id."""
    found = _NEW_STYLE.match(arxiv_id)
    century = 2000
    if found is None:
        found = _OLD_STYLE.match(arxiv_id)
        if found is not None and int(found.group(1)) >= _FIRST_OLD_YEAR:
            century = 1900
    if found is None or not 1 <= int(found.group(2)) <= 12:
        return None
    return date(century + int(found.group(1)), int(found.group(2)), 1)


def paper_date(entry: ProfilePaper) -> date:
    """The month a paper's arXiv id names (its first day), else the day it was added to the profile."""
    return id_month(entry.paper.arxiv_id) or entry.added


def likes_age(profile: Profile, day: date) -> LikesAge:
    """How old the profile's liked papers are on `day`.

    Example: likes_age(load_profile(path), date.today()).is_old
    """
    dates = [paper_date(p) for p in profile.liked]
    if not dates:
        return LikesAge(median_days=None, recent=0, first_year=None, last_year=None, likes=0)
    ages = [(day - d).days for d in dates]
    # The sentence names the old likes' years: a few recent likes, asked for to bring the picks up to date, would
    # otherwise stretch "from 2020-2022" to "from 2020-2026" while it still says the likes are old.
    older = [d for d, age in zip(dates, ages, strict=True) if age > RECENT_DAYS] or dates
    return LikesAge(
        median_days=float(statistics.median(ages)),
        recent=sum(1 for age in ages if age <= RECENT_DAYS),
        first_year=min(older).year,
        last_year=max(older).year,
        likes=len(dates),
    )
