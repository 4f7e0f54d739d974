"""Options and helpers shared by the commands."""

from __future__ import annotations

import math
import signal
import sys
from pathlib import Path
from typing import NoReturn

import click
import duckdb

from analyzer.errors import AnalyzerError
from analyzer.findings import printable

db_option = click.option(
    "--db", "db", type=click.Path(dir_okay=False), default=None,
    help="DuckDB store file. Without it, everything happens in memory.",
)
quiet_option = click.option("-q", "--quiet", is_flag=True,
                            help="Print nothing but warnings and errors (no progress, no counts).")


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


def no_stdin(paths: "tuple[str, ...] | list[str]", command: str) -> None:
    """``-`` (standard input) is read by ``scan`` only: elsewhere it read as a file named '-' that
    does not exist ("-: no such file or directory")."""
    if any(str(p) == "-" for p in paths):
        fail(f"{command} does not read standard input ('-'): save it to a file, or pipe it to "
             "`serverless-c2 scan -`")


def check_sources(db: str | None, demo: bool, data: bool, *, demo_store: bool = False) -> None:
    """Refuse what would scan nothing, or the wrong thing, without saying so: ``--db`` naming no store
    when no logs are given to load into it (a typo in a cron line made a new, empty store and printed
    "no findings" every night), and the generated demo day mixed with real logs (``data``: PATHs or
    captures) or written into a real store (``demo_store``: ``report --demo --db`` keeps the demo's
    own store for its history, a new one or one that holds nothing but demo days)."""
    from pathlib import Path

    if db and not data and not demo and not Path(db).exists():
        fail(f"--db {db}: no such store (`serverless-c2 ingest PATH... --db {db}` makes one, or give "
             "log PATHs to this command)")
    if db and not data and not demo and _holds_no_logs(db):
        # a failed first run (a wrong folder, a typo) leaves the store it made: reported on, it said
        # "no findings" and "every stream has rows in every hour of the window"
        fail(f"--db {db}: the store holds no logs yet (`serverless-c2 ingest PATH... --db {db}` loads them, or "
             "give log PATHs to this command)")
    if demo and data:
        fail("--demo scans a generated day of its own: give it without log PATHs or --pcap")
    if demo and db and not (demo_store and _demo_only(db)):
        fail(f"--demo scans a generated day of its own: it is not written into the store {db}"
             + (" (which holds real logs)" if demo_store else ""))


def nothing_loaded(report, what: str = "scan") -> str:  # type: ignore[no-untyped-def]
    """The error for logs given to a store that ends with the command (no --db) that held no row at
    all: an empty file, a folder of other files, a capture with no traffic. A nightly job pointed at
    the wrong folder, or at a sensor that wrote nothing, must not print "no findings" and succeed."""
    from analyzer.cli.ingest_cmd import skip_reasons
    from analyzer.ingest.report import FAILED, SKIPPED

    skipped = [f for f in report.files if f.status == SKIPPED]
    failed = [f for f in report.files if f.status == FAILED]
    why = []
    if skipped:
        why.append(f"skipped: {skip_reasons(skipped)}")
    if failed:
        why.append(f"{len(failed)} could not be read")
    empty = len(report.files) - len(skipped) - len(failed)
    if empty:
        why.append(f"{empty} held no data line")
    return (f"nothing to {what}: the {len(report.files)} file(s) given loaded no log rows"
            + (f" ({'; '.join(why)})" if why else "") + "; `serverless-c2 ingest -v PATH...` says why for each")


def loaded_nothing(report, db: str | None) -> bool:  # type: ignore[no-untyped-def]
    """True when the logs given loaded no row and none of them was in the store already: the error of
    :func:`nothing_loaded`. With ``--db`` a file loaded before (or records loaded before, under another
    file name) adds nothing, which is a cron retry, not an error; a folder with no log at all, or logs
    that hold no row, is an error with ``--db`` too (the store's older days would otherwise be reported
    again as if they were tonight's)."""
    from analyzer.ingest.report import APPENDED, UNCHANGED

    if report.rows_loaded:
        return False
    # a file loaded before, or one whose records all repeat those of one (a capture replayed again)
    return db is None or not any(f.status in (UNCHANGED, APPENDED) or f.duplicates for f in report.files)


#: files whose warnings and rejected lines a scan lists on stderr before it says "and N more"
SCAN_NOTES_MAX = 20


def noted_files(report, quiet: bool) -> list:  # type: ignore[no-untyped-def,type-arg]
    """The files of an ingest worth a note: one that could not be read, has a warning or lost lines.
    Under -q too, since that is what a nightly job must hear of; but not, under -q, a live log's last
    line, still being written, which is read again when it grows, nor a copy of content loaded
    before (a live log loaded before its rotation archived it, every night)."""
    from analyzer.ingest.pipeline import PENDING_TAIL, SAME_CONTENT
    from analyzer.ingest.report import FAILED

    def pending_only(f) -> bool:  # type: ignore[no-untyped-def]
        return not f.warnings and f.lines_rejected == sum(1 for r in f.rejects if r.reason == PENDING_TAIL)

    def routine(f) -> bool:  # type: ignore[no-untyped-def]
        return (bool(f.warnings) and all(w.startswith(SAME_CONTENT) for w in f.warnings)
                and not f.lines_rejected and f.status != FAILED)

    return [f for f in report.files if (f.status == FAILED or f.warnings
            or (f.lines_rejected and not (quiet and pending_only(f)))) and not (quiet and routine(f))]


def say_file_notes(quiet: bool, report) -> None:  # type: ignore[no-untyped-def]
    """What the ingest would say of each file that could not be read (a corrupt .gz), or has a warning
    or a rejected line (a truncated .gz, a line with the wrong field count ...), and how many files
    were skipped: a scan or report hides none of it. Under ``-q`` too, but for the files skipped as what
    they are (an empty hour, a log kind the tool does not read): only one named like a log that is
    none (a crash's NUL-filled file) is said then."""
    from analyzer.cli.ingest_cmd import file_notes, skip_reasons
    from analyzer.ingest.report import SKIPPED

    noted = noted_files(report, quiet)
    for f in noted[:SCAN_NOTES_MAX]:
        for note in file_notes(f):
            click.echo(note, err=True)
    if len(noted) > SCAN_NOTES_MAX:
        click.echo(f"... and {len(noted) - SCAN_NOTES_MAX} more file(s) with errors, warnings or rejected lines "
                   "(`serverless-c2 ingest` on the same paths lists them all)", err=True)
    skipped = [f for f in report.files if f.status == SKIPPED]
    if skipped and (not quiet or any(_log_named(f.path) and str(f.reason).startswith("not a log") for f in skipped)):
        click.echo(f"skipped {len(skipped)} file(s): {skip_reasons(skipped)} "
                   "(`serverless-c2 ingest -v` on the same paths lists them)", err=True)


def _log_named(path: str) -> bool:
    """A file named as a sensor names its logs (conn.log, conn.09:00:00-10:00:00.log.gz, eve.json)."""
    name = Path(str(path)).name.lower()
    return ".log" in name or name.startswith("eve") and ".json" in name


#: where the demo day's logs are written before they are ingested (report_cmd, scan_cmd)
DEMO_PREFIX = "sc2-demo-"


def _demo_only(db: str) -> bool:
    """Whether the store ``db`` is new, or holds nothing but demo days (their files' folders)."""
    from pathlib import Path

    from analyzer.store import Store

    if not Path(db).exists():
        return True
    try:
        with Store(db, read_only=True, memory_limit=None) as store:
            return store.ingested_only_under(DEMO_PREFIX)
    except AnalyzerError:   # not a store of ours: certainly no demo's
        return False


def _holds_no_logs(db: str) -> bool:
    """Whether the store ``db`` (which exists) is ours and holds no log row at all."""
    from analyzer.store import Store

    try:
        with Store(db, read_only=True, memory_limit=None) as store:
            row = store.con.execute("SELECT NOT (EXISTS (SELECT 1 FROM conn) OR EXISTS (SELECT 1 FROM dns)"
                                    " OR EXISTS (SELECT 1 FROM tls) OR EXISTS (SELECT 1 FROM http))").fetchone()
            return bool(row and row[0])
    except (AnalyzerError, duckdb.Error):  # not a store of ours: the command says so itself
        return False


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
