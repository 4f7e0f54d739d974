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
  narrows during the ingest: :func:`narrow_when_big`, called after each file, moves the rows of
  conn and tls into the narrowed tables once they pass :data:`BATCH_ROWS`, and empties the logs, so
  that the two are never held as logged together. :func:`narrow` moves the rest before the scan.
  A day that never reached a batch is narrowed as a kept store is (views): copying 1M rows costs
  more than reading them once.

Library code: no printing, no exit.
"""

from __future__ import annotations

import weakref
from typing import Any

from analyzer.sqlfiles import read_sql
from analyzer.store import drop, kind_of

#: rows of conn + tls, as logged, past which a scan-owned store narrows them during its ingest: about
#: 250 MB of memory. Each batch costs a few statements, so an hourly file is not one batch on its own.
BATCH_ROWS = 2_000_000

#: the tables of stage 04, and the narrowed rows (tables when moved, views when the logs are kept)
_TABLES = ("scan_addr_dict", "scan_name_dict", "scan_client_dict", "scan_tls_names", "scan_conn_span")
_NARROWED = ("conn_n", "tls_n")
_BATCH_TEMPS = ("_nb_conn", "_nb_tls", "_nb_addrs", "_nb_names", "_nb_clients")

#: per connection, the row counts of (conn, tls, http, dns) when its narrowed tables were last completed
_DONE_AT: "weakref.WeakKeyDictionary[Any, tuple[int, ...]]" = weakref.WeakKeyDictionary()


def _run(con: Any, name: str) -> None:
    for statement in con.extract_statements(read_sql(name)):
        con.execute(statement.query)


def _counts(con: Any, tables: tuple[str, ...] = ("conn", "tls", "http", "dns")) -> tuple[int, ...]:
    """Row counts of log tables (DuckDB answers a bare count(*) from the table's metadata)."""
    row = con.execute("SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in tables)).fetchone()
    return tuple(int(x) for x in row)


def moved(con: Any) -> bool:
    """Whether rows of conn and tls were moved into the narrowed tables (narrow_when_big), so that
    conn_n/tls_n are tables; otherwise they are views of the logs, or not made yet."""
    return kind_of(con, "conn_n") == "TABLE"


def _batch(con: Any, *, last: bool, move: bool) -> None:
    _run(con, "03_duckdb_keys")
    _run(con, "04_narrow_dicts")
    _run(con, "05_narrow_1_batch")
    if last:
        _run(con, "05_narrow_2_wide")
    _run(con, "05_narrow_3_dicts")
    _run(con, "05_narrow_4_views")
    _run(con, "05_narrow_5_move" if move else "05_narrow_5_view")
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
    if move:
        _empty_logs(con)
    _DONE_AT[con] = _counts(con)


def narrow_when_big(con: Any) -> bool:
    """For a store that ends with the scan, called after each file of its ingest: narrow conn and tls
    once they hold :data:`BATCH_ROWS` rows or more, and empty them. True when it did."""
    if sum(_counts(con, ("conn", "tls"))) < BATCH_ROWS:
        return False
    _batch(con, last=False, move=True)
    _empty_logs(con)
    return True
