"""Zotero exports in: CSL JSON (an array of items) and Zotero RDF (RDF/XML); attachments and notes are not papers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from xml.parsers import expat

from ..schema import Paper, PaperrecError, clean_text, person_name
from .guard import iso_day, json_loads, reading, scrub, shown
from .idlist import Reference, find_arxiv_id, find_forum, normalise_doi, parse_arxiv_ref, record_paper
from .markdown import strip_html

_NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "z": "http://www.zotero.org/namespaces/export#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "bib": "http://purl.org/net/biblio#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "prism": "http://prismstandard.org/namespaces/1.2/basic/",
}
_ABOUT = f"{{{_NS['rdf']}}}about"
_RESOURCE = f"{{{_NS['rdf']}}}resource"
_NOT_PAPERS = {"attachment", "note", "annotation"}
# Skip reasons that are not problems: what a library holds besides papers. The report counts them apart.
NOT_A_PAPER = "not a paper: a Zotero note, attachment or annotation"
# CSL has no type for notes: Zotero exports a standalone note as {"id": ".../items/KEY", "type": "article",
# "title": <the note's first line>} and nothing else, where every real item carries more (an author, a date, a URL,
# a container...). An item with no field beyond these is a note; so is one whose type says so outright.
_CSL_NOTE_KEYS = {"id", "type", "title", "citation-key", "note", "system_id", "key"}


def _first_id(exact: Iterable[str], free_text: Iterable[str]) -> tuple[str, int | None] | None:
    """The first arXiv id among fields holding just an id/URL/DOI, then among free-text fields."""
    for value in exact:
        found = parse_arxiv_ref(value) if value.strip() else None
        if found:
            return found
    for value in free_text:
        found = find_arxiv_id(value)
        if found:
            return found
    return None


def _build(
    found: tuple[str, int | None] | None,
    ids: tuple[str, str | None],
    title: str,
    abstract: str,
    authors: list[str],
    day: date | None,
) -> Paper | None:
    """A Paper from cleaned fields under its best id (`ids`: DOI and forum); None without an arXiv id or a title."""
    title, abstract, authors = scrub(title), scrub(abstract), [scrub(a) for a in authors]
    authored = tuple(a for a in authors if a)
    return record_paper(found, *ids, title, abstract=abstract, authors=authored, date=day)


def _partial_day(text: str) -> tuple[int | None, date | None]:
    """(year, first day) of a date written 2021-04-21, 2021-04, 2021 or '2021-04-23 08:12:45'; (None, None) else."""
    match = re.match(r"\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", text)
    if not match:
        return None, None
    year = int(match.group(1))
    try:
        return year, date(year, int(match.group(2) or 1), int(match.group(3) or 1))
    except ValueError:
        return year, None


def _csl_text(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    return scrub(str(value)) if isinstance(value, str | int | float) else ""


def _csl_name(person: Any) -> str:
    """A CSL name object as 'Given particle Family suffix', or its literal."""
    if not isinstance(person, dict):
        return ""
    if isinstance(person.get("literal"), str) and person["literal"]:
        return clean_text(scrub(person["literal"]))
    keys = ("given", "dropping-particle", "non-dropping-particle", "family", "suffix")
    parts = {k: str(person[k]) for k in keys if isinstance(person.get(k), str | int | float)}
    if parts.keys() <= {"given", "family"}:  # no particle or suffix: a CJK name keeps its order (王芳)
        return person_name(scrub(parts.get("given", "")), scrub(parts.get("family", "")))
    return clean_text(scrub(" ".join(parts.values())))


def _csl_day(issued: Any) -> date | None:
    """The 'issued' date when it has year, month and day (date-parts or raw)."""
    parts = _csl_parts(issued)
    if parts is not None:
        return parts[1] if len(parts[0]) >= 3 else None
    return iso_day(str(issued.get("raw", ""))) if isinstance(issued, dict) else None


def _csl_parts(value: Any) -> tuple[list[Any], date | None] | None:
    """A CSL date's date-parts and its first day (month and day default to 1); None without date-parts."""
    if not isinstance(value, dict):
        return None
    parts = value.get("date-parts")
    if not (isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]):
        return None
    try:
        numbers = [int(p) for p in parts[0][:3]]
        return parts[0], date(numbers[0], *[*numbers[1:], 1, 1][:2])
    except (TypeError, ValueError, OverflowError):  # OverflowError: a year such as 1e300
        return parts[0], None


def _csl_when(value: Any) -> tuple[int | None, date | None]:
    """(year, first day) of a CSL date: date-parts, else its raw text."""
    parts = _csl_parts(value)
    if parts is not None:
        return (parts[1].year if parts[1] else None), parts[1]
    return _partial_day(str(value.get("raw", ""))) if isinstance(value, dict) else (None, None)


def _csl_is_note(item: dict[str, Any]) -> bool:
    """True for what Zotero writes for a note, attachment or annotation (see _CSL_NOTE_KEYS)."""
    kind = str(item.get("type", "")).lower()
    return kind in _NOT_PAPERS or (kind in ("article", "") and not set(item) - _CSL_NOTE_KEYS)


def _csl_reference(item: dict[str, Any]) -> Reference | None:
    """The reference for one CSL item; the arXiv id from number, URL, DOI, archive_location, note or container."""
    found = _first_id(
        (_csl_text(item, k) for k in ("number", "URL", "DOI", "archive_location")),
        (_csl_text(item, k) for k in ("note", "container-title", "publisher", "source")),
    )
    authors = item.get("author")
    doi = normalise_doi(_csl_text(item, "DOI")) or normalise_doi(_csl_text(item, "URL"))
    forum = next(filter(None, (find_forum(_csl_text(item, k)) for k in ("URL", "note", "archive_location"))), None)
    paper = _build(
        found,
        (doi, forum),
        strip_html(_csl_text(item, "title")),
        strip_html(_csl_text(item, "abstract")),
        [_csl_name(a) for a in authors] if isinstance(authors, list) else [],
        _csl_day(item.get("issued")),
    )
    if paper is None:
        return None
    year, issued = _csl_when(item.get("issued"))
    accessed = _csl_when(item.get("accessed"))[1]
    doi = normalise_doi(_csl_text(item, "DOI"))
    return Reference(paper, doi=doi, year=year, added=accessed or issued, stamped=accessed is not None)


def csl_item_reference(item: dict[str, Any], added: str = "") -> Reference | str | None:
    """One CSL item (a file's, or the Zotero API's `csljson`) as a Reference; NOT_A_PAPER for a note; None without
    an id or title. `added` is Zotero's dateAdded when known: the day the paper joined the library."""
    if _csl_is_note(item):
        return NOT_A_PAPER
    reference = _csl_reference(item)
    day = _partial_day(added)[1] if added else None
    if reference is None or day is None:
        return reference
    return Reference(reference.paper, doi=reference.doi, year=reference.year, added=day, stamped=True)


def read_csl_json(path: Path) -> tuple[list[Paper], list[tuple[str, str]]]:
    """Papers of a CSL JSON export (Zotero: Export → CSL JSON) and the (what, why) items skipped."""
    references, skipped = csl_references(path)
    return [r.paper for r in references], skipped


def csl_references(path: Path) -> tuple[list[Reference], list[tuple[str, str]]]:
    """References of a CSL JSON export and the (what, why) items skipped, notes and attachments among them."""
    with reading(path):
        return _csl_items(path, path.read_text(encoding="utf-8-sig"))


def _csl_items(path: Path, text: str) -> tuple[list[Reference], list[tuple[str, str]]]:
    data = json_loads(text, str(path), with_line=True)
    if not isinstance(data, list):
        raise PaperrecError(f"{path}: expected a JSON array of CSL items (in Zotero: Export → CSL JSON)")
    papers: list[Reference] = []
    skipped: list[tuple[str, str]] = []
    for number, item in enumerate(data, start=1):
        what = f"{path}: item {number}"
        if not isinstance(item, dict):
            skipped.append((what, "not a JSON object"))
            continue
        label = item.get("citation-key") or item.get("id")
        if isinstance(label, str | int | float) and label:
            what += f" ({scrub(str(label))[:80]})"
        elif label:
            what += f" (an id that is a {shown(label)})"
        if _csl_is_note(item):
            skipped.append((what, NOT_A_PAPER))
            continue
        paper = _csl_reference(item)
        if paper is None:
            skipped.append((what, "neither an arXiv id nor a title"))
        else:
            papers.append(paper)
    return papers, skipped


def _texts(element: ElementTree.Element, path: str) -> list[str]:
    return [clean_text(node.text) for node in element.findall(path, _NS) if node.text and node.text.strip()]


def _rdf_person(person: ElementTree.Element) -> str:
    # Zotero wrote foaf:givenname before version 5 and foaf:givenName since.
    given = _texts(person, "foaf:givenName") or _texts(person, "foaf:givenname")
    return person_name(" ".join(given), " ".join(_texts(person, "foaf:surname")))


def _rdf_reference(element: ElementTree.Element, by_about: dict[str, ElementTree.Element]) -> Reference | None:
    """The Paper for one Zotero RDF item; its journal (inline or by reference) is searched for ids too."""
    containers = []
    for part_of in element.findall("dcterms:isPartOf", _NS):
        containers += list(part_of)
        referenced = by_about.get(part_of.get(_RESOURCE, ""))
        if referenced is not None:
            containers.append(referenced)
    holders = [element, *containers]
    urls = [*_texts(element, "dc:identifier/dcterms:URI/rdf:value"), element.get(_ABOUT, "")]
    # Plain dc:identifier values read 'DOI 10.48550/arXiv.2104.10642', 'ISSN ...' and so on.
    identifiers = [re.sub(r"^DOI\s+", "", text) for h in holders for text in _texts(h, "dc:identifier")]
    found = _first_id(
        _texts(element, "z:archiveID") + [t for h in holders for t in _texts(h, "prism:number")] + urls + identifiers,
        _texts(element, "dc:description") + [t for c in containers for t in _texts(c, "dc:title")],
    )
    people = element.findall("bib:authors/rdf:Seq/rdf:li/foaf:Person", _NS)
    published = " ".join(_texts(element, "dc:date")[:1])
    doi = next((normalise_doi(i) for i in identifiers if normalise_doi(i)), "")
    forum = next(filter(None, map(find_forum, urls + _texts(element, "dc:description"))), None)
    paper = _build(
        found,
        (doi or next(filter(None, map(normalise_doi, urls)), ""), forum),
        strip_html(" ".join(_texts(element, "dc:title")[:1])),
        strip_html(" ".join(_texts(element, "dcterms:abstract")[:1])),
        [_rdf_person(p) for p in people],
        iso_day(published),
    )
    if paper is None:
        return None
    year, issued = _partial_day(published)
    # Zotero writes the item's dateAdded as z:dateAdded and its access date (urldate) as dcterms:dateSubmitted.
    stamps = [_partial_day(t)[1] for t in _texts(element, "z:dateAdded") + _texts(element, "dcterms:dateSubmitted")]
    stamp = next((d for d in stamps if d), None)
    return Reference(paper, doi=doi, year=year, added=stamp or issued, stamped=stamp is not None)


def read_zotero_rdf(path: Path) -> tuple[list[Paper], list[tuple[str, str]]]:
    """Papers of a Zotero RDF export in file order and the (what, why) items skipped; attachments and notes ignored."""
    references, skipped = rdf_references(path)
    return [r.paper for r in references], [s for s in skipped if s[1] != NOT_A_PAPER]


def rdf_references(path: Path) -> tuple[list[Reference], list[tuple[str, str]]]:
    """References of a Zotero RDF export and the (what, why) items skipped, notes and attachments among them."""
    with reading(path):
        try:
            root = _parse_xml(path)
        except expat.ExpatError as error:
            raise PaperrecError(
                f"{path}:{error.lineno}: not well-formed XML ({expat.ErrorString(error.code)})"
            ) from None
        return _rdf_items(path, root)


def _parse_xml(path: Path) -> ElementTree.Element:
    """The element tree of an XML file, refusing any DTD: entity declarations could expand without bound."""
    builder = ElementTree.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True

    def name(raw: str) -> str:
        uri, _, local = raw.rpartition(" ")  # expat gives 'uri local'; ElementTree's form is '{uri}local'
        return f"{{{uri}}}{local}" if uri else local

    def refuse(*_: Any) -> None:
        raise PaperrecError(
            f"{path}:{parser.CurrentLineNumber}: XML with a DTD or entities is refused (Zotero writes none)"
        )

    parser.StartElementHandler = lambda tag, attrs: builder.start(name(tag), {name(k): v for k, v in attrs.items()})
    parser.EndElementHandler = lambda tag: builder.end(name(tag))
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    with path.open("rb") as handle:
        parser.ParseFile(handle)
    return builder.close()


def _rdf_items(path: Path, root: ElementTree.Element) -> tuple[list[Reference], list[tuple[str, str]]]:
    if root.tag != f"{{{_NS['rdf']}}}RDF":
        raise PaperrecError(f"{path}: not a Zotero RDF export (the root element is {root.tag}, expected rdf:RDF)")
    by_about = {element.get(_ABOUT, ""): element for element in root if element.get(_ABOUT)}
    papers: list[Reference] = []
    skipped: list[tuple[str, str]] = []
    for element in root:
        # Items carry z:itemType; journals, collections and people do not. Notes are bib:Memo elements (an item's
        # own notes and standalone ones alike), attachments and annotations have their z:itemType.
        item_type = " ".join(_texts(element, "z:itemType"))
        if element.tag == f"{{{_NS['bib']}}}Memo" or item_type in _NOT_PAPERS:
            skipped.append((f"{path}: {item_type or 'note'} {element.get(_ABOUT, '(no rdf:about)')}", NOT_A_PAPER))
            continue
        if not item_type:
            continue
        paper = _rdf_reference(element, by_about)
        if paper is None:
            skipped.append(
                (f"{path}: {item_type} {element.get(_ABOUT, '(no rdf:about)')}", "neither an arXiv id nor a title")
            )
        else:
            papers.append(paper)
    return papers, skipped
