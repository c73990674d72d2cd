"""What the web app holds between requests: each profile's ranked day (web/day.py), its votes, background jobs.

A day is scored once (model loaded lazily, in a background thread); a click edits the profile file through the
profile editor (locked, text kept), then re-scores the day with the refitted ranker, keeping what was decided.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
import traceback
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..paths import current_user, profiles_dir
from ..profile import Profile, change_profile, likes_age, load_profile, rate, undo
from ..schema import Listing, NotFound, Paper, PaperrecError, printable
from ..seen import ProfileKeys
from .day import Action, Day, last_ranked_day, stored_day

if TYPE_CHECKING:
    from ..embed import CachedEmbedder
    from ..signing import Vote
    from ..sources.store import StoredDay

LEXICAL_TERMS = 15
PICKED_DAYS = 4  # picked days kept in memory (each holds its scored listing)


@dataclass
class Settings:
    """How the server runs: address, token, which profiles, and the pieces tests replace (embedder, fetch)."""

    host: str = "127.0.0.1"
    port: int = 8787
    token: str | None = None  # None: no token asked for (tests, and --no-token on loopback)
    token_path: Path | None = None  # the file the token is kept in, named on the 401 page
    allow_hosts: tuple[str, ...] = ()  # further Host names this server answers to
    profiles: tuple[str, ...] = ()  # names or .toml paths; empty: every profile in the profiles directory
    embedder: Callable[[], CachedEmbedder] | None = None  # default: open_embedder()
    fetch: Callable[..., tuple[Listing, str | None]] | None = None  # default: arXiv (sources.arxiv.fetch_listing)
    # Seconds a page waits for a day being ranked before it says "ranking...", and for a vote's refit before it
    # shows the vote with the picks below it not yet re-ranked.
    page_wait: float = 0.25
    users: bool = False  # a lab: a login per user, each with their own files (web/lab.py)


class _Serialised:
    """An encoder that runs one batch at a time (the model is shared by the server's threads)."""

    def __init__(self, encoder: Any):
        self._encoder = encoder
        self._lock = threading.Lock()

    @property
    def cache_key(self) -> str:
        return self._encoder.cache_key

    def encode(self, texts: list[str]) -> Any:
        with self._lock:
            return self._encoder.encode(texts)


@dataclass
class Job:
    """A background task with a status line a page can show."""

    name: str
    status: str = "waiting"
    started: float = field(default_factory=time.time)
    finished: float | None = None
    error: str | None = None
    result: Any = None
    note: str | None = None  # a line the page shows beside the result: why it is what it is
    progress: tuple[str, str] | None = None  # (the status it was made under, e.g. "embedding 412 of 538")

    @property
    def running(self) -> bool:
        return self.finished is None

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def line(self) -> str:
        """The status, with the embedding progress made under it (a newer status drops it)."""
        if self.running and self.progress is not None and self.progress[0] == self.status:
            return f"{self.status} — {self.progress[1]}"
        return self.status


class Service:
    """The app's state: profiles, their days (ranked in background threads), and the jobs; safe across threads."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._base: CachedEmbedder | None = None
        self._local = threading.local()
        self.days: dict[Path, Day] = {}  # each profile's latest day
        self.picked: dict[tuple[Path, date], Day] = {}  # days picked on the page (catch-up, the day picker)
        self.loading: dict[Path | tuple[Path, date], Job] = {}
        self.jobs: dict[str, Job] = {}
        self.sharpen_votes: dict[Path, dict[str, Action]] = {}
        self._learned: dict[Path, tuple[weakref.ref[Any], dict[str, Any]]] = {}
        self.created: dict[Path, Any] = {}  # profiles made on the page: their import report (web.onboard.Created)
        self._pushers: dict[str | None, Any] = {}  # each lab user's Zotero sender (profile.zotero_push.PushWorker)

    # -- shared pieces ----------------------------------------------------------------------------------------------

    def send_pushes(self) -> None:
        """Start the thread that sends likes queued for Zotero, if some wait and none runs (once per lab user)."""
        from ..profile.zotero_push import PushWorker, has_pushes

        if not has_pushes():
            return
        with self._lock:
            worker = self._pushers.get(current_user())
            if worker is None or not worker.alive:
                worker = self._pushers[current_user()] = PushWorker()
                worker.start()

    def embedder(self) -> CachedEmbedder:
        """This thread's embedder: one model for all threads (loaded on first use, one batch at a time), and a
        connection to the embedding cache per thread (SQLite connections stay in the thread that opened them)."""
        mine = getattr(self._local, "embedder", None)
        if mine is not None:
            return mine
        with self._lock:
            if self._base is None:
                if self.settings.embedder is not None:
                    self._base = self.settings.embedder()
                else:
                    from ..embed import open_embedder

                    self._base = open_embedder(progress=False)
                if not isinstance(self._base.encoder, _Serialised):  # a lab's shared model is serialised already
                    self._base.encoder = _Serialised(self._base.encoder)
                self._base.on_progress = self._report
                self._local.embedder = self._base
                return self._base
            base = self._base
        from ..embed import CachedEmbedder, EmbeddingCache

        cache = EmbeddingCache(base.cache.path) if base.cache is not None else None
        mine = CachedEmbedder(base.encoder, cache, chunk_size=base.chunk_size, progress=False)
        mine.on_progress = self._report
        self._local.embedder = mine
        return mine

    def _report(self, done: int, total: int) -> None:
        """Embedding progress, onto the job this thread runs (a page's own thread runs none)."""
        job = getattr(self._local, "job", None)
        if job is not None:
            job.progress = (job.status, f"embedding {done} of {total}")

    def profile_paths(self) -> list[Path]:
        """The profile files served (an error when there is none)."""
        from ..run import profile_paths

        return profile_paths(list(self.settings.profiles))

    def profile_names(self) -> list[str]:
        """The file stems and names of the profiles served (none on a first start): a new profile needs another."""
        try:
            paths = self.profile_paths()
        except PaperrecError:
            return []
        names = []
        for path in paths:
            names.append(path.stem)
            with contextlib.suppress(PaperrecError):  # a broken file still holds its stem
                names.append(load_profile(path).name)
        return names

    def resolve(self, name: str) -> Path:
        """The served profile file of this name (or path)."""
        paths = self.profile_paths()
        for path in paths:  # by file first: another profile's broken file must not hide this one
            if name in (path.stem, str(path)):
                return path
        for path in paths:
            try:
                if load_profile(path).name == name:
                    return path
            except PaperrecError:
                continue
        raise NotFound(f"unknown profile {name!r}")

    # -- days -------------------------------------------------------------------------------------------------------

    def day(self, path: Path, wait: float | None = None, on: date | None = None) -> Day | None:
        """The profile's ranked day (its latest, or the stored day `on`); None while it is still being ranked (after
        waiting up to `wait` seconds)."""
        key = path if on is None else (path, on)
        with self._lock:
            day = self._held(path, on)
            job = self.loading.get(key)
            if day is None and (job is None or (not job.running and job.error is None)):
                name = f"rank {path.stem}" + (f" {on}" if on else "")
                job = self._start(name, lambda job: self._load(path, job, on))
                self.loading[key] = job
        if day is not None:
            return day
        deadline = time.monotonic() + (self.settings.page_wait if wait is None else wait)
        while job.running and time.monotonic() < deadline:
            time.sleep(0.01)
        if job.error is not None:
            with self._lock:
                if self.loading.get(key) is job:
                    del self.loading[key]  # the next page load tries again
            raise PaperrecError(job.error)
        with self._lock:
            return self._held(path, on)

    def follow_store(self, path: Path) -> None:
        """Let go of the profile's latest day when a newer one was stored since it was ranked (by a `paperrec today`
        from cron, say), so Today moves on to it; the day let go stays in reach as a picked day, votes and all."""
        held = self.days.get(path)
        if held is None:
            return
        stored = self.stored_days(path)
        if not stored or stored[0] <= held.day:
            return
        with self._lock:
            if self.days.get(path) is not held:
                return
            del self.days[path]
            self.loading.pop(path, None)
            self.picked[(path, held.day)] = held
            for old in list(self.picked)[:-PICKED_DAYS]:
                del self.picked[old]

    def _held(self, path: Path, on: date | None) -> Day | None:
        """The day in memory: the latest, or a picked one (the latest when it is that day)."""
        latest = self.days.get(path)
        if on is None or (latest is not None and latest.day == on):
            return latest
        return self.picked.get((path, on))

    def loading_status(self, path: Path, on: date | None = None) -> str:
        job = self.loading.get(path if on is None else (path, on))
        return job.line if job is not None else "waiting"

    def stored_days(self, path: Path) -> list[date]:
        """The days stored for any of the profile's sources (its categories and its `sources`), newest first."""
        from ..sources.store import stored_days

        keys = _store_keys(load_profile(path))
        return sorted({day for key in keys for day in stored_days(key)}, reverse=True)

    def unusable(self, path: Path, on: date) -> str:
        """A line on the profile's stored files of the day `on` when none of them gives a paper ("" when one does)."""
        from ..sources.store import day_path, read_day

        lines = []
        for key in _store_keys(load_profile(path)):
            try:
                listing = read_day(key, on)
            except (PaperrecError, OSError) as error:
                lines.append(f"The stored listing of {on} cannot be read: {error}.")
                continue
            if listing is not None and listing.papers:
                return ""
            if listing is not None:
                lines.append(f"The stored listing of {on} is empty: {day_path(key, on)}.")
        return " ".join(printable(" ".join(lines)).split())  # one line, whatever the error says

    def unseen_days(self, profile: ProfileKeys, stored: list[date], latest: date) -> list[date]:
        """The stored days (newest first) since the profile's first day, other than `latest`, on which it was shown
        nothing: what a week away left. A new profile is offered no backlog."""
        from ..run import seen_memory

        seen = seen_memory()
        try:
            shown = seen.days(profile)
        finally:
            seen.close()
        if not shown:
            return []
        first = min(shown)
        return [d for d in stored if d not in shown and d != latest and d > first]

    def job(self, name: str, path: Path | None = None, on: date | None = None) -> Job | None:
        """The background job a page shows: the fetch, or a profile's rank (of a day `on`), sharpen or backtest; None
        if never run."""
        if name == "fetch":
            return self.jobs.get("fetch")
        if name == "rank" and path is not None:
            return self.loading.get(path if on is None else (path, on))
        if name in ("sharpen", "backtest") and path is not None:
            return self.jobs.get(f"{name} {path}")
        raise PaperrecError("unknown job: use fetch, rank, sharpen or backtest with a profile")

    def _load(self, path: Path, job: Job, on: date | None = None) -> None:
        job.status = f"reading the stored {on}" if on else "reading the latest day"
        profile = load_profile(path)
        if on is not None:
            found = stored_day(profile, on)
            if found is None:
                raise NotFound(f"no stored {' '.join(profile.categories)} listing for {on}")
            listing, source, lines = found
            job.status = f"ranking {len(listing)} papers ({source})"
            # a GET only reads: votes remember
            picked = Day(path, listing, source, self.embedder, remember=False, sources=lines)
            with self._lock:
                self.picked[(path, on)] = picked
                for old in list(self.picked)[:-PICKED_DAYS]:  # a few picked days stay in memory, not every one
                    del self.picked[old]
            return
        found = stored_day(profile) or last_ranked_day(path)
        if found is None:
            job.result = None
            categories = " ".join(profile.categories) or "cs.CV"
            raise PaperrecError(
                f"no day to show for {profile.name!r} yet: use 'Fetch today' (or 'paperrec fetch {categories}')"
            )
        listing, source, lines = found
        job.status = f"ranking {len(listing)} papers ({source}); the first day of a new listing loads the model"
        day = Day(path, listing, source, self.embedder, sources=lines)
        with self._lock:
            self.days[path] = day
        self._prefetch(day)

    def set_day(self, path: Path, listing: Listing, source: str, sources: tuple[str, ...] = ()) -> None:
        """Replace the profile's day (after a fetch); `sources`: a line per source when it has several."""
        day = Day(path, listing, source, self.embedder, sources=sources)
        with self._lock:
            self.days[path] = day
            self.loading.pop(path, None)
        self._prefetch(day)

    def _prefetch(self, day: Day) -> None:
        """Day.prefetch in a background thread; a failure there only means a later click embeds what it needs."""

        def work() -> None:
            with contextlib.suppress(Exception):
                day.prefetch()

        # a thread runs in the starter's context: a lab user's work stays in that user's files
        context = contextvars.copy_context()
        threading.Thread(target=context.run, args=(work,), name="paperrec prefetch", daemon=True).start()

    def forget_day(self, path: Path) -> None:
        """Drop the profile's day, so the next page ranks the stored listings of its new categories."""
        with self._lock:
            self.days.pop(path, None)
            self.loading.pop(path, None)

    def rescore_if_loaded(self, path: Path) -> None:
        """After a profile edit made elsewhere (profile page, vote link), re-rank its days that are in memory."""
        with self._lock:
            days = [self.days.get(path)] + [d for (p, _), d in self.picked.items() if p == path]
        for day in days:
            if day is not None:
                day.rescore()

    # -- votes given outside the Today list (Sharpen, the email's vote links) ---------------------------------------

    def vote_profile(self, vote: Vote) -> Path:
        """The profile file a vote link names; NotFound, naming no file, when there is no such profile."""
        if vote.by_path and current_user() is not None:  # a lab user's links name profiles: a path could be anyone's
            raise NotFound("this vote link names a file, and a lab's links name profiles")
        if vote.by_path:  # a link sent before links named profiles: it carries the file's path
            path = Path(vote.profile)
            if not path.is_file():
                raise NotFound("the profile this vote link was made for no longer exists")
        else:
            try:
                served = {p.stem: p for p in self.profile_paths()}
            except PaperrecError:  # no profile at all: the message would name the folder
                served = {}
            # a served profile first (serve -p may name files anywhere), then the profiles folder, as -p NAME does
            path = served.get(vote.profile) or profiles_dir() / f"{vote.profile}.toml"
            if not path.is_file() and served:
                # a file renamed since the email went out keeps its profile's name
                with contextlib.suppress(PaperrecError):
                    path = self.resolve(vote.profile)
            if not path.is_file():
                name = vote.profile
                raise NotFound(f"this vote link is for the profile {name!r}, which is not here (renamed or deleted?)")
        load_profile(path)
        return path.resolve()

    def find_paper(self, path: Path, arxiv_id: str) -> Paper:
        """A paper by id: from the profile's day, its Sharpen batch, the stored listings or the last ranking."""
        from ..history import stored_papers

        day = self.days.get(path)
        if day is not None:
            found = next((p for p in day.listing.papers if p.arxiv_id == arxiv_id), None)
            if found is not None:
                return found
        job = self.jobs.get(f"sharpen {path}")
        if job is not None and isinstance(job.result, list):
            found = next((p for p in job.result if p.arxiv_id == arxiv_id), None)
            if found is not None:
                return found
        found = stored_papers([arxiv_id]).get(arxiv_id)
        if found is not None and found.arxiv_id != arxiv_id:  # a paper that links the id: that id's own paper wins
            from ..state import stored_paper

            found = stored_paper(arxiv_id)
        if found is not None:
            return found
        last = last_ranked_day(path)
        found = next((p for p in last[0].papers if p.arxiv_id == arxiv_id), None) if last else None
        if found is None:
            raise PaperrecError(f"paper {arxiv_id} is in no stored listing: fetch its day first")
        return found

    def rate_elsewhere(self, path: Path, arxiv_id: str, section: str, paper: Paper | None = None) -> None:
        """Like or dislike a paper that may not be on the Today list; the day is re-ranked if it is in memory."""
        day = self.days.get(path)
        if day is not None and any(p.arxiv_id == arxiv_id for p in day.listing.papers):
            day.rate(arxiv_id, section)
            return
        paper = paper or self.find_paper(path, arxiv_id)
        edited = change_profile(path, [rate([paper], section)])
        self.sharpen_votes.setdefault(path, {})[arxiv_id] = Action(arxiv_id, section, edited, paper.ids)
        self.rescore_if_loaded(path)

    def undo_elsewhere(self, path: Path, arxiv_id: str) -> None:
        """Take back a vote given on the Sharpen page."""
        action = self.sharpen_votes.get(path, {}).pop(arxiv_id, None)
        if action is None:
            raise PaperrecError(f"no vote on {arxiv_id} to take back")
        undo(action.edited)
        self.rescore_if_loaded(path)

    # -- what the model learned -------------------------------------------------------------------------------------

    def learned(self, path: Path) -> dict[str, Any] | None:
        """The day's ranker's heaviest terms and the profile's interest clusters; None until the day is ranked."""
        day = self.day(path, wait=0.0)
        if day is None or day.scored is None or day.scored.inputs is None:
            return None
        inputs = day.scored.inputs
        cached = self._learned.get(path)
        # By the scoring itself, not its id(): a freed scoring's address is reused, and likes_old may differ.
        if cached is not None and cached[0]() is inputs:
            return cached[1]
        result = {"positive": [], "negative": [], "clusters": clusters_of(day.profile, inputs.profile)}
        # Only a strategy with a stored model (the hybrid) keeps term weights to show; the page says which it is.
        result |= {"strategy": day.scored.strategy.name, "keeps_terms": day.scored.strategy.fit is not None}
        result["likes_old"] = inputs.likes_old  # the hybrid's lexical half then only raises
        ranker = inputs.ranker
        if ranker is not None:
            import numpy as np

            coef, terms = ranker.lexical_coef_, ranker.space_.terms
            order = np.argsort(-coef)
            result["positive"] = [(terms[j], float(coef[j])) for j in order[:LEXICAL_TERMS] if coef[j] > 0]
            result["negative"] = [(terms[j], float(coef[j])) for j in order[::-1][:LEXICAL_TERMS] if coef[j] < 0]
        self._learned[path] = (weakref.ref(inputs), result)
        return result

    # -- jobs -------------------------------------------------------------------------------------------------------

    def _start(self, name: str, work: Callable[[Job], Any]) -> Job:
        job = Job(name)

        def target() -> None:
            self._local.job = job  # this thread is the job's own: its embedding progress is the job's
            try:
                job.result = work(job)
                job.status = "done"
            except PaperrecError as error:
                job.error = str(error)
                job.status = f"failed: {error}"
            except Exception as error:  # a thread has no one to raise to: the page shows it as one line
                traceback.print_exc()
                job.error = f"internal error: {type(error).__name__}: {error}"
                job.status = f"failed: {job.error}"
            finally:
                job.finished = time.time()

        context = contextvars.copy_context()  # a lab user's job works on that user's files
        threading.Thread(target=context.run, args=(target,), name=f"paperrec {name}", daemon=True).start()
        return job

    def start_job(self, key: str, work: Callable[[Job], Any]) -> Job:
        """Start a background job under a key unless one is running there; returns the job."""
        with self._lock:
            current = self.jobs.get(key)
            if current is not None and current.running:
                return current
            job = self._start(key, work)
            self.jobs[key] = job
            return job

    def fetch_today(self) -> Job:
        """The morning run (run_today) in the background; each profile's day is replaced by what it fetched."""
        return self.start_job("fetch", self._fetch)

    def _fetch(self, job: Job) -> str:
        from ..run import run_today, seen_memory

        fetch = self.settings.fetch
        if fetch is None:
            from ..sources.arxiv import fetch_listing as fetch
        fetched: dict[tuple[str, ...], Listing] = {}

        def recording(categories, day=None, **kwargs):
            job.status = f"fetching {', '.join(categories)}"
            listing, notice = fetch(categories, day, **kwargs)
            fetched[tuple(categories)] = listing
            job.status = f"ranking {len(listing)} papers of {', '.join(categories)} (loads the model for new papers)"
            return listing, notice

        job.status = "starting"
        embedder = self.embedder()
        seen = seen_memory()
        try:
            run = run_today(list(self.settings.profiles), embedder, seen=seen, fetch=recording)
        finally:
            seen.close()
        run.remember()
        for section in run.sections:
            listing = fetched.get(tuple(section.profile.categories))
            if section.profile.sources:  # other sources than arXiv: the day is the merged listing the run ranked
                listing = section.listing
            if listing is not None:
                self.set_day(section.path, listing, f"fetched {datetime.now():%H:%M}", section.sources)
        notices = "; ".join(run.notices)
        done = f"{len(run.sections)} profiles ranked" + (f" ({notices})" if notices else "")
        problems = [*(f.line() for f in run.failures), *run.unsaved]  # unsaved: picks the seen-memory could not keep
        if problems:  # the same lines as `paperrec today` prints, so the page says what the terminal says
            lines = "; ".join(problems)
            raise PaperrecError(f"{done}; {lines}" if run.sections else lines)
        return done

    def backtest(self, path: Path) -> Job:
        """The profile's backtest on stored listings, in the background."""
        from ..evaluate import backtest_profile

        def work(job: Job) -> dict[str, Any]:
            job.status = "backtesting on the stored listings"
            strategy = load_profile(path).strategy
            return backtest_profile(path, self.embedder(), strategies=[strategy])

        return self.start_job(f"backtest {path}", work)

    def sharpen(self, path: Path, k: int = 10) -> Job:
        """Papers to rate that would teach the profile's model most, from the stored listings, in the background."""

        def work(job: Job) -> list[Paper]:
            from ..rank.active import suggest_ratings

            job.status = "reading the stored listings"
            profile = load_profile(path)
            days = pool_days(profile)
            pool = stored_pool(days)
            if not pool:
                raise PaperrecError("no stored listings to choose from: use 'Fetch today' first")
            age = likes_age(profile, days[0].day)  # old for the newest stored day
            if age.is_old:  # old likes: ask about the recent papers nearest them, so votes bridge the years between
                job.note = (
                    f"Your likes are from {age.years}: these are the recent papers closest to them"
                    " that the model is least sure about. Rating them bridges the gap."
                )
            job.status = f"scoring {len(pool)} stored papers"
            return suggest_ratings(profile, pool, self.embedder(), k=k, bridge=age.is_old, day=days[0].day)

        return self.start_job(f"sharpen {path}", work)


def clusters_of(profile: Profile, vectors: Any) -> list[dict[str, Any]]:
    """The profile's interest clusters, each described by its closest liked titles and how many likes it holds."""
    import numpy as np

    from ..rank.strategies import interest_centroids

    liked = vectors.liked  # (n_liked + n_interests, dim): interests come last
    if len(liked) == 0:
        return []
    centroids = interest_centroids(liked)  # (k, dim)
    titles = [p.paper.title for p in profile.liked] + [f"interest: {i}" for i in profile.interests]
    sims = liked @ centroids.T  # (n, k)
    nearest = sims.argmax(axis=1)
    result = []
    for c in range(len(centroids)):
        members = np.flatnonzero(nearest == c)
        best = members[np.argsort(-sims[members, c])][:3]
        result.append({"size": len(members), "titles": [titles[i] for i in best]})
    return sorted(result, key=lambda r: -r["size"])


def _store_keys(profile: Profile) -> list[str]:
    """The store's keys of the profile's sources: its categories, and its `sources` as specs."""
    from ..sources.registry import profile_specs

    try:
        return [str(spec) for spec in profile_specs(profile.categories, profile.sources)]
    except PaperrecError:  # a source the registry refuses: the page says so where it ranks; no days from it
        return list(profile.categories)


def pool_days(profile: Profile, max_files: int = 20) -> list[StoredDay]:
    """The most recent stored listings (the profile's categories first, else any), newest day first."""
    from ..sources.store import iter_stored

    days = sorted(iter_stored(), key=lambda s: (s.day, s.category), reverse=True)
    keys = {key.removeprefix("arxiv:") for key in _store_keys(profile)}  # the store names arXiv's days 'cs.CV'
    own = [s for s in days if s.category in keys]
    return (own or days)[:max_files]


def stored_pool(days: Sequence[StoredDay], max_papers: int = 3000) -> list[Paper]:
    """Papers of these stored listings (pool_days: the newest first), each once, at most max_papers."""
    pool: dict[str, Paper] = {}
    for stored in days:
        for paper in stored.read().papers:
            pool.setdefault(paper.arxiv_id, paper)
        if len(pool) >= max_papers:
            break
    return list(pool.values())[:max_papers]
