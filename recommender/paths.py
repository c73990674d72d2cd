"""Every file location (PAPERREC_HOME and what lives under it), atomic writes and the SQLite files."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING

from .schema import PaperrecError, UsageError

if TYPE_CHECKING:
    import sqlite3

    import filelock

HOME_ENV = "PAPERREC_HOME"


# How to make a first profile, as the README's first screen does; said wherever a command finds none.
CREATE_PROFILE = "paperrec profile new NAME -c cs.CV -i 'your topic' (or --from your-library.bib)"


def home() -> Path:
    """The data directory: $PAPERREC_HOME, else the platform's user data dir for paperrec."""
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("paperrec", appauthor=False))


# The lab user whose files a request or a run reads and writes; None for a one-person home.
_USER: ContextVar[str | None] = ContextVar("paperrec_user", default=None)


def current_user() -> str | None:
    """The lab user this code runs for (see as_user), or None outside a lab."""
    return _USER.get()


@contextmanager
def as_user(name: str | None) -> Iterator[None]:
    """Run the block with one lab user's own files (users/NAME/ under the home); None is the home itself.

    Profiles, state (votes, seen-memory, link secret), rankers and config.toml move to the user's folder.
    Listings and the embedding cache stay at the top, so each paper is embedded once for the whole lab.
    The choice follows the context: asyncio tasks and starlette's thread pool inherit it.
    """
    token = _USER.set(name)
    try:
        yield
    finally:
        _USER.reset(token)


def users_dir() -> Path:
    """The folder holding each lab user's own files."""
    return home() / "users"


def user_root() -> Path:
    """The root of the current user's own files: users/NAME/ in a lab, else the home itself."""
    name = _USER.get()
    return home() if name is None else users_dir() / name


def profiles_dir() -> Path:
    """Where the user's profiles live."""
    return user_root() / "profiles"


def profile_files(folder: Path | None = None) -> list[Path]:
    """The profile files of a profiles folder (the user's unless given), sorted by name; none when it is missing."""
    folder = profiles_dir() if folder is None else folder
    return sorted(folder.glob("*.toml")) if folder.is_dir() else []


def cache_path() -> Path:
    """The SQLite embedding cache."""
    return home() / "cache" / "embeddings.sqlite3"


def metadata_cache_path() -> Path:
    """arXiv titles and abstracts fetched for papers imported by id."""
    return home() / "cache" / "arxiv-metadata.sqlite3"


def summary_cache_path() -> Path:
    """One-line summaries a language model wrote, per paper, model and prompt (shared by a lab, as embeddings are)."""
    return home() / "cache" / "summaries.sqlite3"


_SLUG_MAX = 80
_NAME_MAX = 200  # bytes: the file name gets '.toml' and the temporary file '.NAME.xxxxxxxx.tmp' (limit 255)


def _slug(name: str) -> str:
    """A name made safe as one file name component, at most 80 characters plus a hash of the full name."""
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    if len(slug) <= _SLUG_MAX:
        return slug
    # file names are limited to 255 bytes; the hash keeps long names that share a prefix apart
    return f"{slug[:_SLUG_MAX]}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:12]}"


def ranker_path(profile_name: str) -> Path:
    """The fitted ranker stored for a profile (derived data: deleting it only costs a refit)."""
    return user_root() / "cache" / "rankers" / f"{_slug(profile_name) or 'profile'}.npz"


def analysis_path(profile_name: str) -> Path:
    """The analysed terms of the texts a profile's ranker was last fitted on (derived data, as the ranker is)."""
    return user_root() / "cache" / "analysis" / f"{_slug(profile_name) or 'profile'}.npz"


def derived_files() -> list[Path]:
    """The stored rankers and term analyses of this user's profiles: derived data, each safe to delete."""
    folders = (ranker_path("profile").parent, analysis_path("profile").parent)
    return sorted(f for folder in folders if folder.is_dir() for f in folder.iterdir() if f.is_file())


def onnx_dir(model_id: str) -> Path:
    """Where a model's ONNX export lives (derived data: deleting it only costs a re-export)."""
    return home() / "models" / "onnx" / _slug(model_id)


def state_dir() -> Path:
    """Run state: the last ranking shown (later the seen-memory)."""
    return user_root() / "state"


def last_ranking_path() -> Path:
    """The last ranking, kept so `paperrec like 3` knows what #3 was."""
    return state_dir() / "last_ranking.json"


def seen_path() -> Path:
    """The seen-memory: papers each profile was already shown."""
    return state_dir() / "seen.sqlite3"


def sent_path() -> Path:
    """The sent-record: which picks each mail or chat channel already got."""
    return state_dir() / "sent.sqlite3"


def listings_dir() -> Path:
    """Listings fetched from arXiv."""
    return home() / "listings"


def serve_token_path() -> Path:
    """The secret every page of `paperrec serve` asks for, kept so a restart does not log out a phone."""
    return state_dir() / "serve-token"


def serve_open_path(port: int) -> Path:
    """The page `paperrec serve --open` starts the browser on (mode 0600): it goes on to the address with the token."""
    return state_dir() / f"serve-open-{port}.html"


def locks_dir() -> Path:
    """Lock files that serialise edits of profiles and other files edited in place."""
    return home() / "locks"


def lock_path(path: Path) -> Path:
    """The lock file guarding edits of the file at path (its real path, so links and relative paths agree)."""
    real = os.path.realpath(path)
    return locks_dir() / f"{_slug(Path(real).name)}-{hashlib.sha256(real.encode('utf-8')).hexdigest()[:16]}.lock"


def _inode_lock_path(path: Path) -> Path | None:
    """The lock file shared by every hard link of path; None when path has no other links."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    if info.st_nlink < 2 or not stat.S_ISREG(info.st_mode):
        return None
    return locks_dir() / f"inode-{info.st_dev}-{info.st_ino}.lock"


def _acquire(lock_file: Path, path: Path, timeout: float) -> filelock.BaseFileLock:
    import filelock

    try:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(lock_file, timeout=timeout)
        lock.acquire()
    except filelock.Timeout:
        raise PaperrecError(f"{path} is being edited by another paperrec (waited {timeout:.0f} s); try again") from None
    except OSError as error:
        raise PaperrecError(f"cannot lock {path} for editing ({lock_file}: {error.strerror or error})") from None
    return lock


@contextmanager
def locked(path: Path, timeout: float = 60.0) -> Iterator[None]:
    """Hold the lock for editing path; another paperrec waits for it, for at most `timeout` seconds.

    The lock files live under PAPERREC_HOME, not next to the file: a profile folder is often a git
    repository or a synced folder, where lock files would be noise (and flock may not work there).
    Processes with different PAPERREC_HOMEs therefore do not exclude each other.
    A file with several hard links also takes a lock named by its inode, so edits made through different links
    exclude each other too.
    """
    held = [_acquire(lock_path(path), path, timeout)]
    try:
        shared = _inode_lock_path(path)
        if shared is not None:  # always after the path's own lock, so two links cannot wait on each other
            held.append(_acquire(shared, path, timeout))
        yield
    finally:
        for lock in reversed(held):
            lock.release()


def resolve_profile(name_or_path: str, *, existing: bool = True) -> Path:
    """The file X if it exists or ends in .toml, else $PAPERREC_HOME/profiles/X.toml.

    A profile to create (existing=False) is never a file that merely has its name, such as 'notes' in the current
    folder: `profile new notes --force` must not write over it.
    """
    if "\x00" in name_or_path:  # no file name can hold one, and the OS calls would raise ValueError
        raise UsageError(f"invalid profile {name_or_path[:40]!r}: it contains a NUL character")
    candidate = Path(name_or_path).expanduser()
    try:
        is_file = candidate.is_file()
    except OSError:  # e.g. a name too long for the file system
        is_file = False
    if candidate.suffix == ".toml" or (is_file and existing):
        return candidate
    if not name_or_path or "/" in name_or_path or name_or_path.startswith("."):
        raise UsageError(f"invalid profile name {name_or_path!r}: use a name like 'vision' or a .toml path")
    if len(name_or_path.encode("utf-8")) > _NAME_MAX:
        raise UsageError(
            f"profile name {name_or_path[:40]!r}... is too long ({len(name_or_path)} characters): "
            f"use at most {_NAME_MAX} bytes, or a .toml path"
        )
    return profiles_dir() / f"{name_or_path}.toml"


def atomic_write_text(path: Path, text: str) -> None:
    """Write text to path via a temporary file and rename, so readers never see a partial file."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _temp_name_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(name)}\.[0-9a-f]{{8}}\.tmp")


_DESCRIPTOR = re.compile(r"/dev/(?:stdout|stderr|fd/\d+)|/proc/(?:self|\d+)/fd/\d+")


def _names_descriptor(path: Path) -> bool:
    """True for /dev/stdout, /dev/stderr, /dev/fd/N and /proc/self/fd/N: names of an already open file."""
    return bool(_DESCRIPTOR.fullmatch(os.path.abspath(path)))


def _write_in_place(path: Path, data: bytes, mode: int | None) -> bool:
    """Write data into what path already is, when a rename would be wrong; False for a plain file or none.

    A FIFO or a character device (/dev/null, a terminal) is written to directly, and /dev/stdout and its kin are
    appended to, as a shell redirection expects. A file with other hard links is rewritten in place, so every link
    keeps seeing it (a given mode is set on it); its caller holds the file's lock. Other special files are refused.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return False
    if _names_descriptor(path) or stat.S_ISFIFO(info.st_mode) or stat.S_ISCHR(info.st_mode):
        fd = os.open(path, os.O_WRONLY | (os.O_APPEND if _names_descriptor(path) else 0))
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return True
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    if not stat.S_ISREG(info.st_mode):
        raise OSError(errno.EINVAL, "not a regular file, a FIFO or a character device", str(path))
    if info.st_nlink < 2:
        return False
    fd = os.open(path, os.O_WRONLY)
    with os.fdopen(fd, "wb") as handle:
        if mode is not None:
            os.fchmod(fd, mode)
        try:
            # The space is reserved first: a disk that fills up must fail before the old text is overwritten.
            if hasattr(os, "posix_fallocate"):  # not on macOS
                os.posix_fallocate(fd, 0, max(len(data), 1))
        except OSError as error:
            if error.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                raise
        handle.write(data)
        handle.truncate(len(data))
        handle.flush()
        os.fsync(fd)
    return True


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write bytes to path via a temporary file in the same directory and os.replace.

    A symlink is written through (its target is replaced, the link kept). An existing file keeps its
    permission bits; a new one gets 0o666 less the umask, like any file the user creates. A given mode wins over both.
    A FIFO, a character device, /dev/stdout and a file with other hard links are written in place instead
    (see _write_in_place); other special files are refused with an OSError.
    """
    path = Path(path)
    if _write_in_place(path, data, mode):
        return
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        with suppress(FileNotFoundError):  # a new file: the umask decides
            mode = path.stat().st_mode & 0o7777
    while True:
        tmp = _temp_path(path)
        try:
            # the kernel applies the umask; a given mode applies from the start, so a secret is never readable
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else mode & 0o777)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as handle:
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sweep_stale_temps(path)


# A write takes well under a second: a temporary file of this age is a killed writer's, never a live one's.
STALE_TEMP_SECONDS = 600


def _temp_path(path: Path) -> Path:
    """A new hidden temporary file's name beside path: '.NAME.' then 8 random hex digits then '.tmp'."""
    return path.parent / f".{path.name}.{os.urandom(4).hex()}.tmp"


def _sweep_stale_temps(path: Path) -> None:
    """Remove the temporary files of `path` (as _temp_path names them) that a killed write left behind, older than
    STALE_TEMP_SECONDS."""
    import time

    ours = re.compile(rf"\.{re.escape(path.name)}\.[0-9a-f]{{8}}\.tmp")
    cutoff = time.time() - STALE_TEMP_SECONDS
    with suppress(OSError):
        for entry in os.scandir(path.parent):
            if ours.fullmatch(entry.name):
                with suppress(OSError):
                    if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                        os.unlink(entry.path)


def create_private_file(path: Path, data: bytes, what: str) -> bytes:
    """Write data to a new file of mode 0600 linked into place; if another process made the file first, its bytes.

    The file is never readable by others, even for a moment, and two first uses agree on one content.
    """
    tmp = _temp_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), 0o600)  # whatever the umask says
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(tmp, path)  # fails if another process made one first: then theirs is the one
            except FileExistsError:
                return path.read_bytes()
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as error:
        raise PaperrecError(f"cannot create {what} {path}: {error.strerror or error}") from None
    return data


def remove_stale_temporaries(path: Path) -> int:
    """Delete temporary files an interrupted atomic write of path left behind; call only under path's lock."""
    pattern = _temp_name_pattern(Path(path).name)
    removed = 0
    try:
        candidates = list(Path(path).parent.iterdir())
    except OSError:
        return 0
    for candidate in candidates:
        if pattern.fullmatch(candidate.name):
            try:
                candidate.unlink()
                removed += 1
            except OSError:
                pass  # not ours to fix here; the edit itself reports a read-only folder
    return removed


def open_database(path: Path, table: str, what: str) -> sqlite3.Connection:
    """An SQLite file in WAL mode (several processes may share it), with its table created; errors name `what`."""
    import sqlite3
    import time

    attempt = 0
    while True:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            database = sqlite3.connect(path, timeout=30)
            database.execute("PRAGMA journal_mode=WAL")
            database.execute(table)
            database.commit()
            return database
        except sqlite3.OperationalError as error:
            # Switching a new file to WAL needs it to itself and SQLite does not wait for that: processes that create
            # the file at the same moment retry instead of failing.
            attempt += 1
            if "locked" not in str(error) or attempt == 20:
                raise PaperrecError(f"cannot open the {what} {path}: {error}{_folder_hint(path)}") from None
            time.sleep(0.05 * attempt)
        except (sqlite3.Error, OSError) as error:
            raise PaperrecError(f"cannot open the {what} {path}: {error}{_folder_hint(path)}") from None


def _folder_hint(path: Path) -> str:
    """Why a file under PAPERREC_HOME cannot be made, in the user's terms: the home is a file, or cannot be written."""
    for folder in (path.parent, *path.parent.parents):
        if folder.exists():
            break
    else:
        return ""
    if not folder.is_dir():
        if home() in folder.parents:  # the home is a folder: only this file is in the way
            return f" ({folder} is a file, not a folder: move it away so paperrec can make the folder)"
        return f" ({folder} is a file, not a folder: point ${HOME_ENV} at a folder)"
    if not os.access(folder, os.W_OK):
        return f" ({folder} cannot be written: make it writable or point ${HOME_ENV} at a folder that is)"
    return ""


def zotero_key_path() -> Path:
    """The Zotero Web API key, when $ZOTERO_API_KEY does not hold it (mode 0600)."""
    return user_root() / "zotero-key"


def openalex_key_path() -> Path:
    """The OpenAlex API key, when $OPENALEX_API_KEY does not hold it (mode 0600)."""
    return user_root() / "openalex-key"


def openreview_token_path() -> Path:
    """The OpenReview API token, when $OPENREVIEW_TOKEN does not hold it (mode 0600)."""
    return user_root() / "openreview-token"


def zotero_sync_path() -> Path:
    """What each profile's last Zotero sync saw: the library version and the items it read."""
    return state_dir() / "zotero-sync.json"


def zotero_queue_path() -> Path:
    """Likes waiting to go to Zotero, and the items they became."""
    return state_dir() / "zotero-push.json"
