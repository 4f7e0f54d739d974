"""The mapping from Zeek log fields to the normalized tables, and the SQL that types them.

One spec per table serves both Zeek TSV and Zeek JSON: the two readers only differ in how they
get a field's *raw text* (a split TSV column with ``-``/``(empty)``/``\\xNN`` handling, or a JSON
value), after which :func:`typed_stage_sql` casts, checks and names the reason for any reject.
That shared half is what makes the same events in TSV and JSON load into identical rows.

Everything interpolated into SQL here is a constant of this module (column names, field names,
type names) or a bound parameter; nothing read from a log is ever formatted into SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Col:
    """One column of a normalized table and the Zeek fields it comes from (first present wins)."""

    name: str
    type: str              # time | str | int | port | double | bool | list_str | list_double
    fields: tuple[str, ...]


_ID = (
    Col("uid", "str", ("uid",)),
    Col("src", "str", ("id.orig_h",)),
    Col("src_port", "port", ("id.orig_p",)),
    Col("dst", "str", ("id.resp_h",)),
    Col("dst_port", "port", ("id.resp_p",)),
)

#: table -> its columns (after ts/epoch, which every table has), in table order
SPECS: dict[str, tuple[Col, ...]] = {
    "conn": _ID + (
        Col("proto", "str", ("proto",)),
        Col("service", "str", ("service",)),
        Col("duration", "double", ("duration",)),
        Col("orig_bytes", "int", ("orig_bytes",)),
        Col("resp_bytes", "int", ("resp_bytes",)),
        Col("orig_ip_bytes", "int", ("orig_ip_bytes",)),
        Col("resp_ip_bytes", "int", ("resp_ip_bytes",)),
        Col("orig_pkts", "int", ("orig_pkts",)),
        Col("resp_pkts", "int", ("resp_pkts",)),
        Col("conn_state", "str", ("conn_state",)),
        Col("history", "str", ("history",)),
    ),
    "dns": _ID + (
        Col("proto", "str", ("proto",)),
        Col("query", "str", ("query",)),
        Col("qtype", "str", ("qtype_name", "qtype")),
        Col("rcode", "str", ("rcode_name", "rcode")),
        Col("answers", "list_str", ("answers",)),
        Col("ttls", "list_double", ("TTLs",)),
    ),
    "tls": _ID + (
        Col("server_name", "str", ("server_name",)),
        Col("ja3", "str", ("ja3",)),
        Col("ja4", "str", ("ja4",)),
        Col("version", "str", ("version",)),
        Col("established", "bool", ("established",)),
        Col("sensor_platform", "str", ("serverless_platform",)),
        Col("sensor_tenant", "str", ("serverless_tenant",)),
    ),
    "http": _ID + (
        Col("method", "str", ("method",)),
        Col("host", "str", ("host",)),
        Col("uri", "str", ("uri",)),
        Col("user_agent", "str", ("user_agent",)),
        Col("status", "port", ("status_code",)),
        Col("request_body_len", "int", ("request_body_len",)),
        Col("response_body_len", "int", ("response_body_len",)),
        Col("sensor_platform", "str", ("serverless_platform",)),
        Col("sensor_tenant", "str", ("serverless_tenant",)),
    ),
}

_CAST = {
    "str": "{r}",
    "list_str": "{r}",
    "int": "ingest_count({r})",     # unsigned: past 2^63 - 1 held there, below 0 no count (sql/01)
    "port": "ingest_port({r})",      # 0 to 65535, else no value (sql/01)
    "double": "ingest_double({r})",  # NaN and the infinities are no value (sql/01_ingest_macros.sql)
    "bool": "TRY_CAST({r} AS BOOLEAN)",
    "list_double": "ingest_doubles({r})",
}
#: a typed NULL per column type
NULL_SQL = {
    "str": "NULL::VARCHAR", "list_str": "NULL::VARCHAR[]", "int": "NULL::BIGINT",
    "port": "NULL::INTEGER", "double": "NULL::DOUBLE", "bool": "NULL::BOOLEAN",
    "list_double": "NULL::DOUBLE[]",
}


def table_columns(table: str) -> list[str]:
    return ["ts", "epoch"] + [c.name for c in SPECS[table]]


def _lit(s: str) -> str:
    """A SQL string literal for a constant of this module (never for log data)."""
    return "'" + s.replace("'", "''") + "'"


def typed_stage_sql(
    table: str,
    source_sql: str,
    raw_ts: str | None,
    raw: Callable[[Col], str | None],
    pre_reason: str | None = None,
) -> str:
    """``SELECT line, ts, epoch, <columns>, reason`` over ``source_sql``.

    ``raw_ts`` is the SQL for the raw ``ts`` text (None when the block has no ts field);
    ``raw(col)`` gives the SQL for the raw text (or list) of a column, None when the log lacks it.
    ``pre_reason`` is an SQL expression giving an earlier reject reason (e.g. wrong field count).
    A line is rejected, with the first reason that applies, when it has no parseable ts in
    1970..2100, or a value that does not cast to its column's type (a count that is no number).
    """
    cols = SPECS[table]
    raws = [(c, raw(c)) for c in cols]
    level1 = ["line", f"{raw_ts or 'NULL::VARCHAR'} AS r_ts"]
    if pre_reason:
        level1.append(f"{pre_reason} AS r_pre")
    for i, (c, r) in enumerate(raws):
        level1.append(f"{r if r is not None else NULL_SQL[c.type]} AS r{i}")
    level2 = ["*", "ingest_epoch(r_ts) AS t_epoch"]
    for i, (c, _r) in enumerate(raws):
        level2.append(f"{_CAST[c.type].format(r=f'r{i}')} AS t{i}")
    whens = []
    if pre_reason:
        whens.append("WHEN r_pre IS NOT NULL THEN r_pre")
    whens.append("WHEN r_ts IS NULL THEN 'missing ts'")
    whens.append("WHEN NOT coalesce(ingest_epoch_ok(t_epoch), false) THEN 'unparseable ts'")
    for i, (c, r) in enumerate(raws):
        if r is not None and c.type not in ("str", "list_str"):
            whens.append(
                f"WHEN r{i} IS NOT NULL AND t{i} IS NULL THEN "
                f"{_lit(f'bad {c.type} value in field {c.fields[0]}')}"
            )
    reason = "CASE " + " ".join(whens) + " END"
    out = ["line", "ingest_ts(t_epoch) AS ts", "t_epoch AS epoch"]
    out += [f"t{i} AS {c.name}" for i, (c, _r) in enumerate(raws)]
    out.append(f"{reason} AS reason")
    return (
        f"SELECT {', '.join(out)} FROM (SELECT {', '.join(level2)} FROM "
        f"(SELECT {', '.join(level1)} FROM ({source_sql}) AS s0) AS s1) AS s2"
    )
