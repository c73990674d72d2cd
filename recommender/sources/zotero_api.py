"""The Zotero API (Web API v3, and the desktop's read-only local API): a library's items in, liked papers out.

Every request goes through the polite client of http.py: spaced, bounded, and retried on 429 and 503 as the server's
Retry-After and Backoff headers ask. Items are read as Zotero's own JSON with its CSL JSON alongside, so the same
code that reads a CSL JSON export finds their ids.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..schema import Paper, UsageError
from .guard import read_secret
from .http import Answer, NetworkError, Outgoing, PoliteClient, TemporaryNetworkError, for_source
from .idlist import Reference, normalise_doi
from .zotero import NOT_A_PAPER, csl_item_reference

LOCAL_API = "http://localhost:23119/api/"
WEB_API = "https://api.zotero.org/"
LOCAL_API_ENV = "PAPERREC_ZOTERO_LOCAL_API"  # another address for the desktop's local API (tests, a remote desktop)
WEB_API_ENV = "PAPERREC_ZOTERO_WEB_API"  # another root for the Web API (tests)
KEY_ENV = "ZOTERO_API_KEY"
LIBRARY_ENV = "ZOTERO_LIBRARY"  # 'users/123' or 'groups/456', when the profile names none
PAGE = 100  # the most items the API gives in one answer
KEYS = 50  # the most item keys one request may name (itemKey)
WEB_SPACING = 0.1  # seconds between two Web API requests; the local API is on the same machine
_NOT_PAPERS = {"attachment", "note", "annotation"}
_LOCAL_API_OFF = (
    "turn on 'Allow other applications on this computer to communicate with Zotero' in Zotero's Settings, Advanced"
)
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


@dataclass(frozen=True)
class Library:
    """One Zotero library as the API addresses it: the API's root, 'users/N' or 'groups/N', and the Web API key."""

    root: str
    prefix: str
    key: str | None = None

    @property
    def web(self) -> bool:
        """True for the Web API (it can write), False for the desktop's local API (read-only)."""
        return self.key is not None

    def describe(self) -> str:
        """'the Zotero desktop (local API)' or 'Zotero users/123 (Web API)', for messages."""
        return f"Zotero {self.prefix} (Web API)" if self.web else "the Zotero desktop (local API)"


def library_prefix(text: str) -> str:
    """'users/123' or 'groups/456' from itself or a bare user id; UsageError for anything else."""
    value = text.strip().strip("/")
    if value.isdigit():
        return f"users/{value}"
    if re.fullmatch(r"(users|groups)/\d+", value):
        return value
    raise UsageError(f"a Zotero library is 'users/NUMBER' or 'groups/NUMBER' (zotero.org/settings/keys), not {text!r}")


def local_library() -> Library:
    """The desktop's local API: no key, user 0, read-only."""
    return Library(os.environ.get(LOCAL_API_ENV) or LOCAL_API, "users/0")


def web_library(prefix: str, key: str) -> Library:
    """A library of the Web API."""
    return Library(os.environ.get(WEB_API_ENV) or WEB_API, library_prefix(prefix), key)


def read_key(key_file: Path) -> str | None:
    """The Web API key: $ZOTERO_API_KEY, else the first line of key_file (mode 0600); None when neither is there."""
    return read_secret(KEY_ENV, key_file, "Zotero key")


def _next_link(header: str | None) -> str | None:
    """The rel="next" address of a Link header, if any."""
    for part in (header or "").split(","):
        match = _NEXT.search(part)
        if match:
            return match.group(1).strip()
    return None


def _version(answer: Answer) -> int | None:
    text = answer.headers.get("Last-Modified-Version", "").strip()
    return int(text) if text.isdigit() else None


class ZoteroApi:
    """Requests to one Zotero library, politely.

    Example: ZoteroApi(local_library()).items("items/top", since=0)
    """

    def __init__(self, library: Library, client: PoliteClient | None = None):
        import httpx

        self.library = library
        host = httpx.URL(library.root).host or "localhost"
        self.host = host
        # The desktop answers at once or not at all: one refused connection says it is closed.
        self.client = client or for_source(
            "Zotero",
            frozenset({host}),
            0.0 if not library.web else WEB_SPACING,
            max_retries=4,
            connect_retries=int(library.web),
            backoff=1.0,
        )
        self.requests = 0
        self.server_id: str | None = None  # the desktop's Zotero-Server-ID (Zotero 10 and later)

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

    def url(self, path: str) -> str:
        """The address of a path inside the library, e.g. 'items/top'."""
        return f"{self.library.root.rstrip('/')}/{self.library.prefix}/{path}"

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {"Zotero-API-Version": "3", **(extra or {})}
        if self.library.key:
            headers["Zotero-API-Key"] = self.library.key
        return headers

    def _send(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        accept: frozenset[int] = frozenset(),
    ) -> Answer:
        import httpx

        if httpx.URL(url).host != self.host:  # a Link header pointing elsewhere must not get the key
            raise NetworkError(f"Zotero pointed to another host ({httpx.URL(url).host}): refused")
        extra = dict(headers or {})
        content = None
        if body is not None:
            content = json.dumps(body).encode("utf-8")
            extra["Content-Type"] = "application/json"
        out = Outgoing(method, self._headers(extra), content)
        self.requests += 1
        try:
            return self.client.send(url, params, out, accept)
        except NetworkError as error:
            if " 403 " in f" {error} ":
                # The desktop has no key: it answers 403 while its local API is switched off.
                why = "check the key's rights" if self.library.web else _LOCAL_API_OFF
                raise NetworkError(f"{self.library.describe()} refused access (HTTP 403): {why}") from None
            if not self.library.web and isinstance(error, TemporaryNetworkError) and error.status is None:
                # The desktop is on this machine, so 'offline?' misleads: Zotero is closed or its local API is off.
                reason = str(error).partition("(offline?): ")[2] or str(error)
                raise TemporaryNetworkError(
                    f"the Zotero desktop did not answer at {self.library.root}: {reason}. Is Zotero open? If it is,"
                    f" {_LOCAL_API_OFF}"
                ) from None
            raise

    def _json(self, answer: Answer) -> Any:
        try:
            return json.loads(answer.content)
        except ValueError:
            raise NetworkError(f"{self.library.describe()} answered with malformed JSON ({answer.url})") from None

    def pages(
        self, path: str, params: Mapping[str, Any], since: int | None = None
    ) -> tuple[list[Any], int | None] | None:
        """Every object of a listing, page by page (the Link header's next); None when unchanged since `since` (304)."""
        url: str | None = self.url(path)
        query: Mapping[str, Any] | None = {**params, "limit": PAGE}
        headers = {} if since is None else {"If-Modified-Since-Version": str(since)}
        found: list[Any] = []
        version = None
        while url:
            answer = self._send(url, query, headers=headers, accept=frozenset({304}))
            if answer.status == 304:
                return None
            page = self._json(answer)
            if not isinstance(page, list):
                raise NetworkError(f"{self.library.describe()} answered {url} with no list")
            found += page
            version = version or _version(answer)
            url, query, headers = _next_link(answer.headers.get("Link")), None, {}
        return found, version

    # -- reading --------------------------------------------------------------------------------------------------

    def collection_key(self, name: str) -> str | None:
        """The key of the collection of this name (the same letters in any case), None when there is none."""
        listed = self.pages("collections", {})
        collections = listed[0] if listed else []
        names = [(c.get("key"), str(item_data(c).get("name", ""))) for c in collections if isinstance(c, dict)]
        exact = [key for key, title in names if title == name]
        folded = [key for key, title in names if title.casefold() == name.casefold()]
        return (exact or folded or [None])[0]

    def versions(
        self, scope: str, params: Mapping[str, Any], since: int | None
    ) -> tuple[dict[str, int], int | None] | None:
        """Each item's version in a scope ('items/top' or 'collections/KEY/items/top'); None when unchanged (304)."""
        headers = {} if since is None else {"If-Modified-Since-Version": str(since)}
        answer = self._send(self.url(scope), {**params, "format": "versions"}, headers=headers, accept=frozenset({304}))
        self.server_id = answer.headers.get("Zotero-Server-ID") or None
        if answer.status == 304:
            return None
        found = self._json(answer)
        if not isinstance(found, dict):
            raise NetworkError(f"{self.library.describe()} answered the item versions with no object")
        return {str(k): int(v) for k, v in found.items() if isinstance(v, int)}, _version(answer)

    def items(
        self, scope: str, params: Mapping[str, Any], since: int | None = 0, keys: list[str] | None = None
    ) -> list[dict[str, Any]]:
        """The items of a scope changed since a library version (None: all), or those of up to KEYS keys."""
        changed = {} if since is None else {"since": since}
        if keys:
            changed["itemKey"] = ",".join(keys[:KEYS])
        listed = self.pages(scope, {**params, **changed, "include": "data,csljson"})
        return [i for i in (listed[0] if listed else []) if isinstance(i, dict)]

    def item(self, key: str) -> dict[str, Any]:
        """One item by key."""
        found = self._json(self._send(self.url(f"items/{key}")))
        if not isinstance(found, dict):
            raise NetworkError(f"{self.library.describe()} answered item {key} with no object")
        return found

    def find(self, paper: Paper, collection: str | None = None) -> dict[str, Any] | None:
        """The item of the library that is this paper (same arXiv id or DOI), None when there is none.

        Of several copies, the one in `collection`, then the one written last (the highest version).
        """
        doi = _doi_of(paper)
        terms = [t for t in (paper.arxiv_id if paper.has_arxiv_id else "", doi) if t]
        for term in terms:
            listed = self.pages("items", {"q": term, "qmode": "everything", "include": "data,csljson"})
            found = []
            for item in listed[0] if listed else []:
                reference = item_reference(item) if isinstance(item, dict) else None
                if not isinstance(reference, Reference) or not isinstance(item.get("key"), str):
                    continue
                same_id = paper.has_arxiv_id and reference.paper.arxiv_id == paper.arxiv_id
                if same_id or (doi and reference.doi == doi):
                    found.append(item)
            if found:
                return max(found, key=lambda item: _preference(item, collection))
        return None

    # -- writing (Web API only) -----------------------------------------------------------------------------------

    def _write(self, path: str, objects: list[dict[str, Any]], written: Callable[[], str | None]) -> str:
        """POST new objects (one write token, so a repeated request cannot create twice); the new object's key.

        `written` finds the key of what an earlier try of the same request wrote, when Zotero says so.
        """
        token = uuid.uuid4().hex
        try:
            answer = self._send(self.url(path), method="POST", headers={"Zotero-Write-Token": token}, body=objects)
        except NetworkError as error:
            if error.status != 412:
                raise
            # The token was used: a try whose answer was lost (a timeout, a broken connection) was written.
            key = written()
            if key is None:
                raise NetworkError(
                    f"{self.library.describe()} says it was written already (HTTP 412), yet it is not there"
                ) from None
            return key
        result = self._json(answer)
        result = result if isinstance(result, dict) else {}
        failed = result.get("failed")
        if failed:
            reason = next(iter(failed.values())) if isinstance(failed, dict) else failed
            why = reason.get("message", reason) if isinstance(reason, dict) else reason
            raise NetworkError(f"{self.library.describe()} refused to create it: {' '.join(str(why).split())[:200]}")
        success = result.get("success")
        key = success.get("0") if isinstance(success, dict) else None
        if not isinstance(key, str):
            raise NetworkError(f"{self.library.describe()} created nothing ({answer.url})")
        return key

    def create_collection(self, name: str) -> str:
        """Create a top-level collection; its key."""
        return self._write("collections", [{"name": name}], lambda: self.collection_key(name))

    def create_item(self, paper: Paper, collection: str) -> str:
        """Create the paper as a preprint in a collection; its key."""
        # After a 412 the item this request wrote is in the collection and newest, whatever copies the library has.
        return self._write(
            "items", [item_fields(paper, collection)], lambda: (self.find(paper, collection) or {}).get("key")
        )

    def set_collections(self, item: dict[str, Any], collections: list[str]) -> None:
        """Change which collections an item is in (never deleting it); refused if it changed since it was read."""
        version = str(item.get("version", item_data(item).get("version", "")))
        key = item.get("key")
        if not isinstance(key, str):
            raise NetworkError(f"{self.library.describe()} answered with an item that has no key")
        self._send(
            self.url(f"items/{key}"),
            method="PATCH",
            headers={"If-Unmodified-Since-Version": version},
            body={"collections": collections},
        )


def item_data(item: dict[str, Any]) -> dict[str, Any]:
    """An API object's `data` (its fields), or {} when the answer holds none that paperrec can read."""
    data = item.get("data")
    return data if isinstance(data, dict) else {}


def item_collections(item: dict[str, Any]) -> list[str]:
    """The keys of the collections an item is in, as the API gave them; [] when they cannot be read."""
    found = item_data(item).get("collections")
    return [key for key in found if isinstance(key, str)] if isinstance(found, list) else []


def _preference(item: dict[str, Any], collection: str | None) -> tuple[bool, int]:
    """How well an item answers a search for one paper: in the collection first, then the newest."""
    version = item.get("version", item_data(item).get("version", 0))
    return collection is not None and collection in item_collections(item), version if isinstance(version, int) else 0


def _doi_of(paper: Paper) -> str:
    """The paper's DOI: its own id or one its links name; '' when it has none."""
    return next((normalise_doi(i[4:]) for i in paper.ids if i.startswith("doi:")), "")


def item_fields(paper: Paper, collection: str) -> dict[str, Any]:
    """A paper as a new Zotero preprint item: title, authors, abstract, arXiv id (archive ID and Extra), URL."""
    creators = []
    for name in paper.authors:
        first, _, last = name.rpartition(" ")
        creators.append({"creatorType": "author", "firstName": first, "lastName": last})
    fields: dict[str, Any] = {
        "itemType": "preprint",
        "title": paper.title,
        "creators": creators,
        "abstractNote": paper.abstract,
        "url": paper.url or "",
        "date": paper.date.isoformat() if paper.date else "",
        "collections": [collection],
        "tags": [],
        "relations": {},
    }
    if paper.has_arxiv_id:
        fields.update(repository="arXiv", archiveID=f"arXiv:{paper.arxiv_id}", extra=f"arXiv: {paper.arxiv_id}")
    doi = _doi_of(paper)
    if doi:
        fields["DOI"] = doi
    return fields


def item_reference(item: dict[str, Any]) -> Reference | str | None:
    """An API item as a Reference through the CSL JSON reader; NOT_A_PAPER for notes, attachments, annotations."""
    data = item_data(item)
    if str(data.get("itemType", "")) in _NOT_PAPERS:
        return NOT_A_PAPER
    csl = item.get("csljson")
    if not isinstance(csl, dict):
        return None
    return csl_item_reference(csl, str(data.get("dateAdded", "")))


def references(items: list[dict[str, Any]]) -> Iterator[tuple[str, Reference | str | None]]:
    """(item key, Reference, NOT_A_PAPER or None) for each API item."""
    for item in items:
        yield str(item.get("key", "?")), item_reference(item)
