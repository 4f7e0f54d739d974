"""Pieces every format loader shares: reading a file as numbered lines, and moving a typed
stage into its table with the rejects recorded.

Reading: DuckDB's CSV reader with a single VARCHAR column and a delimiter that cannot occur
(NUL; files holding NUL are sanitized first, see files.py), no quoting, no escaping, no comment
character. Each physical line becomes one row, blank lines included (as NULL), in file order, so
``rowid + 1`` is the line number. Every later step is SQL over that table.

Loading: a Zeek stage is typed inside the ``INSERT`` into its table (``Tally.move_stage`` with a
``StageQuery``), so the good rows are written once and no typed copy of the file is ever held; the
rejects are found as the lines that were not loaded, which costs nothing when there are none.
"""

from __future__ import annotations

import datetime as dt
import re
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from analyzer.ingest.report import Reject
from analyzer.ingest.zeek_fields import table_columns
from analyzer.store import SCRATCH_DERIVED, SCRATCH_KEYS, columns_of, settings

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
    note_line_temps(con)  # first: a read that fails halfway may have left _raw
    with insertion_order(con, keep=True):  # rowid + 1 is the line number
        _read_lines(con, data_path, size)
    con.execute("CREATE OR REPLACE TEMP VIEW _lines AS SELECT rowid + 1 AS line, l FROM _raw")


def _read_lines(con: duckdb.DuckDBPyConnection, data_path: Path, size: int) -> None:
    sql = (
        "CREATE OR REPLACE TEMP TABLE _raw AS SELECT l FROM read_csv($path, columns={'l': 'VARCHAR'}, "
        "delim='\\0', quote='', escape='', header=false, auto_detect=false, new_line='\\n', compression='none', "
        "strict_mode=false, max_line_size=$max_line, buffer_size=$buffer)"
    )
    try:
        con.execute(sql, {"path": str(data_path), "max_line": DEFAULT_MAX_LINE, "buffer": 4 * DEFAULT_MAX_LINE})
    except duckdb.Error:
        if size <= DEFAULT_MAX_LINE:
            raise
        max_line = min(size + 16, 1 << 30)
        con.execute(sql, {"path": str(data_path), "max_line": max_line, "buffer": 2 * max_line})


#: The temporary tables of one file's ingest: those of the typed fast read (zeek_tsv.fast_read), and
#: those the line-by-line path builds from the lines read_lines loads (_raw, _lines): the loaders of
#: every format (zeek_tsv, zeek_json, eve, sql/02_ingest_eve.sql, Tally) read _lines.
_FAST_TEMPS = ("DROP TABLE IF EXISTS _fast_rej", "DROP TABLE IF EXISTS _fast_scan")
_LINE_TEMPS = (
    "DROP VIEW IF EXISTS _lines", "DROP TABLE IF EXISTS _raw", "DROP TABLE IF EXISTS _stage",
    "DROP TABLE IF EXISTS _jl", "DROP TABLE IF EXISTS _jr", "DROP TABLE IF EXISTS _eve",
    "DROP TABLE IF EXISTS _dnsev", "DROP TABLE IF EXISTS _eve_text", "DROP VIEW IF EXISTS _eve_v",
    "DROP TABLE IF EXISTS _tsv_ranges",
)
#: connections that have read lines (read_lines), or made a typed fast read (mark_fast_read),
#: since their last drop_temps
_LINES_READ: "weakref.WeakSet[duckdb.DuckDBPyConnection]" = weakref.WeakSet()
_FAST_READ: "weakref.WeakSet[duckdb.DuckDBPyConnection]" = weakref.WeakSet()


def mark_fast_read(con: duckdb.DuckDBPyConnection) -> bool:
    """Note that a typed fast read is about to make its reject tables; True when one already did
    since the last drop_temps (its tables may still exist)."""
    made = con in _FAST_READ
    _FAST_READ.add(con)
    return made


def note_line_temps(con: duckdb.DuckDBPyConnection) -> None:
    """Note that the line path's temporary tables (or some: eve.parse_fast makes ``_eve``) are about
    to be made without read_lines, so that drop_temps drops them after the file."""
    _LINES_READ.add(con)


def drop_temps(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the temporary tables of the file just ingested, of the paths that ran only: each DROP is
    a statement and a transaction of its own, and for the 96 hourly files of a 1M-connection day,
    dropping all nine after every file cost about 0.6 s of a 6 s ingest."""
    stmts = (_FAST_TEMPS if con in _FAST_READ else ()) + (_LINE_TEMPS if con in _LINES_READ else ())
    _LINES_READ.discard(con)
    _FAST_READ.discard(con)
    for stmt in stmts:
        try:
            con.execute(stmt)
        except duckdb.Error:
            pass


def release_lines(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the file's lines (``_lines`` and ``_raw`` of read_lines, and ``_jl``, the data lines among
    them) once nothing more will read them, outside the file's transaction (inside one, a dropped
    table keeps its memory until the commit). drop_temps drops whatever is left after the file."""
    for stmt in ("DROP VIEW IF EXISTS _lines", "DROP TABLE IF EXISTS _raw", "DROP TABLE IF EXISTS _jl"):
        con.execute(stmt)


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
#: (a line that starts with neither a space, a TAB nor '#' is neither blank nor meta: that prefix
#: test, checked first, spares the regexp on almost every line)
_INDENTED = "(starts_with(l, ' ') OR starts_with(l, chr(9)))"
BLANK = f"(l IS NULL OR l = '' OR ({_INDENTED} AND regexp_matches(l, '^[ \\t]*$')))"
TSV_META = f"(starts_with(l, '#') OR ({_INDENTED} AND regexp_matches(l, '^[ \\t]*#')))"
JSON_META = TSV_META
DATA_TSV = f"(NOT {BLANK} AND NOT {TSV_META})"
DATA_JSON = f"(NOT {BLANK} AND NOT {JSON_META})"

#: What a fast read's failure on bad content raises: DuckDB's errors, and UnicodeDecodeError when the
#: error quotes a value of the file cut at a byte count through a UTF-8 character, which the Python
#: binding then cannot decode (DuckDB's JSON reader, failing to read an array as a number: found by
#: tests/test_ingest_fast.py). Either way the file takes the line path.
READ_ERRORS = (duckdb.Error, UnicodeDecodeError)
#: why a JSON line cannot be used (NULL when it is an object); try() makes malformed JSON a NULL type
JSON_REASON = (
    "CASE coalesce(try(json_type(l)), 'MALFORMED') WHEN 'OBJECT' THEN NULL "
    "WHEN 'MALFORMED' THEN 'malformed JSON' ELSE 'not a JSON object' END"
)


@dataclass(frozen=True)
class FastRead:
    """Rows a typed fast read (zeek_tsv.fast_read, zeek_json.fast_read) inserted, as ``file_id``,
    inside the caller's open transaction: the data lines ``skip+1 .. skip+rows`` of ``path``,
    followed by ``trailing_meta`` ``#`` lines. ``kind``: the log kind the file declared."""

    table: str
    skip: int
    rows: int
    trailing_meta: int
    path: str
    file_id: int
    kind: str | None


#: stored_columns per connection: a store's log tables are shaped once, when it is opened
_COLUMNS: "weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, dict[str, dict[str, str]]]" = \
    weakref.WeakKeyDictionary()


#: a UTF-16 surrogate written as a JSON escape; a pair of them is one character outside the BMP
_SURROGATE = r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}"
_PAIR = r"\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"


def repair_surrogates(con: duckdb.DuckDBPyConnection, lo: int, hi: int) -> int:
    """Lines ``lo..hi`` of ``_lines`` (read_lines) that are no JSON only because a string escapes a lone UTF-16
    surrogate (``"sni": "x\\udcff"``, as Python's json.dumps writes a byte that was no UTF-8):
    DuckDB's parser refuses those, where a raw invalid byte is read as U+FFFD. Each lone surrogate
    becomes ``\\ufffd`` too, pairs are kept, and the line is parsed like any other. Returns how many
    lines were repaired (the caller says so in the file's warnings). A line that is still no JSON
    after it is left as it was, and rejected with its own text."""
    # RE2 has no look-around: the pairs are set aside (\x01 and \x02 cannot occur raw in a JSON
    # string), the lone escapes replaced, the pairs put back
    repaired = (f"regexp_replace(regexp_replace(regexp_replace(l, '{_PAIR}', '\x01\\1\x02\\2', 'g'), "
                f"'{_SURROGATE}', '\\\\ufffd', 'g'), '\x01([^\x02]{{4}})\x02', '\\\\u\\1\\\\u', 'g')")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _surr AS SELECT line, {repaired} AS l FROM _lines "
        f"WHERE line BETWEEN $lo AND $hi AND regexp_matches(l, '{_SURROGATE}') AND try(json_type(l)) IS NULL",
        {"lo": lo, "hi": hi})
    con.execute("DELETE FROM _surr WHERE try(json_type(l)) IS NULL")
    count = int(con.execute("SELECT count(*) FROM _surr").fetchone()[0])
    if count:
        con.execute("UPDATE _raw SET l = s.l FROM _surr s WHERE _raw.rowid + 1 = s.line")  # _lines' rows
    con.execute("DROP TABLE _surr")
    return count


def stored_columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """The columns log table ``table`` has in this store, with their types: all of
    sql/00_schema.sql, or fewer in a scratch store (analyzer.store.SCRATCH_OMITS), some of them
    numbers there (analyzer.store.SCRATCH_KEYS)."""
    known = _COLUMNS.setdefault(con, {})
    if table not in known:
        known[table] = columns_of(con, (table,)).get(table, {})
    return known[table]


def insert_head(con: duckdb.DuckDBPyConnection, table: str, values: dict[str, str]) -> tuple[str, frozenset[str]]:
    """``INSERT INTO table (columns) SELECT expressions`` for the columns ``table`` has, and those
    columns. ``values`` maps every column a log table can have (``table_columns`` plus ``sensor``,
    ``file_id``, ``line``) to its SQL expression; a scratch store's table lacks some, which are left
    out of the INSERT (their expressions are still what the caller makes of them: see fast_read),
    and keeps some as numbers, whose expressions are wrapped in the macro that makes the number, and
    adds the keys of ``SCRATCH_DERIVED``, made from the values given for their strings (which every
    caller gives as column names of its source, so that nothing is computed twice)."""
    have = stored_columns(con, table)
    derived = {c: e for c, e in SCRATCH_DERIVED.get(table, {}).items() if c in have}
    missing = set(have) - set(values) - set(derived)
    if missing:  # a programming error: a column would be filled with NULL unnoticed
        raise ValueError(f"no value for {table} column(s) {sorted(missing)}")
    cols = [c for c in values if c in have]
    exprs = []
    for c in cols:
        macro, type_ = SCRATCH_KEYS.get(c, ("", ""))
        exprs.append(f"{macro}({values[c]})" if macro and have[c] == type_ else values[c])
    for c, template in derived.items():  # the keys of a scratch store, from the row's strings as stored
        cols.append(c)
        exprs.append(template.format(**values))
    return f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(exprs)}", frozenset(have)


def row_values(table: str, sensor: str, file_id: str, line: str) -> dict[str, str]:
    """``insert_head`` values taking every column by its own name, plus the three given."""
    return {**{c: c for c in table_columns(table)}, "sensor": sensor, "file_id": file_id, "line": line}


@contextmanager
def insertion_order(con: duckdb.DuckDBPyConnection, keep: bool) -> Iterator[None]:
    """DuckDB's ``preserve_insertion_order`` set to ``keep`` inside, restored after. Rows land in
    file order only with it on: number_lines and the line table of read_lines need that. A scratch
    store numbers no rows, so its ingest turns it off around everything but read_lines, and a big
    file's rows land as the reader's threads finish (about a fifth less time, 10M conn rows)."""
    with settings(con, {"preserve_insertion_order": keep}):
        yield


def number_lines(con: duckdb.DuckDBPyConnection, table: str, file_id: int, first_line: int) -> None:
    """Give the rows a fast read just inserted as ``file_id`` their line numbers, ``first_line`` on.

    The reader's rows arrive in file order and are appended in that order (DuckDB's default
    ``preserve_insertion_order``, which the ingest turns off only where no line is numbered), so
    within this transaction the file's rows hold consecutive rowids in file order: the line is the
    offset from the smallest.
    (Numbering inside the INSERT with ``row_number() OVER ()`` forces one thread: 8.5 s against
    4.6 s for this, measured on a 10M-row conn.log.) Only used when every line between is a row."""
    con.execute(
        f"UPDATE {table} SET line = rowid - (SELECT min(rowid) FROM {table} WHERE file_id = $fid) + $first "
        "WHERE file_id = $fid",
        {"fid": file_id, "first": first_line},
    )


def account_fast(con: duckdb.DuckDBPyConnection, tally: "Tally", fast: FastRead) -> None:
    """Count the rows a fast read inserted (and their time range) into ``tally``."""
    tally.rows[fast.table] = tally.rows.get(fast.table, 0) + fast.rows
    tally.lines_loaded += fast.rows
    if fast.rows:
        tally.add_rows_ts(con, fast.table)


@dataclass(frozen=True)
class StageQuery:
    """A typed stage as a query, not a TEMP table: ``build(source_sql)`` is the ``SELECT line, ts,
    epoch, <columns>, reason`` over the ``SELECT line, ...`` lines of ``source_sql``; ``params``
    are the bound values either may use."""

    source_sql: str
    build: Callable[[str], str]
    params: dict[str, object]


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

    def add_rows_ts(self, con: duckdb.DuckDBPyConnection, table: str) -> None:
        """Widen the time range by that of the rows this file put in ``table`` (from ``epoch``, which
        every store keeps: a scratch store has no ``ts``)."""
        row = con.execute(
            f"SELECT ingest_ts(min(epoch)), ingest_ts(max(epoch)) FROM {table} WHERE file_id = $fid",
            {"fid": self.file_id},
        ).fetchone()
        if row is not None:
            self.add_ts(row[0], row[1])

    def reject_lines(self, con: duckdb.DuckDBPyConnection, source: str, count: int, lines: str = "_lines") -> None:
        """Record the rejects of ``source`` (a TEMP table with ``line, reason``); ``count`` of them.
        ``lines``: where their text is (``line, l``): the file's lines, or the first rejected ones'
        (eve.parse: ``_eve_text``, at least MAX_STORED_REJECTS of them when there are that many)."""
        if count <= 0:
            return
        self.rejected += count
        room = MAX_STORED_REJECTS - self.stored_rejects
        if room > 0:
            con.execute(
                f"INSERT INTO ingest_rejects (file_id, line, reason, text) "
                f"SELECT $fid, s.line, s.reason, left(r.l, $cut) FROM {source} s "
                f"JOIN {lines} r ON r.line = s.line WHERE s.reason IS NOT NULL ORDER BY s.line LIMIT $room",
                {"fid": self.file_id, "cut": MAX_REJECT_TEXT, "room": room},
            )
            self.stored_rejects += min(room, count)
        # the first few of this stage; stages cover different lines, so keep the first few overall
        rows = con.execute(
            f"SELECT s.line, s.reason, left(r.l, 200) FROM {source} s JOIN {lines} r ON r.line = s.line "
            f"WHERE s.reason IS NOT NULL ORDER BY s.line LIMIT $n",
            {"n": MAX_REPORT_REJECTS},
        ).fetchall()
        self.rejects.extend(Reject(int(a), str(b), c or "") for a, b, c in rows)
        self.rejects = sorted(self.rejects, key=lambda r: r.line)[:MAX_REPORT_REJECTS]

    def reject_one(self, con: duckdb.DuckDBPyConnection, line: int, reason: str, text: str) -> None:
        """Record a reject that is not in ``_lines`` (the incomplete last line): stored past
        MAX_STORED_REJECTS too (one per file), since a later pass that reads the line whole settles it."""
        self.rejected += 1
        con.execute(
            "INSERT INTO ingest_rejects (file_id, line, reason, text) VALUES ($fid, $line, $reason, $text)",
            {"fid": self.file_id, "line": line, "reason": reason, "text": text[:MAX_REJECT_TEXT]},
        )
        self.stored_rejects += 1
        self.rejects = sorted([*self.rejects, Reject(line, reason, text[:200])], key=lambda r: r.line)
        self.rejects = self.rejects[:MAX_REPORT_REJECTS]

    def move_stage(
        self, con: duckdb.DuckDBPyConnection, table: str, sensor: str, lines: int | None = None,
        *, query: StageQuery | None = None,
    ) -> None:
        """Insert the good rows of TEMP ``_stage`` (or of ``query``) into ``table``; record its rejects.

        ``lines``: the data lines behind the good rows when it differs from their number (eve DNS
        records merged per transaction)."""
        if query is not None:
            self._move_query(con, table, sensor, query)
            return
        head, _have = insert_head(con, table, row_values(table, "$sensor", "$fid", "line"))
        con.execute(f"{head} FROM _stage WHERE reason IS NULL", {"sensor": sensor, "fid": self.file_id})
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

    def _move_query(self, con: duckdb.DuckDBPyConnection, table: str, sensor: str, query: StageQuery) -> None:
        """Insert the good rows of ``query`` straight into ``table``; record the rejects.

        The typed stage is computed in the INSERT itself: no TEMP copy of every row (that copy cost
        as much time as the typing, and its memory at the peak). Only when fewer rows were loaded
        than ``source_sql`` has lines is the stage computed again, for the lines not loaded only
        (in a scratch store, which keeps no line, for every line, keeping those with a reason), to
        record each one's reason.
        """
        source_sql, stage_sql, params = query.source_sql, query.build, query.params
        fid = {"fid": self.file_id}
        head, have = insert_head(con, table, row_values(table, "$sensor", "$fid", "line"))
        insert = f"{head} FROM ({stage_sql(source_sql)}) AS st WHERE reason IS NULL"
        row = con.execute(insert, used_params(insert, {**params, **fid, "sensor": sensor})).fetchone()
        good = int(row[0]) if row else 0
        count = f"SELECT count(*) FROM ({source_sql}) AS src"
        row = con.execute(count, used_params(count, params)).fetchone()
        total = int(row[0]) if row else 0
        self.rows[table] = self.rows.get(table, 0) + good
        self.lines_loaded += good
        if good:
            self.add_rows_ts(con, table)
        if total > good:
            if "line" in have:  # type only the lines that were not loaded
                missing = (
                    f"SELECT * FROM ({source_sql}) AS src "
                    f"WHERE line NOT IN (SELECT line FROM {table} WHERE file_id = $fid)"
                )
                stage = f"CREATE OR REPLACE TEMP TABLE _stage AS {stage_sql(missing)}"
            else:  # a scratch store keeps no line: the lines not loaded are those with a reason
                stage = f"CREATE OR REPLACE TEMP TABLE _stage AS SELECT * FROM ({stage_sql(source_sql)}) AS st " \
                        "WHERE reason IS NOT NULL"
            con.execute(stage, used_params(stage, {**params, **fid}))
            row = con.execute("SELECT count(*) FROM _stage WHERE reason IS NOT NULL").fetchone()
            self.reject_lines(con, "_stage", int(row[0]) if row else 0)


_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def used_params(sql: str, params: dict[str, object]) -> dict[str, object]:
    """The entries of ``params`` that ``sql`` names (DuckDB refuses unused named parameters)."""
    names = set(_PARAM.findall(sql))
    return {k: v for k, v in params.items() if k in names}
