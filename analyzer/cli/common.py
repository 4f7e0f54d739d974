"""Options and helpers shared by the commands."""

from __future__ import annotations

import math
import signal
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


#: the signal that ended the command (terminated), if one did
_SIGNALLED: list[int] = []


def terminated(signum: int, _frame: object) -> None:
    """SIGTERM (timeout, systemd, a cron job killed), SIGHUP and SIGINT (Ctrl-C) end the command as an
    exception does, so that what it made on the way is removed (a scratch store's spill folder,
    temporary copies): Python's default handling of SIGTERM ends the process on the spot, and its
    Ctrl-C reached the user as DuckDB's "Query interrupted" error. DuckDB checks for a pending
    signal while it runs a query, so a long stage stops within a second; the error it raises then
    is not reported as an error of its own (:func:`fail`). Exit status 128 + the signal's number."""
    if not _SIGNALLED:
        click.echo(f"serverless-c2: stopped by {signal.Signals(signum).name}", err=True)
    _SIGNALLED.append(signum)
    raise SystemExit(128 + signum)


def fail(exc: AnalyzerError | str, code: int = 2) -> NoReturn:
    """Print an error to stderr and exit (the only place the program exits on an error)."""
    if _SIGNALLED:  # the error is DuckDB's "Query interrupted", or what a half-done step raised after it
        sys.exit(128 + _SIGNALLED[0])  # (terminated said why)
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
