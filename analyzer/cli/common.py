"""Options and helpers shared by the commands."""

from __future__ import annotations

import math
import sys
from typing import NoReturn

import click

from analyzer.errors import AnalyzerError
from analyzer.findings import printable

db_option = click.option(
    "--db", "db", type=click.Path(dir_okay=False), default=None,
    help="DuckDB store file. Without it, everything happens in memory.",
)
quiet_option = click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")


def fail(exc: AnalyzerError | str, code: int = 2) -> NoReturn:
    """Print an error to stderr and exit (the only place the program exits on an error)."""
    # each line printable (an error's message may quote what it read: a log value, a tool's output)
    text = "\n".join(printable(line) for line in str(exc).split("\n"))
    click.echo(f"serverless-c2: error: {text}", err=True)
    sys.exit(code)


class Score(click.FloatRange):
    """A score from 0 to 1 (--min-score). NaN passes click's range check (every comparison with it
    is false) and would make every finding fall below it: refused."""

    def __init__(self) -> None:
        super().__init__(0, 1)

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        rv = super().convert(value, param, ctx)
        if math.isnan(rv):
            self.fail("nan is not a score: give a number from 0 to 1", param, ctx)
        return rv
