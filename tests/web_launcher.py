"""Start `paperrec serve` with the tests' fake embedder, for tests that need a real server (no model is loaded).

Run: python -m tests.web_launcher PORT   (PAPERREC_HOME says whose data it serves)
"""

from __future__ import annotations

import sys


def main() -> None:
    """Patch the embedder with FakeEmbedder, then serve on 127.0.0.1:PORT until terminated."""
    import recommender.embed
    from tests.conftest import FakeEmbedder

    def factory(model: str = "", **kwargs) -> FakeEmbedder:
        return FakeEmbedder(f"{model}|torch-float32|256")

    recommender.embed.Embedder = factory
    from recommender.web import serve

    serve(port=int(sys.argv[1]))


if __name__ == "__main__":
    main()
