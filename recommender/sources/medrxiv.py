"""medRxiv: one category's postings of a day, through the same details API as bioRxiv (see biorxiv.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from ..schema import Listing
from .biorxiv import MEDRXIV, fetch_server


def fetch_listing(keys: list[str], day: date | None = None, **options: Any) -> tuple[Listing, str | None]:
    """medRxiv's postings of `keys` (categories) on `day`. Example: fetch_listing(['epidemiology'])."""
    return fetch_server(MEDRXIV, keys, day, **options)
