"""How tall the triage cards and the emailed digest are on a phone, measured in Debian's headless Chromium.

Builds a temporary home from the example day (examples/) and the super-resolution profile, with the tests' fake
embedder (no model is loaded). Then:
  email: the 20-pick HTML digest with vote links, at 390 px wide: its full height;
  page: the Today page of `paperrec serve` at 390x844: each card's height with its abstract closed, the share of
        the 844 px screen the tallest one takes, and how many screen heights of scrolling the ten picks take (the
        issue's target: at most 5); the same page at 1280x900.
Screenshots go to benchmarks/results/screens-*.png. Heights are CSS pixels.

Run: .venv/bin/python benchmarks/screens.py [--picks 20]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
RESULTS = REPO / "benchmarks" / "results"
EXAMPLE = REPO / "examples" / "arxiv-cs.CV-2021-04-22.md"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PHONE = (390, 844)
DESKTOP = (1280, 900)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_home(home: Path) -> Path:
    """A home with the super-resolution profile and the example day stored as its latest cs.CV listing."""
    from recommender.sources import read_listing, to_jsonl

    profiles = home / "profiles"
    profiles.mkdir(parents=True)
    profile = profiles / "sr.toml"
    profile.write_text((REPO / "profiles" / "super-resolution.toml").read_text())
    folder = home / "listings" / "cs.CV"
    folder.mkdir(parents=True)
    (folder / "2021-04-22.jsonl").write_text(to_jsonl(read_listing(EXAMPLE).papers))
    return profile


def digest_html(profile: Path, picks: int) -> str:
    """The digest `today --email` would send for the example day, every pick with its key sentence."""
    import recommender.embed
    from recommender.digest import render_html
    from recommender.run import rank_listing
    from recommender.sources import read_listing
    from tests.conftest import FakeEmbedder

    recommender.embed.Embedder = lambda model="", **kwargs: FakeEmbedder(f"{model}|torch-float32|256")
    run = rank_listing(
        read_listing(EXAMPLE), [profile], recommender.embed.open_embedder(), top=picks, key_sentences=None
    )

    def vote(section, pick, action):
        return f"https://lab.example.org/vote/{pick.paper.arxiv_id}-{action}"

    return render_html(run.sections, vote_link=vote, now=datetime(2021, 4, 22, 7, 0))


def browser():
    """Headless Chromium through selenium, with no network of its own."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def resize(driver, width: int, height: int) -> None:
    """Set the viewport (not the window) to width x height."""
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


def page_height(driver) -> int:
    return int(driver.execute_script("return document.documentElement.scrollHeight"))


def card_heights(driver) -> list[float]:
    """Each card's height as drawn (abstracts closed: a <details> starts closed)."""
    script = "return Array.from(document.querySelectorAll('.pick')).map(p => p.getBoundingClientRect().height)"
    return [float(h) for h in driver.execute_script(script)]


def full_shot(driver, width: int, name: str) -> Path:
    """A screenshot of the whole page at `width`."""
    resize(driver, width, page_height(driver))
    path = RESULTS / name
    driver.save_screenshot(str(path))
    return path


def wait_until(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.1)


def measure_email(driver, html: str, folder: Path) -> int:
    page = folder / "digest.html"
    page.write_text(html, encoding="utf-8")
    resize(driver, PHONE[0], PHONE[1])
    driver.get(page.as_uri())
    height = page_height(driver)
    full_shot(driver, PHONE[0], "screens-email-phone.png")
    return height


def measure_page(driver, home: Path) -> tuple[list[float], list[float], float]:
    from tests.test_triage_browser import screens_of_scrolling  # the test's own measure, so both agree

    port = free_port()
    log = (home.parent / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.web_launcher", str(port), "--no-token"],
        cwd=REPO,
        env={**os.environ, "PAPERREC_HOME": str(home), "PYTHONPATH": str(REPO)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/status", timeout=2):
                return True
        except OSError:
            return False

    try:
        wait_until(up, "the server")
        resize(driver, *PHONE)
        driver.get(f"{url}/?profile=sr")
        wait_until(lambda: len(card_heights(driver)) >= 10, "the ranked day")
        phone = card_heights(driver)
        scrolling = screens_of_scrolling(driver, 10)
        driver.save_screenshot(str(RESULTS / "screens-today-phone.png"))
        full_shot(driver, PHONE[0], "screens-today-phone-full.png")
        resize(driver, *DESKTOP)
        desktop = card_heights(driver)
        driver.save_screenshot(str(RESULTS / "screens-today-desktop.png"))
        return phone, desktop, scrolling
    finally:
        server.terminate()  # ours, by its pid
        server.wait(10)
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--picks", type=int, default=20, help="picks in the emailed digest")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        os.environ["PAPERREC_HOME"] = str(home)
        profile = make_home(home)
        html = digest_html(profile, args.picks)
        driver = browser()
        try:
            email = measure_email(driver, html, Path(tmp))
            phone, desktop, scrolling = measure_page(driver, home)
        finally:
            driver.quit()
    screen = PHONE[1]
    print(f"email, {args.picks} picks at {PHONE[0]} px wide: {email} px ({email / screen:.1f} screens)")
    print(
        f"Today at {PHONE[0]}x{PHONE[1]}: cards {min(phone):.0f}-{max(phone):.0f} px, "
        f"median {statistics.median(phone):.0f} px; the tallest is {max(phone) / screen:.0%} of the screen"
    )
    print(f"Today at {PHONE[0]}x{PHONE[1]}: 10 picks take {scrolling:.1f} screen heights of scrolling (target 5)")
    print(f"Today at {DESKTOP[0]}x{DESKTOP[1]}: cards {min(desktop):.0f}-{max(desktop):.0f} px")
    print(f"screenshots: {RESULTS.relative_to(REPO)}/screens-*.png")


if __name__ == "__main__":
    main()
