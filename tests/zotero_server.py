"""A Zotero API on 127.0.0.1 for tests and benchmarks/zotero_sync.py, shaped like the Web API v3 documentation.

One library answers under the desktop's local API (/api/users/0/..., read-only, no key) and the Web API
(/users/123/..., a key asked for). The desktop's versions are those of its generation (local_api.md): a Zotero 10
desktop keeps its own counter, unrelated to the Web API's, and names itself in Zotero-Server-ID; an older one reports
the versions of its last sync, 0 for what never synced.
Reads: items, items/top, collections, collections/KEY/items[/top], items/KEY, deleted, format=versions, since, itemKey,
tag, includeTrashed (items in the trash are left out without it),
q with qmode=everything, include=data,csljson, start and limit paging with Link and Total-Results headers,
Last-Modified-Version, and If-Modified-Since-Version answered 304. Writes (Web API only):
POST items and collections with Zotero-Write-Token, PATCH items/KEY with If-Unmodified-Since-Version.
Faults on demand: '429' (Retry-After and Backoff) and '503' (Retry-After), each served once, and POSTs whose
answers are lost after the write (a retry with the same Zotero-Write-Token gets 412, as Zotero answers it).
Items the desktop has not synced down yet (not_downloaded) are served by the Web API only.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from .fixture_apis import QuietServer

ABSTRACT = "We study a thing in images with a new method and show it works well on benchmarks."
USER = "123"
KEY = "test-zotero-key-0123456789abcdef"
_CSL_TYPES = {"preprint": "article", "journalArticle": "article-journal", "conferencePaper": "paper-conference"}


def preprint(arxiv_id: str, title: str, abstract: str = "", authors: tuple[str, ...] = ("Ada Lovelace",)) -> dict:
    """The data of a preprint as Zotero's arXiv translator saves it."""
    return {
        "itemType": "preprint",
        "title": title,
        "creators": [
            {"creatorType": "author", "firstName": a.rsplit(" ", 1)[0], "lastName": a.rsplit(" ", 1)[-1]}
            for a in authors
        ],
        "abstractNote": abstract,
        "repository": "arXiv",
        "archiveID": f"arXiv:{arxiv_id}",
        "url": f"http://arxiv.org/abs/{arxiv_id}",
        "date": "2021-04-21",
        "extra": "",
        "collections": [],
        "tags": [],
        "relations": {},
        "dateAdded": "2021-05-02T08:00:00Z",
    }


def _csl(key: str, data: dict[str, Any]) -> dict[str, Any]:
    """The CSL JSON Zotero gives for an item's data (the fields paperrec reads)."""
    csl: dict[str, Any] = {"id": f"{USER}/{key}", "type": _CSL_TYPES.get(data.get("itemType", ""), "article")}
    for source, target in (
        ("title", "title"),
        ("abstractNote", "abstract"),
        ("url", "URL"),
        ("DOI", "DOI"),
        ("archiveID", "number"),
        ("repository", "publisher"),
        ("extra", "note"),
        ("publicationTitle", "container-title"),
    ):
        if data.get(source):
            csl[target] = data[source]
    people = [{"family": c.get("lastName", ""), "given": c.get("firstName", "")} for c in data.get("creators", [])]
    if people:
        csl["author"] = people
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", data.get("date", ""))
    if match:
        csl["issued"] = {"date-parts": [[int(g) for g in match.groups()]]}
    return csl


class ZoteroServer:
    """The fake library and its HTTP server; `requests` records (method, path, headers) of every request."""

    def __init__(self) -> None:
        self.version = 0  # the Web API's library version
        self.local_version = 0  # a Zotero 10 desktop's own counter
        self.desktop = "10"  # "10"; "synced": an older desktop showing synced versions; "unsynced": one never synced
        self.server_id = "sFakeDesk1"  # a Zotero 10 desktop's Zotero-Server-ID
        self.items: dict[str, dict[str, Any]] = {}  # key -> {"key", "version", "local", "data"}
        self.collections: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.bodies: list[tuple[str, str, Any]] = []  # (method, path, JSON body) of every write
        self.faults: list[str] = []
        self.max_page = 100
        self.backoff: str | None = None  # a Backoff header on every read: the server asks for a pause
        self.local_api_on = True  # Settings, Advanced: 'Allow other applications ... to communicate with Zotero'
        self.deleted: list[str] = []  # the paths paperrec asked to DELETE
        self.gone: dict[str, int] = {}  # key -> library version of items deleted in Zotero, as /deleted lists them
        self.tokens: set[str] = set()
        self.lose_answers = 0  # POSTs written whose answers are lost (the connection closes without one)
        self.not_downloaded: set[str] = set()  # keys of items the desktop has not synced down yet: the Web API only
        self._count = 0
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                owner.requests.append((self.command, self.path, dict(self.headers.items())))
                if body:
                    owner.bodies.append((self.command, self.path, json.loads(body)))
                with owner._lock:
                    status, headers, payload = owner.answer(self.command, self.path, dict(self.headers.items()), body)
                    lost = owner.lose_answers > 0 and self.command == "POST" and status == 200
                    owner.lose_answers -= lost
                if lost:  # written, then the connection broke before the answer: the client never learns
                    self.close_connection = True
                    return
                with contextlib.suppress(OSError):
                    self.send_response(status)
                    for name, value in {**headers, "Content-Length": str(len(payload))}.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _any

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.local_api = f"http://127.0.0.1:{self.port}/api/"
        self.web_api = f"http://127.0.0.1:{self.port}/"

    # -- the library -------------------------------------------------------------------------------------------

    def new_key(self) -> str:
        self._count += 1
        return f"K{self._count:07d}"

    def add_collection(self, name: str) -> str:
        """A new collection; its key."""
        self.version += 1
        self.local_version += 1
        key = self.new_key()
        self.collections[key] = {
            "key": key,
            "version": self.version,
            "local": self.local_version,
            "data": {"key": key, "name": name, "parentCollection": False},
        }
        return key

    def add_item(self, data: dict[str, Any], key: str | None = None) -> str:
        """A new (or replaced) item; its key."""
        self.version += 1
        self.local_version += 1
        key = key or self.new_key()
        data = {**data, "key": key, "version": self.version}
        self.items[key] = {"key": key, "version": self.version, "local": self.local_version, "data": data}
        return key

    def remove_item(self, key: str) -> None:
        """An item deleted in Zotero (by the user, not by paperrec): gone from every read but /deleted."""
        self.version += 1
        self.local_version += 1
        del self.items[key]
        self.gone[key] = self.version

    def trash_item(self, key: str) -> None:
        """An item moved to the trash (a merge of duplicates moves the others there): still there, flagged deleted."""
        self.add_item({**self.items[key]["data"], "deleted": 1}, key)

    def set_collections(self, key: str, collections: list[str]) -> None:
        """An item put in or out of collections: the same item, with a new version and collections list."""
        self.add_item({**self.items[key]["data"], "collections": collections}, key)

    def in_collection(self, name: str) -> list[dict[str, Any]]:
        """The items (data) of the collection of that name."""
        keys = [k for k, c in self.collections.items() if c["data"]["name"] == name]
        return [i["data"] for i in self.items.values() if set(keys) & set(i["data"].get("collections", []))]

    # -- answers -----------------------------------------------------------------------------------------------

    def answer(self, method: str, raw: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(raw)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if self.faults:
            fault = self.faults.pop(0)
            if fault == "429":
                return 429, {"Retry-After": "0.05", "Backoff": "0.05"}, b"Too many requests"
            return 503, {"Retry-After": "0.05"}, b"Service unavailable"
        local = url.path.startswith("/api/users/0/")
        web = url.path.startswith(f"/users/{USER}/")
        if not (local or web):
            return 404, {}, b"Not found"
        if local and not self.local_api_on:
            return 403, {}, b"Local API is not enabled"
        if web and headers.get("Zotero-API-Key") != KEY:
            return 403, {}, b"Forbidden"
        path = url.path.split("/users/", 1)[1].split("/", 1)[1]
        if method == "GET":
            return self._read(path, query, headers, web)
        if local:
            return 501, {}, b"Method not implemented"  # the local API is read-only
        if method == "POST" and path in ("items", "collections"):
            return self._create(path, headers, json.loads(body))
        if method == "PATCH" and path.startswith("items/"):
            return self._patch(path.split("/")[1], headers, json.loads(body))
        if method == "DELETE":
            self.deleted.append(path)
            return 204, {}, b""
        return 405, {}, b"Method not allowed"

    def seen(self, obj: dict[str, Any] | None, web: bool) -> int:
        """An object's version (the library's for None) as the Web API or this generation of desktop reports it."""
        if web or self.desktop == "synced":
            return self.version if obj is None else obj["version"]
        if self.desktop == "unsynced":
            return 0
        return self.local_version if obj is None else obj["local"]

    def _objects(self, path: str, query: dict[str, str], web: bool) -> list[dict[str, Any]] | None:
        if path == "collections":
            return list(self.collections.values())
        match = re.fullmatch(r"(?:collections/(\w+)/)?items(/top)?", path)
        if not match:
            return None
        if match.group(1) and match.group(1) not in self.collections:
            return None
        found = []
        for item in self.items.values():
            data = item["data"]
            if not web and item["key"] in self.not_downloaded:
                continue
            if match.group(2) and data.get("parentItem"):
                continue
            if data.get("deleted") and query.get("includeTrashed") != "1":
                continue
            if match.group(1) and match.group(1) not in data.get("collections", []):
                continue
            if "tag" in query and query["tag"] not in [t["tag"] for t in data.get("tags", [])]:
                continue
            if "itemKey" in query and item["key"] not in query["itemKey"].split(","):
                continue
            if "since" in query and int(query["since"]) >= self.seen(item, web):
                continue
            if "q" in query and not self._matches(data, query["q"], query.get("qmode", "titleCreatorYear")):
                continue
            found.append(item)
        return found

    @staticmethod
    def _matches(data: dict[str, Any], term: str, mode: str) -> bool:
        fields = data.values() if mode == "everything" else [data.get("title", "")]
        return any(term.lower() in str(value).lower() for value in fields)

    def _read(self, path: str, query: dict[str, str], headers: dict[str, str], web: bool) -> tuple[int, dict, bytes]:
        version = {"Last-Modified-Version": str(self.seen(None, web))}
        if not web and self.desktop == "10":
            version["Zotero-Server-ID"] = self.server_id
            if headers.get("Zotero-Server-ID", self.server_id) != self.server_id:
                return 412, version, b"Zotero-Server-ID does not match"
        base = {**version, "Content-Type": "application/json"}
        if self.backoff:
            base["Backoff"] = self.backoff
        since = headers.get("If-Modified-Since-Version")
        if since is not None and int(since) >= self.seen(None, web):
            return 304, version, b""
        if re.fullmatch(r"items/\w+", path) and path != "items/top":
            item = self.items.get(path.split("/")[1])
            item = None if not web and path.split("/")[1] in self.not_downloaded else item
            return (200, base, self._json(self._shape(item, query, web))) if item else (404, {}, b"Not found")
        if path == "deleted":  # the Web API's list of what was deleted since a version
            since_version = int(query.get("since", 0))
            deleted = [k for k, v in self.gone.items() if v > since_version]
            listed = {"collections": [], "searches": [], "items": deleted, "tags": [], "settings": []}
            return 200, base, self._json(listed)
        objects = self._objects(path, query, web)
        if objects is None:
            return 404, {}, b"Not found"
        if query.get("format") == "versions":
            return 200, base, self._json({o["key"]: self.seen(o, web) for o in objects})
        start, limit = int(query.get("start", 0)), min(int(query.get("limit", 25)), self.max_page)
        page = objects[start : start + limit]
        headers_out = {**base, "Total-Results": str(len(objects))}
        prefix = f"/users/{USER}/" if web else "/api/users/0/"
        if start + limit < len(objects):
            following = urlencode({**query, "start": start + limit, "limit": limit})
            headers_out["Link"] = f'<http://127.0.0.1:{self.port}{prefix}{path}?{following}>; rel="next"'
        return 200, headers_out, self._json([self._shape(o, query, web) for o in page])

    def _shape(self, obj: dict[str, Any], query: dict[str, str], web: bool) -> dict[str, Any]:
        library = {"type": "user", "id": int(USER) if web else 0, "name": "ada"}
        version = self.seen(obj, web)
        shaped = {"key": obj["key"], "version": version, "library": library, "links": {}, "meta": {}}
        include = query.get("include", "data").split(",")
        if "data" in include:
            shaped["data"] = {**obj["data"], "version": version}
        if "csljson" in include and obj["key"] in self.items:
            shaped["csljson"] = _csl(obj["key"], obj["data"])
        return shaped

    @staticmethod
    def _json(value: Any) -> bytes:
        return json.dumps(value).encode()

    def _create(self, path: str, headers: dict[str, str], objects: list[dict[str, Any]]) -> tuple[int, dict, bytes]:
        token = headers.get("Zotero-Write-Token")
        if token in self.tokens:
            return 412, {}, b"Write token already used"
        if token:
            self.tokens.add(token)
        result: dict[str, Any] = {"successful": {}, "success": {}, "unchanged": {}, "failed": {}}
        for index, data in enumerate(objects):
            if path == "items" and data.get("itemType") not in ("preprint", "journalArticle", "note"):
                result["failed"][str(index)] = {"key": "", "code": 400, "message": "Invalid itemType"}
                continue
            if path == "items":
                key = self.add_item(data)
                stored = self.items[key]
            else:
                key = self.add_collection(data["name"])
                stored = self.collections[key]
            result["successful"][str(index)] = {"key": key, "version": stored["version"], "data": stored["data"]}
            result["success"][str(index)] = key
        return 200, {"Last-Modified-Version": str(self.version), "Content-Type": "application/json"}, self._json(result)

    def _patch(self, key: str, headers: dict[str, str], fields: dict[str, Any]) -> tuple[int, dict, bytes]:
        item = self.items.get(key)
        if item is None:
            return 404, {}, b"Not found"
        if headers.get("If-Unmodified-Since-Version") != str(item["version"]):
            return 412, {}, b"Item has been modified since specified version"
        self.add_item({**item["data"], **fields}, key)
        return 204, {"Last-Modified-Version": str(self.version)}, b""

    # -- running -----------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def running(self) -> Iterator[ZoteroServer]:
        """Serve in a thread for the block."""
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()

    def asked(self, method: str = "GET") -> list[str]:
        """The paths (with queries) of the requests of one method."""
        return [path for m, path, _ in self.requests if m == method]


@contextlib.contextmanager
def sample_library(monkeypatch: Any) -> Iterator[ZoteroServer]:
    """Three preprints (one known by Extra only), a journal article and a note, served, with paperrec pointed at it."""
    import recommender.sources.zotero_api as api

    server = ZoteroServer()
    vision = server.add_collection("Vision")
    server.add_item({**preprint("2104.10642", "Super-resolution by diffusion", ABSTRACT), "collections": [vision]})
    tagged = preprint("2104.10615", "Medical segmentation with transformers", ABSTRACT)
    server.add_item({**tagged, "tags": [{"tag": "seg"}]})
    only_extra = preprint("2103.00001", "An id in Extra only", ABSTRACT)
    only_extra.update(archiveID="", url="", extra="arXiv: 2103.00001")
    server.add_item(only_extra)
    journal = {"itemType": "journalArticle", "title": "A journal paper without arXiv", "DOI": "10.1000/xyz1"}
    journal.update(abstractNote=ABSTRACT, creators=[], date="2020-01-05", collections=[vision], tags=[])
    server.add_item({**journal, "dateAdded": "2021-01-02T10:00:00Z"})
    server.add_item({"itemType": "note", "note": "<p>my reading notes</p>", "collections": [], "tags": []})
    monkeypatch.setenv(api.LOCAL_API_ENV, server.local_api)
    monkeypatch.setenv(api.WEB_API_ENV, server.web_api)
    monkeypatch.delenv(api.KEY_ENV, raising=False)
    monkeypatch.delenv(api.LIBRARY_ENV, raising=False)
    monkeypatch.setattr(api, "WEB_SPACING", 0.0)
    with server.running():
        yield server
