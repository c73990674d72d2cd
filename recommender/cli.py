"""The paperrec command line: parse, call the library, print; errors become one line on stderr."""

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from . import __version__, paths
from .schema import PaperrecError, UsageError

app = typer.Typer(
    name="paperrec",
    help="Rank a day's arXiv listing by what you care about.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
profile_app = typer.Typer(help="Create, inspect and delete profiles.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(profile_app, name="profile")
cache_app = typer.Typer(help="Inspect and prune the embedding cache.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(cache_app, name="cache")

F = TypeVar("F", bound=Callable[..., Any])

ProfileOption = Annotated[
    str, typer.Option("--profile", "-p", help="Profile name (in $PAPERREC_HOME/profiles) or path to a .toml file.")
]
InputFormatOption = Annotated[
    str | None, typer.Option("--input-format", help="Listing format md|jsonl|csv (default: from the extension).")
]
ModelOption = Annotated[
    str,
    typer.Option("--model", envvar="PAPERREC_MODEL", help="sentence-transformers model name or local path."),
]
BackendOption = Annotated[
    str,
    typer.Option(
        "--backend", envvar="PAPERREC_BACKEND", help="torch, or onnx / onnx-int8 (needs the 'onnx' extra; see README)."
    ),
]
MaxSeqLengthOption = Annotated[
    int | None,
    typer.Option(
        "--max-seq-length", envvar="PAPERREC_MAX_SEQ_LENGTH", min=8, help="Tokens embedded per abstract (model: 256)."
    ),
]


def _fail(message: str, code: int) -> None:
    typer.echo(f"paperrec: error: {message}", err=True)
    raise typer.Exit(code)


def handle_errors(command: F) -> F:
    """Turn PaperrecError into one line on stderr: exit 2 for usage errors, 1 for the rest."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except UsageError as error:
            _fail(str(error), 2)
        except PaperrecError as error:
            _fail(str(error), 1)
        except KeyboardInterrupt:
            _fail("interrupted", 130)

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"paperrec {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Rank a day's arXiv listing by what you care about."""


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        paths.atomic_write_text(output, text)
    except OSError as error:
        raise PaperrecError(f"cannot write {output}: {error.strerror or error}") from None
    typer.echo(f"wrote {output}", err=True)


def _embedder(model: str, backend: str = "torch", max_seq_length: int | None = None):  # -> CachedEmbedder
    from .embed import CachedEmbedder, Embedder, EmbeddingCache  # imported here to keep --help fast

    embedder = Embedder(model, backend=backend, max_seq_length=max_seq_length)
    return CachedEmbedder(embedder, EmbeddingCache(paths.cache_path()), progress=sys.stderr.isatty())


def _cache_key(model: str, backend: str, max_seq_length: int | None) -> str:
    from .embed import Embedder

    return Embedder(model or _default_model(), backend=backend, max_seq_length=max_seq_length).cache_key


def _default_model() -> str:
    from .embed import DEFAULT_MODEL

    return DEFAULT_MODEL


def _write_sections(sections: list[tuple[str, list]], fmt: str, output: Path | None) -> None:
    from .export import render_sections

    if output is not None and "{profile}" in str(output):
        for name, picks in sections:
            _write(render_sections([(name, picks)], fmt), Path(str(output).replace("{profile}", name)))
    else:
        _write(render_sections(sections, fmt), output)


FormatOption = Annotated[str, typer.Option("--format", "-f", help="table|json|jsonl|csv|markdown|rss|bibtex")]
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write to this file (atomically); {profile} in the name: one file each."),
]
TopOption = Annotated[int, typer.Option("--top", "-n", help="How many picks to show per profile.")]
MinScoreOption = Annotated[float | None, typer.Option("--min-score", help="Hide picks scoring below this.")]
StrategyOption = Annotated[
    str | None,
    typer.Option(
        "--strategy",
        "-s",
        help="centroid|max|knn|clusters|recency|classifier|tfidf|tfidf-svm|hybrid (default: the profile's).",
    ),
]
DiversityOption = Annotated[
    float | None,
    typer.Option(
        "--diversity", help="0-1: how much to favour picks unlike those above them (MMR; default: profile's)."
    ),
]
DislikeWeightOption = Annotated[
    float | None, typer.Option("--dislike-weight", help="How much dislikes lower a score (default: profile's).")
]


def _check_format(fmt: str) -> None:
    from .export import RENDERERS

    if fmt not in RENDERERS:
        raise UsageError(f"unknown format {fmt!r}: choose one of {', '.join(RENDERERS)}")


@app.command()
@handle_errors
def rank(
    listings: Annotated[list[Path], typer.Argument(help="Listing files (.md, .jsonl, .csv); merged by id.")],
    profile: Annotated[
        list[str], typer.Option("--profile", "-p", help="Profile name or .toml path; repeat for several.")
    ],
    top: TopOption = 10,
    min_score: MinScoreOption = None,
    strategy: StrategyOption = None,
    dislike_weight: DislikeWeightOption = None,
    diversity: DiversityOption = None,
    fmt: FormatOption = "table",
    output: OutputOption = None,
    input_format: InputFormatOption = None,
    mark_seen: Annotated[
        bool, typer.Option("--mark-seen", help="Remember the picks as shown, so 'today' hides them later.")
    ] = False,
    model: ModelOption = "",
    backend: BackendOption = "torch",
    max_seq_length: MaxSeqLengthOption = None,
) -> None:
    """Rank listings for one or more profiles and print the top picks.

    Example: paperrec rank examples/arxiv-cs.CV-2021-04-22.md --profile profiles/super-resolution.toml
    """
    from .daily import profile_paths, rank_profile
    from .seen import SeenMemory
    from .sources import read_listings
    from .state import save_last_ranking

    _check_format(fmt)
    listing = read_listings(listings, input_format)
    embedder = _embedder(model or _default_model(), backend, max_seq_length)
    seen = SeenMemory(paths.seen_path()) if mark_seen else None
    options = dict(strategy=strategy, top=top, min_score=min_score, dislike_weight=dislike_weight, diversity=diversity)
    ranked = [
        rank_profile(listing, path, embedder, seen=seen, include_seen=True, mark_seen=mark_seen, **options)
        for path in profile_paths(profile)
    ]
    save_last_ranking(listing.papers, [(str(r.path), r.picks) for r in ranked])
    _write_sections([(r.profile.name, r.picks) for r in ranked], fmt, output)


def _rate(refs: list[str], profile: str | None, listing: Path | None, input_format: str | None, section: str) -> None:
    from .profile import add_papers, load_profile, save_profile
    from .sources import read_listing
    from .state import resolve_refs

    candidates = read_listing(listing, input_format).papers if listing else None
    path, papers = resolve_refs(refs, profile, candidates)
    loaded = load_profile(path)
    updated, new = add_papers(loaded, papers, section)
    save_profile(updated, path)
    for paper in new:
        typer.echo(f"{section} {paper.arxiv_id}  {paper.title}", err=True)
    skipped = len(refs) - len(new)
    if skipped:
        typer.echo(f"{skipped} already {section} in {loaded.name}", err=True)


RefsArgument = Annotated[list[str], typer.Argument(help="arXiv ids, or rank numbers from the last ranking.")]
RateProfileOption = Annotated[
    str | None,
    typer.Option("--profile", "-p", help="Profile name or .toml path (default: the one last ranked)."),
]
ListingOption = Annotated[
    Path | None, typer.Option("--listing", "-l", help="Look the papers up in this listing (default: last ranking).")
]


@app.command()
@handle_errors
def like(
    refs: RefsArgument,
    profile: RateProfileOption = None,
    listing: ListingOption = None,
    input_format: InputFormatOption = None,
) -> None:
    """Add papers to a profile's liked papers.

    Example: paperrec like 2104.10642 3 --profile super-resolution
    """
    _rate(refs, profile, listing, input_format, "liked")


@app.command()
@handle_errors
def dislike(
    refs: RefsArgument,
    profile: RateProfileOption = None,
    listing: ListingOption = None,
    input_format: InputFormatOption = None,
) -> None:
    """Add papers to a profile's disliked papers (they lower similar papers' scores).

    Example: paperrec dislike 2104.10615 --profile super-resolution
    """
    _rate(refs, profile, listing, input_format, "disliked")


@app.command()
@handle_errors
def unlike(
    ids: Annotated[list[str], typer.Argument(help="arXiv ids to remove from liked or disliked.")],
    profile: ProfileOption,
) -> None:
    """Remove papers from a profile's liked or disliked papers.

    Example: paperrec unlike 2104.10642 --profile super-resolution
    """
    from .profile import load_profile, remove_papers, save_profile
    from .schema import split_arxiv_id

    path = paths.resolve_profile(profile)
    loaded = load_profile(path)
    keys = [(split_arxiv_id(i) or (i.strip(), None))[0] for i in ids]
    updated, found = remove_papers(loaded, keys)
    missing = [i for i in keys if i not in found]
    if not found:
        raise PaperrecError(f"none of {', '.join(ids)} is in profile {loaded.name!r}")
    save_profile(updated, path)
    for arxiv_id in found:
        typer.echo(f"removed {arxiv_id}", err=True)
    if missing:
        typer.echo(f"not in the profile: {', '.join(missing)}", err=True)


def _parse_day(text: str | None):  # -> date | None
    from datetime import date

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--date must be YYYY-MM-DD, got {text!r}") from None


CrossListsOption = Annotated[bool, typer.Option("--cross-lists", help="Include cross-listed papers.")]
DateOption = Annotated[
    str | None,
    typer.Option(
        "--date",
        help="A past announcement day (YYYY-MM-DD), rebuilt from the arXiv API by submission time: an approximation.",
    ),
]


@app.command()
@handle_errors
def fetch(
    categories: Annotated[list[str], typer.Argument(help="arXiv categories, e.g. cs.CV cs.LG.")],
    day: DateOption = None,
    cross_lists: CrossListsOption = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the JSONL listing here.")] = None,
) -> None:
    """Fetch the latest (or a past) arXiv announcement as a JSONL listing; kept so a day is fetched once.

    Example: paperrec fetch cs.CV --output today.jsonl
    """
    from .sources import to_jsonl
    from .sources.arxiv import fetch_listing

    listing, notice = fetch_listing(categories, _parse_day(day), include_cross=cross_lists)
    if notice:
        typer.echo(notice, err=True)
    _write(to_jsonl(listing.papers), output)
    typer.echo(f"{len(listing.papers)} papers, announced {listing.date or 'on an unknown day'}", err=True)


@app.command()
@handle_errors
def today(
    profile: Annotated[
        list[str] | None,
        typer.Option("--profile", "-p", help="Profile name or path; repeat for several (default: all profiles)."),
    ] = None,
    day: DateOption = None,
    cross_lists: CrossListsOption = False,
    include_seen: Annotated[
        bool, typer.Option("--include-seen", help="Also show papers already shown on earlier days.")
    ] = False,
    top: TopOption = 10,
    min_score: MinScoreOption = None,
    strategy: StrategyOption = None,
    dislike_weight: DislikeWeightOption = None,
    diversity: DiversityOption = None,
    fmt: FormatOption = "table",
    output: OutputOption = None,
    model: ModelOption = "",
    backend: BackendOption = "torch",
    max_seq_length: MaxSeqLengthOption = None,
) -> None:
    """Fetch today's listing for each profile's categories, rank it, and remember what was shown.

    Example: paperrec today --profile vision
    """
    from .daily import profile_paths, rank_profile
    from .profile import load_profile
    from .seen import SeenMemory
    from .sources.arxiv import fetch_listing
    from .state import save_last_ranking

    _check_format(fmt)
    wanted_day = _parse_day(day)
    seen = SeenMemory(paths.seen_path())
    embedder = _embedder(model or _default_model(), backend, max_seq_length)
    options = dict(strategy=strategy, top=top, min_score=min_score, dislike_weight=dislike_weight, diversity=diversity)
    ranked, papers = [], {}
    for path in profile_paths(profile or []):
        loaded = load_profile(path)
        if not loaded.categories:
            raise PaperrecError(
                f'profile {loaded.name!r} names no categories: add e.g. categories = ["cs.CV"] to {path}'
            )
        listing, notice = fetch_listing(list(loaded.categories), wanted_day, include_cross=cross_lists)
        if notice:
            typer.echo(f"{loaded.name}: {notice}", err=True)
        result = rank_profile(
            listing, path, embedder, seen=seen, include_seen=include_seen, mark_seen=True, profile=loaded, **options
        )
        if result.hidden_seen:
            typer.echo(f"{loaded.name}: {result.hidden_seen} papers hidden as already shown (--include-seen)", err=True)
        ranked.append(result)
        papers.update((p.arxiv_id, p) for p in listing.papers)
    save_last_ranking(list(papers.values()), [(str(r.path), r.picks) for r in ranked])
    _write_sections([(r.profile.name, r.picks) for r in ranked], fmt, output)


@app.command()
@handle_errors
def evaluate(
    bench: Annotated[
        Path | None, typer.Option("--bench", help="A bench folder laid out like shared/bench (listings/, lists/).")
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", "-p", help="Backtest this profile on stored listings instead.")
    ] = None,
    strategy: Annotated[
        list[str] | None, typer.Option("--strategy", "-s", help="Strategy to evaluate; repeat (default: all).")
    ] = None,
    days: Annotated[int, typer.Option("--days", help="Evenly spaced eligible days per list.")] = 5,
    bench_list: Annotated[list[str] | None, typer.Option("--list", help="Only these bench lists; repeat.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many (list, day) pairs.")] = None,
    listings: Annotated[
        Path | None, typer.Option("--listings", help="Folder of stored listings for --profile (default: fetched).")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Also write the results as JSON here.")] = None,
    baseline: Annotated[
        str, typer.Option("--baseline", help="Report every strategy's nDCG@10 difference to this one (paired).")
    ] = "centroid",
    model: ModelOption = "",
    backend: BackendOption = "torch",
    max_seq_length: MaxSeqLengthOption = None,
) -> None:
    """Measure ranking quality: replay a bench (nDCG@10, recall, MAP, MRR with bootstrap CIs) or backtest a profile.

    Example: paperrec evaluate --bench ../shared/bench --strategy centroid --strategy hybrid --days 5
    """
    import json

    from . import evaluate as ev
    from .strategies import STRATEGIES

    names = list(dict.fromkeys(strategy or STRATEGIES))
    for name in names:
        if name not in STRATEGIES:
            raise UsageError(f"unknown strategy {name!r}: choose one of {', '.join(STRATEGIES)}")
    if (bench is None) == (profile is None):
        raise UsageError("give either --bench FOLDER or --profile P")
    embedder = _embedder(model or _default_model(), backend, max_seq_length)
    if bench is not None:
        result = ev.evaluate(
            ev.load_bench(bench),
            {name: ev.strategy_scorer(name) for name in names},
            embedder,
            days=days,
            lists=bench_list,
            limit=limit,
            progress=sys.stderr.isatty(),
        )
        typer.echo(result.format_table(baseline=baseline))
        report = result.to_json()
    else:
        from .profile import load_profile
        from .sources import read_listing

        loaded = load_profile(paths.resolve_profile(profile))
        folder = listings or paths.listings_dir()
        stored = [read_listing(f) for f in sorted(folder.glob("**/*.jsonl"))] if folder.is_dir() else []
        if not stored:
            raise PaperrecError(f"no stored listings in {folder}: run 'paperrec fetch' or pass --listings FOLDER")
        liked = [(p.paper, p.added) for p in loaded.liked]
        report = {}
        for name in names:
            rows = ev.backtest(liked, stored, ev.strategy_scorer(name), embedder)
            summary = ev.backtest_summary(rows)
            report[name] = {"summary": summary, "papers": rows}
            typer.echo(
                f"{name:<12} {summary['papers']:>4} liked papers found in listings, "
                f"median rank {summary['median_rank']}, {summary['hits@10']} in the top 10"
            )
    if output is not None:
        _write(json.dumps(report, indent=2, default=str) + "\n", output)


@app.command()
@handle_errors
def info(model: ModelOption = "", backend: BackendOption = "torch", max_seq_length: MaxSeqLengthOption = None) -> None:
    """Print where paperrec keeps its files and which model it uses.

    Example: paperrec info
    """
    from .embed import Embedder, EmbeddingCache

    cache_file = paths.cache_path()
    profiles = sorted(paths.profiles_dir().glob("*.toml")) if paths.profiles_dir().is_dir() else []
    lines = [
        f"version      {__version__}",
        f"home         {paths.home()}" + ("  (from $PAPERREC_HOME)" if os.environ.get(paths.HOME_ENV) else ""),
        f"profiles     {paths.profiles_dir()}  ({len(profiles)} profiles)",
    ]
    if cache_file.exists():
        with EmbeddingCache(cache_file) as cache:
            size = cache_file.stat().st_size / 1e6
            lines.append(f"cache        {cache_file}  ({cache.count()} vectors, {size:.1f} MB)")
    else:
        lines.append(f"cache        {cache_file}  (empty)")
    lines += [f"state        {paths.state_dir()}", f"listings     {paths.listings_dir()}"]
    name = model or _default_model()
    try:
        embedder = Embedder(name, backend=backend, max_seq_length=max_seq_length)
        where = str(embedder.path) if embedder.path else "hub or local sentence-transformers cache"
        lines.append(f"model        {embedder.model_id}  ({where})")
        lines.append(f"cache key    {embedder.cache_key}")
    except UsageError:
        raise
    except PaperrecError as error:
        lines.append(f"model        {name}  (unavailable: {error})")
    typer.echo("\n".join(lines))


@app.command()
@handle_errors
def embed(
    files: Annotated[list[Path], typer.Argument(help="JSONL, CSV or Markdown files of papers (streamed).")],
    input_format: InputFormatOption = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Papers read per batch (bounds memory).")] = 1024,
    engine: Annotated[str, typer.Option("--engine", help="local, or ray (JSONL; the 'distributed' extra).")] = "local",
    workers: Annotated[int, typer.Option("--workers", help="Ray: embedding workers (one model each).")] = 2,
    shards: Annotated[
        Path | None, typer.Option("--shards", help="Ray: folder for the shards (shared storage on a cluster).")
    ] = None,
    model: ModelOption = "",
    backend: BackendOption = "torch",
    max_seq_length: MaxSeqLengthOption = None,
) -> None:
    """Embed a corpus into the cache, in batches; resumable (already-cached papers are skipped).

    Example: paperrec embed corpus.jsonl
    """
    from .embed import embed_corpus
    from .sources import iter_papers

    if batch_size < 1 or workers < 1:
        raise UsageError("--batch-size and --workers must be at least 1")
    if engine not in ("local", "ray"):
        raise UsageError(f"unknown engine {engine!r}: choose local or ray")
    embedder = _embedder(model or _default_model(), backend, max_seq_length)
    if engine == "ray":
        from .shards import embed_with_ray, import_shards

        folder = shards or paths.home() / "shards"
        options = {"model": embedder.encoder.model, "backend": backend, "max_seq_length": max_seq_length}
        written = embed_with_ray(files, folder, workers=workers, batch_size=batch_size, **options)
        imported = import_shards(written, embedder.cache)
        typer.echo(f"{len(written)} shards in {folder}; {sum(imported.values())} vectors imported into the cache")
        return
    embedder.progress = False  # one bar for the whole corpus instead of one per batch
    papers = (paper for file in files for paper in iter_papers(file, input_format))
    report = embed_corpus(papers, embedder, batch_size=batch_size, progress=sys.stderr.isatty())
    typer.echo(
        f"{report.papers} papers read, {report.encoded} embedded now, {report.papers - report.encoded} already "
        f"cached (or repeated); {report.seconds:.1f} s, {report.rate:.1f} papers/s embedded"
    )


@cache_app.command("import")
@handle_errors
def cache_import(
    files: Annotated[list[Path], typer.Argument(help="Shard files (.npz) written by 'embed --engine ray'.")],
) -> None:
    """Load embedding shards computed elsewhere into the cache.

    Example: paperrec cache import shards/*.npz
    """
    from .embed import EmbeddingCache
    from .shards import import_shards

    with EmbeddingCache(paths.cache_path()) as cache:
        imported = import_shards(files, cache)
    for key, count in imported.items():
        typer.echo(f"{count} vectors imported for {key}")


@cache_app.command("info")
@handle_errors
def cache_info(
    model: ModelOption = "", backend: BackendOption = "torch", max_seq_length: MaxSeqLengthOption = None
) -> None:
    """Show the cache's size and how many vectors each model setting holds.

    Example: paperrec cache info
    """
    from .embed import EmbeddingCache

    current = _cache_key(model, backend, max_seq_length)
    cache_file = paths.cache_path()
    if not cache_file.exists():
        typer.echo(f"{cache_file}: empty (nothing embedded yet)")
        return
    with EmbeddingCache(cache_file) as cache:
        keys, size = cache.keys(), cache.disk_size() / 1e6
    lines = [f"{cache_file}  {size:.1f} MB on disk, {sum(keys.values())} vectors"]
    for key, count in keys.items():
        lines.append(f"  {count:>9}  {key}" + ("  (current)" if key == current else ""))
    typer.echo("\n".join(lines))


@cache_app.command("prune")
@handle_errors
def cache_prune(
    everything: Annotated[bool, typer.Option("--all", help="Delete every vector, not only other models'.")] = False,
    model: ModelOption = "",
    backend: BackendOption = "torch",
    max_seq_length: MaxSeqLengthOption = None,
) -> None:
    """Delete vectors of model settings other than the current one (or all), then compact the file.

    Example: paperrec cache prune
    """
    from .embed import EmbeddingCache

    current = _cache_key(model, backend, max_seq_length)
    cache_file = paths.cache_path()
    if not cache_file.exists():
        typer.echo(f"{cache_file}: empty, nothing to prune")
        return
    with EmbeddingCache(cache_file) as cache:
        deleted = cache.prune([] if everything else [current])
        left, size = cache.count(), cache.disk_size() / 1e6
    typer.echo(f"deleted {deleted} vectors, {left} kept; {cache_file} is {size:.1f} MB")


def _metadata_lookup(offline: bool):  # -> Lookup | None
    if offline:
        return None
    from .sources.arxiv import fetch_metadata
    from .sources.http import PoliteClient

    def lookup(ids: list[str]) -> dict:
        client = PoliteClient()
        try:
            return fetch_metadata(client, ids)
        finally:
            client.close()

    return lookup


def _import_into(path: Path, profile, files: list[Path], fmt: str | None, offline: bool, section: str) -> None:
    from .profile import import_papers, save_profile
    from .sources.metadata import MetadataCache

    cache = MetadataCache(paths.metadata_cache_path())
    report = import_papers(profile, files, fmt=fmt, lookup=_metadata_lookup(offline), cache=cache, section=section)
    cache.close()
    save_profile(report.profile, path)
    echo = functools.partial(typer.echo, err=True)
    if report.notice:
        echo(report.notice)
    echo(
        f"{report.profile.name}: {len(report.added)} papers added to {section}, {report.already_present} already there"
    )
    if report.without_abstract:
        echo(f"{report.without_abstract} added papers have no abstract; their titles are used instead")
    if report.skipped:
        echo(f"{len(report.skipped)} skipped:")
        for what, why in report.skipped[:20]:
            echo(f"  {what}: {why}")
        if len(report.skipped) > 20:
            echo(f"  ... and {len(report.skipped) - 20} more")
    echo(f"profile saved: {path}")


ImportFormatOption = Annotated[
    str | None,
    typer.Option("--format", help="bibtex|csl-json|zotero-rdf|ids|md|jsonl|csv (default: from the extension)."),
]
OfflineOption = Annotated[bool, typer.Option("--offline", help="Do not ask the arXiv API for missing abstracts.")]


@profile_app.command("new")
@handle_errors
def profile_new(
    name: Annotated[str, typer.Argument(help="Profile name.")],
    from_files: Annotated[
        list[Path] | None,
        typer.Option("--from", help="Papers you liked: a listing, BibTeX, Zotero export or list of arXiv ids."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where to write (default: the profiles directory).")
    ] = None,
    description: Annotated[str, typer.Option("--description", "-d", help="Free-text description.")] = "",
    category: Annotated[list[str] | None, typer.Option("--category", "-c", help="arXiv category to follow.")] = None,
    interest: Annotated[
        list[str] | None, typer.Option("--interest", "-i", help="Free-text interest, embedded like a paper.")
    ] = None,
    input_format: ImportFormatOption = None,
    offline: OfflineOption = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing profile.")] = False,
) -> None:
    """Create a profile, optionally from papers you liked.

    Example: paperrec profile new vision --from my-library.bib --category cs.CV
    """
    from .profile import new_profile, save_profile

    path = output or paths.resolve_profile(name)
    if path.exists() and not force:
        raise PaperrecError(f"profile {path} already exists: add papers with 'paperrec profile import', or --force")
    created = new_profile(name, description=description, categories=category or (), interests=interest or ())
    if from_files:
        _import_into(path, created, from_files, input_format, offline, "liked")
    else:
        save_profile(created, path)
        typer.echo(f"created profile {name!r}: {path}", err=True)


@profile_app.command("import")
@handle_errors
def profile_import(
    profile: Annotated[str, typer.Argument(help="Profile name or .toml path (created if missing).")],
    files: Annotated[list[Path], typer.Argument(help="BibTeX, Zotero CSL JSON/RDF, arXiv id list or listing files.")],
    input_format: ImportFormatOption = None,
    disliked: Annotated[bool, typer.Option("--disliked", help="Import as disliked papers.")] = False,
    offline: OfflineOption = False,
) -> None:
    """Add the papers of your library (BibTeX, Zotero, arXiv ids) to a profile, creating it if needed.

    Example: paperrec profile import vision ~/Zotero/export.bib
    """
    from .profile import load_profile, new_profile

    path = paths.resolve_profile(profile)
    loaded = load_profile(path) if path.exists() else new_profile(path.stem)
    _import_into(path, loaded, files, input_format, offline, "disliked" if disliked else "liked")


@profile_app.command("show")
@handle_errors
def profile_show(
    profile: Annotated[str, typer.Argument(help="Profile name or .toml path.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="text|toml")] = "text",
) -> None:
    """Print a profile's settings and papers.

    Example: paperrec profile show super-resolution
    """
    from .profile import load_profile, profile_to_toml

    path = paths.resolve_profile(profile)
    loaded = load_profile(path)
    if fmt == "toml":
        typer.echo(profile_to_toml(loaded), nl=False)
        return
    if fmt != "text":
        raise UsageError(f"unknown format {fmt!r}: choose text or toml")
    lines = [
        f"name         {loaded.name}",
        f"file         {path}",
        f"description  {loaded.description}",
        f"categories   {', '.join(loaded.categories) or '-'}",
        f"strategy     {loaded.strategy}",
    ]
    lines += [f"interest     {text}" for text in loaded.interests]
    for section in ("liked", "disliked"):
        entries = getattr(loaded, section)
        lines.append(f"{section} ({len(entries)})")
        lines += [f"  {e.paper.arxiv_id:<16} {e.added}  {e.paper.title}" for e in entries]
    typer.echo("\n".join(lines))


@profile_app.command("list")
@handle_errors
def profile_list() -> None:
    """List the profiles in $PAPERREC_HOME/profiles.

    Example: paperrec profile list
    """
    from .profile import load_profile

    folder = paths.profiles_dir()
    files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    if not files:
        typer.echo(f"no profiles in {folder}; create one with 'paperrec profile new NAME --from FILE'", err=True)
        return
    for file in files:
        try:
            loaded = load_profile(file)
            typer.echo(
                f"{file.stem:<24} {len(loaded.liked):>4} liked {len(loaded.disliked):>4} disliked  {loaded.strategy}"
            )
        except PaperrecError as error:
            typer.echo(f"{file.stem:<24} (unreadable: {error})")


@profile_app.command("delete")
@handle_errors
def profile_delete(
    profile: Annotated[str, typer.Argument(help="Profile name or .toml path.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a profile file.

    Example: paperrec profile delete old-interests --yes
    """
    path = paths.resolve_profile(profile)
    if not path.is_file():
        raise PaperrecError(f"unknown profile: {path} does not exist (see 'paperrec profile list')")
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError(f"refusing to delete {path} without confirmation: pass --yes")
        typer.confirm(f"Delete {path}?", abort=True)
    path.unlink()
    typer.echo(f"deleted {path}", err=True)


def run() -> None:
    """Entry point of the paperrec console script."""
    # numpy's BLAS threads spin after each small product: on 2 cores a warm rank spent ~0.2 s more CPU with them and
    # no wall time was saved (an evaluate neither); set before numpy is imported; the user's own setting wins.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    app(prog_name="paperrec")
