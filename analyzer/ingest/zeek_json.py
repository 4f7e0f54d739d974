"""Zeek JSON logs (``LogAscii::use_json=T`` and JSON streaming with ``_path``/``_write_ts``).

Each line is parsed by DuckDB's JSON functions; a line that is not a JSON object is rejected with
its line number. Keys are Zeek's dotted names (``"id.orig_h"``); unset fields are simply absent;
``ts`` is an epoch float or an ISO-8601 string. With ``_path`` on the lines each line names its own
kind, so one stream may feed several tables; lines of other kinds (x509, files, ...) are counted as
skipped, like eve.json's other event types.
"""

from __future__ import annotations

import duckdb

from analyzer.ingest.common import DATA_JSON, JSON_REASON, Tally
from analyzer.ingest.detect import ZEEK_KINDS
from analyzer.ingest.zeek_fields import SPECS, Col, typed_stage_sql


def _path(field: str) -> str:
    return '$."' + field + '"'


def load(
    con: duckdb.DuckDBPyConnection,
    tally: Tally,
    file_kind: str | None,
    lo: int,
    hi: int,
) -> None:
    """Load data lines ``lo..hi`` of ``_lines`` as Zeek JSON."""
    # one pass: validity (try(json_type) is NULL for malformed JSON) and each line's kind; the line
    # text stays in _lines (no copy)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _jl AS SELECT line, reason, "
        "CASE WHEN reason IS NULL THEN coalesce(json_extract_string(l, '$._path'), $kind) END AS kind "
        f"FROM (SELECT line, l, {JSON_REASON} AS reason FROM _lines "
        f"WHERE line BETWEEN $lo AND $hi AND {DATA_JSON}) AS s",
        {"lo": lo, "hi": hi, "kind": file_kind},
    )
    row = con.execute("SELECT count(*) FROM _jl WHERE reason IS NOT NULL").fetchone()
    tally.reject_lines(con, "_jl", int(row[0]) if row else 0)
    row = con.execute(
        "SELECT count(*) FROM _jl WHERE reason IS NULL AND (kind IS NULL OR kind NOT IN ('conn', 'dns', 'ssl', 'http'))"
    ).fetchone()
    tally.skipped_events += int(row[0]) if row else 0
    kinds = [k for (k,) in con.execute("SELECT DISTINCT kind FROM _jl WHERE reason IS NULL").fetchall()]
    for kind in kinds:
        table = ZEEK_KINDS.get(kind or "")
        if table is not None:
            _load_kind(con, tally, kind, table)


def _load_kind(con: duckdb.DuckDBPyConnection, tally: Tally, kind: str, table: str) -> None:
    # every scalar field in one json_extract_string call: each line is parsed once, not per field
    paths: list[str] = [_path("ts")]

    def slot(field: str) -> int:
        p = _path(field)
        if p not in paths:
            paths.append(p)
        return paths.index(p) + 1

    def raw(c: Col) -> str | None:
        if c.type in ("list_str", "list_double"):
            # the array's JSON text comes with the scalars; only that short text is parsed again
            return f"TRY_CAST(TRY_CAST(v[{slot(c.fields[0])}] AS JSON) AS VARCHAR[])"
        return "coalesce(" + ", ".join(f"v[{slot(f)}]" for f in c.fields) + ")"

    for c in SPECS[table]:
        raw(c)
    path_list = "[" + ", ".join("'" + p + "'" for p in paths) + "]"
    source = (
        f"SELECT line, json_extract_string(l, {path_list}) AS v FROM _lines JOIN _jl USING (line) "
        "WHERE reason IS NULL AND kind = $kind"
    )
    sql = typed_stage_sql(table, source, "v[1]", raw)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _stage AS {sql}", {"kind": kind})
    tally.move_stage(con, table, "zeek")
