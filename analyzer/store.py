"""The DuckDB store: a file given with ``--db``, memory, or (``Store.scratch``) whichever of memory
and a temporary file suits the logs of one scan."""

from __future__ import annotations

import glob
import os
import re
import shutil
import tempfile
import weakref
from collections.abc import Iterable
from pathlib import Path

import duckdb

from analyzer.errors import StoreError
from analyzer.sqlfiles import read_sql

#: DuckDB's memory cap by default: past it, operators spill to disk instead of growing, so a big
#: day of logs stays within a laptop's memory (DuckDB's own default is 80 % of RAM). The process
#: peaks above it (Python, allocator slack, up to ~250 MB measured): 1.6GB keeps a 10M-connection day
#: under 2 GB RSS (1.76 GB measured; with 1.8GB it reached 2.07 GB, and was no faster).
DEFAULT_MEMORY_LIMIT = "1.6GB"


#: Bytes a Zeek/Suricata log line takes once loaded into a memory store, per byte of log text
#: (measured: conn.log 1.66, ssl.log 1.25); a .gz log is counted as this many times its size.
LOADED_PER_LOG_BYTE = 1.7
GZIP_EXPANSION = 8
#: A throwaway store (``scan`` of log files without ``--db``) stays in memory while the loaded logs
#: would take at most this many times the memory limit (the excess spills to a private folder).
#: Beyond, it is a temporary database file. Measured with bench/bench_scan.py data, 1.6 GB limit,
#: ingest + scan: 3M connections (0.9 GB of logs) 7.2 s in memory, 8.8 s from a file; 10M (3 GB)
#: 27.7 s against 28.4 s, the scan alone 15.6 s against 10.8 s. Past that, memory spills more and
#: more of what the scan reads, while a file store's scan grows with the rows only.
SCRATCH_MEMORY_FACTOR = 3.0


class Store:
    """A DuckDB database holding the normalized model (``sql/00_schema.sql``).

    ``memory_limit`` caps DuckDB's memory (None keeps DuckDB's default). A file store spills next to
    its file (DuckDB's default ``<db>.tmp``); an in-memory store spills to a private temporary
    folder, removed on :meth:`close`.
    """

    def __init__(self, path: str | Path | None = None, read_only: bool = False,
                 memory_limit: str | None = DEFAULT_MEMORY_LIMIT):
        self.path = str(path) if path is not None else None
        self._spill: str | None = None
        self._scratch: str | None = None
        try:
            self.con = duckdb.connect(self.path or ":memory:", read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(f"cannot open store {self.path}: {exc}") from exc
        # DuckDB draws a progress bar on stdout during long queries: stdout carries results only.
        self.con.execute("SET enable_progress_bar = false")
        if memory_limit:
            try:
                self.set_memory_limit(memory_limit)
            except StoreError:
                self.close()
                raise
        if not read_only:
            self.con.execute(read_sql("00_schema"))

    def set_memory_limit(self, limit: str) -> None:
        """Cap DuckDB's memory (e.g. '2GB'); raises StoreError on a value DuckDB does not accept."""
        try:
            self.con.execute("SET memory_limit = ?", [limit])
        except duckdb.Error as exc:
            raise StoreError(f"bad memory limit {limit!r}: {exc}") from exc
        if self.path is None and self._spill is None:
            self._spill = _private_folder("serverless-c2-spill-", self)
            self.con.execute("SET temp_directory = ?", [self._spill])

    @classmethod
    def scratch(cls, inputs: Iterable[str | os.PathLike[str]] = (),
                memory_limit: str | None = DEFAULT_MEMORY_LIMIT) -> "Store":
        """A store for one scan, thrown away on :meth:`close`: in memory unless the logs ``inputs``
        (files, folders, globs) are several times the memory limit once loaded (SCRATCH_MEMORY_FACTOR);
        then a database file, uncompressed (written once, read back by the scan; compressing it cost
        more than it saved), in a private temporary folder. Raises StoreError on a memory limit DuckDB
        does not accept."""
        store = cls(None, memory_limit=memory_limit)
        limit = _setting_bytes(store.con, "memory_limit")
        if limit is None or _loaded_estimate(inputs) <= SCRATCH_MEMORY_FACTOR * limit:
            return store
        store.close()
        folder = tempfile.mkdtemp(prefix="serverless-c2-store-")
        try:
            disk = cls(Path(folder) / "scratch.duckdb", memory_limit=memory_limit)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        disk._scratch = folder
        weakref.finalize(disk, shutil.rmtree, folder, True)
        disk.con.execute("SET force_compression = 'uncompressed'")
        disk.con.execute("PRAGMA disable_checkpoint_on_shutdown")
        return disk

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            for attr in ("_spill", "_scratch"):
                folder = getattr(self, attr, None)
                if folder is not None:
                    shutil.rmtree(folder, ignore_errors=True)
                    setattr(self, attr, None)

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _private_folder(prefix: str, owner: object) -> str:
    """A new temporary folder, removed on :meth:`Store.close` or, for a store never closed, when the
    store is garbage-collected or the interpreter exits."""
    folder = tempfile.mkdtemp(prefix=prefix)
    weakref.finalize(owner, shutil.rmtree, folder, True)
    return folder


_UNITS = {"bytes": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
          "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}


def _setting_bytes(con: duckdb.DuckDBPyConnection, name: str) -> int | None:
    """A DuckDB size setting (``'1.4 GiB'``) in bytes; None when it is not a plain size."""
    row = con.execute("SELECT value FROM duckdb_settings() WHERE name = ?", [name]).fetchone()
    m = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]+)\s*", str(row[0]) if row else "")
    if not m or m.group(2).lower() not in _UNITS:
        return None
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def _loaded_estimate(inputs: Iterable[str | os.PathLike[str]]) -> float:
    """Bytes the logs under ``inputs`` would take loaded into memory (an estimate, from file sizes)."""
    total = 0.0
    for raw in inputs:
        paths = [Path(m) for m in glob.glob(str(raw), recursive=True)] if glob.has_magic(str(raw)) else [Path(raw)]
        files = [f for p in paths for f in (p.rglob("*") if p.is_dir() else [p])]
        for f in files:
            if not f.is_file():
                continue
            try:
                size = f.stat().st_size
            except OSError:
                continue
            total += size * (GZIP_EXPANSION if f.name.endswith(".gz") else 1)
    return total * LOADED_PER_LOG_BYTE
