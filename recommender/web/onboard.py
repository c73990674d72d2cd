"""A new profile from the page: the upload of a library export, read through the same import as `profile new`."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from starlette.datastructures import UploadFile
from starlette.requests import Request

from ..paths import profiles_dir, resolve_profile
from ..profile.library import ImportReport, no_categories_line, report_lines, start_profile
from ..schema import PaperrecError, printable
from ..sources.taxonomy import validate_categories
from .security import FORM_ROOM, MAX_UPLOAD, capped, check_upload

# The formats a researcher's library comes in; listing files (md, jsonl, csv) are for the command line.
UPLOAD_FORMATS = {
    "": "from the file's extension",
    "bibtex": "BibTeX (.bib)",
    "csl-json": "CSL JSON (.json)",
    "zotero-rdf": "Zotero RDF (.rdf)",
    "ris": "RIS (.ris, from EndNote, Mendeley or Papers)",
    "ids": "arXiv ids or DOIs, one a line (.txt)",
}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class NewProfile:
    """What the new-profile form asks for; the library file, if any, is read separately."""

    name: str
    categories: tuple[str, ...]
    interests: tuple[str, ...]
    fmt: str | None
    offline: bool
    sources: tuple[str, ...] = ()  # beyond arXiv's categories: bioRxiv subjects, journal feeds (`paperrec sources`)


@dataclass(frozen=True)
class Created:
    """A profile made from the page: its report (the lines `profile new` prints) and its file."""

    report: ImportReport
    lines: tuple[str, ...]
    path: Path


async def read_upload(request: Request, csrf: str) -> tuple[NewProfile, UploadFile | None]:
    """The new-profile form, read only after its token and declared size were checked, and no more than the limit."""
    check_upload(request.headers, request.query_params, csrf, MAX_UPLOAD)
    refusal = f"refused: the upload is more than {MAX_UPLOAD / 1e6:g} MB; files up to that size are taken"
    body = Request(request.scope, capped(request.receive, MAX_UPLOAD + FORM_ROOM, refusal))
    form = await body.form(max_files=1)
    text = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    fmt = text.get("format", "")
    if fmt not in UPLOAD_FORMATS:
        raise PaperrecError(f"unknown format {fmt!r}: choose one of {', '.join(f for f in UPLOAD_FORMATS if f)}")
    chosen = [v for v in form.getlist("category") if isinstance(v, str) and v.strip()]
    lines = [printable(line).strip() for line in text.get("interests", "").splitlines()]
    wanted = NewProfile(
        name=printable(text.get("name", "")).strip(),
        categories=tuple(chosen),
        interests=tuple(line for line in dict.fromkeys(lines) if line),
        fmt=fmt or None,
        offline=text.get("offline") == "on",
        sources=tuple(dict.fromkeys(line.strip() for line in text.get("sources", "").splitlines() if line.strip())),
    )
    upload = form.get("library")
    if not isinstance(upload, UploadFile) or (not upload.filename and not upload.size):
        upload = None  # the file field left empty
    return wanted, upload


def profile_file(name: str, taken: Collection[str]) -> Path:
    """Where a profile of this name goes in the profiles folder; an error when the name is used or not a name."""
    if not name:
        raise PaperrecError("give the profile a name, e.g. vision")
    if name.endswith(".toml") or any(c in name for c in "/\\") or name.startswith("."):
        raise PaperrecError(f"invalid profile name {name!r}: use a name like 'vision'")
    path = resolve_profile(name, existing=False)
    if path.parent != profiles_dir() or path.exists() or name in taken or path.stem in taken:
        raise PaperrecError(f"a profile named {name!r} exists already: choose another name")
    return path


def create_from_upload(wanted: NewProfile, upload: tuple[str, IO[bytes]] | None, taken: Sequence[str] = ()) -> Created:
    """Create the profile: the uploaded library (name, stream) imported as `profile new --from` does, or interests."""
    path = profile_file(wanted.name, taken)
    categories = validate_categories(wanted.categories)
    if upload is None and not wanted.interests:
        raise PaperrecError("upload a library export, or type at least one interest")
    with tempfile.TemporaryDirectory(prefix="paperrec-upload-") as folder:
        files = []
        if upload is not None:
            filename, stream = upload
            safe = _SAFE_NAME.sub("_", Path(filename).name)[-100:].lstrip(".") or "library"
            saved = Path(folder) / safe
            with saved.open("wb") as out:
                shutil.copyfileobj(stream, out)
            files.append(saved)
        try:
            report = start_profile(
                wanted.name,
                output=path,
                categories=categories,
                interests=wanted.interests,
                files=files,
                fmt=wanted.fmt,
                offline=wanted.offline,
                sources=wanted.sources,
            )
        except PaperrecError as error:  # the page names the uploaded file, not where it was kept meanwhile
            raise PaperrecError(str(error).replace(folder + os.sep, "")) from None
        if files:
            lines = [line.replace(folder + os.sep, "") for line in report_lines(report)]
        else:
            warning = no_categories_line(report.profile)
            lines = [*filter(None, [report.notice, warning]), f"created profile {report.profile.name!r}: {report.path}"]
    return Created(report, tuple(printable(line) for line in lines), path)
