"""The routes of `paperrec serve`: Today, Sharpen, Profile, History, the vote page, and the POST actions."""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..digest import anchor, environment, pick_view
from ..paths import current_user, profile_files
from ..profile import change_profile, load_profile, move, profile_file_warning, remove, set_categories, set_interests
from ..schema import NotFound, Paper, PaperrecError, Pick, UsageError, printable
from ..seen import profile_keys
from ..sources.registry import shown
from ..sources.taxonomy import category_groups
from . import onboard
from .security import (
    MAX_FORM,
    WAY_IN,
    Forbidden,
    Guard,
    TooLarge,
    TooSlow,
    allowed_hosts,
    capped,
    check_post,
    new_csrf_token,
)
from .service import Service, Settings

SECTIONS = {"like": "liked", "dislike": "disliked"}
PROFILE_ROWS = 50  # papers per page of a profile's list


@dataclass(frozen=True)
class Rows:
    """One page of a profile's list, after the search: its rows, how many matched, and which page of how many."""

    entries: list[Any]
    matched: int
    page: int
    pages: int


def profile_rows(entries: Sequence[Any], query: str, page_text: str | None) -> Rows:
    """The page asked for of the profile papers whose title, id or authors contain every word of the query."""
    words = query.lower().split()

    def text(entry: Any) -> str:
        paper = entry.paper
        return " ".join([paper.arxiv_id, paper.title, *paper.authors]).lower()

    found = [e for e in entries if all(w in text(e) for w in words)]
    try:
        page = int(page_text or 1)
    except ValueError:
        raise UsageError(f"page must be a number, not {page_text[:20]!r}") from None
    pages = max(1, -(-len(found) // PROFILE_ROWS))
    page = min(max(page, 1), pages)
    return Rows(found[(page - 1) * PROFILE_ROWS : page * PROFILE_ROWS], len(found), page, pages)


def _error_body(status: int, message: str, nonce: str, heading: str = "", link: str = "") -> bytes:
    page = environment().get_template("web/error.html")
    html = page.render(status=status, message=printable(message), nonce=nonce, heading=heading, link=link)
    return html.encode("utf-8")


def _way_in(settings: Settings) -> str:
    """What the 401 page says: where the token is."""
    if settings.token_path is not None:
        return (
            "Open the address that paperrec serve printed (it ends in ?token=...), "
            f"or add ?token= and the token kept in {settings.token_path} to this address once."
        )
    return WAY_IN


def create_app(settings: Settings, *, guard: bool = True) -> Starlette:
    """The web app for these settings (one Service, one CSRF token per app), wrapped in the Host/token guard (a lab
    puts its own guard around each user's app)."""
    service = Service(settings)
    csrf = new_csrf_token()
    environment().globals["arxiv_groups"] = category_groups  # the category picker's list, on any page

    def render(request: Request, name: str, code: int = 200, **context: Any) -> HTMLResponse:
        fetch = service.jobs.get("fetch")
        profiles = []
        try:
            paths = service.profile_paths()
        except PaperrecError:
            paths = []
        for path in paths:  # a broken profile stays in the menu, so the others can still be reached
            try:
                profiles.append((path, load_profile(path).name))
            except PaperrecError:
                profiles.append((path, f"{path.stem} (unreadable)"))
        running = fetch is not None and fetch.running
        context.setdefault("refresh", 2 if running else 0)  # without script; with it, the poll reloads sooner
        context["polling"] = context.get("polling") or running
        here = request.url.path if request.method == "GET" and not request.url.path.startswith("/vote") else "/"
        html = (
            environment()
            .get_template(name)
            .render(
                csrf=csrf,
                nonce=request.scope.get("state", {}).get("nonce", ""),
                fetch=fetch,
                profiles=profiles,
                page=name,
                here=here,
                lab_user=current_user(),
                root=request.scope.get("root_path", ""),
                **context,
            )
        )
        return HTMLResponse(html, status_code=code)

    def error(request: Request, status: int, message: str) -> HTMLResponse:
        return render(request, "web/error.html", code=status, status=status, message=printable(message))

    async def checked_form(request: Request) -> Any:
        """The POSTed form (no files, at most 1 MB), after the CSRF and origin checks."""
        if request.headers.get("content-type", "").startswith("multipart/"):
            raise PaperrecError("this form takes no files")  # refused before anything is spooled
        refusal = f"refused: a form of more than {MAX_FORM / 1e6:g} MB"
        form = await Request(request.scope, capped(request.receive, MAX_FORM, refusal)).form()
        check_post(request.headers, form, csrf)
        return form

    async def form_of(request: Request) -> dict[str, str]:
        """The POSTed form's text fields, after the CSRF and origin checks."""
        form = await checked_form(request)
        return {k: v for k, v in form.items() if isinstance(v, str)}

    def chosen(request: Request, name: str | None) -> Path:
        paths = service.profile_paths()
        if not name:
            for path in paths:  # the first that reads: a broken file must not hide the others behind its error
                with contextlib.suppress(PaperrecError):
                    load_profile(path)
                    return path
            return paths[0]
        return service.resolve(name)

    def picked_day(path: Path, text: str | None, stored: list[date] | None = None) -> date | None:
        """The day a page asks for (YYYY-MM-DD, one of the profile's stored days), or None for the latest.

        `stored`: the profile's stored days when the caller has them already (else read here)."""
        if not text:
            return None
        try:
            on = date.fromisoformat(text)
        except ValueError:
            raise UsageError(f"day must be a date like 2021-04-22, not {text[:20]!r}") from None
        if on not in (service.stored_days(path) if stored is None else stored):
            raise NotFound(f"no stored listing for {on}: pick one of the stored days")
        return on

    def back(path: Path, page: str = "/", fragment: str = "", **query: str) -> RedirectResponse:
        params = urlencode({"profile": path.stem, **{k: v for k, v in query.items() if v}})
        return RedirectResponse(f"{page}?{params}" + (f"#{fragment}" if fragment else ""), status_code=303)

    # -- pages ------------------------------------------------------------------------------------------------------

    async def today(request: Request) -> Response:
        try:
            path = await run_in_threadpool(chosen, request, request.query_params.get("profile"))
        except PaperrecError as error:
            if request.query_params.get("profile") or service.settings.profiles or profile_files():
                raise
            return new_page(request, "web/welcome.html", message=printable(str(error)))  # a first start: the way in
        text = request.query_params.get("day")
        stored = await run_in_threadpool(service.stored_days, path) if text else None  # read once, when needed
        on = picked_day(path, text, stored)
        if on is None:
            await run_in_threadpool(service.follow_store, path)
        try:
            day = await run_in_threadpool(service.day, path, None, on)
        except PaperrecError as error:
            if on is not None:
                raise
            days = await run_in_threadpool(service.stored_days, path)
            note = await run_in_threadpool(service.unusable, path, days[0]) if days else ""
            if days and not note:
                raise
            # nothing stored, or only files without a paper: the way to a day, not an error page without its button
            earlier = days[1] if len(days) > 1 else None  # an older stored day still reads: the way to it
            context = dict(message=printable(str(error)), note=note, earlier=earlier)
            return render(request, "web/no_day.html", path=path, **context)
        if day is None:
            status_line = service.loading_status(path, on)
            context = dict(status_line=status_line, refresh=1, polling=True, picked=on)
            return render(request, "web/loading.html", path=path, **context)
        await run_in_threadpool(day.refresh, service.settings.page_wait)  # a vote's refit: shown if done by then
        if stored is None:
            stored = await run_in_threadpool(service.stored_days, path)
        latest = service.days.get(path)
        latest_day = latest.day if latest else day.day
        keys = profile_keys(path, day.profile.name)
        catch_up = await run_in_threadpool(service.unseen_days, keys, stored, latest_day)
        picked = on if latest is None or latest.day != day.day else None  # forms say which day a vote is for
        context = dict(day=day, last=day.actions[-1] if day.actions else None, catch_up=catch_up, stored=stored)
        return render(request, "web/today.html", path=path, picked=picked, **context)

    async def sharpen_page(request: Request) -> Response:
        path = chosen(request, request.query_params.get("profile"))
        job = service.jobs.get(f"sharpen {path}")
        votes = service.sharpen_votes.setdefault(path, {})
        views = []
        if job is not None and not job.running and job.error is None:
            # A suggestion has no match to show (a Pick without one): it was chosen for the model's doubt, not scored.
            views = [(pick_view(Pick(p, 0.0, i, "")), votes.get(p.arxiv_id)) for i, p in enumerate(job.result, 1)]
        profile = load_profile(path)
        running = job is not None and job.running
        context = dict(job=job, views=views, profile=profile, polling=running, refresh=2 if running else 0)
        return render(request, "web/sharpen.html", path=path, **context)

    async def profile_page(request: Request) -> Response:
        path = chosen(request, request.query_params.get("profile"))
        profile = load_profile(path)
        query = request.query_params.get("q", "")[:200]
        liked = profile_rows(profile.liked, query, request.query_params.get("liked_page"))
        disliked = profile_rows(profile.disliked, query, request.query_params.get("disliked_page"))
        learned = await run_in_threadpool(service.learned, path)
        backtest = service.jobs.get(f"backtest {path}")
        running = backtest is not None and backtest.running
        context = dict(profile=profile, learned=learned, backtest=backtest, polling=running, query=query)
        context.update(sources=[shown(spec) for spec in profile.sources])  # others may see the page: no feed's token
        context.update(file_warning=profile_file_warning(profile, Path(path.name)))  # its name, not where it lives
        pages = {"liked": liked.page, "disliked": disliked.page}
        context.update(liked=liked, disliked=disliked, pages=pages, rows_per_page=PROFILE_ROWS)
        return render(request, "web/profile.html", path=path, refresh=2 if running else 0, **context)

    async def history_page(request: Request) -> Response:
        from ..history import profile_history

        path = chosen(request, request.query_params.get("profile"))
        query = request.query_params.get("q", "")[:200]
        history = await run_in_threadpool(profile_history, path, query)
        rows = history.found[:500]
        return render(request, "web/history.html", path=path, rows=rows, total=len(history.rows), query=query)

    def new_page(request: Request, name: str = "web/new.html", code: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("wanted", None)
        context.setdefault("problem", None)
        return render(request, name, code=code, formats=onboard.UPLOAD_FORMATS, **context)

    async def new_profile_page(request: Request) -> Response:
        return new_page(request)

    async def status(request: Request) -> Response:
        job = service.jobs.get("fetch")
        text = "idle" if job is None else job.status
        return Response(text, media_type="text/plain; charset=utf-8")

    async def job_status(request: Request) -> Response:
        """A job's status line for the page's poll; it only reads."""
        name = request.query_params.get("name", "")
        profile = request.query_params.get("profile")
        path = await run_in_threadpool(chosen, request, profile) if name != "fetch" else None
        picked = request.query_params.get("day")  # a picked day's check reads the profile and the store: not here
        on = await run_in_threadpool(picked_day, path, picked) if path is not None and picked else None
        job = service.job(name, path, on)
        if job is None:
            return JSONResponse({"line": "idle", "running": False, "failed": False})
        return JSONResponse({"line": job.line, "running": job.running, "failed": job.failed})

    # -- actions ----------------------------------------------------------------------------------------------------

    async def rate(request: Request) -> Response:
        fields = await form_of(request)
        section = SECTIONS.get(fields.get("action", ""))
        if section is None:
            raise PaperrecError("unknown action: use like or dislike")
        path = chosen(request, fields.get("profile"))
        arxiv_id = fields.get("id", "")
        if fields.get("from") == "sharpen":
            await run_in_threadpool(service.rate_elsewhere, path, arxiv_id, section)
            await run_in_threadpool(service.send_pushes)
            return back(path, "/sharpen", anchor(arxiv_id))
        on = await run_in_threadpool(picked_day, path, fields.get("day"))
        day = await run_in_threadpool(service.day, path, 30.0, on)
        if day is None:
            raise PaperrecError("the day is still being ranked; try again in a moment")
        await run_in_threadpool(day.rate, arxiv_id, section)
        # The vote is on file; its refit is shown if done in a moment, else on a later page, so the pick after it
        # is named from the picks the next page shows.
        await run_in_threadpool(lambda: day.settle(service.settings.page_wait, hold=True))
        await run_in_threadpool(service.send_pushes)  # the like goes to Zotero after this answer, in a thread
        return back(path, fragment=_next_anchor(day, arxiv_id), day=_iso(on))

    async def undo(request: Request) -> Response:
        fields = await form_of(request)
        path = chosen(request, fields.get("profile"))
        if fields.get("from") == "sharpen":
            await run_in_threadpool(service.undo_elsewhere, path, fields.get("id", ""))
            await run_in_threadpool(service.send_pushes)
            return back(path, "/sharpen", anchor(fields.get("id", "")))
        on = await run_in_threadpool(picked_day, path, fields.get("day"))
        day = await run_in_threadpool(service.day, path, 30.0, on)
        if day is None:
            raise PaperrecError("the day is still being ranked; try again in a moment")
        undone = await run_in_threadpool(day.undo, fields.get("id") or None)
        await run_in_threadpool(service.send_pushes)
        return back(path, fragment=anchor(undone) if undone else "", day=_iso(on))

    async def more(request: Request) -> Response:
        fields = await form_of(request)
        path = chosen(request, fields.get("profile"))
        on = await run_in_threadpool(picked_day, path, fields.get("day"))
        day = await run_in_threadpool(service.day, path, 30.0, on)
        if day is not None:
            await run_in_threadpool(day.more)
        slots = day.slots if day is not None else []
        return back(path, fragment=slots[-10].view.anchor if len(slots) > 10 else "", day=_iso(on))

    async def fetch(request: Request) -> Response:
        fields = await form_of(request)
        service.fetch_today()
        name = fields.get("profile")
        return RedirectResponse(f"/?{urlencode({'profile': name})}" if name else "/", status_code=303)

    async def start_sharpen(request: Request) -> Response:
        fields = await form_of(request)
        path = chosen(request, fields.get("profile"))
        service.sharpen(path)
        return back(path, "/sharpen")

    async def backtest(request: Request) -> Response:
        fields = await form_of(request)
        path = chosen(request, fields.get("profile"))
        service.backtest(path)
        return back(path, "/profile", "backtest")

    async def edit_paper(request: Request) -> Response:
        fields = await form_of(request)
        path = chosen(request, fields.get("profile"))
        arxiv_id, to = fields.get("id", ""), fields.get("to", "")
        if to in ("liked", "disliked"):
            await run_in_threadpool(change_profile, path, [move([arxiv_id], to)])
        elif to == "remove":
            edited = await run_in_threadpool(change_profile, path, [remove([arxiv_id])])
            if not edited.removed():
                raise PaperrecError(f"paper {arxiv_id} is not in the profile")
        else:
            raise PaperrecError("unknown change: use liked, disliked or remove")
        await run_in_threadpool(service.send_pushes)
        await run_in_threadpool(service.rescore_if_loaded, path)
        return back(path, "/profile")

    async def create(request: Request) -> Response:
        wanted, upload = await onboard.read_upload(request, csrf)
        taken = await run_in_threadpool(service.profile_names)
        try:
            source = (upload.filename or "library", upload.file) if upload is not None else None
            created = await run_in_threadpool(onboard.create_from_upload, wanted, source, taken)
        except PaperrecError as error:  # the form again, filled in as sent, with the reason above it
            return new_page(request, code=400, wanted=wanted, problem=printable(str(error)))
        finally:
            if upload is not None:
                await upload.close()
        service.created[created.path.resolve()] = created
        return back(created.path, "/new/done")  # a reload of the report does not post the upload again

    async def created_page(request: Request) -> Response:
        path = chosen(request, request.query_params.get("profile"))
        created = service.created.get(path)
        if created is None:
            return back(path, "/profile")
        return render(request, "web/created.html", path=path, created=created)

    async def categories(request: Request) -> Response:
        form = await checked_form(request)
        path = chosen(request, form.get("profile"))
        codes = [v for v in form.getlist("category") if isinstance(v, str) and v.strip()]
        edited = await run_in_threadpool(change_profile, path, [set_categories(codes)])
        if any(set(setting.before) != set(setting.after) for setting in edited.settings):
            service.forget_day(path)  # the shown day was of the old categories
        return back(path, "/profile", "categories")

    async def sources(request: Request) -> Response:
        from ..profile.changes import set_sources
        from ..sources.registry import unshown

        fields = await form_of(request)
        path = chosen(request, fields.get("profile"))
        lines = [line for line in fields.get("sources", "").splitlines() if line.strip()]
        wanted = unshown(lines, load_profile(path).sources)
        edited = await run_in_threadpool(change_profile, path, [set_sources(wanted)])
        if any(setting.before != setting.after for setting in edited.settings):
            service.forget_day(path)  # the shown day was of the old sources
        return back(path, "/profile", "sources")

    async def interests(request: Request) -> Response:
        fields = await form_of(request)
        path = chosen(request, fields.get("profile"))
        lines = [printable(line).strip() for line in fields.get("interests", "").splitlines()]
        wanted = [line for line in dict.fromkeys(lines) if line]
        await run_in_threadpool(change_profile, path, [set_interests(wanted)])
        await run_in_threadpool(service.rescore_if_loaded, path)
        return back(path, "/profile")

    # -- vote links from the email ----------------------------------------------------------------------------------

    def vote_of(token: str) -> tuple[Any, Path, Paper]:
        from ..signing import read_vote_token

        vote = read_vote_token(token)
        path = service.vote_profile(vote)
        return vote, path, service.find_paper(path, vote.arxiv_id)

    def vote_view(request: Request, vote: Any, path: Path, paper: Paper, *, done: bool) -> HTMLResponse:
        profile = load_profile(path)
        current = None if done else profile.section_of(paper.arxiv_id)
        current = current if current in ("liked", "disliked") else None  # a pending id is not a vote yet
        context = dict(vote=vote, paper=paper, profile=profile, path=path, current=current, done=done)
        context["user"] = current_user()  # a lab's links: whose profile the vote goes into
        return render(request, "web/vote.html", token=request.path_params["token"], **context)

    async def vote_page(request: Request) -> Response:
        vote, path, paper = await run_in_threadpool(vote_of, request.path_params["token"])
        return vote_view(request, vote, path, paper, done=False)

    async def vote_post(request: Request) -> Response:
        await form_of(request)  # a GET (a mail scanner's prefetch) never votes: only this confirmed POST does
        vote, path, paper = await run_in_threadpool(vote_of, request.path_params["token"])
        await run_in_threadpool(service.rate_elsewhere, path, paper.arxiv_id, SECTIONS[vote.action], paper)
        await run_in_threadpool(service.send_pushes)
        return vote_view(request, vote, path, paper, done=True)

    # -- errors -----------------------------------------------------------------------------------------------------

    async def on_forbidden(request: Request, exc: Exception) -> Response:
        return error(request, 403, str(exc))

    async def on_too_large(request: Request, exc: Exception) -> Response:
        return error(request, 413, str(exc))

    async def on_too_slow(request: Request, exc: Exception) -> Response:
        return error(request, 408, str(exc))

    async def on_disconnect(request: Request, exc: Exception) -> Response:
        return Response(status_code=400)  # the client left mid-request: nobody reads this, and nothing is logged

    def unreadable(request: Request) -> tuple[Path, str] | None:
        """The profile a page names, and why its file cannot be read; None when it reads or none is named."""
        name = request.query_params.get("profile")
        if request.method != "GET" or not name:
            return None
        try:
            path = service.resolve(name)
        except PaperrecError:
            return None
        try:
            load_profile(path)
        except PaperrecError as problem:
            return path, " ".join(printable(str(problem)).split())
        return None

    async def on_paperrec_error(request: Request, exc: Exception) -> Response:
        broken = await run_in_threadpool(unreadable, request)
        if broken is not None:  # a page of its own, with the menu to the other profiles, not a bare 400
            path, message = broken
            return render(request, "web/unreadable.html", code=400, path=path, message=message)
        return error(request, 404 if isinstance(exc, NotFound) else 400, str(exc))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = {404: "no such page", 405: "this page does not take that method"}.get(exc.status_code, exc.detail)
        return error(request, exc.status_code, message)

    async def on_crash(request: Request, exc: Exception) -> Response:
        traceback.print_exception(exc)  # on the server's terminal; the page gets one line
        return error(request, 500, f"internal error: {type(exc).__name__}: {exc}")

    routes = [
        Route("/", today),
        Route("/sharpen", sharpen_page),
        Route("/profile", profile_page),
        Route("/history", history_page),
        Route("/status", status),
        Route("/new", new_profile_page),
        Route("/new", create, methods=["POST"]),
        Route("/new/done", created_page),
        Route("/profile/categories", categories, methods=["POST"]),
        Route("/profile/sources", sources, methods=["POST"]),
        Route("/job", job_status),
        Route("/rate", rate, methods=["POST"]),
        Route("/undo", undo, methods=["POST"]),
        Route("/more", more, methods=["POST"]),
        Route("/fetch", fetch, methods=["POST"]),
        Route("/sharpen", start_sharpen, methods=["POST"]),
        Route("/profile/backtest", backtest, methods=["POST"]),
        Route("/profile/paper", edit_paper, methods=["POST"]),
        Route("/profile/interests", interests, methods=["POST"]),
        Route("/vote/{token}", vote_page),
        Route("/vote/{token}", vote_post, methods=["POST"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            Forbidden: on_forbidden,
            TooLarge: on_too_large,
            TooSlow: on_too_slow,
            ClientDisconnect: on_disconnect,
            PaperrecError: on_paperrec_error,
            HTTPException: on_http,
            Exception: on_crash,
        },
    )
    app.state.service = service
    app.state.csrf = csrf
    if not guard:
        return app
    guarded = Guard(
        app,
        hosts=allowed_hosts(settings.host, settings.port, settings.allow_hosts),
        token=settings.token,
        error_page=_error_body,
        port=settings.port,
        way_in=_way_in(settings),
    )
    guarded.state = app.state  # type: ignore[attr-defined]  # tests reach the service through the outer app
    return guarded  # type: ignore[return-value]


def _iso(on: date | None) -> str:
    return on.isoformat() if on else ""


def _next_anchor(day: Any, arxiv_id: str) -> str:
    """The pick after the one just voted on, so keyboard triage goes on from there."""
    ids = [s.pick.paper.arxiv_id for s in day.slots]
    if arxiv_id in ids:
        index = ids.index(arxiv_id)
        return day.slots[min(index + 1, len(ids) - 1)].view.anchor
    return anchor(arxiv_id)
