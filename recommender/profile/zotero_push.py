"""Likes back to Zotero: a queue in state/ filled at vote time, sent later by a worker, a run or a sync.

A like of a profile with a zotero_collection queues an 'add'; taking it back before it is sent cancels it, and after,
queues a 'remove' that takes the item out of the collection (an item is never deleted). Sending finds an item of the
same arXiv id or DOI first, so nothing is created twice. A push that fails stays queued and is tried again.
"""

from __future__ import annotations

import os
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import paths
from ..schema import Paper, PaperrecError
from ..sources.http import NetworkError
from ..sources.records import paper_from_record, paper_to_record
from ..sources.zotero_api import ZoteroApi, item_collections
from .model import load_profile
from .zotero import json_state, push_library, remember_pushed

if TYPE_CHECKING:
    from .changes import Edited

wake = threading.Event()  # set by every queued push: the server's worker sends it at once


def _slot(profile: str, arxiv_id: str) -> str:
    return f"{profile}|{arxiv_id}"


def queue_votes(edited: Edited) -> None:
    """Queue the likes (and taken-back likes) of an edit for Zotero; a failure to queue is one line, never an error."""
    profile = os.path.realpath(edited.path)
    votes = []
    for moved in edited.moved:
        if moved.after == "liked" and moved.before != "liked" and moved.paper is not None:
            votes.append(("add", moved.paper))
        elif moved.before == "liked" and moved.after != "liked" and moved.entry is not None:
            votes.append(("remove", getattr(moved.entry, "paper", None)))
    votes = [(action, paper) for action, paper in votes if paper is not None]
    if not votes:
        return
    try:
        with json_state(paths.zotero_queue_path()) as state:
            _queue(state, profile, edited.profile.zotero_collection, votes)
    except PaperrecError as error:  # the vote is saved; only its copy in Zotero waits for a working state/
        print(f"paperrec: warning: the like was saved, but not queued for Zotero: {error}", file=sys.stderr)
        return
    wake.set()


def _queue(state: dict[str, Any], profile: str, collection: str, votes: list[tuple[str, Paper]]) -> None:
    ops: list[dict[str, Any]] = state.setdefault("ops", [])
    pushed: dict[str, Any] = state.setdefault("pushed", {})
    for action, paper in votes:
        slot = _slot(profile, paper.arxiv_id)
        waiting = [op for op in ops if op["slot"] == slot]
        opposite = "remove" if action == "add" else "add"
        # Taken back before it was sent: nothing to send. One being sent right now is past taking back.
        cancelled = [op for op in waiting if op["action"] == opposite and not op.get("sending")]
        if cancelled:
            ops[:] = [op for op in ops if op not in cancelled]
            continue
        if action == "remove" and slot not in pushed and not any(op["action"] == "add" for op in waiting):
            continue
        if not any(op["action"] == action and not op.get("sending") for op in waiting):
            ops.append(
                {
                    "id": uuid.uuid4().hex,
                    "slot": slot,
                    "profile": profile,
                    "action": action,
                    "collection": collection,
                    "paper": paper_to_record(paper),
                    "tries": 0,
                }
            )


def pending_pushes() -> list[dict[str, Any]]:
    """The pushes waiting to be sent, oldest first."""
    with json_state(paths.zotero_queue_path()) as state:
        return list(state.get("ops", []))


@dataclass(frozen=True)
class PushReport:
    """What sending the queue did: pushes sent, and the lines of those that failed (kept for the next try)."""

    sent: int = 0
    failed: tuple[str, ...] = ()
    left: int = 0

    def lines(self) -> list[str]:
        """One line for what was sent, one per failure."""
        lines = [f"Zotero: {self.sent} likes sent"] if self.sent else []
        return lines + [f"Zotero: {line} (kept; tried again at the next run)" for line in self.failed]


def push_pending() -> PushReport:
    """Send every queued push to Zotero; one sender at a time, a failed push stays queued."""
    import filelock

    queue = paths.zotero_queue_path()
    if not queue.exists():
        return PushReport()
    sender = filelock.FileLock(str(paths.locks_dir() / "zotero-push-sender.lock"), timeout=0)
    try:
        paths.locks_dir().mkdir(parents=True, exist_ok=True)
        sender.acquire()
    except (filelock.Timeout, OSError):
        return PushReport(left=len(pending_pushes()))  # another paperrec is sending them now
    try:
        sent, failed = 0, []
        for op in pending_pushes():
            if not _start(op):
                continue  # cancelled meanwhile
            try:
                result = _send(op)
            except PaperrecError as error:
                failed.append(f"{op['action']} {op['paper']['id']}: {error}")
                _settle(op, None, str(error))
                continue
            _settle(op, result, None)
            if op["action"] == "add" and isinstance(result.get("item"), str):
                sent_ids = paper_from_record(op["paper"], f"{paths.zotero_queue_path()}: queued push").ids
                remember_pushed(Path(op["profile"]), result["item"], sent_ids)
            sent += 1
        return PushReport(sent, tuple(failed), len(pending_pushes()))
    finally:
        sender.release()


def _start(op: dict[str, Any]) -> bool:
    """Mark a push as being sent, so an undo from now on queues its opposite; False when it was cancelled."""
    with json_state(paths.zotero_queue_path()) as state:
        for queued in state.get("ops", []):
            if queued["id"] == op["id"]:
                queued["sending"] = True
                return True
    return False


def _settle(op: dict[str, Any], result: dict[str, Any] | None, error: str | None) -> None:
    """Record what sending one push did: done (its item remembered or forgotten) or failed (kept, tried again)."""
    with json_state(paths.zotero_queue_path()) as state:
        ops = state.setdefault("ops", [])
        pushed = state.setdefault("pushed", {})
        if result is not None:
            ops[:] = [o for o in ops if o["id"] != op["id"]]
            if op["action"] == "add":
                pushed[op["slot"]] = result
            else:
                pushed.pop(op["slot"], None)
            return
        state.pop("collections", None)  # a collection deleted in Zotero is looked up (or made) again next time
        for queued in ops:
            if queued["id"] == op["id"]:
                queued["tries"] = queued.get("tries", 0) + 1
                queued["error"] = error
                queued.pop("sending", None)


def _collection(api: ZoteroApi, name: str) -> str:
    """The key of the likes collection, created when the library has none of that name (remembered in state/)."""
    slot = f"{api.library.root}|{api.library.prefix}|{name}"
    with json_state(paths.zotero_queue_path()) as state:
        known = state.get("collections", {}).get(slot)
    if known:
        return known
    key = api.collection_key(name) or api.create_collection(name)
    with json_state(paths.zotero_queue_path()) as state:
        state.setdefault("collections", {})[slot] = key
    return key


def _item(api: ZoteroApi, key: str) -> dict[str, Any] | None:
    """The item of this key; None when Zotero has it no more (HTTP 404)."""
    try:
        return api.item(key)
    except NetworkError as error:
        if error.status != 404:
            raise
        return None


def _send(op: dict[str, Any]) -> dict[str, Any]:
    """Send one push; what the queue remembers of it (the item and collection), or PaperrecError."""
    path = Path(op["profile"])
    if not path.is_file():
        return {}  # the profile was deleted: its likes have nowhere to come from
    profile = load_profile(path)
    library = push_library(profile)
    paper = paper_from_record(op["paper"], f"{paths.zotero_queue_path()}: queued push")
    api = ZoteroApi(library)
    try:
        collection = _collection(api, op["collection"])
        if op["action"] == "add":
            item = api.find(paper)
            if item is None:
                return {"item": api.create_item(paper, collection), "collection": collection, "created": True}
            wanted = item_collections(item)
            if collection not in wanted:
                api.set_collections(item, [*wanted, collection])
            return {"item": item["key"], "collection": collection, "created": False}
        with json_state(paths.zotero_queue_path()) as state:
            record = state.get("pushed", {}).get(op["slot"], {})
        item = _item(api, record["item"]) if record.get("item") else None
        item = item or api.find(paper)  # deleted, or merged into another copy, in Zotero: look for the paper
        if item is not None:
            current = item_collections(item)
            if collection in current:
                api.set_collections(item, [c for c in current if c != collection])
        return {}
    finally:
        api.close()


class PushWorker:
    """A background thread of `paperrec serve` that sends queued pushes, retrying each minute while some fail.

    It ends when the queue is empty; the server starts another at the next vote.
    Example: worker = PushWorker(); worker.start(); ...; worker.stop()
    """

    def __init__(self, interval: float = 60.0, on_line: Callable[[str], None] | None = None):
        self.interval = interval
        self.on_line = on_line or (lambda line: print(f"paperrec: {line}", file=sys.stderr))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ending = False

    @property
    def alive(self) -> bool:
        """True while the thread runs and will still look at the queue."""
        return self._thread is not None and self._thread.is_alive() and not self._ending

    def start(self) -> None:
        """Start the thread (once), in the caller's context, so a lab user's queue stays theirs."""
        import contextvars

        if self._thread is not None:
            return
        context = contextvars.copy_context()
        self._thread = threading.Thread(target=context.run, args=(self._loop,), name="paperrec zotero", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread after its current push."""
        self._stop.set()
        wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            wake.clear()
            try:
                report = push_pending()
            except Exception as error:  # a broken state file must not end the server; the votes themselves are saved
                self.on_line(f"Zotero: cannot send the queued likes: {error}")
                report = PushReport(left=1)
            for line in report.lines():
                self.on_line(line)
            if report.left == 0:
                self._ending = True
                return
            wake.wait(self.interval)


def has_pushes() -> bool:
    """True when likes wait to go to Zotero."""
    return paths.zotero_queue_path().exists() and bool(pending_pushes())
