"""The DuckDB store: a file given with ``--db``, or memory."""

from __future__ import annotations

from pathlib import Path

import duckdb

from analyzer.errors import StoreError
from analyzer.sqlfiles import read_sql


class Store:
    """A DuckDB database holding the normalized model (``sql/00_schema.sql``)."""

    def __init__(self, path: str | Path | None = None, read_only: bool = False):
        self.path = str(path) if path is not None else None
        try:
            self.con = duckdb.connect(self.path or ":memory:", read_only=read_only)
        except duckdb.Error as exc:  # pragma: no cover - message depends on duckdb
            raise StoreError(f"cannot open store {self.path}: {exc}") from exc
        if not read_only:
            self.con.execute(read_sql("00_schema"))

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
