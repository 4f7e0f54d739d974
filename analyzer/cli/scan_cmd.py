"""``serverless-c2 scan``: ingest (optionally), score every channel, print ranked, explained findings."""

from __future__ import annotations

import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import click

from analyzer.cli.common import (DEMO_PREFIX, Score, check_sources, db_option, fail, loaded_nothing, nothing_loaded,
                                 quiet_option, say_file_notes)
from analyzer.errors import AnalyzerError, InputError
from analyzer.render import FORMATS, render, strip_control


def _parse_time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        try:
            return datetime.fromtimestamp(float(value), timezone.utc)
        except ValueError:
            raise click.BadParameter(f"{value!r} is neither ISO-8601 nor epoch seconds", param_hint=option)
        except (OverflowError, OSError):  # inf, 1e400, past year 9999: no date at all
            raise click.BadParameter(f"{value!r} is out of the range of dates", param_hint=option)
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _limit_memory(store, limit: str) -> None:  # type: ignore[no-untyped-def]
    """Apply --memory-limit (the store already spills to a folder of its own)."""
    from analyzer.errors import StoreError

    try:
        store.set_memory_limit(limit)
    except StoreError as exc:
        raise click.BadParameter(str(exc), param_hint="--memory-limit") from exc


def _ingest_and_scan(db: str | None, inputs: list[Path], options, memory_limit: str, quiet: bool,  # type: ignore[no-untyped-def]
                     stdin_copy: Path | None = None):
    """Load ``inputs`` into the store (``--db``, or memory) and scan it (``stdin_copy``: the file that
    standard input was copied to, if it is one of them)."""
    from analyzer.scan import run_scan, warnings_of_the_logs
    from analyzer.store import Store

    # without --db the store is thrown away after the scan: a scratch store (store.SCRATCH_OMITS)
    with Store(db, scratch=db is None) as store:
        _limit_memory(store, memory_limit)
        if inputs:
            from analyzer.cli.ingest_cmd import _Progress
            from analyzer.ingest import ingest_paths
            from analyzer.narrow import narrow_when_big

            # a store that ends with the scan narrows conn and tls as they come (analyzer.narrow)
            after = (lambda: narrow_when_big(store.con)) if options.release_logs else None
            report = ingest_paths(store, [str(p) for p in inputs], progress=_Progress(quiet, tty_only=True),
                                  after_file=after)
            if stdin_copy is not None:
                _name_stdin(report, stdin_copy)
            _say(quiet, f"ingested {report.rows_loaded} rows from {_files_read(report)} file(s)"
                        + (f", {report.lines_rejected} line(s) rejected" if report.lines_rejected else "")
                        + (f", {len(report.failed)} file(s) could not be read" if report.failed else ""))
            say_file_notes(quiet, report)
            if loaded_nothing(report, db):
                raise InputError(nothing_loaded(report))
            result = run_scan(store, options)
            result.warnings.extend(warnings_of_the_logs(report.files, result, kept_store=db is not None))
            return result
        return run_scan(store, options)


#: the file standard input is copied to, in the command's temporary folder
STDIN_COPY = "stdin.log"


def _name_stdin(report, copy: Path) -> None:  # type: ignore[no-untyped-def]
    """Say ``<stdin>``, not the temporary copy's path, in what the ingest says of standard input (a
    record repeated from it was said to come from /tmp/serverless-c2-itsfp6zt/stdin.log)."""
    for path in {str(copy), str(copy.resolve())}:
        for f in report.files:
            if f.path == path:
                f.path = "<stdin>"
            f.warnings = [w.replace(path, "<stdin>") for w in f.warnings]


def _stdin_copy(tmp: Path) -> Path:
    """Standard input, copied into the command's temporary folder as a file the ingest reads as any
    other (its kind from its header: Zeek's #path, a JSON log's _path, or eve.json's event_type)."""
    import shutil

    copy = tmp / STDIN_COPY
    with copy.open("wb") as out:
        shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
    return copy


def _say(quiet: bool, message: str) -> None:
    if not quiet:
        click.echo(strip_control(message), err=True)


def _files_read(report) -> int:  # type: ignore[no-untyped-def]
    from analyzer.ingest.report import FAILED, SKIPPED

    return sum(1 for f in report.files if f.status not in (SKIPPED, FAILED))


@click.command("scan")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, allow_dash=True, path_type=Path))
@db_option
@click.option("--demo", is_flag=True, help="Generate a small realistic day of logs (with a serverless beacon) and scan it.")
@click.option("--window", default=None,
              help="How far back from the LATEST timestamp in the store (not the wall clock): 24h, 7d, 90m ... "
                   "[default: 24h]. With --since alone, how far from it; with --until, back from it.")
@click.option("--since", default=None, help="Window start (ISO-8601, UTC when no offset; or epoch seconds).")
@click.option("--until", default=None, help="Window end (ISO-8601 or epoch seconds). Default: latest timestamp.")
@click.option("--min-score", type=Score(), default=0.5, show_default=True,
              help="Lowest score of a beacon finding to list.")
@click.option("--no-contacts", is_flag=True, help="Do not list non-beaconing serverless contacts by non-browser clients.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format. Default: table on a terminal, json otherwise.")
@click.option("--catalog", "catalogs", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Extra catalogue file (repeatable).")
@click.option("--intel", "intel", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Intel file of known-bad names (repeatable).")
@click.option("--allowlist", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Allowlist file: matching findings are suppressed (and counted).")
@click.option("--memory-limit", default="1.6GB", show_default=True,  # = store.DEFAULT_MEMORY_LIMIT
              help="DuckDB memory limit; beyond it DuckDB spills to a temporary folder (keeps a big day on a laptop). "
                   "With memory to spare, raise it for big days: a 10M-connection day ran 10-20% faster "
                   "with 8GB (3.2 GB of memory used).")
@click.option("--pcap", "pcaps", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Replay a capture through Suricata first and scan its eve.json (repeatable).")
@quiet_option
def scan(paths: tuple[Path, ...], db: str | None, demo: bool, window: str | None, since: str | None, until: str | None,
         min_score: float, no_contacts: bool, fmt: str | None, catalogs: tuple[str, ...], intel: tuple[str, ...],
         allowlist: str | None, memory_limit: str, pcaps: tuple[Path, ...], quiet: bool) -> None:
    """Rank per internal host the channels that behave like C2, serverless ones first.

    PATH... are Zeek logs (TSV or JSON, folders, .gz) or Suricata eve.json files ('-': one log on
    standard input); they are ingested
    into the store first (--db keeps it, otherwise memory). A pcap/pcapng file among them is
    replayed through Suricata first, as with --pcap. Without PATH the store given with
    --db is scanned as it is. Findings go to stdout (a table ends with the summary and the
    warnings); progress, and the summary and warnings of the other formats, to stderr.

    \b
    Examples:
      serverless-c2 scan --demo
      serverless-c2 scan /nsm/zeek/logs/2026-11-27/ --format json > findings.json
      serverless-c2 scan --db nsm.duckdb --window 7d --min-score 0.6
      serverless-c2 scan --pcap capture.pcap
    """
    from analyzer.scan import ScanOptions

    if not (paths or pcaps or demo or db):
        fail("nothing to scan: give log PATHs, --pcap, --db STORE or --demo")
    check_sources(db, demo, bool(paths or pcaps))
    fmt = fmt or ("table" if sys.stdout.isatty() else "json")
    try:
        options = ScanOptions(window=window, since=_parse_time(since, "--since"), until=_parse_time(until, "--until"),
                              min_score=min_score, include_contacts=not no_contacts, catalog_files=tuple(catalogs),
                              intel_files=tuple(intel), allowlist=allowlist,
                              release_logs=db is None)  # the scratch store ends with the scan
        with tempfile.TemporaryDirectory(prefix=DEMO_PREFIX if demo else "serverless-c2-") as tmp:
            from analyzer.replay import split_captures

            # a capture named as a PATH is scanned as --pcap would (one inside a folder is skipped,
            # with a reason that says so: replaying a folder's captures unasked could take long)
            stdin_copy = None
            if Path("-") in paths:  # a log on standard input: `zcat conn.*.log.gz | serverless-c2 scan -`
                stdin_copy = _stdin_copy(Path(tmp))
                paths = tuple(stdin_copy if p == Path("-") else p for p in dict.fromkeys(paths))
            captures, logs = split_captures(paths)
            for p in captures:
                _say(quiet, f"{p}: a packet capture, replayed as with --pcap")
            pcaps = tuple(dict.fromkeys((*pcaps, *captures)))  # a capture named twice is replayed once
            inputs: list[Path] = [Path(p) for p in logs]
            if demo:
                from analyzer.simulate import build_scenario, write_logs

                _say(quiet, "demo: generating a day of Zeek logs (6 users browsing, pollers, a Worker beacon, "
                            "an Apps Script beacon)")
                inputs += write_logs(build_scenario("demo", seed=7), Path(tmp) / "demo", fmt="zeek-tsv", skip_empty=True)
            if pcaps:
                from analyzer.replay import replay_pcaps

                _say(quiet, f"replaying {len(pcaps)} capture(s) through Suricata")
                inputs += replay_pcaps(list(pcaps), Path(tmp) / "replay")
            result = _ingest_and_scan(db, inputs, options, memory_limit, quiet, stdin_copy)
    except AnalyzerError as exc:
        fail(exc)
    except click.ClickException:
        raise  # a bad option value (--memory-limit): click's own message and usage
    except Exception as exc:  # noqa: BLE001 - a crash is an error (exit 2) with one line, never a traceback
        fail(strip_control(f"unexpected {type(exc).__name__}: {exc}"))
    click.echo(render(result, fmt), nl=False)
    if fmt != "table":
        from analyzer.render import summary_line

        counts, *warnings = summary_line(result).split("\n")  # the summary, then each warning (-q too)
        _say(quiet, counts)
        for line in warnings:
            click.echo(line, err=True)


COMMANDS: list[click.Command] = [scan]
