"""Zeek JSON logs (``LogAscii::use_json=T`` and JSON streaming with ``_path``/``_write_ts``).

Each line is parsed by DuckDB's JSON functions; a line that is not a JSON object is rejected with
its line number. Keys are Zeek's dotted names (``"id.orig_h"``); unset fields are simply absent;
``ts`` is an epoch float or an ISO-8601 string. With ``_path`` on the lines each line names its own
kind, so one stream may feed several tables; lines of other kinds (x509, files, ...) are counted as
skipped, like eve.json's other event types.

Speed: parsing is the cost, so a file whose kind is known (``#path``-less JSON logs are named
``dns.log`` ...) is parsed **once** per line: one ``json_extract_string`` call takes every field
of that kind plus ``_path``, and whether the line is an object at all is only asked again for the
rare lines without a ``ts`` (a ``ts`` value can only come from an object). Lines whose ``_path``
names another kind, and streams whose kind is only per line, take a second parse for their kind.
A file of one kind whose every line loads is read by :func:`fast_read` instead: DuckDB's JSON reader
over the file, in parallel, with its numbers read as numbers (a 10M-connection day of Zeek JSON
ingested in 8.5-9.0 s against 14.2-14.5 s with every value read as text).
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from analyzer.ingest.common import (
    DATA_JSON, JSON_REASON, READ_ERRORS, FastRead, StageQuery, Tally, insert_head, number_lines,
    row_values,
)
from analyzer.ingest.detect import ZEEK_KINDS
from analyzer.ingest.zeek_fields import SPECS, Col, typed_stage_sql


#: How the fast path has DuckDB's JSON reader type the fields of a count, port or double column (every
#: other field is read as text, and ``ts``, an epoch number or ISO-8601 text, too). Read as text, each
#: number is formatted back into a string for the typing to parse again: conn.log of a 10M-connection
#: day in Zeek JSON (4 GB) took 4.9-5.1 s to read as text, 3.2-3.4 s with its numbers as numbers.
#: Counts and ports are read as DOUBLE too, not as integers: the reader truncates 80.5 into an
#: integer (80) where the line path's cast of the text "80.5" rounds it (81), and a double shows the
#: fraction, so that the fast path can refuse the file (:data:`_INTEGRAL`). DECIMAL(18,0) would
#: round like the text, but cost 1.1 s more on that conn.log.
_NUMBER_READ = {"int": "DOUBLE", "port": "DOUBLE", "double": "DOUBLE"}
#: A count or port read as a double is what the line path makes of its text when it is a whole
#: number from 0 to 2^53 (below which a double holds every integer): a row with any other (a fraction,
#: a sign, -0.0 included, which the text casts make 0 as a port but no count; a count past 2^53) is
#: left out, so the file's rows no longer account for its lines and it takes the line path.
_INTEGRAL = "({c} IS NULL OR (NOT signbit({c}) AND {c} < 9007199254740992 AND {c} = trunc({c})))"


def _path(field: str) -> str:
    return '$."' + field + '"'


def _slots(table: str, col: Callable[[int], str] = lambda i: f"v[{i}]", *,
           booleans: bool = True) -> tuple[list[str], Callable[[Col], str | None]]:
    """The JSON paths a ``table`` needs (``ts`` first) and the raw-value SQL of each column: by
    default over ``v``, the list that ``json_extract_string(l, paths)`` returns (the line path);
    ``col(i)`` names the value of path ``i`` (1-based) otherwise (the fast path's columns).

    ``booleans``: a JSON ``true`` or ``false`` where a count, port or double belongs is taken as 1 or
    0, as DuckDB's JSON reader takes it when the fast path reads the field as a number (the text
    ``json_extract_string`` gives is ``true``, which no cast makes a number: the line path would
    reject a line the fast path loads). The fast path itself passes False: its values are numbers."""
    paths: list[str] = [_path("ts")]

    def slot(field: str) -> int:
        p = _path(field)
        if p not in paths:
            paths.append(p)
        return paths.index(p) + 1

    def raw(c: Col) -> str | None:
        if c.type in ("list_str", "list_double"):
            # the array's JSON text comes with the scalars; only that short text is parsed again
            return f"TRY_CAST(TRY_CAST({col(slot(c.fields[0]))} AS JSON) AS VARCHAR[])"
        values = [col(slot(f)) for f in c.fields]
        if booleans and c.type in _NUMBER_READ:
            values = [f"CASE {v} WHEN 'true' THEN '1' WHEN 'false' THEN '0' ELSE {v} END" for v in values]
        return "coalesce(" + ", ".join(values) + ")"

    for c in SPECS[table]:
        raw(c)
    return paths, raw


def _sql_list(paths: list[str]) -> str:
    """A SQL list literal of JSON paths (constants of this module, never log data)."""
    return "[" + ", ".join("'" + p + "'" for p in paths) + "]"


def load(
    con: duckdb.DuckDBPyConnection,
    tally: Tally,
    file_kind: str | None,
    lo: int,
    hi: int,
) -> None:
    """Load data lines ``lo..hi`` of ``_lines`` as Zeek JSON."""
    own = ZEEK_KINDS.get(file_kind or "")
    params: dict[str, object] = {"lo": lo, "hi": hi, "kind": file_kind}
    if own is not None:
        # one parse: the values of the file's own kind, then _path. try() makes malformed JSON a
        # NULL list; the exact reason (malformed / not an object) is asked only when ts is absent.
        paths, _raw = _slots(own)
        k = len(paths) + 1
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _jl AS SELECT line, reason, "
            f"CASE WHEN reason IS NULL THEN coalesce(v[{k}], $kind) END AS kind, "
            "CASE WHEN reason IS NULL THEN v END AS v "
            f"FROM (SELECT line, v, CASE WHEN v IS NULL OR v[1] IS NULL THEN {JSON_REASON} END AS reason "
            f"FROM (SELECT line, l, try(json_extract_string(l, {_sql_list([*paths, '$._path'])})) AS v "
            f"FROM _lines WHERE line BETWEEN $lo AND $hi AND {DATA_JSON}) AS s) AS t",
            params,
        )
    else:
        # kind per line (JSON streaming): validity and each line's kind, values per kind below
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _jl AS SELECT line, reason, "
            "CASE WHEN reason IS NULL THEN coalesce(json_extract_string(l, '$._path'), $kind) END AS kind "
            f"FROM (SELECT line, l, {JSON_REASON} AS reason FROM _lines "
            f"WHERE line BETWEEN $lo AND $hi AND {DATA_JSON}) AS s",
            params,
        )
    row = con.execute("SELECT count(*) FROM _jl WHERE reason IS NOT NULL").fetchone()
    tally.reject_lines(con, "_jl", int(row[0]) if row else 0)
    row = con.execute(
        "SELECT count(*) FROM _jl WHERE reason IS NULL AND (kind IS NULL OR NOT list_contains($kinds, kind))",
        {"kinds": sorted(ZEEK_KINDS)},   # the kinds loaded are counted as rows, every other as skipped
    ).fetchone()
    tally.skipped_events += int(row[0]) if row else 0
    kinds = [k for (k,) in con.execute("SELECT DISTINCT kind FROM _jl WHERE reason IS NULL").fetchall()]
    for kind in kinds:
        table = ZEEK_KINDS.get(kind or "")
        if table is not None:
            _load_kind(con, tally, kind, table, parsed=table == own and kind == file_kind)


def _load_kind(con: duckdb.DuckDBPyConnection, tally: Tally, kind: str, table: str, *, parsed: bool) -> None:
    """Stage and move the lines of one kind. ``parsed``: ``_jl.v`` already holds their values."""
    paths, raw = _slots(table)
    if parsed:
        source = "SELECT line, v FROM _jl WHERE reason IS NULL AND kind = $kind"
    else:
        # every scalar field in one json_extract_string call: each line is parsed once more, not per field
        source = (
            f"SELECT line, json_extract_string(l, {_sql_list(paths)}) AS v FROM _lines JOIN _jl USING (line) "
            "WHERE reason IS NULL AND kind = $kind"
        )
    query = StageQuery(source, lambda src: typed_stage_sql(table, src, "v[1]", raw), {"kind": kind})
    tally.move_stage(con, table, "zeek", query=query)


def fast_read(
    con: duckdb.DuckDBPyConnection, data_path: str, kind: str | None, table: str, skip: int, file_id: int,
    *, epoch_ts: bool = False,
) -> FastRead | None:
    """The typed fast path for a Zeek JSON file of one kind: DuckDB's JSON reader parses each line
    once (in parallel), the numbers of counts, ports, doubles and (``epoch_ts``: when the file's
    first object has one, detect.Detection) ts as numbers (0.4 s less than as text for 10M
    connections; a later line with ISO-8601 text there fails the read) and every other value as the
    text the line-by-line path would extract, and the same typing SQL (zeek_fields.typed_stage_sql)
    turns them into rows, inserted as ``file_id`` inside the caller's open transaction. A value read
    as a number that the line path's cast of its text could make something else (a fraction in a
    count, a ts of 0 or 1, which may have been false or true) leaves its row out (:data:`_INTEGRAL`),
    so that the file takes the line path. Line numbers: see common.number_lines. None (the caller rolls back and takes the line-by-line path)
    when a line is not a JSON object, belongs to another kind (``_path``), or would be rejected; the
    caller also checks that no line was skipped silently (a blank line). JSON cannot skip lines: a
    grown file's new lines (``skip`` > 0) take the line-by-line path."""
    if skip:
        return None
    paths, raw = _slots(table, lambda i: f"c{i}", booleans=False)
    fields = [p[3:-1] for p in paths]  # '$."id.orig_h"' -> id.orig_h (constants of SPECS)
    read_as = {f: _NUMBER_READ[c.type] for c in SPECS[table] if c.type in _NUMBER_READ for f in c.fields}
    columns = {f: read_as.get(f, "VARCHAR") for f in fields}
    columns["ts"] = "DOUBLE" if epoch_ts else "VARCHAR"
    columns["_path"] = "VARCHAR"
    values = ", ".join(f'j."{f}" AS c{i}' for i, f in enumerate(fields, 1))
    index = {f: i for i, f in enumerate(fields, 1)}
    whole = [_INTEGRAL.format(c=f"c{index[f]}")
             for c in SPECS[table] if c.type in ("int", "port") for f in c.fields]
    if epoch_ts:  # a JSON true/false read as a number is 1/0, where the line path rejects its text
        whole.append(f"c{index['ts']} NOT IN (0, 1)")
    source = (
        f"SELECT * FROM (SELECT NULL::BIGINT AS line, {values}, j._path AS kind "
        "FROM read_json($path, format='newline_delimited', columns=$cols, auto_detect=false, "
        "compression='none') AS j) AS r WHERE (kind IS NULL OR kind = $kind)" + "".join(f" AND {w}" for w in whole)
    )
    stage = typed_stage_sql(table, source, "c1", raw)
    head, have = insert_head(con, table, row_values(table, "'zeek'", "$fid", "line"))
    insert = f"{head} FROM ({stage}) AS st WHERE reason IS NULL"  # reason checks every field, kept or not
    try:
        row = con.execute(insert, {"path": data_path, "cols": columns, "kind": kind, "fid": file_id}).fetchone()
    except READ_ERRORS:  # a value the reader cannot make a number (text, an array ...) fails the read
        return None
    rows = int(row[0]) if row else 0
    if "line" in have:
        number_lines(con, table, file_id, 1)
    return FastRead(table, 0, rows, 0, data_path, file_id, kind)
