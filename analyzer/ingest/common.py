"""Pieces every format loader shares: reading a file as numbered lines, and moving a typed
stage into its table with the rejects recorded.

Reading: DuckDB's CSV reader with a single VARCHAR column and a delimiter that cannot occur
(NUL; files holding NUL are sanitized first, see files.py), no quoting, no escaping, no comment
character. Each physical line becomes one row, blank lines included (as NULL), in file order, so
``rowid + 1`` is the line number. Every later step is SQL over that table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from analyzer.ingest.report import Reject
from analyzer.ingest.zeek_fields import table_columns

#: rejected lines stored in ingest_rejects per file (all are counted); their text is cut to this
MAX_STORED_REJECTS = 1000
MAX_REJECT_TEXT = 1000
#: rejected lines kept in the FileReport
MAX_REPORT_REJECTS = 5
DEFAULT_MAX_LINE = 8 << 20


def read_lines(con: duckdb.DuckDBPyConnection, data_path: Path, size: int) -> None:
    """(Re)create TEMP ``_raw(l)`` with one row per line of ``data_path`` and view ``_lines(line, l)``.

    DuckDB refuses (with an error, never by cutting) a line longer than ``max_line_size``; a file
    with such a line is read again with a limit as large as the file (at most 1 GiB), which costs a
    bigger buffer only for those rare files.
    """
    sql = (
        "CREATE OR REPLACE TEMP TABLE _raw AS SELECT l FROM read_csv($path, columns={'l': 'VARCHAR'}, "
        "delim='\\0', quote='', escape='', header=false, auto_detect=false, new_line='\\n', "
        "strict_mode=false, max_line_size=$max_line, buffer_size=$buffer)"
    )
    try:
        con.execute(sql, {"path": str(data_path), "max_line": DEFAULT_MAX_LINE, "buffer": 4 * DEFAULT_MAX_LINE})
    except duckdb.Error:
        if size <= DEFAULT_MAX_LINE:
            raise
        max_line = min(size + 16, 1 << 30)
        con.execute(sql, {"path": str(data_path), "max_line": max_line, "buffer": 2 * max_line})
    con.execute("CREATE OR REPLACE TEMP VIEW _lines AS SELECT rowid + 1 AS line, l FROM _raw")


def drop_temps(con: duckdb.DuckDBPyConnection) -> None:
    for stmt in (
        "DROP VIEW IF EXISTS _lines", "DROP TABLE IF EXISTS _raw", "DROP TABLE IF EXISTS _stage",
        "DROP TABLE IF EXISTS _jl", "DROP TABLE IF EXISTS _eve",
    ):
        try:
            con.execute(stmt)
        except duckdb.Error:
            pass


def line_classes(con: duckdb.DuckDBPyConnection, lo: int, hi: int, meta_sql: str) -> tuple[int, int, int]:
    """(meta, blank, data) line counts in lines lo..hi; ``meta_sql`` is the meta predicate on ``l``."""
    row = con.execute(
        f"SELECT count(*) FILTER (WHERE {BLANK}), "
        f"count(*) FILTER (WHERE NOT {BLANK} AND {meta_sql}), "
        f"count(*) FILTER (WHERE NOT {BLANK} AND NOT {meta_sql}) "
        "FROM _lines WHERE line BETWEEN $lo AND $hi",
        {"lo": lo, "hi": hi},
    ).fetchone()
    assert row is not None
    blank, meta, data = (int(x or 0) for x in row)
    return meta, blank, data


#: SQL predicates on a line ``l``
#: (anchored regexps: RE2 stops at the first character of an ordinary line, ~30x cheaper than trim())
BLANK = "(l IS NULL OR regexp_matches(l, '^[ \\t]*$'))"
TSV_META = "regexp_matches(l, '^[ \\t]*#')"
JSON_META = TSV_META
DATA_TSV = f"(NOT {BLANK} AND NOT {TSV_META})"
DATA_JSON = f"(NOT {BLANK} AND NOT {JSON_META})"
#: why a JSON line cannot be used (NULL when it is an object); try() makes malformed JSON a NULL type
JSON_REASON = (
    "CASE coalesce(try(json_type(l)), 'MALFORMED') WHEN 'OBJECT' THEN NULL "
    "WHEN 'MALFORMED' THEN 'malformed JSON' ELSE 'not a JSON object' END"
)


@dataclass
class Tally:
    """Running totals for one file while its stages are loaded."""

    file_id: int
    rows: dict[str, int] = field(default_factory=dict)
    lines_loaded: int = 0
    rejected: int = 0
    skipped_events: int = 0
    stored_rejects: int = 0
    rejects: list[Reject] = field(default_factory=list)
    min_ts: dt.datetime | None = None
    max_ts: dt.datetime | None = None

    def add_ts(self, lo: dt.datetime | None, hi: dt.datetime | None) -> None:
        if lo is not None:
            self.min_ts = lo if self.min_ts is None else min(self.min_ts, lo)
        if hi is not None:
            self.max_ts = hi if self.max_ts is None else max(self.max_ts, hi)

    def reject_lines(self, con: duckdb.DuckDBPyConnection, source: str, count: int) -> None:
        """Record the rejects of ``source`` (a TEMP table with ``line, reason``); ``count`` of them."""
        if count <= 0:
            return
        self.rejected += count
        room = MAX_STORED_REJECTS - self.stored_rejects
        if room > 0:
            con.execute(
                f"INSERT INTO ingest_rejects (file_id, line, reason, text) "
                f"SELECT $fid, s.line, s.reason, left(r.l, $cut) FROM {source} s "
                f"JOIN _lines r ON r.line = s.line WHERE s.reason IS NOT NULL ORDER BY s.line LIMIT $room",
                {"fid": self.file_id, "cut": MAX_REJECT_TEXT, "room": room},
            )
            self.stored_rejects += min(room, count)
        # the first few of this stage; stages cover different lines, so keep the first few overall
        rows = con.execute(
            f"SELECT s.line, s.reason, left(r.l, 200) FROM {source} s JOIN _lines r ON r.line = s.line "
            f"WHERE s.reason IS NOT NULL ORDER BY s.line LIMIT $n",
            {"n": MAX_REPORT_REJECTS},
        ).fetchall()
        self.rejects.extend(Reject(int(a), str(b), c or "") for a, b, c in rows)
        self.rejects = sorted(self.rejects, key=lambda r: r.line)[:MAX_REPORT_REJECTS]

    def reject_one(self, con: duckdb.DuckDBPyConnection, line: int, reason: str, text: str) -> None:
        """Record a reject that is not in ``_lines`` (the incomplete last line)."""
        self.rejected += 1
        if self.stored_rejects < MAX_STORED_REJECTS:
            con.execute(
                "INSERT INTO ingest_rejects (file_id, line, reason, text) VALUES ($fid, $line, $reason, $text)",
                {"fid": self.file_id, "line": line, "reason": reason, "text": text[:MAX_REJECT_TEXT]},
            )
            self.stored_rejects += 1
        self.rejects = sorted([*self.rejects, Reject(line, reason, text[:200])], key=lambda r: r.line)
        self.rejects = self.rejects[:MAX_REPORT_REJECTS]

    def move_stage(
        self, con: duckdb.DuckDBPyConnection, table: str, sensor: str, lines: int | None = None
    ) -> None:
        """Insert the good rows of TEMP ``_stage`` into ``table``; record its rejects.

        ``lines``: the data lines behind the good rows when it differs from their number (eve DNS
        records merged per transaction)."""
        cols = table_columns(table)
        con.execute(
            f"INSERT INTO {table} ({', '.join(cols)}, sensor, file_id, line) "
            f"SELECT {', '.join(cols)}, $sensor, $fid, line FROM _stage WHERE reason IS NULL",
            {"sensor": sensor, "fid": self.file_id},
        )
        row = con.execute(
            "SELECT count(*) FILTER (WHERE reason IS NULL), count(*) FILTER (WHERE reason IS NOT NULL), "
            "min(ts) FILTER (WHERE reason IS NULL), max(ts) FILTER (WHERE reason IS NULL) FROM _stage"
        ).fetchone()
        assert row is not None
        good, bad = int(row[0]), int(row[1])
        self.rows[table] = self.rows.get(table, 0) + good
        self.lines_loaded += good if lines is None else lines
        self.add_ts(row[2], row[3])
        self.reject_lines(con, "_stage", bad)
