"""New versus recurring: the report remembers what it listed, in the store it reports on.

Each report written on a persistent store records its run and its channels (``Finding.channel_key``)
in ``report_runs`` / ``report_channels`` (``sql/55_report_history_schema.sql``). The next report
on the same store compares against them: a channel never listed before is *new*; one listed before
*recurs* (with how many earlier reports listed it and since when); one the previous report listed
and this one does not is *gone*. An in-memory store has no previous report, so everything is new.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import duckdb

from analyzer.findings import Finding
from analyzer.sqlfiles import read_sql


def channel_key(finding: Finding) -> str:
    """The finding's stable channel identity: scan's ``channel_key``, else one derived the same way
    (source, destination name or address:port, client fingerprint JA4 > JA3 > UA, kind)."""
    if finding.channel_key:
        return finding.channel_key
    dest = finding.host or f"{finding.dst or '?'}:{finding.dst_port if finding.dst_port is not None else '?'}"
    client = finding.ja4 or finding.ja3 or finding.user_agent or ""
    return "|".join((finding.src, dest, client, finding.kind))


@dataclass(frozen=True)
class ChannelHistory:
    status: str                       # new | recurring
    runs_seen: int                    # earlier reports that listed it
    first_reported: datetime | None
    in_previous: bool


@dataclass(frozen=True)
class GoneChannel:
    channel_key: str
    severity: str | None
    score: float | None
    src: str | None
    host: str | None
    platform: str | None


@dataclass
class History:
    previous_report: datetime | None = None     # when the previous report on this store was made
    earlier_reports: int = 0
    channels: dict[str, ChannelHistory] = field(default_factory=dict)
    gone: list[GoneChannel] = field(default_factory=list)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(read_sql("55_report_history_schema"))


def _has_tables(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('report_runs', 'report_channels')"
    ).fetchone()
    return bool(row and row[0] == 2)


def load_history(con: duckdb.DuckDBPyConnection, keys: list[str], window_start: datetime | None = None,
                 window_end: datetime | None = None) -> History:
    """Compare this report's channel keys with the earlier reports stored (read-only). An earlier
    report of this very window is a re-run, not an earlier report (sql/56_report_history_seen.sql)."""
    history = History()
    if not _has_tables(con):
        history.channels = {k: ChannelHistory("new", 0, None, False) for k in keys}
        return history
    window = {"window_start": naive_utc(window_start), "window_end": naive_utc(window_end)}
    count, last = con.execute(
        "SELECT count(*), max(generated_at) FROM report_runs"
        " WHERE NOT (window_start IS NOT DISTINCT FROM CAST($window_start AS TIMESTAMP)"
        "            AND window_end IS NOT DISTINCT FROM CAST($window_end AS TIMESTAMP))", window).fetchone() or (0, None)
    history.earlier_reports = int(count or 0)
    history.previous_report = last.replace(tzinfo=timezone.utc) if last else None
    for key, runs_seen, first, _last, in_previous in con.execute(
        read_sql("56_report_history_seen"), {"keys": keys, **window}
    ).fetchall():
        history.channels[key] = ChannelHistory(
            "recurring" if runs_seen else "new",
            int(runs_seen),
            first.replace(tzinfo=timezone.utc) if first else None,
            bool(in_previous),
        )
    history.gone = [
        GoneChannel(key, sev, score, src, host, platform)
        for (_at, key, sev, score, src, host, platform) in con.execute(
            read_sql("57_report_history_gone"), {"keys": keys, **window}
        ).fetchall()
    ]
    return history


def naive_utc(ts: datetime | None) -> datetime | None:
    """``ts`` as the store's TIMESTAMPs hold times: naive, in UTC (a naive ``ts`` is taken as UTC already)."""
    if ts is None or ts.tzinfo is None:
        return ts
    return ts.astimezone(timezone.utc).replace(tzinfo=None)


def record_run(
    con: duckdb.DuckDBPyConnection,
    findings: list[Finding],
    generated_at: datetime,
    window_start: datetime | None,
    window_end: datetime | None,
) -> int:
    """Store this report's run and channels, atomically; returns the new run id.

    Called only after the report file was written, so a failed run is not remembered as seen.
    """
    ensure_tables(con)
    window = {"window_start": naive_utc(window_start), "window_end": naive_utc(window_end)}
    con.execute("BEGIN TRANSACTION")
    try:
        for statement in con.extract_statements(read_sql("58_report_history_forget_rerun")):
            con.execute(statement.query, window)
        row = con.execute(
            read_sql("58_report_history_record_run"),
            {
                "generated_at": naive_utc(generated_at),
                "window_start": naive_utc(window_start),
                "window_end": naive_utc(window_end),
                "findings": len(findings),
            },
        ).fetchone()
        run_id = int(row[0]) if row else 0
        con.execute(
            read_sql("59_report_history_record_channels"),
            {
                "run_id": run_id,
                "keys": [channel_key(f) for f in findings],
                "severities": [f.severity for f in findings],
                "scores": [float(f.score) for f in findings],
                "srcs": [f.src for f in findings],
                "hosts": [f.host for f in findings],
                "platforms": [f.platform for f in findings],
            },
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return run_id
