"""How soon the page shows that "Fetch today" failed: from the job's end in the server to the failure on the page.

A real server (uvicorn, in a thread of this process, so the job's end time is read from the service itself) serves a
temporary home: the super-resolution profile and the example cs.CV day. arXiv is pointed at a closed port on
127.0.0.1, so each fetch fails as it does with no network (the client's own retry and spacing: about 3 s). Headless
Chromium opens Today and presses "Fetch today". A script injected into every page the browser loads notes, in
sessionStorage, the first moment #fetch-status says "failed". The figure is that moment minus the job's end.
Target: at most 1 s. Both clocks are this machine's wall clock.

Run: .venv/bin/python benchmarks/fetch_failure.py [--repeat 5]
Writes benchmarks/results/fetch_failure.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
# Runs before the page's own scripts, in every document of the session, whatever the page's CSP says.
WATCH = """
(function () {
  function check() {
    var line = document.getElementById("fetch-status");
    if (line && line.textContent.indexOf("failed") >= 0 && !sessionStorage.getItem("shown")) {
      sessionStorage.setItem("shown", String(Date.now()));
    }
  }
  new MutationObserver(check).observe(document, {subtree: true, childList: true, characterData: true});
  document.addEventListener("DOMContentLoaded", check);
})();
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def setup(home: Path) -> None:
    """One profile and one stored day, as the web tests have them."""
    from recommender.sources import read_listing, to_jsonl

    (home / "profiles").mkdir(parents=True)
    (home / "profiles" / "sr.toml").write_text((REPO / "profiles" / "super-resolution.toml").read_text())
    folder = home / "listings" / "cs.CV"
    folder.mkdir(parents=True)
    day = read_listing(REPO / "examples" / "arxiv-cs.CV-2021-04-22.md")
    (folder / "2021-04-22.jsonl").write_text(to_jsonl(day.papers))


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH})
    return driver


def wait(condition, what: str, limit: float = 120.0):
    """Poll until the condition gives something (a benchmark may give up; a test would not)."""
    deadline = time.monotonic() + limit
    while not (found := condition()):
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what}")
        time.sleep(0.02)
    return found


def measure(repeat: int) -> dict[str, object]:
    import uvicorn
    from selenium.webdriver.common.by import By

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        os.environ["PAPERREC_HOME"] = str(home)
        setup(home)
        import recommender.sources.arxiv as arxiv
        from recommender.embed import CachedEmbedder
        from recommender.web import Settings, create_app
        from tests.conftest import FakeEmbedder

        closed = f"http://127.0.0.1:{free_port()}"
        arxiv.RSS_URL, arxiv.API_URL = f"{closed}/rss", f"{closed}/api/query"
        port = free_port()
        settings = Settings(port=port, embedder=lambda: CachedEmbedder(FakeEmbedder(), None, progress=False))
        app = create_app(settings)
        service = app.state.service
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        threading.Thread(target=server.run, name="uvicorn", daemon=True).start()
        wait(lambda: server.started, "the server")
        url = f"http://127.0.0.1:{port}/?profile=sr"
        driver = browser()
        shown_after = []
        try:
            driver.get(url)
            wait(lambda: driver.find_elements(By.CSS_SELECTOR, "div.pick"), "the day")
            for _ in range(repeat):
                driver.execute_script("sessionStorage.removeItem('shown')")
                driver.find_element(By.CSS_SELECTOR, "form[action='/fetch'] button").click()
                shown = wait(lambda: driver.execute_script("return sessionStorage.getItem('shown')"), "the failure")
                job = service.jobs["fetch"]
                assert job.error is not None and job.finished is not None, job.status
                shown_after.append(int(shown) / 1000 - job.finished)
                wait(lambda: not driver.find_elements(By.CSS_SELECTOR, "[data-job]"), "the reload")
            line = driver.find_element(By.ID, "fetch-status").text
        finally:
            driver.quit()
            server.should_exit = True
    return {
        "failure_shown_after_s_median": round(statistics.median(shown_after), 3),
        "failure_shown_after_s_max": round(max(shown_after), 3),
        "runs": [round(x, 3) for x in shown_after],
        "target_s": 1.0,
        "line": line,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    figures = measure(args.repeat)
    for key, value in figures.items():
        print(f"{key:30} {value}")
    out = REPO / "benchmarks" / "results" / "fetch_failure.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
