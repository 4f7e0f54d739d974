"""``serverless-c2 ingest PATH... [--db FILE] [--strict] [-q]``: load logs, then summarize.

The summary table (stdout) has one row per log kind: files, rows, rejected lines, skipped eve
events and the time span. Files that were skipped or failed, and the first rejected lines of each
file, are listed on stderr with their reason, file and line. Everything from a log is escaped
before it reaches the terminal (control characters and ANSI escapes are made visible).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import click
from tabulate import tabulate

from analyzer.cli.common import db_option, fail, no_stdin, noted_files, quiet_option
from analyzer.errors import AnalyzerError
from analyzer.ingest import FileReport, IngestReport, ingest_paths
from analyzer.findings import printable
from analyzer.store import Store


def _safe(text: str, limit: int = 160) -> str:
    """Printable, single-line, bounded rendering of untrusted text."""
    return printable(text, limit)


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover


class _Progress:
    """Progress on stderr: on a terminal one line, rewritten per file; otherwise (cron, a pipe) a
    line every few seconds once the ingest is long, unless ``tty_only`` (``scan``, whose stderr a
    nightly job mails: only its summary belongs there); nothing when quiet."""

    EVERY = 5.0

    def __init__(self, quiet: bool, *, tty_only: bool = False):
        self.tty = sys.stderr.isatty()
        self.quiet = quiet or (tty_only and not self.tty)
        self.count = 0
        self.last = time.monotonic()

    def __call__(self, path: str, done: int, total: int) -> None:
        if self.quiet:
            return
        if not path:
            if self.tty:
                click.echo("", err=True)
            return
        self.count += 1
        pct = 100.0 * done / total if total else 100.0
        msg = f"[{self.count}] {_human(done)}/{_human(total)} ({pct:.0f}%) {_safe(path, 100)}"
        if self.tty:
            click.echo("\r\x1b[K" + msg, err=True, nl=False)
        elif time.monotonic() - self.last > self.EVERY:
            self.last = time.monotonic()
            click.echo(msg, err=True)


def _ts(value: object) -> str:
    return "" if value is None else str(value)[:19]


def summary_table(report: IngestReport) -> str:
    # "repeated": records an earlier file of the same traffic had loaded (analyzer.ingest.duplicates),
    # shown only when there are any
    repeated = report.duplicates > 0
    rows = [
        [s.kind, s.files, s.rows, s.lines_rejected, s.skipped_events, *([s.duplicates] if repeated else []),
         _ts(s.min_ts), _ts(s.max_ts)]
        for s in report.summary()
    ]
    rows.append(["total", len(report.files), report.rows_loaded, report.lines_rejected,
                 sum(f.skipped_events for f in report.files), *([report.duplicates] if repeated else []), "", ""])
    return tabulate(rows, headers=["kind", "files", "rows", "rejected", "skipped events",
                                   *(["repeated"] if repeated else []), "from (UTC)", "to (UTC)"])


def skip_reasons(skipped: list[FileReport]) -> str:
    """'3 not a log, 1 header only': how many skipped files for each kind of reason, most first."""
    reasons: dict[str, int] = {}
    for f in skipped:
        key = (f.reason or "").split(" (")[0].split(":")[0]  # "not a log", "unknown/unsupported log kind 'x509'"
        reasons[key] = reasons.get(key, 0) + 1
    return ", ".join(f"{n} {_safe(k, 60)}" for k, n in sorted(reasons.items(), key=lambda kv: -kv[1]))


def file_notes(f: FileReport) -> list[str]:
    notes = []
    if f.status in ("skipped", "failed") and f.reason:
        notes.append(f"{_safe(f.path, 300)}: {f.status}: {_safe(f.reason, 300)}")
    for w in f.warnings:
        notes.append(f"{_safe(f.path, 300)}: warning: {_safe(w, 300)}")
    if f.lines_rejected:
        notes.append(f"{_safe(f.path, 300)}: {f.lines_rejected} line(s) rejected")
        for r in f.rejects[:3]:
            notes.append(f"{_safe(f.path, 300)}:{r.line}: {_safe(r.reason, 120)}: {_safe(r.text, 80)}")
    return notes


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True)
@db_option
@click.option("--strict", is_flag=True, help="Exit with status 1 when any line was rejected (but a live log's "
              "last line, still being written, which is read again when it grows) or any file failed.")
@click.option("-v", "--verbose", is_flag=True, help="List every skipped file, not only a count.")
@quiet_option
def ingest(paths: tuple[str, ...], db: str | None, strict: bool, verbose: bool, quiet: bool) -> None:
    """Load Zeek (TSV or JSON) and Suricata eve.json logs into the store.

    PATH may be a file, a directory (walked recursively) or a glob; .gz files are read directly.
    A pcap/pcapng file named as a PATH is replayed through Suricata and its eve.json loaded.
    Re-ingesting the same content adds nothing; a grown file only adds its new lines.

    \b
    Example:
        serverless-c2 ingest /nsm/zeek/logs/2026-11-27 --db sensor.duckdb
    """
    no_stdin(paths, "ingest")
    started = time.monotonic()
    try:
        from analyzer.replay import replay_pcaps, split_captures

        # a capture named as a PATH is replayed through Suricata and its eve.json loaded, as `scan`
        # does (it was skipped with "scan it with --pcap", and the night's store stayed without it)
        captures, logs = split_captures(paths)
        with tempfile.TemporaryDirectory(prefix="serverless-c2-") as tmp, Store(db) as store:
            inputs: list = list(logs)
            if captures:
                if not quiet:
                    click.echo(f"replaying {len(captures)} capture(s) through Suricata", err=True)
                inputs += replay_pcaps(captures, Path(tmp) / "replay")
            report = ingest_paths(store, inputs, progress=_Progress(quiet))
    except AnalyzerError as exc:
        fail(exc)
    except Exception as exc:  # noqa: BLE001 - a crash is an error (exit 2: --strict uses 1), never a traceback
        fail(_safe(f"unexpected {type(exc).__name__}: {exc}", 2000))
    elapsed = time.monotonic() - started
    if not quiet:  # -q: no counts; only what a nightly job must hear of (below, and the errors)
        click.echo(summary_table(report))
    skipped = [f for f in report.files if f.status == "skipped"]
    if quiet:
        for f in noted_files(report, quiet=True):
            if f.status != "failed":  # said as an error below
                for note in file_notes(f):
                    click.echo(note, err=True)
    else:
        for f in report.files:
            if f.status == "skipped" and not verbose and not f.lines_rejected and not f.warnings:
                continue
            for note in file_notes(f):
                click.echo(note, err=True)
        if skipped and not verbose:
            click.echo(f"skipped {len(skipped)} file(s): {skip_reasons(skipped)} (-v lists them)", err=True)
        bytes_read = sum(f.bytes_read for f in report.files)
        click.echo(f"ingested {len(report.files)} file(s), {_human(bytes_read)} in {elapsed:.2f} s", err=True)
    for f in report.failed:
        click.echo(f"serverless-c2: error: {_safe(f.path, 300)}: {_safe(f.reason or 'failed', 300)}", err=True)
    if report.failed:
        sys.exit(2)
    # a live log's last line, still being written, is read again when the file grows: no loss
    from analyzer.ingest.pipeline import PENDING_TAIL

    pending = sum(1 for f in report.files for r in f.rejects if r.reason == PENDING_TAIL)
    if strict and report.lines_rejected > pending:
        click.echo(f"serverless-c2: {report.lines_rejected - pending} line(s) rejected (--strict)", err=True)
        sys.exit(1)


COMMANDS: list[click.Command] = [ingest]
