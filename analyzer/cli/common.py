"""Options and helpers shared by the commands."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from analyzer.errors import AnalyzerError

db_option = click.option(
    "--db", "db", type=click.Path(dir_okay=False), default=None,
    help="DuckDB store file. Without it, everything happens in memory.",
)
quiet_option = click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")


def fail(exc: AnalyzerError | str, code: int = 2) -> NoReturn:
    """Print an error to stderr and exit (the only place the program exits on an error)."""
    click.echo(f"serverless-c2: error: {exc}", err=True)
    sys.exit(code)
