"""Named statements in an ``sql/`` file: sections that start with a ``-- name: x`` line."""

from __future__ import annotations

import functools
import re

from analyzer.sqlfiles import read_sql

_NAME = re.compile(r"^-- name:\s*(\w+)\s*$", re.M)


@functools.cache
def statements(file: str) -> dict[str, str]:
    """``{name: statement}`` of ``sql/<file>.sql``; text before the first name is a comment."""
    text = read_sql(file)
    parts = _NAME.split(text)
    return {parts[i]: parts[i + 1].strip().rstrip(";") for i in range(1, len(parts), 2)}
