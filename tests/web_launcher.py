"""Start `paperrec serve` with the tests' fake embedder, for tests that need a real server (no model is loaded).

Run: python -m tests.web_launcher PORT   (PAPERREC_HOME says whose data it serves)
"""

from __future__ import annotations

import sys


def main() -> None:
    """Patch the embedder with FakeEmbedder, then run `paperrec serve --port PORT` until terminated."""
    import recommender.embed
    from tests.conftest import FakeEmbedder

    def factory(model: str = "", **kwargs) -> FakeEmbedder:
        return FakeEmbedder(f"{model}|torch-float32|256")

    recommender.embed.Embedder = factory
    from recommender.cli import run

    sys.argv = ["paperrec", "serve", "--port", sys.argv[1]]  # the command a user runs, with the fake model
    run()


if __name__ == "__main__":
    main()
