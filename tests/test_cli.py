"""Every command is registered, has help, and --help exits cleanly."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from analyzer.cli import cli

EXPECTED = {"ingest", "catalog", "explain", "scan", "report", "export"}


def test_expected_commands_are_registered() -> None:
    missing = EXPECTED - set(cli.commands)
    assert not missing, f"commands not registered: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_command_has_help(name: str) -> None:
    command = cli.commands.get(name)
    assert command is not None, name
    assert command.help, f"{name} is missing its help"
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    # help is printed as written: reStructuredText markup from a docstring would show raw
    assert "``" not in result.output, f"{name} --help shows RST markup"


def test_unknown_command_fails() -> None:
    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code != 0


@pytest.mark.parametrize("command", ["ingest", "scan"])
def test_a_missing_path_is_named_in_one_escaped_line(command: str) -> None:
    """A path given on the command line can hold any byte but / and NUL: the error names it with its
    control characters escaped, so it cannot reach the terminal raw nor forge a line of its own."""
    path = "nonexist\x1b[2J\x1b]0;TITLE\x07X\r\nserverless-c2: error: forged"
    result = CliRunner().invoke(cli, [command, path])
    assert result.exit_code == 2
    err = result.stderr
    assert "\x1b" not in err and "\x07" not in err and "\r" not in err
    # the forged text stays inside the line that names the path, escaped
    assert [line for line in err.splitlines() if "forged" in line] == \
        [line for line in err.splitlines() if "nonexist\\x1b[2J" in line] != []
    assert not any(line.startswith("serverless-c2: error: forged") for line in err.splitlines())
