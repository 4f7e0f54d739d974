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


def test_unknown_command_fails() -> None:
    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code != 0
