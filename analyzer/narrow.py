"""Narrowing: conn and tls as the scan reads them, numbers instead of strings (sql/03-05).

At 10M connections the two logs take 2.5 GB of memory as logged, past the 1.6 GB default cap: held
together, most of them were written to the spill folder during the ingest and read back by every
stage that used them. Narrowed (``conn_n``, ``tls_n``: addresses, names and TLS clients as numbers,
the strings once each in dictionaries), they take 1 GB.

Two ways, one SQL:

- A store the scan does not own (``--db``, ``report``) keeps its logs: :func:`narrow` builds the
  dictionaries from all of them, once per scan, and ``conn_n``/``tls_n`` are views that number the
  rows as stage 21 reads them (a copy would write a big day's rows once more, for one read).
- A store that ends with the scan (``scan`` of log files without ``--db``: ScanOptions.release_logs)
  narrows during the ingest: :func:`narrow_when_big`, called after each file, takes the rows of
  conn and tls out of the logs once they pass :data:`BATCH_ROWS`, so that the two are never held
  as logged together. Such a store (scratch) numbered the rows as it read them
  (analyzer.store.SCRATCH_DERIVED), so a batch needs no copy: the first one keeps the log tables
  themselves, renamed (``conn_moved``, ``tls_moved``), their strings dropped; later batches are
  appended to them; conn_n and tls_n are views of them. :func:`narrow` takes the rest before the
  scan. A day that never reached a batch is narrowed as a kept store is (views of the logs).
  10M connections: ingest and narrowing 14.5 s instead of 17.5-22 s (bench/profile_scan.py): the
  3.3 s copy of every row, and the spill of holding the two copies at once, saved.

Library code: no printing, no exit.
"""

from __future__ import annotations

import weakref
from typing import Any

from analyzer.sqlfiles import run_sql
from analyzer.store import SCRATCH_DERIVED, columns_of, drop, kind_of

#: rows of conn + tls, as logged, past which a scan-owned store narrows them during its ingest: about
#: 250 MB of memory. Each batch costs a few statements, so an hourly file is not one batch on its own.
BATCH_ROWS = 2_000_000

#: the tables of stage 04, and the narrowed rows (views, of the logs or of the rows moved)
_TABLES = ("scan_addr_dict", "scan_name_dict", "scan_client_dict", "scan_tls_names", "scan_conn_span")
_NARROWED = ("conn_n", "tls_n")
#: the rows a store that ends with its scan keeps of conn and tls (the first batch's tables, their
#: strings dropped), and the columns they keep: those of conn_n and tls_n (stage 04), the bytes of a
#: connection as the scan counts them (05_narrow_5_move.sql), and the sensor that logged the row
MOVED = {"conn": "conn_moved", "tls": "tls_moved"}
#: the share of a batch's connections deleted as DNS (05_narrow_5_move.sql) past which its table is
#: not kept in place but its other rows copied: a deleted row keeps its memory until the table goes,
#: and on a real network DNS can be half of conn.log
DEAD_SHARE = 0.25
_KEEP = {"conn": ("uid", "epoch", "src_id", "dst_id", "dst_port", "duration", "orig_bytes", "resp_bytes", "sensor"),
         "tls": ("uid", "epoch", "src_id", "dst_id", "dst_port", "raw_id", "client_id", "sensor")}
_BATCH_TEMPS = ("_nb_addrs", "_nb_names", "_nb_clients")

#: per connection, the row counts of (conn, tls, http, dns) when its narrowed tables were last completed
_DONE_AT: "weakref.WeakKeyDictionary[Any, tuple[int, ...]]" = weakref.WeakKeyDictionary()


def _run(con: Any, name: str) -> None:
    run_sql(con, name)  # one function of this module per SQL file run: bench/profile_scan.py times it


def _counts(con: Any, tables: tuple[str, ...] = ("conn", "tls", "http", "dns")) -> tuple[int, ...]:
    """Row counts of log tables (DuckDB answers a bare count(*) from the table's metadata)."""
    row = con.execute("SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in tables)).fetchone()
    return tuple(int(x) for x in row)


def moved(con: Any) -> bool:
    """Whether rows of conn and tls were moved out of the logs (narrow_when_big), so that conn_n and
    tls_n are views of the rows kept (conn_moved, tls_moved); otherwise they are views of the logs,
    or not made yet."""
    return kind_of(con, MOVED["conn"]) == "TABLE"


def _apart(con: Any) -> bool:
    """Whether a dictionary numbers any string apart from its key (05_narrow_3_dicts.sql)."""
    row = con.execute("SELECT EXISTS (SELECT 1 FROM scan_addr_dict WHERE addr_id < 0) "
                      "OR EXISTS (SELECT 1 FROM scan_name_dict WHERE raw_id < 0) "
                      "OR EXISTS (SELECT 1 FROM scan_client_dict WHERE client_id < 0)").fetchone()
    return bool(row and row[0])


def _move(con: Any) -> None:
    """The batch's rows of conn and tls kept as numbers (sql/05_narrow_5-7), the logs left empty.

    The first batch that holds rows of a log keeps its table itself: renamed, an empty log of the same
    columns put in its place, the strings dropped (dropping a column is free in DuckDB, and nothing is
    copied). Later batches are added to it."""
    if _apart(con):
        _run(con, "05_narrow_5_apart")
    row = con.execute("SELECT count(*) FILTER (WHERE coalesce(service, '') = 'dns'), count(*) FROM conn").fetchone()
    dead = {"conn": bool(row and row[0] > row[1] * DEAD_SHARE), "tls": False}
    _run(con, "05_narrow_5_move")
    appended = False
    for table, kept in MOVED.items():  # names are constants of this module, never data
        if kind_of(con, kept) == "TABLE" and _counts(con, (kept,))[0]:
            appended = True  # added to by 05_narrow_6_append, below
            continue
        drop(con, kept)
        if dead[table]:  # much of it DNS, deleted (deleted rows keep their memory): copy the rest
            con.execute(f"CREATE TABLE {kept} AS SELECT {', '.join(_KEEP[table])} FROM {table} LIMIT 0")
            appended = True
            continue
        con.execute(f"ALTER TABLE {table} RENAME TO {kept}")
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM {kept} LIMIT 0")
        for column in columns_of(con, (table,)).get(table, {}):
            if column not in _KEEP[table]:
                con.execute(f"ALTER TABLE {kept} DROP COLUMN {column}")
    if appended:
        _run(con, "05_narrow_6_append")  # (a log just kept in place is empty: nothing added from it)
        _empty_logs(con)
    _run(con, "05_narrow_7_moved_views")


def _batch(con: Any, *, last: bool, move: bool) -> None:
    _run(con, "03_duckdb_keys")
    _run(con, "04_narrow_dicts")
    _run(con, "05_narrow_1_batch")
    if last:
        _run(con, "05_narrow_2_wide")
    _run(con, "05_narrow_3_dicts")
    if move:
        _move(con)
    else:
        _run(con, "05_narrow_4_views")
        _run(con, "05_narrow_5_view")
    for table in _BATCH_TEMPS:
        con.execute(f"DROP TABLE IF EXISTS {table}")


def _empty_logs(con: Any) -> None:
    """Empty conn and tls, freeing their memory (a DELETE keeps it): the same table, no rows."""
    for table in ("conn", "tls"):  # constants, never data
        con.execute(f"CREATE OR REPLACE TABLE _empty_{table} AS SELECT * FROM {table} LIMIT 0")
        con.execute(f"DROP TABLE {table}")
        con.execute(f"ALTER TABLE _empty_{table} RENAME TO {table}")


def narrow(con: Any) -> None:
    """Make ``conn_n``, ``tls_n`` and the dictionaries hold every row of conn and tls, and every
    address and name of all four logs (sql/03-05).

    When :func:`narrow_when_big` has moved batches of rows out of conn and tls during the ingest, the
    rest is moved too, and the two left empty. Otherwise (a kept store, or a day too small for a
    batch) the logs stay, the dictionaries are rebuilt, and conn_n/tls_n are views of the logs. A
    call that finds the store as the last one left it changes nothing (run_scan, prepare_inputs and
    score_channels each call it)."""
    if not all(kind_of(con, t) == "TABLE" for t in ("conn", "tls", "http", "dns")):
        return  # a store that ended with its scan: its logs are gone (ScanOptions.release_logs)
    if _DONE_AT.get(con) == _counts(con) and all(kind_of(con, t) for t in _TABLES + _NARROWED):
        return
    move = moved(con)
    if not move:
        for name in _TABLES + _NARROWED:
            drop(con, name)
    _batch(con, last=True, move=move)
    _DONE_AT[con] = _counts(con)


def narrow_when_big(con: Any) -> bool:
    """For a store that ends with the scan, called after each file of its ingest: narrow conn and tls
    once they hold :data:`BATCH_ROWS` rows or more, and empty them. True when it did."""
    if sum(_counts(con, ("conn", "tls"))) < BATCH_ROWS:
        return False
    have = columns_of(con, tuple(SCRATCH_DERIVED))
    if not all(k in have.get(t, {}) for t, keys in SCRATCH_DERIVED.items() for k in keys):
        return False  # not a scratch store: its rows were not numbered as they were read
    _batch(con, last=False, move=True)
    return True
