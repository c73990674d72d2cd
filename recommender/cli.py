"""The paperrec command line: parse, call the library, print; errors become one line on stderr."""

import functools
import inspect
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from . import __version__, paths
from .schema import NotFound, PaperrecError, TemporaryFailure, UsageError, counted

app = typer.Typer(
    name="paperrec",
    help="Rank a day's new papers (arXiv, bioRxiv, medRxiv, OpenReview, journal feeds) by what you care about.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
profile_app = typer.Typer(help="Create, inspect and delete profiles.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(profile_app, name="profile")
cache_app = typer.Typer(help="Inspect and prune the embedding cache.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(cache_app, name="cache")
user_app = typer.Typer(help="Lab users of 'paperrec serve --users'.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(user_app, name="user")

F = TypeVar("F", bound=Callable[..., Any])
DEBUG_ENV = "PAPERREC_DEBUG"
EX_TEMPFAIL = 75  # sysexits.h: try again later (cron can tell it from a bad configuration, exit 1)
# Unexpected exceptions that reached the last-resort handler in this process; the test suite fails on any.
internal_errors: list[BaseException] = []

InputFormatOption = Annotated[
    str | None, typer.Option("--input-format", help="md, jsonl or csv (default: by its extension).")
]
MODEL_OPTIONS = (
    (
        "model",
        Annotated[
            str | None,
            typer.Option("--model", envvar="PAPERREC_MODEL", help="sentence-transformers model name or local path."),
        ],
    ),
    (
        "backend",
        Annotated[
            str | None,
            typer.Option(
                "--backend",
                envvar="PAPERREC_BACKEND",
                help="torch (default), or onnx / onnx-int8 (needs the 'onnx' extra; see README).",
            ),
        ],
    ),
    (
        "max_seq_length",
        Annotated[
            int | None,
            typer.Option(
                "--max-seq-length",
                envvar="PAPERREC_MAX_SEQ_LENGTH",
                min=8,
                help="Tokens embedded per abstract (model: 256).",
            ),
        ],
    ),
)


@dataclass(frozen=True)
class ModelSettings:
    """The --model, --backend and --max-seq-length a command was given (None: environment, then defaults)."""

    model: str | None = None
    backend: str | None = None
    max_seq_length: int | None = None

    def embedder(self):  # -> CachedEmbedder
        """The cached embedder for these settings (the model loads on first use)."""
        from .embed import open_embedder  # imported here to keep --help fast

        return open_embedder(self.model, self.backend, self.max_seq_length)

    def cache_key(self) -> str | None:
        """The cache key of these settings, without loading the model (None when only loading it would tell)."""
        from .embed import cache_key

        return cache_key(self.model, self.backend, self.max_seq_length)


def model_options(command: F) -> F:
    """Give a command the model options, declared once here; it receives them as `settings: ModelSettings`."""
    signature = inspect.signature(command)
    kept = [p for name, p in signature.parameters.items() if name != "settings"]
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=kind)
        for name, kind in MODEL_OPTIONS
    ]

    @functools.wraps(command)
    def wrapper(
        *args: Any,
        model: str | None = None,
        backend: str | None = None,
        max_seq_length: int | None = None,
        **kwargs: Any,
    ) -> Any:
        return command(*args, settings=ModelSettings(model or None, backend or None, max_seq_length), **kwargs)

    wrapper.__signature__ = signature.replace(parameters=kept + added)  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def _fail(message: str, code: int) -> None:
    from .schema import printable

    # a message may quote a profile's name or a file's text: no line breaks or escapes forge lines in a cron log
    typer.echo(f"paperrec: error: {printable(message)}", err=True)
    raise typer.Exit(code)


def handle_errors(command: F) -> F:
    """Turn PaperrecError into one line on stderr: exit 2 for usage errors, 1 for the rest.

    Anything else is a bug: one line too (PAPERREC_DEBUG=1 shows the traceback), exit 1.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except UsageError as error:
            _fail(str(error), 2)
        except TemporaryFailure as error:
            _fail(str(error), EX_TEMPFAIL)
        except PaperrecError as error:
            _fail(str(error), 1)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except BrokenPipeError:
            # The reader went away (`paperrec rank ... | head`): nothing left to say to it.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(141) from None
        except (typer.Exit, typer.Abort, typer.TyperException):  # typer's own flow (its click is vendored)
            raise
        except Exception as error:
            internal_errors.append(error)
            if os.environ.get(DEBUG_ENV):
                raise
            _fail(_internal(error), 1)

    return wrapper  # type: ignore[return-value]


def _internal(error: Exception) -> str:
    """The one line for a bug: its type and message, and how to see the traceback."""
    detail = " ".join(f"{type(error).__name__}: {error}".split())[:300]
    return f"internal error: {detail}; run with {DEBUG_ENV}=1 for details"


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
    """Rank a day's new papers (arXiv, bioRxiv, medRxiv, OpenReview, journal feeds) by what you care about."""


def _say(line: str) -> None:
    """A line for stderr that may quote a paper, a profile or a server's answer: printable, one line."""
    from .schema import printable

    typer.echo(printable(line), err=True)


def _stdout(output: Path | None) -> Path | None:
    """None (standard output) for no --output or `-o -`."""
    return None if output is None or str(output) == "-" else output


def _print_data(text: str) -> None:
    """Write data to standard output; on a terminal without the escape sequences a paper's text may carry."""
    from .schema import terminal_safe

    sys.stdout.write(terminal_safe(text) if sys.stdout.isatty() else text)


def _write(text: str, output: Path | None) -> None:
    output = _stdout(output)
    if output is None:
        _print_data(text)
        return
    from .export import write_text

    write_text(text, output)
    typer.echo(f"wrote {output}", err=True)


def _write_run(run, fmt: str, output: Path | None) -> list[str]:  # run: recommender.run.Run
    """Print or write the run's picks; the files that could not be written, said later with the run's failures."""
    from .export import render_run, write_sections

    output = _stdout(output)
    if not run.sections:
        return []
    if output is None:
        _print_data(render_run(run.sections, fmt))
        return []
    written = write_sections(run.sections, fmt, output)
    for path in written.paths:
        typer.echo(f"wrote {path}", err=True)
    return list(written.errors)


def _report_run(run) -> None:  # run: recommender.run.Run
    """Notices, and one summary line per profile (then a line when its likes are old, and why it has no picks)."""
    # Profile names and categories come from the user's files: no line breaks or escape sequences reach a log.
    for notice in run.notices:
        _say(notice)
    for section in run.sections:
        for line in (section.summary(), *section.notices_on_likes(), section.old_likes(), section.why_empty()):
            if line:
                _say(line)


def _exit_for_failures(  # run: recommender.run.Run
    run, mail: list[PaperrecError] | None = None, unsaved: Sequence[str] = ()
) -> None:
    """Remember what was shown, then one line per profile that failed and per thing not kept or written; exit 75 when
    every failure (and mail error, already said) may pass by itself, else 1.

    Called after the picks are out: a read-only state/ must not cost them, so its error comes after them.
    """
    problems = [*unsaved, *run.unsaved]
    if run.sections:
        try:
            run.remember()
        except PaperrecError as error:
            problems.append(str(error))
    for failure in run.failures:
        _say(f"paperrec: error: {failure.line()}")
    for problem in dict.fromkeys(problems):
        _say(f"paperrec: error: {problem}")
    transient = [f.transient for f in run.failures] + [isinstance(e, TemporaryFailure) for e in mail or []]
    transient += [False] * len(problems)  # a read-only state/ does not pass by itself
    if transient:
        raise typer.Exit(EX_TEMPFAIL if all(transient) else 1)


def _resend(config):  # config: recommender.config.Config -> recommender.mail.Resent
    """Send the digests kept unsent and say what was sent and what was dropped."""
    from .mail import resend_unsent

    resent = resend_unsent(config)
    for line in (*resent.dropped, *resent.sent):
        _say(f"paperrec: {line}")
    return resent


def _format_name(fmt: str) -> str:
    from .export import format_name

    return format_name(fmt)


FormatOption = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        help="table|json|jsonl|csv|markdown|rss (Atom; also 'atom')|bibtex|html (the digest page)",
        callback=_format_name,
    ),
]
OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", help="Write to this file (atomically; - is stdout); {profile} in the name: one file each."
    ),
]
TopOption = Annotated[int, typer.Option("--top", "-n", help="How many picks to show per profile.")]
MinScoreOption = Annotated[float | None, typer.Option("--min-score", help="Hide picks scoring below this.")]
MinMatchOption = Annotated[
    float | None,
    typer.Option("--min-match", help="Hide picks less likely than this (0-1) to be liked (default: profile's)."),
]
StrategyOption = Annotated[
    str | None,
    typer.Option("--strategy", "-s", help="How to score (default: the profile's); 'paperrec info' lists them."),
]
DiversityOption = Annotated[
    float | None,
    typer.Option(
        "--diversity", help="0-1: how much to favour picks unlike those above them (MMR; default: profile's)."
    ),
]
AllSentencesOption = Annotated[
    bool,
    typer.Option("--all-sentences", help="Find the key sentence of every pick (default: the first 10; it costs time)."),
]
DislikeWeightOption = Annotated[
    float | None, typer.Option("--dislike-weight", help="How much dislikes lower a score (default: profile's).")
]
MustOption = Annotated[
    list[str] | None,
    typer.Option("--must", help="Keep only papers mentioning one of these terms; repeat (replaces the profile's)."),
]
NeverOption = Annotated[
    list[str] | None,
    typer.Option("--never", help="Drop papers mentioning this term; repeat (added to the profile's)."),
]


@dataclass(frozen=True)
class RankChoices:
    """The ranking options of rank and today, as given; each field is declared once here as its option."""

    top: TopOption = 10
    min_score: MinScoreOption = None
    min_match: MinMatchOption = None
    strategy: StrategyOption = None
    dislike_weight: DislikeWeightOption = None
    diversity: DiversityOption = None
    must: MustOption = None
    never: NeverOption = None


def rank_choices(command: F) -> F:
    """Give a command the RankChoices options where its `ranking` parameter stands; it receives them as `ranking`."""
    signature = inspect.signature(command)
    options = fields(RankChoices)
    parameters: list[inspect.Parameter] = []
    for name, parameter in signature.parameters.items():
        if name != "ranking":
            parameters.append(parameter)
        else:  # in its place, so --help lists the options where the command puts them
            parameters += [parameter.replace(name=f.name, annotation=f.type, default=f.default) for f in options]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        chosen = {f.name: kwargs.pop(f.name) for f in options if f.name in kwargs}
        return command(*args, ranking=RankChoices(**chosen), **kwargs)

    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


SummaryModelOption = Annotated[
    str | None,
    typer.Option(
        "--summary-model",
        help="A model 'llm models' lists: a one-line summary per pick (default: config.toml's summary_model; off).",
    ),
]


def _summary_model(flag: str | None) -> str | None:
    """The model that summarises picks: --summary-model, else config.toml's summary_model; None for none."""
    from .summary import model_name

    if flag is not None:
        try:
            return model_name(flag)
        except PaperrecError as error:
            raise UsageError(str(error)) from None
    from .config import config_path, read_setting

    path = config_path()
    if not path.is_file():
        return None
    try:
        return model_name(read_setting("summary_model", path), f"{path}: summary_model")
    except PaperrecError as error:  # a broken settings file costs the summaries, never the picks
        typer.echo(f"paperrec: warning: {error}; no summaries", err=True)
        return None


def _rank_options(ranking: RankChoices, all_sentences: bool):  # -> rank.RankOptions
    """The ranking options of rank and today, checked before anything is ranked."""
    from .rank.options import RankOptions

    return RankOptions(
        **{f.name: getattr(ranking, f.name) for f in fields(ranking) if f.name not in ("must", "never")},
        must=tuple(ranking.must) if ranking.must else None,
        never=tuple(ranking.never) if ranking.never else None,
        **({"key_sentences": None} if all_sentences else {}),  # None: every pick (the library's default: 10)
    )


def _check_format(fmt: str, output: Path | None, profiles: list[str] | None) -> None:
    """Refuse a format that cannot hold these profiles' picks before anything is ranked."""
    from .export import check_format
    from .run import profile_paths

    # Only a feed cares how many profiles there are; the others need not resolve them twice.
    check_format(fmt, output, len(profile_paths(profiles or [])) if fmt == "rss" else 1)


@app.command()
@handle_errors
@model_options
@rank_choices
def rank(
    listings: Annotated[
        list[Path], typer.Argument(help="Listing files (.md, .jsonl, .csv; - is stdin with --input-format); merged.")
    ],
    profile: Annotated[
        list[str] | None,
        typer.Option("--profile", "-p", help="Profile name or .toml path; repeat for several (default: every one)."),
    ] = None,
    ranking: RankChoices = RankChoices(),
    fmt: FormatOption = "table",
    output: OutputOption = None,
    input_format: InputFormatOption = None,
    mark_seen: Annotated[
        bool, typer.Option("--mark-seen", help="Remember the picks as shown, so 'today' hides them later.")
    ] = False,
    all_sentences: AllSentencesOption = False,
    summary_model: SummaryModelOption = None,
    *,
    settings: ModelSettings,
) -> None:
    """Rank listings for one or more profiles and print the top picks.

    Example: paperrec rank examples/arxiv-cs.CV-2021-04-22.md --profile profiles/super-resolution.toml
    """
    from .run import rank_listing, seen_memory, summarise_run
    from .sources import read_listings

    _check_format(fmt, output, profile)
    summarise_with = _summary_model(summary_model)
    listing = read_listings(listings, input_format)
    options = _rank_options(ranking, all_sentences)
    run = rank_listing(listing, profile or [], settings.embedder(), options, seen=seen_memory() if mark_seen else None)
    run = summarise_run(run, summarise_with)
    _report_run(run)
    _exit_for_failures(run, unsaved=_write_run(run, fmt, output))


def _rate(refs: list[str], profile: str | None, listing: Path | None, input_format: str | None, section: str) -> None:
    from .feedback import rate
    from .schema import MIN_MATCH_LIKES

    rating = rate(refs, section, profile=profile, listing=listing, input_format=input_format)
    for paper in rating.added:
        was = rating.was.get(paper.arxiv_id)
        _say(f"{section} {paper.arxiv_id}  {paper.title}" + (f" (was {was})" if was else ""))
    if rating.already:
        _say(f"{rating.already} already {section} in {rating.profile.name}")
    liked = len(rating.profile.liked)
    if section == "liked" and liked - len(rating.added) < MIN_MATCH_LIKES <= liked:  # the like that brings match
        name = rating.profile.name
        _say(f"{name} now has {liked} liked papers: its picks show match, the estimated chance that you like each")


RefsArgument = Annotated[list[str], typer.Argument(help="arXiv ids, or rank numbers from the last ranking.")]
RateProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile", "-p", help="Profile name or .toml path (default: the one last ranked, else your only profile)."
    ),
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


@app.command(short_help="Add papers to a profile's disliked papers: similar ones go down.")
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


@app.command(short_help="Remove papers from a profile (liked, disliked or pending).")
@handle_errors
def unlike(
    ids: Annotated[
        list[str], typer.Argument(help="arXiv ids, or rank numbers from the last ranking, to remove from any section.")
    ],
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile", "-p", help="Profile file name, display name or .toml path (default: the one with the ids)."
        ),
    ] = None,
) -> None:
    """Remove papers from a profile's liked, disliked or pending papers.

    Example: paperrec unlike 2104.10642 3 --profile super-resolution
    """
    from .feedback import unrate

    result = unrate(ids, profile)
    for arxiv_id in result.removed:
        _say(f"removed {arxiv_id} from {result.profile.name}")
    if result.missing:
        typer.echo(f"not in the profile: {', '.join(result.missing)}", err=True)


@app.command("history", short_help="List what a profile was shown on past days, with your votes.")
@handle_errors
def history_command(
    words: Annotated[
        list[str] | None, typer.Argument(help="Only papers whose title, abstract, authors or id hold every word.")
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile", "-p", help="Profile name or .toml path (default: the one last ranked, else your only one)."
        ),
    ] = None,
    top: Annotated[int, typer.Option("--top", "-n", min=1, help="At most this many papers, newest first.")] = 50,
) -> None:
    """List what a profile was shown on past days, newest first, with your votes; words search it.

    Example: paperrec history -p super-resolution diffusion
    """
    from .history import history_lines, profile_history
    from .state import default_profile

    query = " ".join(words or [])
    history = profile_history(paths.resolve_profile(profile) if profile else default_profile(), query)
    if query:
        _say(f"{len(history.found)} of {len(history.rows)} shown papers match {query!r}")
    elif not history.rows:
        _say(f"{history.name} has been shown nothing yet: 'paperrec today' shows and remembers its picks")
    for line in history_lines(history.found[:top]):
        typer.echo(line)


def _parse_day(text: str | None, arxiv_only: bool = True):  # -> date | None
    """The --date as a day arXiv announced a listing on (when arXiv is the only source), else a usage error."""
    import re
    from datetime import date

    if text is None:
        return None
    from .sources.arxiv import FIRST_DAY, check_announced_day, check_day

    # fromisoformat also takes 20210422 and 2021-W16-4; --date promises YYYY-MM-DD only.
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        raise UsageError(f"--date must be YYYY-MM-DD, got {text!r}")
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--date must be YYYY-MM-DD, got {text!r}") from None
    if arxiv_only:
        return check_announced_day(day)
    # bioRxiv, journals and venues post on weekends too: arXiv's own fetch refuses such a day, in its source's line.
    try:
        return check_day(day)
    except UsageError:
        raise UsageError(f"--date {day} is out of range: give a day from {FIRST_DAY} to today") from None


CrossListsOption = Annotated[bool, typer.Option("--cross-lists", help="Include cross-listed papers.")]
DateOption = Annotated[
    str | None,
    typer.Option(
        "--date",
        help="A past day (YYYY-MM-DD): each source's own day; arXiv's is rebuilt from its API by submission time.",
    ),
]


@app.command(short_help="Fetch the latest (or a past) day of each source as JSONL.")
@handle_errors
def fetch(
    categories: Annotated[
        list[str], typer.Argument(help="Sources: arXiv categories (cs.CV) or KIND:KEY specs ('paperrec sources').")
    ],
    day: DateOption = None,
    cross_lists: CrossListsOption = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the JSONL listing here.")] = None,
) -> None:
    """Fetch the latest (or a past) day of each source as one JSONL listing; kept so a day is fetched once.

    Example: paperrec fetch cs.CV biorxiv:neuroscience --output today.jsonl
    """
    from .sources import to_jsonl
    from .sources.day import fetch_sources
    from .sources.registry import parse_specs

    specs = parse_specs(categories)
    arxiv_only = all(spec.kind == "arxiv" for spec in specs)
    fetched = fetch_sources(specs, _parse_day(day, arxiv_only), include_cross=cross_lists)
    listing = fetched.listing
    single = len(fetched.reports) == 1
    for line in [report.notice for report in fetched.reports] if single else fetched.lines():  # days when they differ
        if line:
            _say(line)
    _write(to_jsonl(listing.papers), output)
    if all(spec.kind == "feed" for spec in specs):  # a feed's day is when its entries arrived: none announces them
        typer.echo(f"{counted(len(listing.papers), 'paper', 'papers')} arrived on {listing.date}", err=True)
        return
    papers = counted(len(listing.papers), "paper", "papers")
    if arxiv_only:
        typer.echo(f"{papers}, announced {listing.date or 'on an unknown day'}", err=True)
    else:  # bioRxiv posts and OpenReview publishes: 'announced' is arXiv's word
        typer.echo(f"{papers} of {listing.date or 'an unknown day'}", err=True)


@app.command(short_help="List the kinds of source and what each one's day is.")
@handle_errors
def sources() -> None:
    """List the kinds of source a profile or `paperrec fetch` can name, and what each one's day is.

    Example: paperrec sources
    """
    from .sources.registry import describe

    for line in describe():
        typer.echo(line)


@app.command(short_help="Fetch today's listings, rank them, remember what was shown.")
@handle_errors
@model_options
@rank_choices
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
    offline: Annotated[
        bool, typer.Option("--offline", help="Rank the stored listings (latest, or --date); never use the network.")
    ] = False,
    ranking: RankChoices = RankChoices(),
    fmt: FormatOption = "table",
    output: OutputOption = None,
    email: Annotated[
        bool,
        typer.Option(
            "--email",
            help="Send the digest by email ($PAPERREC_HOME/config.toml), after any kept unsent; exit 75 if unsent.",
        ),
    ] = False,
    notify: Annotated[
        bool,
        typer.Option("--notify", help="Send each profile's picks to the chat targets (notify in config.toml)."),
    ] = False,
    all_sentences: AllSentencesOption = False,
    all_users: Annotated[
        bool,
        typer.Option("--all-users", help="Run the morning for every lab user (paperrec user add), e.g. from cron."),
    ] = False,
    summary_model: SummaryModelOption = None,
    *,
    settings: ModelSettings,
) -> None:
    """Fetch today's listing of each profile's categories and sources, rank it, and remember what was shown.

    Example: paperrec today --profile vision
    """
    if all_users:
        arguments = {k: v for k, v in locals().items() if k != "all_users"}
        _for_each_user(inspect.unwrap(today), arguments)
        return
    from .run import follows_arxiv_only, run_today, seen_memory, summarise_run

    _check_format(fmt, output, profile)
    wanted_day = _parse_day(day, day is None or follows_arxiv_only(profile or []))
    summarise_with = _summary_model(summary_model)
    config = None
    mail_errors: list[PaperrecError] = []
    resent_keys: tuple[str, ...] = ()
    if email:  # before the run: it marks the picks as seen, and a broken mail setting must not cost a day's picks
        from .config import load_config
        from .mail import link_warning

        config = load_config()
        config.require_email().password()
        warning = link_warning(config)
        if warning:
            typer.echo(f"paperrec: warning: {warning}", err=True)
        try:  # the digests kept from earlier days go first; whatever stops them must not cost today's picks
            resent = _resend(config)
            mail_errors += filter(None, [resent.error])
            resent_keys = resent.keys
        except PaperrecError as error:
            mail_errors.append(error)
        for error in mail_errors:
            _say(f"paperrec: error: {error}")
    chat = _chat_targets(config) if notify else None  # checked before the run too: a bad URL costs no picks
    from .run import check_zotero_settings

    check_zotero_settings(profile or [])  # a zotero_collection without the Web API is refused before the run
    options = _rank_options(ranking, all_sentences)
    unsaved: list[str] = []
    try:
        seen = seen_memory()
    except PaperrecError as error:  # e.g. a read-only state/: the day is still ranked and shown, then this is said
        seen, unsaved = None, [str(error)]
    run = run_today(
        profile or [],
        settings.embedder(),
        options,
        seen=seen,
        day=wanted_day,
        include_cross=cross_lists,
        include_seen=include_seen,
        offline=offline,
    )
    run = summarise_run(run, summarise_with)
    _report_run(run)
    if config is not None and run.sections:
        from .mail import MailError, MailRejected, deliver_digest, name_warnings

        for warning in name_warnings(config, run.sections):
            typer.echo(f"paperrec: warning: {warning}", err=True)
        try:
            _say(deliver_digest(run, config, sent=resent_keys).line)
        except (MailError, MailRejected) as error:  # kept for a resend; the file below is still written
            _say(f"paperrec: error: {error}")
            mail_errors.append(error)
    if chat is not None and run.sections:
        mail_errors += _send_chat(run, *chat)
    if config is None or output is not None:  # with --email, a file (or `-o -`) only when asked for
        unsaved += _write_run(run, fmt, output)
    _exit_for_failures(run, mail_errors, unsaved)


def _chat_targets(config):  # config: Config | None -> (Config, list[recommender.notify.Target])
    """The chat targets and the settings they came with; a warning when the vote links open on this machine only."""
    from .config import load_config
    from .notify import load_targets

    if config is None:  # with --email the warning about vote links is already said
        config = load_config(missing_ok=True)  # the targets may come from the environment alone
        from .mail import link_warning

        warning = link_warning(config)
        if warning:
            typer.echo(f"paperrec: warning: {warning}", err=True)
    return config, load_targets(config)


def _send_chat(run, config, targets) -> list[PaperrecError]:  # run: recommender.run.Run
    """Send the picks to every chat target; one line per target; the errors, already said, for the exit status."""
    from .notify import send_picks

    delivery = send_picks(run, targets, config=config)
    for line in delivery.sent:
        _say(line)
    for error in delivery.errors:
        _say(f"paperrec: error: {error}")
    return list(delivery.errors)


def _for_each_user(command: Callable[..., None], arguments: dict[str, Any]) -> None:
    """Run a command once per lab user, in their own files, with one model; one user's failure stops no other.

    The exit status follows the one-user rules over all of them: 75 when every failure may pass by itself, else 1.
    """
    from .users import read_users

    if arguments.get("profile") or arguments.get("output") is not None:
        raise UsageError("--all-users runs every user's own profiles: drop --profile and --output")
    names = sorted(read_users())
    if not names:
        raise NotFound("no lab users: add one with 'paperrec user add NAME'")
    loaded = arguments["settings"].embedder()
    shared = _LoadedModel(loaded)
    codes = []
    from .run import one_morning

    with one_morning():  # a source down for one user is not asked again, with its retries, for each other user
        for name in names:
            try:
                with paths.as_user(name):
                    if not paths.profile_files():  # just added: nothing to rank yet, and nothing is wrong
                        typer.echo(f"paperrec: user {name}: no profiles yet, nothing to rank", err=True)
                        continue
                    typer.echo(f"paperrec: user {name}", err=True)
                    command(**{**arguments, "settings": shared})
            except typer.Exit as stop:
                codes.append(stop.exit_code)
            except PaperrecError as error:
                typer.echo(f"paperrec: error: user {name}: {error}", err=True)
                codes.append(EX_TEMPFAIL if isinstance(error, TemporaryFailure) else 1)
            except Exception as error:  # a bug met in one user's files: the rest of the lab still gets its morning
                internal_errors.append(error)
                if os.environ.get(DEBUG_ENV):
                    raise
                typer.echo(f"paperrec: error: user {name}: {_internal(error)}", err=True)
                codes.append(1)
    failed = [code for code in codes if code]
    if failed:
        raise typer.Exit(EX_TEMPFAIL if all(code == EX_TEMPFAIL for code in failed) else 1)


class _LoadedModel(ModelSettings):
    """Model settings whose embedder is already loaded: every lab user's run shares the one model and cache."""

    def __init__(self, embedder: Any):
        super().__init__()
        object.__setattr__(self, "loaded", embedder)

    def embedder(self):  # -> CachedEmbedder
        """The one embedder, for each user in turn."""
        return self.loaded


@app.command("email", short_help="Send the digests that could not be sent.")
@handle_errors
def email_command(
    resend: Annotated[
        bool, typer.Option("--resend", help="Send the digests kept in $PAPERREC_HOME/state/unsent/, oldest first.")
    ] = False,
) -> None:
    """Send the digests that could not be sent (exit 75 if the server is still out of reach, 1 if it refuses).

    Example: paperrec email --resend
    """
    from .config import load_config

    if not resend:
        raise UsageError("nothing to do: --resend sends the digests kept in $PAPERREC_HOME/state/unsent/")
    config = load_config()
    config.require_email().password()
    resent = _resend(config)
    if resent.error is not None:
        raise resent.error
    if not resent.sent and not resent.dropped:
        typer.echo("paperrec: no digest is waiting to be sent", err=True)


@app.command(short_help="Measure ranking quality on a bench, or backtest a profile.")
@handle_errors
@model_options
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
    cold_start: Annotated[
        bool,
        typer.Option("--cold-start", help="Profiles of an interest sentence and of 1, 3, 5, 10 likes (with --bench)."),
    ] = False,
    active: Annotated[
        int | None,
        typer.Option("--active", help="Rate K suggested papers before each day, against K random ones (--bench)."),
    ] = None,
    profile_gap_days: Annotated[
        int,
        typer.Option(
            "--profile-gap-days",
            help="Aged profiles: only list papers first seen at least this many days before the day.",
        ),
    ] = 0,
    fresh_profiles: Annotated[
        bool,
        typer.Option(
            "--fresh-profiles", help="Keep the pairs that --profile-gap-days chose but score fresh profiles (paired)."
        ),
    ] = False,
    library_titles: Annotated[
        bool,
        typer.Option(
            "--library-titles",
            help="Profiles also hold the list papers in no listing, by title, from the month after their id's month.",
        ),
    ] = False,
    *,
    settings: ModelSettings,
) -> None:
    """Measure ranking quality: replay a bench (nDCG@10, recall, MAP, MRR with bootstrap CIs) or backtest a profile.

    Example: paperrec evaluate --bench ../shared/bench --strategy centroid --strategy hybrid --days 5
    """
    import json

    from .evaluate import evaluate_bench, run_backtest, strategy_names

    names = strategy_names(strategy)
    if (bench is None) == (profile is None):
        raise UsageError("give either --bench FOLDER or --profile P")
    if bench is None and (cold_start or active is not None):
        raise UsageError("--cold-start and --active replay a bench: give --bench FOLDER")
    if bench is None and (profile_gap_days or fresh_profiles or library_titles):
        raise UsageError("--profile-gap-days, --fresh-profiles and --library-titles replay a bench: give --bench DIR")
    if cold_start and active is not None:
        raise UsageError("give --cold-start or --active, not both")
    if days < 1:
        raise UsageError(f"--days must be at least 1, got {days}")
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be at least 1, got {limit}")
    if bench is not None and not cold_start and active is None:  # those compare scorers of their own
        from .rank import STRATEGIES

        if baseline not in STRATEGIES:
            raise UsageError(f"unknown --baseline {baseline!r}: choose one of {', '.join(STRATEGIES)}")
    embedder = settings.embedder()
    if bench is not None:
        progress = sys.stderr.isatty()
        result = evaluate_bench(
            bench,
            embedder,
            strategies=strategy or None,
            days=days,
            lists=bench_list,
            limit=limit,
            progress=progress,
            cold_start=cold_start,
            active=active,
            profile_gap_days=profile_gap_days,
            fresh_profiles=fresh_profiles,
            library=library_titles,
        )
        typer.echo(result.format_table(baseline=baseline))
        typer.echo(result.summary_line(baseline))
        report = result.to_json()
    else:
        backtest = run_backtest(profile, embedder, strategies=names, listings=listings, progress=sys.stderr.isatty())
        for line in backtest.notices:
            typer.echo(line, err=True)
        typer.echo(backtest.text(), nl=False)
        report = backtest.results
    if output is not None:
        _write(json.dumps(report, indent=2, default=str) + "\n", output)


@app.command(short_help="Serve the web page: today's picks, votes, Sharpen, History.")
@handle_errors
def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to bind (127.0.0.1: this machine only; 0.0.0.0: every interface).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8787,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the page, token included, in the browser.")
    ] = False,
    no_token: Annotated[
        bool,
        typer.Option(
            "--no-token",
            help="Ask for no token (loopback only). Unsafe on a shared machine: every local user gets the page.",
        ),
    ] = False,
    allow_host: Annotated[
        list[str] | None,
        typer.Option("--allow-host", help="Another name the server answers to (repeatable); its own IPs always are."),
    ] = None,
    users: Annotated[
        bool, typer.Option("--users", help="One server for a lab: each user logs in (paperrec user add) to their own.")
    ] = False,
    token: Annotated[str | None, typer.Option("--token", hidden=True)] = None,
) -> None:
    """Serve the web page: today's picks with like / not interested, sharpen a profile, history.

    Every page asks for a token: $PAPERREC_TOKEN, else one kept in PAPERREC_HOME/state/serve-token (made on the
    first start, mode 0600). The address printed at the start carries it; the browser keeps it as a cookie.

    Example: paperrec serve --open
    """
    if token is not None:
        raise UsageError(
            "--token on the command line can be read by every user of this machine (ps): "
            "set PAPERREC_TOKEN instead, or let paperrec serve keep its own token"
        )
    from .run import check_zotero_settings

    check_zotero_settings([])  # a zotero_collection without the Web API is refused before the server starts
    from .web import serve as serve_page  # starlette and uvicorn load only for this command

    serve_page(
        host=host, port=port, open_browser=open_browser, no_token=no_token, allow_hosts=allow_host or (), users=users
    )


@app.command(short_help="Print where files live, the model and the strategies.")
@handle_errors
@model_options
def info(*, settings: ModelSettings) -> None:
    """Print where paperrec keeps its files, which model it uses and the strategies it knows.

    Example: paperrec info
    """
    from .embed import Embedder, cache_summary, embedding_settings
    from .rank import REGISTRY

    profiles = paths.profile_files()
    lines = [
        f"version      {__version__}",
        f"home         {paths.home()}" + ("  (from $PAPERREC_HOME)" if os.environ.get(paths.HOME_ENV) else ""),
        f"profiles     {paths.profiles_dir()}  ({counted(len(profiles), 'profile', 'profiles')})",
    ]
    cache = cache_summary()
    if cache is not None:
        lines.append(f"cache        {cache.path}  ({cache.vectors} vectors, {cache.size / 1e6:.1f} MB)")
    else:
        lines.append(f"cache        {paths.cache_path()}  (empty)")
    derived = paths.derived_files()
    size = sum(f.stat().st_size for f in derived) / 1e6
    lines.append(
        f"models       {paths.ranker_path('profile').parent.parent}  (rankers and term analyses: "
        f"{counted(len(derived), 'file', 'files')}, {size:.1f} MB; deleting them costs one refit)"
    )
    lines += [f"state        {paths.state_dir()}", f"listings     {paths.listings_dir()}"]
    model, backend, max_seq_length = embedding_settings(settings.model, settings.backend, settings.max_seq_length)
    try:
        embedder = Embedder(model, backend=backend, max_seq_length=max_seq_length)
        where = str(embedder.path) if embedder.path else "hub or local sentence-transformers cache"
        lines.append(f"model        {embedder.model_id}  ({where})")
        key = embedder.known_cache_key  # never loads the model: a hub model's key waits for its first use
        lines.append(f"cache key    {key or '(known once the model has been loaded; or give --max-seq-length)'}")
    except UsageError:
        raise
    except PaperrecError as error:
        lines.append(f"model        {model}  (unavailable: {error})")
    lines += [f"strategy     {s.name:<11} {s.summary}" for s in REGISTRY]
    typer.echo("\n".join(lines))


@app.command(short_help="Embed a corpus into the cache, in batches (resumable).")
@handle_errors
@model_options
def embed(
    files: Annotated[list[Path], typer.Argument(help="JSONL, CSV or Markdown files of papers (streamed).")],
    input_format: InputFormatOption = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Papers read per batch (bounds memory).")] = 1024,
    engine: Annotated[str, typer.Option("--engine", help="local, or ray (JSONL; the 'distributed' extra).")] = "local",
    workers: Annotated[int, typer.Option("--workers", help="Ray: embedding workers (one model each).")] = 2,
    shards: Annotated[
        Path | None, typer.Option("--shards", help="Ray: folder for the shards (shared storage on a cluster).")
    ] = None,
    *,
    settings: ModelSettings,
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
    embedder = settings.embedder()
    if engine == "ray":
        from .shards import embed_corpus_with_ray

        folder, written, imported = embed_corpus_with_ray(
            files, embedder.cache, folder=shards, workers=workers, batch_size=batch_size, **vars(settings)
        )
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
    from .shards import ShardsRefused, import_shards

    refused = None
    with EmbeddingCache(paths.cache_path()) as cache:
        try:
            imported = import_shards(files, cache)
        except ShardsRefused as error:  # the good shards were imported: say so before the error line
            imported, refused = error.imported, error
    for key, count in imported.items():
        typer.echo(f"{count} vectors imported for {key}")
    if refused is not None:
        raise refused


@cache_app.command("info", short_help="Show the cache's size and its vectors per model setting.")
@handle_errors
@model_options
def cache_info(*, settings: ModelSettings) -> None:
    """Show the cache's size and how many vectors each model setting holds.

    Example: paperrec cache info
    """
    from .embed import cache_summary

    current = settings.cache_key()
    cache = cache_summary()
    if cache is None:
        typer.echo(f"{paths.cache_path()}: empty (nothing embedded yet)")
        return
    lines = [f"{cache.path}  {cache.size / 1e6:.1f} MB on disk, {cache.vectors} vectors"]
    for key, count in cache.keys.items():
        lines.append(f"  {count:>9}  {key}" + ("  (current)" if key == current else ""))
    typer.echo("\n".join(lines))


@cache_app.command("prune", short_help="Delete vectors of other model settings, then compact.")
@handle_errors
@model_options
def cache_prune(
    everything: Annotated[bool, typer.Option("--all", help="Delete every vector, not only other models'.")] = False,
    *,
    settings: ModelSettings,
) -> None:
    """Delete vectors of model settings other than the current one (or all), then compact the file.

    Example: paperrec cache prune
    """
    from .embed import prune_cache

    current = settings.cache_key()
    if current is None and not everything:
        raise UsageError("the model's cache key is only known once it is loaded: give --max-seq-length, or use --all")
    deleted, cache = prune_cache([] if everything else [current])
    if cache is None:
        typer.echo(f"{paths.cache_path()}: empty, nothing to prune")
        return
    typer.echo(f"deleted {deleted} vectors, {cache.vectors} kept; {cache.path} is {cache.size / 1e6:.1f} MB")


def _import_into(report, section: str) -> None:  # report: profile.ImportReport
    from .profile.library import report_lines

    for line in report_lines(report, section):
        typer.echo(line, err=True)


ImportFormatOption = Annotated[
    str | None,
    typer.Option("--format", help="bibtex|csl-json|zotero-rdf|ris|ids|md|jsonl|csv (default: from the extension)."),
]
OfflineOption = Annotated[
    bool, typer.Option("--offline", help="Do not ask the arXiv API or OpenAlex for missing abstracts.")
]


@profile_app.command("new")
@handle_errors
def profile_new(
    name: Annotated[str, typer.Argument(help="Profile name.")],
    from_files: Annotated[
        list[Path] | None,
        typer.Option("--from", help="Papers you liked: a listing, BibTeX, RIS, Zotero export or list of arXiv ids."),
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
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="A source to follow, e.g. biorxiv:neuroscience ('paperrec sources')."),
    ] = None,
) -> None:
    """Create a profile, optionally from papers you liked.

    Example: paperrec profile new vision --from my-library.bib --category cs.CV
    """
    from .profile.library import start_profile

    report = start_profile(
        name,
        output=output,
        description=description,
        categories=category or (),
        interests=interest or (),
        files=from_files or (),
        fmt=input_format,
        offline=offline,
        force=force,
        sources=source or (),
    )
    if from_files:
        _import_into(report, "liked")
    else:
        from .profile.library import no_categories_line

        if report.notice:  # a bioRxiv or medRxiv category paperrec does not know
            typer.echo(report.notice, err=True)
        for line in filter(None, [no_categories_line(report.profile)]):
            typer.echo(line, err=True)
        typer.echo(f"created profile {name!r}: {report.path}", err=True)


@profile_app.command("import", short_help="Add the papers of your library to a profile.")
@handle_errors
def profile_import(
    profile: Annotated[str, typer.Argument(help="Profile name or .toml path (created if missing).")],
    files: Annotated[
        list[Path] | None, typer.Argument(help="BibTeX, RIS, Zotero CSL JSON/RDF, arXiv id list or listing files.")
    ] = None,
    input_format: ImportFormatOption = None,
    disliked: Annotated[bool, typer.Option("--disliked", help="Import as disliked papers.")] = False,
    offline: OfflineOption = False,
    category: Annotated[
        list[str] | None, typer.Option("--category", "-c", help="arXiv category to follow (replaces the list).")
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="Another source to follow, e.g. biorxiv:neuroscience (replaces the list)."),
    ] = None,
) -> None:
    """Add the papers of your library (BibTeX, RIS, Zotero, arXiv ids or DOIs) to a profile, creating it if needed.

    Example: paperrec profile import vision ~/Zotero/export.bib -c cs.CV
    """
    from .profile.library import follow_categories, import_library

    if not files:
        if not category and not source:
            raise UsageError("give the library files to import, or -c CATEGORY or -s SOURCE to set what it follows")
        followed = follow_categories(profile, category or [], source or [])
        _say(f"{followed.name} now follows {', '.join(followed.categories + followed.sources)}")
        return
    section = "disliked" if disliked else "liked"
    report = import_library(
        profile,
        files,
        fmt=input_format,
        offline=offline,
        section=section,
        categories=category or (),
        sources=source or (),
    )
    _import_into(report, section)


@profile_app.command("refresh", short_help="Fill in papers known by id only, and missing abstracts.")
@handle_errors
def profile_refresh(
    profile: Annotated[str, typer.Argument(help="Profile name or .toml path.")],
    offline: OfflineOption = False,
) -> None:
    """Fill in the papers a profile knows by arXiv id only (kept when an import could not reach arXiv), and the
    abstracts its liked and disliked papers lack.

    Example: paperrec profile refresh vision
    """
    from .profile.library import refresh_library

    report = refresh_library(profile, offline=offline)
    for line in report.lines():
        _say(line)  # the profile's name comes from its file
    if report.failed:  # what was found is saved; cron tries the rest later
        raise typer.Exit(EX_TEMPFAIL)


@profile_app.command("sync", short_help="Sync a profile with your Zotero library, both ways.")
@handle_errors
def profile_sync(
    profile: Annotated[str, typer.Argument(help="Profile name or .toml path (created if missing).")],
    zotero: Annotated[bool, typer.Option("--zotero", help="Read your Zotero library.")] = False,
    collection: Annotated[
        str | None, typer.Option("--collection", help="Only this Zotero collection, by name ('' for all).")
    ] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Only items with this Zotero tag ('' for all).")] = None,
    library: Annotated[
        str | None,
        typer.Option(
            "--library",
            help="users/NUMBER or groups/NUMBER: the Web API (key in $ZOTERO_API_KEY) instead of the desktop; "
            "'local' for the desktop.",
        ),
    ] = None,
    offline: OfflineOption = False,
) -> None:
    """Read what changed in your Zotero library into a profile, then send the likes waiting to go to Zotero.

    The choices are remembered in the profile, so `paperrec today` syncs it the same way first.
    Example: paperrec profile sync vision --zotero --collection "Vision"
    """
    from .profile.zotero_push import push_pending
    from .profile.zotero_sync import sync_zotero

    if not zotero:
        raise UsageError("name the library to sync from: --zotero")
    chosen = {"library": library, "collection": collection, "tag": tag}
    report = sync_zotero(profile, {k: v for k, v in chosen.items() if v is not None}, offline=offline)
    for line in report.lines() + push_pending().lines():
        typer.echo(line, err=True)


@profile_app.command("show")
@handle_errors
def profile_show(
    profile: Annotated[str, typer.Argument(help="Profile name or .toml path.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="text|toml")] = "text",
) -> None:
    """Print a profile's settings and papers.

    Example: paperrec profile show super-resolution
    """
    from .profile import load_profile, profile_file_warning, profile_to_toml
    from .schema import printable

    path = paths.resolve_profile(profile)
    loaded = load_profile(path)
    warning = profile_file_warning(loaded, path)
    if warning:
        _say(warning)
    if fmt == "toml":
        _print_data(profile_to_toml(loaded))  # TOML keeps C1 controls and bidi overrides as they are
        return
    if fmt != "text":
        raise UsageError(f"unknown format {fmt!r}: choose text or toml")
    lines = [
        f"name         {loaded.name}",
        f"file         {path}",
        f"description  {loaded.description}",
        f"categories   {', '.join(loaded.categories) or '-'}",
        *([f"sources      {', '.join(loaded.sources)}"] if loaded.sources else []),
        f"strategy     {loaded.strategy}",
    ]
    lines += [f"interest     {text}" for text in loaded.interests]
    ids = [e.paper.arxiv_id for e in loaded.liked + loaded.disliked] + [p.arxiv_id for p in loaded.pending]
    width = max([16, *map(len, ids)])  # a DOI or a forum id is longer than an arXiv id: the dates stay in one column
    for section in ("liked", "disliked"):
        entries = loaded.papers(section)
        lines.append(f"{section} ({len(entries)})")
        lines += [f"  {e.paper.arxiv_id:<{width}} {e.added}  {e.paper.title}" for e in entries]
    if loaded.pending:
        lines.append(f"pending ({len(loaded.pending)}): known by id only; 'paperrec profile refresh' fills them in")
        lines += [f"  {p.arxiv_id:<{width}} {p.added}  (for {p.section})" for p in loaded.pending]
    typer.echo("\n".join(map(printable, lines)))  # titles and names come from files and feeds: no escape sequences


@profile_app.command("list")
@handle_errors
def profile_list() -> None:
    """List the profiles in $PAPERREC_HOME/profiles.

    Example: paperrec profile list
    """
    from .profile import load_profile
    from .schema import printable

    folder = paths.profiles_dir()
    files = paths.profile_files(folder)
    if not files:
        typer.echo(f"no profiles in {folder}; create one with {paths.CREATE_PROFILE}", err=True)
        return
    for file in files:
        try:
            loaded = load_profile(file)
            counts = f"{len(loaded.liked):>4} liked {len(loaded.disliked):>4} disliked"
            typer.echo(printable(f"{file.stem:<24} {counts}  {loaded.strategy}"))
        except PaperrecError as error:
            typer.echo(printable(f"{file.stem:<24} (unreadable: {error})"))


@profile_app.command("delete")
@handle_errors
def profile_delete(
    profile: Annotated[str, typer.Argument(help="Profile name or .toml path.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a profile file.

    Example: paperrec profile delete old-interests --yes
    """
    from .profile import delete_profile_file, unknown_profile

    path = paths.resolve_profile(profile)
    if not path.is_file():
        raise unknown_profile(path)
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError(f"refusing to delete {path} without confirmation: pass --yes")
        typer.confirm(f"Delete {path}?", abort=True)
    delete_profile_file(path)
    typer.echo(f"deleted {path}", err=True)


def _show_secret(name: str, secret: str, verb: str) -> None:
    typer.echo(
        f"{verb} {name}: give them this secret now, it is shown only once (paperrec user reset makes another)", err=True
    )
    typer.echo(secret)


@user_app.command("add", short_help="Add a lab user and print their one-time secret.")
@handle_errors
def user_add(
    name: Annotated[str, typer.Argument(help="Lower-case letters, digits, '-' or '_', starting with a letter.")],
) -> None:
    """Add a lab user and print their one-time secret (only its argon2 hash is kept, in users.toml).

    Example: paperrec user add ada
    """
    from .users import add_user

    _show_secret(name, add_user(name), "added")


@user_app.command("reset", short_help="Give a lab user a new secret; the old one stops working.")
@handle_errors
def user_reset(name: Annotated[str, typer.Argument(help="The user's name.")]) -> None:
    """Give a lab user a new secret; the old one stops working and their browsers log in again.

    Example: paperrec user reset ada
    """
    from .users import reset_user

    _show_secret(name, reset_user(name), "new secret for")


@user_app.command("remove", short_help="Remove a lab user; their folder is kept.")
@handle_errors
def user_remove(name: Annotated[str, typer.Argument(help="The user's name.")]) -> None:
    """Remove a lab user: they can no longer log in; their folder is moved aside to NAME.removed-DAY.

    Example: paperrec user remove ada
    """
    from .users import remove_user

    folder = remove_user(name)
    kept = f"; their files were moved to {folder} (a new {name} starts afresh)" if folder else ""
    typer.echo(f"removed {name}{kept}", err=True)


@user_app.command("list", short_help="List the lab users, when each was added, their profiles.")
@handle_errors
def user_list() -> None:
    """List the lab users, the day each was added and how many profiles they have.

    Example: paperrec user list
    """
    from .users import make_folders_private, read_users, users_path

    users = read_users()
    for line in make_folders_private():
        typer.echo(f"paperrec: {line}", err=True)
    if not users:
        typer.echo(f"no lab users in {users_path()}; add one with 'paperrec user add NAME'", err=True)
        return
    for name in sorted(users):
        folder = paths.users_dir() / name / "profiles"
        count = len(paths.profile_files(folder))
        typer.echo(f"{name:<24} added {users[name].added or '?':<10} {count:>3} profiles")


def run() -> None:
    """Entry point of the paperrec console script."""
    # numpy's BLAS threads spin after each small product: on 2 cores a warm rank spent ~0.2 s more CPU with them and
    # no wall time was saved (an evaluate neither); set before numpy is imported; the user's own setting wins.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    for stream in (sys.stdout, sys.stderr):
        # A stdout that cannot encode a title (LANG=C, a latin-1 pipe) gets '?' for it instead of a crash.
        if (stream.encoding or "").lower().replace("-", "") != "utf8" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    app(prog_name="paperrec")
