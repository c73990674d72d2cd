"""python -m recommender: the paperrec command line."""

from .cli import run

run()
