"""Start `paperrec serve` with the tests' fake embedder, for tests that need a real server (no model is loaded).

Run: python -m tests.web_launcher PORT [SERVE OPTIONS...]   (PAPERREC_HOME says whose data it serves)
PAPERREC_TEST_NOFILE=N lowers the server's limit on open files to N (soft and hard), and
PAPERREC_TEST_HEADER_TIMEOUT=SECONDS shortens how long a connection may take to send its request headers.
PAPERREC_TEST_ARXIV=http://127.0.0.1:PORT points arXiv there (a closed port: arXiv unreachable), and
PAPERREC_TEST_ENCODE_DELAY=SECONDS makes each batch the fake model encodes take that long (a job a page can follow).
PAPERREC_TEST_ENCODE_LOG=FILE appends each text the fake model encodes to FILE, one line each (a test counts them).
"""

from __future__ import annotations

import os
import sys
import time


def main() -> None:
    """Patch the embedder with FakeEmbedder, then run `paperrec serve --port PORT` until terminated."""
    import faulthandler
    import signal

    import recommender.embed

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # a test that waited too long asks where each thread is
    from tests.conftest import FakeEmbedder

    delay = float(os.environ.get("PAPERREC_TEST_ENCODE_DELAY") or 0)
    log = os.environ.get("PAPERREC_TEST_ENCODE_LOG")

    class Slow(FakeEmbedder):
        def encode(self, texts):
            time.sleep(delay)
            if log:
                with open(log, "a", encoding="utf-8") as handle:
                    handle.writelines(" ".join(text.split()) + "\n" for text in texts)
            return super().encode(texts)

    def factory(model: str = "", **kwargs) -> FakeEmbedder:
        return Slow(f"{model}|torch-float32|256")

    recommender.embed.Embedder = factory
    arxiv_url = os.environ.get("PAPERREC_TEST_ARXIV")
    if arxiv_url:
        import recommender.sources.arxiv as arxiv

        arxiv.RSS_URL, arxiv.API_URL = f"{arxiv_url}/rss", f"{arxiv_url}/api/query"
    files = os.environ.get("PAPERREC_TEST_NOFILE")
    if files:
        import resource

        resource.setrlimit(resource.RLIMIT_NOFILE, (int(files), int(files)))
    header_timeout = os.environ.get("PAPERREC_TEST_HEADER_TIMEOUT")
    if header_timeout:
        import recommender.web.serving as serving

        serving.HEADER_TIMEOUT = float(header_timeout)
    from recommender.cli import run

    # the command a user runs, with the fake model
    sys.argv = ["paperrec", "serve", "--port", sys.argv[1], *sys.argv[2:]]
    run()


if __name__ == "__main__":
    main()
