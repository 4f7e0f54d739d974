"""CLI for the report command(s). COMMANDS lists the click commands this module registers."""

from __future__ import annotations

import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import click

from analyzer.cli.common import (DEMO_PREFIX, Score, check_sources, db_option, fail, loaded_nothing, no_stdin, nothing_loaded,
                                 quiet_option, say_file_notes)
from analyzer.errors import AnalyzerError
from analyzer.findings import SEVERITIES


def _when(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    """ISO-8601 date/time ('2026-11-27', '2026-11-27T03:00Z'; naive means UTC) or epoch seconds."""
    if value is None:
        return None
    try:
        ts = datetime.fromisoformat(value.strip())
    except ValueError:
        try:
            return datetime.fromtimestamp(float(value), timezone.utc)
        except (ValueError, OverflowError, OSError):
            raise click.BadParameter(f"{value!r} is neither ISO-8601 (2026-11-27T00:00Z) nor epoch seconds") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)


@click.command("report")
@click.argument("paths", nargs=-1, type=click.Path())
@db_option
@click.option("--since", callback=_when, help="Window start: ISO-8601 (UTC unless a zone is given) or epoch seconds.")
@click.option("--until", callback=_when, help="Window end (ISO-8601 or epoch seconds). Default: the newest log line in the store.")
@click.option("--window", default=None,
              help="Window length ending at --until, else at the newest log line; with --since alone, from it "
                   "(s/m/h/d/w units: 24h, 7d) [default: 24h].")
@click.option("-o", "--out", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Output file ('-' = stdout). Default: report.html for html, stdout otherwise.")
@click.option("-f", "--format", "fmt", type=click.Choice(["html", "md", "json", "csv"]), default="html",
              show_default=True, help="html: self-contained page; md: chat/tickets; json/csv: machines.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default=None,
              help="Exit 1 when a finding is at or above this severity (default: never).")
@click.option("--top", type=click.IntRange(0, 100), default=10, show_default=True,
              help="Findings that get a timeline and gap histogram.")
@click.option("--min-score", type=Score(), default=None,
              help="Lowest score of a beacon finding to list (the scan's default when not given).")
@click.option("--no-contacts", is_flag=True,
              help="Leave out non-beaconing serverless contacts by non-browser clients.")
@click.option("--allowlist", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Allowlist file: suppressed findings are counted in the report.")
@click.option("--catalog", "catalogs", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Extra catalogue file (repeatable).")
@click.option("--intel", "intels", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Known-bad hostname/suffix list (repeatable).")
@click.option("--no-history", is_flag=True,
              help="Do not record this report in the store (the next one will not compare with it).")
@click.option("--demo", is_flag=True, help="Report on the bundled demo dataset (generated, offline).")
@quiet_option
def report(paths: tuple[str, ...], db: str | None, since: datetime | None, until: datetime | None,
           window: str | None, out: str | None, fmt: str, fail_on: str | None, top: int, min_score: float | None,
           no_contacts: bool,
           allowlist: str | None, catalogs: tuple[str, ...], intels: tuple[str, ...], no_history: bool,
           demo: bool, quiet: bool) -> None:
    """Write the nightly report (HTML, Markdown, JSON or CSV) after ingesting the logs given and scanning.

    A pcap/pcapng file among the PATHs is replayed through Suricata first (as scan --pcap does).

    Exit status: 0 when no finding is at or above --fail-on, 1 when one is, 2 on errors. The
    report file is replaced atomically: readers never see half of it. With --db, each report is
    remembered in the store, so the next one shows what is new and what recurs.

    \b
    Examples:
      serverless-c2 report --demo                 # writes report.html
      serverless-c2 report /nsm/zeek/logs/$(date -d yesterday +%F) --db /var/lib/sc2.duckdb \\
          --window 24h --out /srv/reports/sc2-$(date +%F).html --fail-on high -q    # cron
      serverless-c2 report --db /var/lib/sc2.duckdb --format md > ticket.md
    """
    from analyzer.ingest import ingest_paths
    from analyzer.report import build_report, record_run, render, write_atomic
    from analyzer.report.sanitize import clean
    from analyzer.scan import ScanOptions, run_scan, warnings_of_the_logs
    from analyzer.store import Store

    no_stdin(paths, "report")
    if not (paths or db or demo):
        fail("nothing to report on: give log PATH..., --db STORE, or --demo")
    check_sources(db, demo, bool(paths), demo_store=True)
    dest = out or ("report.html" if fmt == "html" else "-")

    def say(msg: str) -> None:
        if not quiet:
            click.echo(clean(msg), err=True)

    try:
        # without --db the store is thrown away after the report: a scratch store (store.SCRATCH_OMITS)
        with Store(db, scratch=db is None) as store:
            inputs = list(paths)
            if demo:
                from analyzer import simulate

                # written as Zeek logs and ingested like real ones, so ingest health is real too
                with tempfile.TemporaryDirectory(prefix=DEMO_PREFIX) as tmp:
                    written = simulate.write_logs(simulate.build_scenario("demo"), tmp, skip_empty=True)
                    ingested = ingest_paths(store, [str(p) for p in written])
                say(f"demo: loaded {ingested.rows_loaded:,} rows")
                inputs.append("demo dataset (analyzer.simulate, scenario 'demo')")
            if paths:
                from analyzer.replay import replay_pcaps, split_captures

                # a capture named as a PATH is replayed through Suricata first, as `scan` does
                captures, rest = split_captures(paths)
                logs = [str(p) for p in rest]
                with tempfile.TemporaryDirectory(prefix="sc2-replay-") as tmp:
                    if captures:
                        say(f"replaying {len(captures)} capture(s) through Suricata")
                        logs += [str(e) for e in replay_pcaps(captures, Path(tmp))]
                    ingested = ingest_paths(store, logs)
                say(f"ingest: {len(ingested.files)} file(s), {ingested.rows_loaded:,} rows, "
                    f"{ingested.lines_rejected:,} rejected line(s)")
                say_file_notes(quiet, ingested)  # files that could not be read, lines rejected (-q too)
                if loaded_nothing(ingested, db):
                    fail(clean(nothing_loaded(ingested, "report on")))
            options = ScanOptions(window=window, since=since, until=until,
                                  catalog_files=catalogs, intel_files=intels, allowlist=allowlist,
                                  include_contacts=not no_contacts)
            if min_score is not None:
                options.min_score = min_score
            result = run_scan(store, options)
            failed: list[tuple[str, str]] = []
            if paths:
                result.warnings.extend(warnings_of_the_logs(ingested.files, result, kept_store=db is not None))
                failed = [(f.path, f.reason or "failed") for f in ingested.files if f.status == "failed"]
            rep = build_report(store, result, top_n=top, inputs=inputs, failed=failed)
            text = render(rep, fmt)
            try:
                if dest == "-":
                    sys.stdout.write(text)
                    sys.stdout.flush()
                else:
                    write_atomic(text, dest)
            except OSError as exc:
                fail(f"cannot write the report {clean(dest)}: {exc.strerror or exc}")
            if db and not no_history:
                record_run(store.con, result.findings, rep.generated_at, rep.window_start, rep.window_end)
    except AnalyzerError as exc:
        fail(clean(exc))
    except Exception as exc:  # noqa: BLE001 - cron must see 2 (error), never 1 (findings), on a crash
        fail(clean(f"unexpected {type(exc).__name__}: {exc}"))

    counts = rep.summary.by_severity
    where = "stdout" if dest == "-" else dest
    say(f"report: {where} ({len(text.encode('utf-8')) / 1024:.0f} KB): {rep.summary.findings} finding(s) ("
        + ", ".join(f"{counts[s]} {s}" for s in SEVERITIES) + f"), {rep.summary.new} new, "
        f"{len(rep.health.gaps)} coverage gap(s)")
    for warning in rep.warnings:  # under -q too: what a nightly job must hear of
        click.echo(clean(f"warning: {warning}"), err=True)
    if fail_on is not None:
        limit = SEVERITIES.index(fail_on)
        if any(SEVERITIES.index(f.severity) <= limit for f in result.findings if f.severity in SEVERITIES):
            sys.exit(1)


COMMANDS: list[click.Command] = [report]
