"""Locate and read the SQL stages in ``sql/``.

In a wheel the files are shipped inside the package as ``analyzer/sql`` (hatch force-include);
in a checkout or an editable install they are read from the top-level ``sql/`` folder.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import Any


@functools.cache
def sql_dir() -> Path:
    packaged = resources.files("analyzer") / "sql"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parent.parent / "sql"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError("the SQL stages are missing: neither analyzer/sql nor ./sql exists")


def read_sql(name: str) -> str:
    """Return the text of ``sql/<name>`` (``name`` with or without ``.sql``)."""
    if not name.endswith(".sql"):
        name += ".sql"
    return (sql_dir() / name).read_text(encoding="utf-8")


def run_sql(con: Any, name: str) -> None:
    """Run every statement of ``sql/<name>`` on ``con``, in order (files that bind no parameter)."""
    for statement in con.extract_statements(read_sql(name)):
        con.execute(statement.query)


def list_sql() -> list[str]:
    return sorted(p.name for p in sql_dir().glob("*.sql"))
