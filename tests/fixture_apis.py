"""Fixture servers on 127.0.0.1 that answer like the sources' documented APIs, with faults on demand.

Used by the tests of each source and by benchmarks/mixed_day.py; nothing here reaches the internet.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# route(path, query) -> (status, headers, body)
Route = Callable[[str, dict[str, list[str]]], tuple[int, dict[str, str], bytes]]
FAULTS = ("429", "503", "malformed", "truncated", "redirect")


@dataclass(frozen=True)
class Request:
    """What a client sent: the method, path, query, headers (names in lower case) and body."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


# whole_route(request) -> (status, headers, body), for an API that reads a method, a header or a body
WholeRoute = Callable[[Request], tuple[int, dict[str, str], bytes]]


def whole_request(route: WholeRoute) -> WholeRoute:
    """Mark a route that is given the whole Request (a sign-in, a header) rather than the path and query."""
    route.whole_request = True  # type: ignore[attr-defined]
    return route


class QuietServer(ThreadingHTTPServer):
    """A threading HTTP server for tests that keeps quiet when a client hangs up first (it has its answer).

    The command under test runs in this process, so a traceback printed by the server would land in its stderr.
    """

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class ApiServer:
    """A threaded HTTP server answering through `route`; each queued fault is served once, first.

    `requests` records every Request, so a test can check the headers and bodies a client sent.
    """

    def __init__(self, route: Route | WholeRoute) -> None:
        self.route = route
        self.paths: list[str] = []
        self.requests: list[Request] = []
        self.faults: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                owner.paths.append(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                headers = {name.lower(): value for name, value in self.headers.items()}
                owner.requests.append(Request(self.command, split.path, parse_qs(split.query), headers, body))
                with contextlib.suppress(OSError):
                    owner._answer(self, owner.requests[-1])

            do_GET = do_POST = _any

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()

    def _answer(self, request: BaseHTTPRequestHandler, seen: Request) -> None:
        fault = self.faults.pop(0) if self.faults else None
        if fault == "429":
            return send(request, 429, b"slow down", {"Retry-After": "0"})
        if fault == "503":
            return send(request, 503, b"unavailable")
        if fault == "redirect":
            return send(request, 302, b"", {"Location": "https://elsewhere.example/api"})
        if getattr(self.route, "whole_request", False):
            status, headers, body = self.route(seen)  # type: ignore[call-arg]
        else:
            status, headers, body = self.route(seen.path, seen.query)  # type: ignore[call-arg]
        if fault == "malformed":
            return send(request, 200, body[: len(body) // 2] + b"}{", {"Content-Type": "application/json"})
        if fault == "truncated":  # promises the whole body, sends half, hangs up
            request.send_response(200)
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body[: len(body) // 2])
            request.wfile.flush()
            request.close_connection = True
            return None
        return send(request, status, body, headers)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def send(
    request: BaseHTTPRequestHandler, status: int, body: bytes = b"", headers: dict[str, str] | None = None
) -> None:
    """Answer a request with this status, body and headers."""
    request.send_response(status)
    for name, value in (headers or {}).items():
        request.send_header(name, value)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)


@contextlib.contextmanager
def serving(route: Route | WholeRoute) -> Iterator[ApiServer]:
    """An ApiServer for the block."""
    server = ApiServer(route)
    try:
        yield server
    finally:
        server.close()


def _json(data: object) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "application/json"}, json.dumps(data).encode("utf-8")


# ---- bioRxiv / medRxiv: /details/{server}/{from}/{to}/{cursor}?category=... ----------------------------------------


def posting(number: int, day: date, category: str = "neuroscience", **fields: object) -> dict[str, object]:
    """One posting of the details API, as its documentation shows them."""
    item: dict[str, object] = {
        "doi": f"10.1101/{day.isoformat().replace('-', '.')}.{600000 + number}",
        "title": f"Posting {number} on cortical dynamics of kind {number % 7}",
        "authors": f"Author{number}, A.; Second, B. C.; Third, D.",
        "author_corresponding": f"Author{number}, A.",
        "author_corresponding_institution": "A University",
        "date": day.isoformat(),
        "version": "1",
        "type": "new results",
        "license": "cc_by",
        "category": category.replace("_", " "),
        "jatsxml": "https://www.biorxiv.org/content/early/x.source.xml",
        "abstract": f"We study cortical dynamics number {number} with recordings and models of kind {number % 5}.",
        "published": "NA",
        "server": "bioRxiv",
    }
    item.update(fields)
    return item


def biorxiv_route(postings: dict[tuple[str, date], list[dict[str, object]]], page: int = 100) -> Route:
    """The details API over `postings` by (server, day), filtered by ?category=, `page` postings a cursor page."""

    def route(path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        parts = path.strip("/").split("/")
        if len(parts) != 5 or parts[0] != "details":
            return 404, {}, b"not found"
        server, start, end, cursor = parts[1], date.fromisoformat(parts[2]), date.fromisoformat(parts[3]), parts[4]
        wanted = query.get("category", [None])[0]
        items = [
            item
            for (name, day), listed in sorted(postings.items(), key=lambda kv: kv[0][1])
            if name == server and start <= day <= end
            for item in listed
            if wanted is None or str(item["category"]).lower() == wanted.replace("_", " ").lower()
        ]
        offset = int(cursor)
        shown = items[offset : offset + page]
        if not items:
            return _json({"messages": [{"status": "no posts found"}], "collection": []})
        message = {"status": "ok", "interval": f"{start}:{end}", "cursor": offset, "count": len(shown)}
        message["total"] = str(len(items))  # the API writes it as a string
        return _json({"messages": [message], "collection": shown})

    return route


# ---- OpenReview API v2: /notes?invitation={venue}/-/Submission&sort=cdate:desc&offset=&limit= ----------------------


def note(
    number: int, day: date, *, public: bool = True, released: date | None = None, **content: object
) -> dict[str, object]:
    """One submission note as API v2 writes them: every content field wrapped in {"value": ...}.

    `released` is the day the venue made it public (its odate), at noon UTC; without it the note has no odate.
    """
    from datetime import UTC, datetime

    cdate = int(datetime(day.year, day.month, day.day, 9, tzinfo=UTC).timestamp() * 1000) + number * 1000
    fields: dict[str, object] = {
        "title": f"Sparse attention for graph transformers, variant {number}",
        "abstract": f"We propose sparse attention variant {number} for graph transformers at scale.",
        "authors": [f"Grace{number} Hopper", "Alan Turing"],
        "keywords": ["graph transformers", "sparse attention"],
        "venue": "ICLR 2027 Conference Submission",
        "pdf": f"/pdf/{number:040x}.pdf",
    }
    fields.update(content)
    forum = f"Forum{number:06d}"
    online = (
        {}
        if released is None
        else {"odate": int(datetime(*released.timetuple()[:3], 12, tzinfo=UTC).timestamp() * 1000)}
    )
    return {
        **online,
        "id": forum,
        "forum": forum,
        "number": number,
        "cdate": cdate,
        "tcdate": cdate,
        "invitations": ["ICLR.cc/2027/Conference/-/Submission"],
        "readers": ["everyone"]
        if public
        else ["ICLR.cc/2027/Conference", f"ICLR.cc/2027/Conference/Submission{number}/Authors"],
        "content": {key: {"value": value} for key, value in fields.items()},
    }


# Made-up credentials of the fake API's one account; no test sends them anywhere else.
OPENREVIEW_USERNAME = "reader@example.org"
OPENREVIEW_PASSWORD = 'fixture-pass phrase: 7 "quoted" words'
OPENREVIEW_TOKEN = "fixture.token-given-0123456789abcdef"  # as if made on openreview.net, still valid
OPENREVIEW_EXPIRED = "fixture.token-expired-0123456789abcdef"
OPENREVIEW_ISSUED = "fixture.token-from-login-fedcba9876543210"  # what POST /login gives the account


def openreview_error(status: int, name: str, message: str, **details: object) -> tuple[int, dict[str, str], bytes]:
    """An error as the API writes them: {"name", "message", "status"} in JSON, with "details" when there are some."""
    error: dict[str, object] = {"name": name, "message": message, "status": status}
    if details:
        error["details"] = details
    return status, {"Content-Type": "application/json"}, json.dumps(error).encode("utf-8")


def openreview_challenge() -> tuple[int, dict[str, str], bytes]:
    """The API's answer to an anonymous note query since late 2025: a 403 asking for a browser challenge."""
    url = "https://openreview.net/challenge?redirect=%2Fnotes"
    return openreview_error(403, "ChallengeRequiredError", "Challenge verification required", challengeUrl=url)


def openreview_route(
    notes: dict[str, list[dict[str, object]]],
    *,
    mfa: bool = False,
    tokens: tuple[str, ...] = (OPENREVIEW_TOKEN,),
    login_challenge: bool = False,
) -> WholeRoute:
    """The notes API over `notes` by venue, newest cdate first, paged by offset and limit, for signed-in clients.

    An anonymous note query (or one with a token the API does not know) gets the challenge 403. An expired token gets
    401 TokenExpiredError. POST /login with the account's id and password gives OPENREVIEW_ISSUED; `mfa` makes it ask
    for a second step instead; `login_challenge` answers the sign-in itself with the challenge 403. `tokens` are the
    tokens valid from the start.
    """
    valid = set(tokens)

    @whole_request
    def route(request: Request) -> tuple[int, dict[str, str], bytes]:
        if request.path.endswith("/login"):
            if request.method != "POST":
                return openreview_error(405, "MethodNotAllowedError", "POST only")
            if login_challenge:
                return openreview_challenge()
            try:
                sent = json.loads(request.body)
            except ValueError:
                return openreview_error(400, "ValidationError", "the body is not JSON")
            if not isinstance(sent, dict) or (sent.get("id"), sent.get("password")) != (
                OPENREVIEW_USERNAME,
                OPENREVIEW_PASSWORD,
            ):
                return openreview_error(400, "Error", "Invalid username or password")
            if mfa:
                return _json({"mfaPending": True, "mfaPendingToken": "pending", "mfaMethods": ["totpAuthenticator"]})
            valid.add(OPENREVIEW_ISSUED)
            return _json({"token": OPENREVIEW_ISSUED, "user": {"id": "~Reader_One1"}})
        authorization = request.headers.get("authorization", "")
        token = authorization.removeprefix("Bearer ") if authorization.startswith("Bearer ") else None
        if token == OPENREVIEW_EXPIRED:
            return openreview_error(401, "TokenExpiredError", "Token has expired, please log in again")
        if token not in valid:
            return openreview_challenge()
        invitation = request.query.get("invitation", [""])[0]
        venue = invitation.removesuffix("/-/Submission")
        listed = sorted(notes.get(venue, []), key=lambda n: -int(n["cdate"]))  # type: ignore[arg-type]
        offset, limit = int(request.query.get("offset", ["0"])[0]), int(request.query.get("limit", ["1000"])[0])
        return _json({"notes": listed[offset : offset + limit], "count": len(listed)})

    return route


# ---- OpenAlex: /works?filter=...&per_page=&page= (or &cursor=), errors as JSON --------------------------------------

OPENALEX_PER_PAGE = 100  # the largest page the API gives; a larger per_page is refused
OPENALEX_REACH = 10_000  # numbered pages reach the first 10,000 results
OPENALEX_PAGES = 500

Answer = tuple[int, dict[str, str], bytes]


def openalex_error(status: int, error: str, message: str) -> Answer:
    """An error as OpenAlex writes them: {"error", "message"} in JSON."""
    body = json.dumps({"error": error, "message": message}).encode("utf-8")
    return status, {"Content-Type": "application/json"}, body


class Refused(Exception):
    """A request the API refuses; `answer` is what it says."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.answer = openalex_error(400, "Invalid query parameters error.", message)


def openalex_paging(query: dict[str, list[str]]) -> tuple[int, int, str | None]:
    """The per_page, page and cursor asked for; Refused for paging OpenAlex does not allow."""
    wanted = (query.get("per_page") or query.get("per-page") or ["25"])[0]
    if not wanted.isdigit() or not 1 <= int(wanted) <= OPENALEX_PER_PAGE:
        raise Refused(f"per_page is {wanted}; it must be 1 to 100")
    per_page = int(wanted)
    page, cursor = query.get("page", [None])[0], query.get("cursor", [None])[0]
    if page is not None and cursor is not None:
        raise Refused("page and cursor cannot be used together")
    if page is not None and (not page.isdigit() or not 1 <= int(page) <= OPENALEX_PAGES):
        raise Refused(f"page is {page}; it must be 1 to 500")
    number = int(page or 1)
    if number * per_page > OPENALEX_REACH:
        raise Refused("page * per_page must not exceed 10,000")
    return per_page, number, cursor


def openalex_spent(status: int) -> Answer:
    """What OpenAlex answers with `status` instead of results: 429 when the day's allowance is spent."""
    if status == 429:
        return openalex_error(429, "Rate limit exceeded", "Daily usage limit exceeded; an API key raises it")
    return status, {}, b"unavailable"


def inverted(text: str) -> dict[str, list[int]]:
    """An abstract as OpenAlex stores it: each word and its positions."""
    index: dict[str, list[int]] = {}
    for position, word in enumerate(text.split()):
        index.setdefault(word, []).append(position)
    return index


def work(number: int, day: date, **fields: object) -> dict[str, object]:
    """One work as OpenAlex writes them."""
    item: dict[str, object] = {
        "id": f"https://openalex.org/W{4000000000 + number}",
        "doi": f"https://doi.org/10.1038/s41586-026-{number:05d}-x",
        "title": f"A journal article on protein folding, number {number}",
        "display_name": f"A journal article on protein folding, number {number}",
        "publication_date": day.isoformat(),
        "authorships": [
            {"author": {"display_name": f"Rosalind{number} Franklin"}},
            {"author": {"display_name": "Linus Pauling"}},
        ],
        "abstract_inverted_index": inverted(f"Proteins fold into shapes and number {number} folds into shapes too"),
        "primary_location": {"landing_page_url": f"https://www.nature.com/articles/s41586-026-{number:05d}-x"},
    }
    item.update(fields)
    return item


def openalex_route(works: dict[tuple[str, date], list[dict[str, object]]], status: int = 200) -> Route:
    """The works API over `works` by (ISSN, day): numbered pages, or cursor pages (the cursor is the offset, as text).

    A per_page above 100 or a page past the first 10,000 works is refused with a 400; `status` != 200 fails.
    """

    def route(path: str, query: dict[str, list[str]]) -> Answer:
        if status != 200:
            return openalex_spent(status)
        try:
            per_page, number, cursor = openalex_paging(query)
        except Refused as refused:
            return refused.answer
        filters = dict(part.split(":", 1) for part in query.get("filter", [""])[0].split(",") if ":" in part)
        issn = filters.get("primary_location.source.issn") or filters.get("primary_location.source.id", "")
        start = date.fromisoformat(filters["from_publication_date"])
        end = date.fromisoformat(filters.get("to_publication_date", filters["from_publication_date"]))
        listed = [
            item for (key, day), found in sorted(works.items()) if key == issn and start <= day <= end for item in found
        ]
        offset = (0 if cursor == "*" else int(cursor)) if cursor is not None else (number - 1) * per_page
        shown = listed[offset : offset + per_page]
        meta: dict[str, object] = {"count": len(listed), "per_page": per_page}
        if cursor is None:
            meta["page"] = number
        else:
            meta["next_cursor"] = str(offset + per_page) if offset + per_page < len(listed) else None
        return _json({"meta": meta, "results": shown})

    return route


def _bare_doi(text: str) -> str:
    """A DOI without its resolver, in lower case, as OpenAlex compares them."""
    lowered = text.strip().lower()
    for prefix in ("https://doi.org/", "http://doi.org/", "doi:"):
        lowered = lowered.removeprefix(prefix)
    return lowered


def openalex_doi_route(works: list[dict[str, object]], status: int = 200) -> Route:
    """The works API's ?filter=doi:A|B|C over `works`, DOIs compared without case or resolver; `status` != 200 fails.

    Paging is checked as the works API checks it: a per_page above 100 is a 400.
    """

    def route(path: str, query: dict[str, list[str]]) -> Answer:
        if status != 200:
            return openalex_spent(status)
        try:
            per_page, number, _ = openalex_paging(query)
        except Refused as refused:
            return refused.answer
        asked = query.get("filter", [""])[0]
        if not asked.startswith("doi:"):
            return openalex_error(400, "Invalid query parameters error.", "only the doi filter here")
        wanted = {_bare_doi(value) for value in asked.removeprefix("doi:").split("|")}
        found = [item for item in works if _bare_doi(str(item.get("doi") or "")) in wanted]
        shown = found[(number - 1) * per_page : number * per_page]
        return _json({"meta": {"count": len(found), "per_page": per_page, "page": number}, "results": shown})

    return route


def arxiv_api_route(papers: dict[str, tuple[str, str, str]], status: int = 200) -> Route:
    """The arXiv API's ?id_list=A,B over `papers` (id: title, abstract, author), as an Atom feed; `status` != 200
    fails."""

    def route(path: str, query: dict[str, list[str]]) -> Answer:
        if status != 200:
            return status, {"Content-Type": "text/plain"}, b"unavailable"
        known = [i for i in query.get("id_list", [""])[0].split(",") if i in papers]
        entries = "".join(
            f"<entry><id>http://arxiv.org/abs/{i}v1</id><published>2021-04-21T10:00:00Z</published>"
            f"<updated>2021-04-21T10:00:00Z</updated><title>{papers[i][0]}</title><summary>{papers[i][1]}</summary>"
            f"<author><name>{papers[i][2]}</name></author>"
            '<arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="cs.CV"/>'
            '<category term="cs.CV"/></entry>'
            for i in known
        )
        feed = (
            '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>ArXiv Query</title>'
            '<opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">'
            f"{len(known)}</opensearch:totalResults>{entries}</feed>"
        )
        return 200, {"Content-Type": "application/atom+xml"}, feed.encode()

    return route


# ---- a site's own feeds: RSS 2.0 (Nature's eTOC shape), RSS 1.0 / RDF (Wiley's, Science's), Atom (PLOS's) ----------


def nature_rss(items: list[tuple[str, str, str | None]]) -> bytes:
    """An RSS 2.0 eTOC feed as Nature's journals write it: dc:creator per author, prism:doi, a summary in HTML.

    `items` are (suffix, title, dc:date or None); each DOI is 10.1038/<suffix>.
    """
    entries = "".join(
        f"<item><title><![CDATA[{title}]]></title><link>https://www.nature.com/articles/{suffix}</link>"
        f'<guid isPermaLink="false">https://www.nature.com/articles/{suffix}</guid>'
        "<description><![CDATA[<p>Nature Neuroscience, Published online: 04 December 2026; "
        f'<a href="https://www.nature.com/articles/{suffix}">doi:10.1038/{suffix}</a></p>'
        f"<p>We record <i>in vivo</i> from {title.lower()} &amp; <b>model</b> it.</p>"
        f'<img src="https://media.springernature.com/{suffix}.jpg" alt="figure"/>]]></description>'
        "<dc:creator>Ada Lovelace</dc:creator><dc:creator>Alan Turing</dc:creator>"
        + (f"<dc:date>{when}</dc:date>" if when else "")
        + f"<prism:doi>10.1038/{suffix}</prism:doi><prism:url>https://www.nature.com/articles/{suffix}</prism:url>"
        "</item>"
        for suffix, title, when in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:prism="http://prismstandard.org/namespaces/basic/2.0/">'
        "<channel><title>Nature Neuroscience</title><link>https://www.nature.com/neuro</link>"
        "<description>Nature Neuroscience RSS feed</description>"
        f"{entries}</channel></rss>"
    ).encode()


def rdf_rss(items: list[tuple[str, str, str | None]]) -> bytes:
    """An RSS 1.0 (RDF) feed as Wiley writes its journals': the DOI in each link's path, dc:date, dc:creator.

    `items` are (DOI, title, dc:date or None).
    """
    about = "".join(f'<rdf:li rdf:resource="https://onlinelibrary.wiley.com/doi/{doi}?af=R"/>' for doi, _, _ in items)
    entries = "".join(
        f'<item rdf:about="https://onlinelibrary.wiley.com/doi/{doi}?af=R"><title>{title}</title>'
        f"<link>https://onlinelibrary.wiley.com/doi/{doi}?af=R</link>"
        f"<description>Abstract: the &lt;sup&gt;2+&lt;/sup&gt; flux in {title.lower()}.</description>"
        "<content:encoded><![CDATA[<h3>Abstract</h3><p>The Ca<sup>2+</sup> flux in "
        f"{title.lower()}, measured with care over many sessions.</p>]]></content:encoded>"
        "<dc:creator>Grace Hopper; Katherine Johnson</dc:creator>"
        + (f"<dc:date>{when}</dc:date>" if when else "")
        + "</item>"
        for doi, title, when in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        '<channel rdf:about="https://onlinelibrary.wiley.com/journal/ejn"><title>European Journal of Neuroscience'
        "</title><link>https://onlinelibrary.wiley.com/journal/ejn</link><description>Table of Contents</description>"
        f"<items><rdf:Seq>{about}</rdf:Seq></items></channel>{entries}</rdf:RDF>"
    ).encode()


def atom_feed(items: list[tuple[str, str, str | None]]) -> bytes:
    """An Atom feed as PLOS writes its journals': an id 'info:doi/...', an HTML content, an author per element.

    `items` are (DOI, title, published or None).
    """
    entries = "".join(
        f"<entry><id>info:doi/{doi}</id><title>{title}</title>"
        f'<link rel="alternate" type="text/html" href="https://journals.plos.org/plosbiology/article?id={doi}"/>'
        + (f"<published>{when}</published><updated>{when}</updated>" if when else "")
        + "<author><name>Rosalind Franklin</name></author><author><name>Francis Crick</name></author>"
        f'<content type="html">&lt;p&gt;We map {title.lower()} across &lt;i&gt;species&lt;/i&gt;.&lt;/p&gt;</content>'
        "</entry>"
        for doi, title, when in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>PLOS Biology: New Articles</title><id>https://journals.plos.org/plosbiology/</id>"
        f"<updated>2026-12-04T12:00:00Z</updated>{entries}</feed>"
    ).encode()


def feed_route(feeds: dict[str, bytes], content_type: str = "application/rss+xml") -> Route:
    """The documents of `feeds` by path (mutable, so a test can add entries between fetches); 404 for others."""

    def route(path: str, query: dict[str, list[str]]) -> Answer:
        if path not in feeds:
            return 404, {"Content-Type": "text/html"}, b"<html><body>Not found</body></html>"
        return 200, {"Content-Type": content_type}, feeds[path]

    return route
