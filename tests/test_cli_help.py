"""Every `paperrec` command explains itself: help text on each command and group, and an example on each command."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

import pytest
import typer
from typer.testing import CliRunner

from recommender.cli import app


def walk(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    """Each command and group under `command`, with the words that call it (the root has none)."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from walk(sub, (*path, name))


COMMANDS = dict(walk(typer.main.get_command(app)))
GROUPS = {path for path, command in COMMANDS.items() if hasattr(command, "commands")}


def words(path: tuple[str, ...]) -> str:
    return " ".join(("paperrec", *path))


def test_the_walk_finds_the_commands_and_groups() -> None:
    assert {(), ("profile",), ("cache",)} <= GROUPS
    assert {("rank",), ("today",), ("profile", "new"), ("cache", "prune")} <= set(COMMANDS)


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=words)
def test_every_command_and_group_has_help(path: tuple[str, ...]) -> None:
    command = COMMANDS[path]
    assert (command.help or "").strip(), f"{words(path)} has no help text"
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert command.help.strip().splitlines()[0].split()[0] in result.stdout


@pytest.mark.parametrize("path", sorted(set(COMMANDS) - GROUPS), ids=words)
def test_every_command_shows_an_example(path: tuple[str, ...]) -> None:
    command = COMMANDS[path]
    assert "Example:" in (command.help or ""), f"{words(path)} has no 'Example:' in its docstring"
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert f"Example: {words(path)}" in " ".join(result.stdout.split()), result.stdout
    # The example uses only options the command has.
    example = shlex.split(command.help.split("Example:", 1)[1].splitlines()[0])
    known = {option for param in command.params for option in (*param.opts, *param.secondary_opts)}
    assert {word.split("=")[0] for word in example if word.startswith("-")} <= known, example


@pytest.mark.parametrize("path", sorted(GROUPS), ids=words)
def test_each_group_lists_its_commands_uncut_at_80_columns(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    listing = result.stdout.split("Commands:", 1)[1]
    cut = [line for line in listing.splitlines() if line.rstrip().endswith("...")]
    assert not cut, "\n".join(cut)
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


@pytest.mark.parametrize(
    "path", [path for path, c in COMMANDS.items() if any("--input-format" in p.opts for p in c.params)]
)
def test_input_format_help_is_one_line_on_a_terminal(path: tuple[str, ...]) -> None:
    # On a terminal of 80 columns or more, click writes help 78 columns wide.
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=78)
    lines = result.stdout.splitlines()
    at = next(index for index, line in enumerate(lines) if "--input-format" in line)
    assert lines[at + 1].lstrip().startswith("-"), result.stdout  # the next line is the next option
