"""Ingest health: did the night's logs arrive, whole, and without holes?

Three views, all from the store: per log kind (files, rows, rejected lines, from
``ingest_files``), the files and rejected lines worth a look (``ingest_files`` /
``ingest_rejects``), and coverage by hour per (log kind, sensor) inside the report window. A sensor
that went quiet at 03:00 shows as a gap that runs to the end of the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

import duckdb

from analyzer.report.history import naive_utc
from analyzer.sqlfiles import read_sql


@dataclass(frozen=True)
class KindHealth:
    kind: str
    files: int
    data_lines: int
    rows_loaded: int
    lines_rejected: int
    skipped_events: int
    files_with_rejects: int
    first_ts: datetime | None
    last_ts: datetime | None


@dataclass(frozen=True)
class FileIssue:
    path: str
    kind: str | None
    format: str | None
    status: str | None
    data_lines: int | None
    rows_loaded: int | None
    lines_rejected: int | None
    reason: str | None


@dataclass(frozen=True)
class RejectedLine:
    path: str | None
    line: int | None
    reason: str | None
    text: str | None


@dataclass(frozen=True)
class Gap:
    """A run of consecutive hours with no rows for one stream; ``end`` is exclusive."""

    kind: str
    sensor: str
    start: datetime
    end: datetime
    hours: int
    to_window_end: bool   # still silent when the window closed: the sensor "went quiet"


@dataclass(frozen=True)
class CoverageStream:
    kind: str
    sensor: str
    hours: list[tuple[datetime, int]]   # (hour start, rows), every hour of the window


@dataclass
class Health:
    kinds: list[KindHealth] = field(default_factory=list)
    files: list[FileIssue] = field(default_factory=list)
    rejects: list[RejectedLine] = field(default_factory=list)
    coverage: list[CoverageStream] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    #: the first hour with logs, when the store starts an hour or more after the window does (those
    #: hours are no gap of a stream, sql/54: nothing earlier was ever loaded), else None
    logs_start: datetime | None = None
    window_start: datetime | None = None

    @property
    def late_hours(self) -> int:
        """How many hours of the window come before the store's first logs (``logs_start``)."""
        return 0 if self.logs_start is None or self.window_start is None else \
            int((self.logs_start - self.window_start).total_seconds() // 3600)

    @property
    def total_files(self) -> int:
        return sum(k.files for k in self.kinds)

    @property
    def total_rows(self) -> int:
        return sum(k.rows_loaded for k in self.kinds)

    @property
    def total_rejected(self) -> int:
        return sum(k.lines_rejected for k in self.kinds)


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


def _epoch(ts: datetime | None) -> float | None:
    if ts is None:
        return None
    if ts.tzinfo is None:  # the store's TIMESTAMPs are naive UTC
        ts = ts.replace(tzinfo=timezone.utc)
    return ts.timestamp()


def find_gaps(streams: list[CoverageStream]) -> list[Gap]:
    """Every run of empty hours in every stream (pure; the SQL has zero-filled the hours)."""
    gaps: list[Gap] = []
    for stream in streams:
        run_start: datetime | None = None
        run_len = 0
        for hour, rows in stream.hours:
            if rows == 0:
                if run_start is None:
                    run_start = hour
                run_len += 1
            elif run_start is not None:
                gaps.append(Gap(stream.kind, stream.sensor, run_start, hour, run_len, False))
                run_start, run_len = None, 0
        if run_start is not None:
            last = stream.hours[-1][0]
            end = datetime.fromtimestamp(last.timestamp() + 3600, tz=timezone.utc)
            gaps.append(Gap(stream.kind, stream.sensor, run_start, end, run_len, True))
    gaps.sort(key=lambda g: (-g.hours, g.kind, g.sensor, g.start))
    return gaps


def collect_health(
    con: duckdb.DuckDBPyConnection,
    window_start: datetime | None,
    window_end: datetime | None,
    max_files: int = 50,
    max_rejects: int = 20,
    failed: Sequence[tuple[str, str]] = (),
) -> Health:
    """Gather the ingest health of the store for the report window (``None`` = the data's extent):
    the files with rows in it, and ``failed`` (path, reason): this run's files that could not be read,
    which the store does not record (their transaction was rolled back)."""
    con.execute(read_sql("51_report_ingest_0_window"), {"since": naive_utc(window_start), "until": naive_utc(window_end)})
    kinds = [KindHealth(*row) for row in con.execute(read_sql("51_report_ingest_by_kind")).fetchall()]
    files = [
        FileIssue(path, kind, fmt, status, data_lines, rows_loaded, lines_rejected, reason)
        for (_fid, path, kind, fmt, status, data_lines, rows_loaded, lines_rejected, reason, _a, _b)
        in con.execute(read_sql("52_report_ingest_files"), {"limit": max_files}).fetchall()
    ]
    rejects = [
        RejectedLine(*row)
        for row in con.execute(read_sql("53_report_ingest_rejects"), {"limit": max_rejects}).fetchall()
    ]
    for path, reason in failed:  # this run's files that could not be read: no ingest_files row (rolled back)
        files.insert(0, FileIssue(path, None, None, "failed", None, None, None, reason))
    if failed:
        kinds.append(KindHealth("(failed)", len(failed), 0, 0, 0, 0, 0, None, None))
    rows = con.execute(
        read_sql("54_report_coverage_hours"),
        {"since": _epoch(window_start), "until": _epoch(window_end)},
    ).fetchall()
    coverage: list[CoverageStream] = []
    for kind, sensor, hour_epoch, count in rows:
        if not coverage or (coverage[-1].kind, coverage[-1].sensor) != (kind, sensor):
            coverage.append(CoverageStream(kind, sensor, []))
        coverage[-1].hours.append((_utc(float(hour_epoch)), int(count)))
    first = min((s.hours[0][0] for s in coverage if s.hours), default=None)
    late = (first if window_start is not None and first is not None
            and (first - window_start).total_seconds() >= 3600 else None)
    return Health(kinds, files, rejects, coverage, find_gaps(coverage), logs_start=late, window_start=window_start)
