"""What an ingest did, file by file: the numbers that must add up.

Every physical line of an input file lands in exactly one bucket, so a report can be
checked arithmetically (``FileReport.accounted``):

    total_lines = meta_lines + blank_lines + data_lines
    data_lines  = lines_loaded + lines_rejected + skipped_events

* ``meta_lines``: Zeek ``#`` header/footer lines and comment lines such as ``### BTest baseline data``.
* ``lines_loaded``: data lines that became (part of) a table row. For Zeek this equals
  ``rows_loaded``; for eve.json several DNS records of one transaction merge into one row, so
  ``rows_loaded`` can be smaller.
* ``skipped_events``: eve.json events of types we do not model (alert, stats, fileinfo, ...).

Line numbers are 1-based and count lines of the (decompressed) file, as ``sed -n Np`` would.

Rejected lines always carry a reason. The ones real data produces, and why they are expected:
``unparseable ts`` (Zeek's btest baselines mask times as ``XXXXXXXXXX.XXXXXX``), ``expected N fields,
found M`` (a line that does not match its header), ``incomplete last line`` (a file cut mid-line:
a live log being written or a truncated gzip; that line is not consumed and is read again when the
file grows), ``malformed JSON``, ``unparseable timestamp`` (eve), ``bad <type> value in field F``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import NamedTuple

#: file statuses
LOADED = "loaded"        # rows were read from the start of the file
APPENDED = "appended"    # the file grew since the last ingest; only the new lines were read
UNCHANGED = "unchanged"  # identical content was ingested before; nothing was read
SKIPPED = "skipped"      # not loaded at all (empty, not a log, unsupported kind); see ``reason``
FAILED = "failed"        # an unexpected error; the store is unchanged for this file


class Reject(NamedTuple):
    """One rejected data line: where it is, why, and (a truncated copy of) its text.
    A tuple ``(line, reason, text)`` with names."""

    line: int
    reason: str
    text: str


@dataclass
class FileReport:
    """The outcome of ingesting one file."""

    path: str
    kind: str | None = None           # conn | dns | ssl | http | eve | the unsupported Zeek path | None
    format: str | None = None         # zeek-tsv | zeek-json | eve | None
    status: str = SKIPPED
    file_id: int | None = None        # the ingest_files row written for this file (None if none was)
    rows_loaded: int = 0
    lines_loaded: int = 0
    lines_rejected: int = 0
    data_lines: int = 0
    skipped_events: int = 0
    duplicates: int = 0               # rows an earlier file of the same traffic had loaded: removed (ingest.duplicates)
    meta_lines: int = 0
    blank_lines: int = 0
    total_lines: int = 0
    first_line: int = 1               # first line read (> 1 when a grown file is appended)
    bytes_read: int = 0               # uncompressed bytes consumed, including what was consumed before
    rejects: list[Reject] = field(default_factory=list)   # the first few
    reason: str | None = None         # why skipped
    warnings: list[str] = field(default_factory=list)     # truncated gzip, incomplete last line, ...
    rows_by_table: dict[str, int] = field(default_factory=dict)
    min_ts: dt.datetime | None = None
    max_ts: dt.datetime | None = None

    @property
    def accounted(self) -> bool:
        """True when every line read is in exactly one bucket (see the module docstring)."""
        lines_read = self.total_lines - (self.first_line - 1)
        return (
            lines_read == self.meta_lines + self.blank_lines + self.data_lines
            and self.data_lines == self.lines_loaded + self.lines_rejected + self.skipped_events
        )


@dataclass
class KindSummary:
    """Totals for one log kind (the rows of the CLI summary table)."""

    kind: str
    files: int = 0
    rows: int = 0
    lines_rejected: int = 0
    skipped_events: int = 0
    duplicates: int = 0
    min_ts: dt.datetime | None = None
    max_ts: dt.datetime | None = None


@dataclass
class IngestReport:
    """The outcome of one :func:`analyzer.ingest.ingest_paths` call."""

    files: list[FileReport] = field(default_factory=list)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def lines_rejected(self) -> int:
        return sum(f.lines_rejected for f in self.files)

    @property
    def duplicates(self) -> int:
        return sum(f.duplicates for f in self.files)

    @property
    def failed(self) -> list[FileReport]:
        return [f for f in self.files if f.status == FAILED]

    def summary(self) -> list[KindSummary]:
        """Per log kind (conn, open_conn, dns, ssl, open_ssl, http, open_http, eve; then ``skipped``), in
        that order."""
        order = ["conn", "open_conn", "dns", "ssl", "open_ssl", "http", "open_http", "eve"]
        out: dict[str, KindSummary] = {}
        for f in self.files:
            key = f.kind if f.status in (LOADED, APPENDED, UNCHANGED) and f.kind in order else "skipped"
            if f.status == FAILED:
                key = "failed"
            s = out.setdefault(key, KindSummary(key))
            s.files += 1
            s.rows += f.rows_loaded
            s.lines_rejected += f.lines_rejected
            s.skipped_events += f.skipped_events
            s.duplicates += f.duplicates
            if f.min_ts is not None:
                s.min_ts = f.min_ts if s.min_ts is None else min(s.min_ts, f.min_ts)
            if f.max_ts is not None:
                s.max_ts = f.max_ts if s.max_ts is None else max(s.max_ts, f.max_ts)
        rank = {k: i for i, k in enumerate(order + ["skipped", "failed"])}
        return sorted(out.values(), key=lambda s: rank.get(s.kind, 99))
