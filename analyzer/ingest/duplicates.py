"""Records a file repeats from an earlier file of the same traffic: removed once, counted, said.

A folder can hold one log twice in different forms (Zeek TSV and JSON of the same events, a day's
file beside its hourly rotations). A content fingerprint catches a byte-identical copy; this catches
the rest, so that a channel's connections are not counted twice. The SQL, and which files are
compared, is ``sql/02_ingest_duplicates.sql``.

Library code: no printing, no exit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb

from analyzer.ingest.common import stored_columns
from analyzer.ingest.detect import EVE, ZEEK_KINDS
from analyzer.ingest.sqlstmts import statements
from analyzer.narrow import moved

#: Two files are compared when their time ranges overlap for at least this share of the shorter one.
#: Copies overlap wholly; hourly rotations only by the connections open across the hour.
MIN_OVERLAP_SHARE = 0.5

#: How many rows of a file are looked up in the overlapping earlier files before the file is compared
#: whole: a copy repeats every one of them, a rotation none.
PROBE_ROWS = 64

#: Two records of one identity are the same record when their times differ by this much at most (s):
#: a copy may spell the time otherwise (JSON's float, an export cut to milliseconds).
SAME_TIME_S = 0.001

#: The log tables whose rows a store that ends with its scan may have moved to narrowed tables
#: (conn_n, tls_n) during the ingest (analyzer.narrow); the `*_moved` statements compare with those.
_NARROWED = ("conn", "tls")


@dataclass
class Duplicates:
    """What was removed from one file: per table, and the earlier files it was compared with."""

    by_table: dict[str, int] = field(default_factory=dict)
    earlier: list[str] = field(default_factory=list)   # paths

    @property
    def total(self) -> int:
        return sum(self.by_table.values())

    def warning(self) -> str:
        """'53615 record(s) repeat those already loaded from <file>: kept once' (when total > 0)."""
        first = self.earlier[0] if self.earlier else "?"
        more = f" or {len(self.earlier) - 1} other overlapping file(s)" if len(self.earlier) > 1 else ""
        return f"{self.total} record(s) repeat those already loaded from {first}{more}: kept once"


def remove_duplicates(
    con: duckdb.DuckDBPyConnection, file_id: int, kind: str | None, fmt: str | None,
    tables: list[str], min_ts: dt.datetime | None, max_ts: dt.datetime | None,
) -> Duplicates:
    """Delete the rows of ``file_id`` in ``tables`` that an overlapping earlier file already loaded
    (inside the file's transaction, before its ``ingest_files`` row is written)."""
    found = Duplicates()
    if not tables or kind is None or min_ts is None or max_ts is None:
        return found
    sql = statements("02_ingest_duplicates")
    table_of = ZEEK_KINDS.get(kind)
    kinds = [k for k, t in ZEEK_KINDS.items() if t == table_of] if table_of else [kind]
    earlier = con.execute(sql["earlier"], {
        "file_id": file_id, "kinds": kinds, "format_family": "eve" if fmt == EVE else "zeek",
        "min_ts": min_ts, "max_ts": max_ts, "min_share": MIN_OVERLAP_SHARE,
    }).fetchall()
    if not earlier:
        return found
    ids = [int(r[0]) for r in earlier]
    found.earlier = [str(r[1]) for r in earlier]
    # the part of this file's range that the earlier files cover: where a probe looks for repeats
    lo = max(min(float(r[2]) for r in earlier), min_ts.replace(tzinfo=dt.timezone.utc).timestamp())
    hi = min(max(float(r[3]) for r in earlier), max_ts.replace(tzinfo=dt.timezone.utc).timestamp())
    probe = {"probe": PROBE_ROWS, "same_s": SAME_TIME_S, "lo": lo - SAME_TIME_S, "hi": hi + SAME_TIME_S}
    # an open log, or a log beside one: some of its connections were logged before, no probe decides
    always = any(k.startswith("open_") for k in [kind, *(str(r[4]) for r in earlier)])
    for table in tables:
        n = 0
        if always or _count(con, sql[f"{table}_probe"],
                            {"file_id": file_id, "earlier": ids, **probe}):
            statement = sql["dns_uid"] if table == "dns" and "uid" in stored_columns(con, "dns") else sql[table]
            n += _count(con, statement, {"file_id": file_id, "earlier": ids, "same_s": SAME_TIME_S})
        if table in _NARROWED and moved(con) and (always or _count(
                con, sql[f"{table}_moved_probe"], {"file_id": file_id, **probe})):
            n += _count(con, sql[f"{table}_moved"], {"file_id": file_id, "same_s": SAME_TIME_S})
        if n:
            found.by_table[table] = n
    return found


def _count(con: duckdb.DuckDBPyConnection, statement: str, params: dict[str, object]) -> int:
    """The count a probe selects, or a DELETE returns."""
    row = con.execute(statement, params).fetchone()
    return int(row[0]) if row else 0
