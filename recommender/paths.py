"""Every file location (PAPERREC_HOME and what lives under it), atomic writes and the SQLite files."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from .schema import PaperrecError, UsageError

if TYPE_CHECKING:
    import sqlite3

HOME_ENV = "PAPERREC_HOME"


def home() -> Path:
    """The data directory: $PAPERREC_HOME, else the platform's user data dir for paperrec."""
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("paperrec", appauthor=False))


def profiles_dir() -> Path:
    """Where the user's profiles live."""
    return home() / "profiles"


def cache_path() -> Path:
    """The SQLite embedding cache."""
    return home() / "cache" / "embeddings.sqlite3"


def metadata_cache_path() -> Path:
    """arXiv titles and abstracts fetched for papers imported by id."""
    return home() / "cache" / "arxiv-metadata.sqlite3"


def _slug(name: str) -> str:
    """A name made safe as one file name component."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def ranker_path(profile_name: str) -> Path:
    """The fitted ranker stored for a profile (derived data: deleting it only costs a refit)."""
    return home() / "cache" / "rankers" / f"{_slug(profile_name) or 'profile'}.npz"


def onnx_dir(model_id: str) -> Path:
    """Where a model's ONNX export lives (derived data: deleting it only costs a re-export)."""
    return home() / "models" / "onnx" / _slug(model_id)


def state_dir() -> Path:
    """Run state: the last ranking shown (later the seen-memory)."""
    return home() / "state"


def last_ranking_path() -> Path:
    """The last ranking, kept so `paperrec like 3` knows what #3 was."""
    return state_dir() / "last_ranking.json"


def seen_path() -> Path:
    """The seen-memory: papers each profile was already shown."""
    return state_dir() / "seen.sqlite3"


def listings_dir() -> Path:
    """Listings fetched from arXiv."""
    return home() / "listings"


def resolve_profile(name_or_path: str) -> Path:
    """The file X if it exists or ends in .toml, else $PAPERREC_HOME/profiles/X.toml."""
    candidate = Path(name_or_path).expanduser()
    if candidate.suffix == ".toml" or candidate.is_file():
        return candidate
    if not name_or_path or "/" in name_or_path or name_or_path.startswith("."):
        raise UsageError(f"invalid profile name {name_or_path!r}: use a name like 'vision' or a .toml path")
    return profiles_dir() / f"{name_or_path}.toml"


def atomic_write_text(path: Path, text: str) -> None:
    """Write text to path via a temporary file and rename, so readers never see a partial file."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write bytes to path via a temporary file in the same directory and os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def open_database(path: Path, table: str, what: str) -> sqlite3.Connection:
    """An SQLite file in WAL mode (several processes may share it), with its table created; errors name `what`."""
    import sqlite3

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        database = sqlite3.connect(path, timeout=30)
        database.execute("PRAGMA journal_mode=WAL")
        database.execute(table)
        database.commit()
    except (sqlite3.Error, OSError) as error:
        raise PaperrecError(f"cannot open the {what} {path}: {error}") from None
    return database
