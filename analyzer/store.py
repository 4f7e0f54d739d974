"""The DuckDB store: a file given with ``--db``, or memory."""

from __future__ import annotations

import re
import shutil
import tempfile
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from analyzer.errors import StoreError
from analyzer.sqlfiles import read_sql, run_sql

#: DuckDB's memory cap by default: past it, operators spill to disk instead of growing, so a big
#: day of logs stays within a laptop's memory (DuckDB's own default is 80 % of RAM). The process
#: peaks above it (Python, allocator slack, up to ~250 MB measured): 1.6GB keeps a 10M-connection day
#: under 2 GB RSS (1.76 GB measured; with 1.8GB it reached 2.07 GB, and was no faster).
DEFAULT_MEMORY_LIMIT = "1.6GB"

#: Log table columns a scratch store leaves out: no scoring or report stage (sql/10-59) reads them.
#: The ingest still types and checks every field it knows (a line with a bad count in ``orig_pkts``
#: is rejected the same way), it only does not keep what nothing reads. ``ts`` is the same instant
#: as ``epoch``; ``line`` (where a row came from) is for people querying a kept store.
#: At 10M connections this is 2.7 -> 1.4 GB for conn and 2.0 -> 1.3 GB for tls in memory. A DNS
#: query's server (dns.dst, dst_port) is never read either: dns.log often has as many rows as
#: conn.log, at about 20 bytes a row for the two.
SCRATCH_OMITS: dict[str, tuple[str, ...]] = {
    "conn": ("ts", "src_port", "proto", "orig_pkts", "resp_pkts", "conn_state", "history", "line"),
    "dns": ("ts", "uid", "src_port", "dst", "dst_port", "proto", "line"),
    "tls": ("ts", "src_port", "version", "established", "sensor_platform", "sensor_tenant", "line"),
    "http": ("ts", "src_port", "status", "sensor_platform", "sensor_tenant", "line"),
}


#: Log table columns a scratch store keeps as a number instead of the text, with the ingest macro
#: (sql/01_ingest_macros.sql) that makes the number and the type it is stored as.
#: ``uid`` is a join key only: every stage compares it for equality (conn to tls to http), none
#: shows it. Its 64-bit hash joins the same rows. Two distinct uids of one day sharing a hash is
#: about a 1 in 100 000 chance at 20M uids. It would add one event to each of the two connections'
#: channels, under the other's name, and keep their own: that cannot make or hide a beacon. A
#: crafted log gains nothing from it: whoever writes the log can give two rows one uid outright.
#: ``sensor`` is one of two constants the ingest writes: a one-byte ENUM instead of a string, its
#: values in text order so that it sorts and compares as the text does.
#: With dns.uid left out (SCRATCH_OMITS), the 10M-connection day's log tables take 2.86 GB of memory
#: instead of 3.29 GB.
SCRATCH_KEYS: dict[str, tuple[str, str]] = {
    "uid": ("ingest_uid_key", "UBIGINT"),
    "sensor": ("", "sensor_name"),
}

#: Columns a scratch store adds to conn and tls: the numbers the scan keys their rows by (the macros
#: of sql/03_duckdb_keys.sql over the row's own strings), computed by the ingest as it reads each
#: row, in parallel, and stored as BIGINT. A store that ends with its scan then narrows a batch of
#: rows in place (analyzer.narrow): the strings are dropped and the rows kept as they are, where a
#: copy of every row, hashing its strings again, cost 3.3 s of a 33-36 s profile at 10M connections.
SCRATCH_DERIVED: dict[str, dict[str, str]] = {
    "conn": {"src_id": "addr_key({src})", "dst_id": "addr_key({dst})"},
    "tls": {"src_id": "addr_key({src})", "dst_id": "addr_key({dst})",
            "raw_id": "name_key({server_name})", "client_id": "client_key({ja3}, {ja4})"},
}


#: the smallest --memory-limit taken: DuckDB cannot run a stage under a few MB
MIN_MEMORY_LIMIT = 10 * 10**6
_SIZE_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)?\s*", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
               "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


class Store:
    """A DuckDB database holding the normalized model (``sql/00_schema.sql``).

    ``scratch=True`` (memory only) makes the store of one command that is thrown away after it:
    ``scan`` and ``report`` of log files without ``--db``. Its log tables lack the columns of
    :data:`SCRATCH_OMITS` and hold those of :data:`SCRATCH_KEYS` as numbers, so that a big day takes
    less memory and spills less past the limit.

    ``memory_limit`` caps DuckDB's memory (None keeps DuckDB's default). A file store spills next to
    its file (DuckDB's default ``<db>.tmp``); an in-memory store spills to a private temporary
    folder, removed on :meth:`close`.

    A scan of log files without ``--db`` uses a memory store even when the loaded logs are several
    times the memory limit: a temporary database file instead was slower at every size measured
    (bench/bench_scan.py data, 1.6 GB limit, ingest + scan: 3M connections 7.2 s in memory vs 8.8 s;
    10M 28.1 s vs 30.2 s; 20M 61.5 s vs 71.3 s), its faster scan outweighed by its slower ingest.
    """

    def __init__(self, path: str | Path | None = None, read_only: bool = False,
                 memory_limit: str | None = DEFAULT_MEMORY_LIMIT, *, scratch: bool = False):
        if scratch and path is not None:
            raise ValueError("a scratch store lives in memory: no path")
        self.path = str(path) if path is not None else None
        self.scratch = scratch
        self._spill: str | None = None
        try:
            self.con = duckdb.connect(self.path or ":memory:", read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(f"cannot open store {self.path}: {exc}") from exc
        # DuckDB draws a progress bar on stdout during long queries: stdout carries results only.
        self.con.execute("SET enable_progress_bar = false")
        if self.path is None:
            # A memory store has nothing to make durable, yet DuckDB checkpoints it at a commit once
            # its changes pass checkpoint_threshold: 0.34 s at the last of four 1M-row files,
            # rewriting what was just loaded. Never, for a store that ends with the command.
            self.con.execute("SET checkpoint_threshold = '1000TB'")
        if memory_limit:
            try:
                self.set_memory_limit(memory_limit)
            except StoreError:
                self.close()
                raise
        if not read_only:
            self.con.execute(read_sql("00_schema"))
        if self.path is not None:
            try:
                _check_model(self.con, self.path)
            except StoreError:
                self.close()
                raise
        if scratch:
            self.con.execute("CREATE TYPE sensor_name AS ENUM ('suricata', 'zeek')")  # in text order
            for table, columns in SCRATCH_OMITS.items():
                for column in columns:  # names are constants of this module, never data
                    self.con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
                for column, (_macro, type_) in SCRATCH_KEYS.items():
                    if column not in columns:
                        self.con.execute(f"ALTER TABLE {table} ALTER {column} TYPE {type_}")
            for table, derived in SCRATCH_DERIVED.items():
                for column in derived:
                    self.con.execute(f"ALTER TABLE {table} ADD COLUMN {column} BIGINT")
            run_sql(self.con, "03_duckdb_keys")  # the macros of SCRATCH_DERIVED

    def set_memory_limit(self, limit: str) -> None:
        """Cap DuckDB's memory (e.g. '2GB'); raises StoreError on a value that is not a size of at least
        :data:`MIN_MEMORY_LIMIT` (DuckDB reads '-1GB' as no limit at all, and fails later, with its own
        out-of-memory error, under a cap of a few KB)."""
        m = _SIZE_RE.fullmatch(str(limit))
        if not m or float(m.group(1)) * _SIZE_UNITS[(m.group(2) or "B").lower()] < MIN_MEMORY_LIMIT:
            raise StoreError(f"bad memory limit {limit!r}: give a size of at least 10MB, such as 1.6GB or 4GB")
        try:
            self.con.execute("SET memory_limit = ?", [limit])
        except duckdb.Error as exc:
            raise StoreError(f"bad memory limit {limit!r}: {exc}") from exc
        if self.path is None and self._spill is None:
            self._spill = _private_folder("serverless-c2-spill-", self)
            self.con.execute("SET temp_directory = ?", [self._spill])

    def ingested_only_under(self, marker: str) -> bool:
        """Whether every file the store has ingested has ``marker`` in its path (``report --demo --db``:
        a store that holds the demo's days alone, whose folders are named so)."""
        row = self.con.execute("SELECT count(*) FILTER (WHERE position(? IN path) = 0) FROM ingest_files",
                               [marker]).fetchone()
        return bool(row) and row[0] == 0

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            if self._spill is not None:
                shutil.rmtree(self._spill, ignore_errors=True)
                self._spill = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def columns_of(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """``{table: {column: type}}`` of those of ``tables`` that this store has (its main schema)."""
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'main' AND list_contains($t, table_name)",
        {"t": list(tables)}).fetchall()
    out: dict[str, dict[str, str]] = {}
    for table, column, type_ in rows:
        out.setdefault(table, {})[column] = type_
    return out


_MODEL: dict[str, dict[str, str]] = {}


def _model() -> dict[str, dict[str, str]]:
    """The columns and types of each table of sql/00_schema.sql, as a new store has them."""
    if not _MODEL:
        con = duckdb.connect()
        con.execute(read_sql("00_schema"))
        tables = tuple(r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall())
        _MODEL.update(columns_of(con, tables))
        con.close()
    return _MODEL


def _check_model(con: duckdb.DuckDBPyConnection, path: str) -> None:
    """Refuse a database file whose tables of our names are not ours (another tool's DuckDB file, or
    a hand-made table): every later statement would fail on it, as a traceback instead of a message."""
    model = _model()
    have = columns_of(con, tuple(model))
    for table, columns in model.items():
        if table not in have:
            continue  # a read-only store made before the table existed: nothing reads it by mistake
        wrong = [f"{c} {t}" for c, t in columns.items() if have[table].get(c) != t]
        if wrong:
            raise StoreError(f"{path} is not a serverless-c2 store: its table {table} lacks "
                             f"{', '.join(wrong[:5])}{' ...' if len(wrong) > 5 else ''}")


@contextmanager
def settings(con: duckdb.DuckDBPyConnection, values: Mapping[str, Any]) -> Iterator[None]:
    """DuckDB settings ``values`` (names are constants of the caller, never data) while inside, each
    restored after to what it was; one already at its value is left alone (no statement)."""
    saved = {}
    for name, value in values.items():
        row = con.execute(f"SELECT current_setting('{name}')").fetchone()
        if row is None or row[0] != value:
            saved[name] = row[0] if row else None
            con.execute(f"SET {name} = ?", [value])
    try:
        yield
    finally:
        for name, value in saved.items():
            con.execute(f"SET {name} = ?", [value])


def kind_of(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """'TABLE' or 'VIEW' for the table or view ``name`` (temporary or not), None when there is none."""
    row = con.execute(
        "SELECT (SELECT count(*) FROM duckdb_tables() WHERE table_name = $n), "
        "(SELECT count(*) FROM duckdb_views() WHERE view_name = $n AND NOT internal)", {"n": name},
    ).fetchone()
    return "TABLE" if row and row[0] else "VIEW" if row and row[1] else None


def drop(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop the table or view ``name`` (a constant of the caller, never data), if there is one."""
    kind = kind_of(con, name)
    if kind is not None:
        con.execute(f"DROP {kind} {name}")


def _private_folder(prefix: str, owner: object) -> str:
    """A new temporary folder, removed on :meth:`Store.close` or, for a store never closed, when the
    store is garbage-collected or the interpreter exits."""
    folder = tempfile.mkdtemp(prefix=prefix)
    weakref.finalize(owner, shutil.rmtree, folder, True)
    return folder
