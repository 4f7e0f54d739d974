"""Zeek TSV (ASCII writer) logs: header blocks from the scan, rows typed in SQL.

A file may hold several header blocks (rotated files concatenated with ``cat``/``zcat``), each
with its own ``#fields`` (field sets differ between Zeek versions and loaded scripts), so the
columns are taken per block by name: ``ts`` need not be first (``_node_name`` and other extension
columns may precede it) and unknown fields are ignored. The header values (separator, set
separator, unset and empty markers) are bound parameters of the block's query.

Data lines are split with ``string_split`` on the separator: a line with the wrong number of
fields is rejected, never padded or cut, and ``#`` or ``"`` inside a value are ordinary text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb

from analyzer.ingest.common import DATA_TSV, StageQuery, Tally
from analyzer.ingest.detect import ZEEK_KINDS
from analyzer.ingest.zeek_fields import Col, typed_stage_sql

_ESC = re.compile(r"\\(?:x([0-9A-Fa-f]{2})|([tns\\]))")
_SIMPLE = {"t": "\t", "n": "\n", "s": " ", "\\": "\\"}


def _unescape_header(value: str) -> str:
    """The ``#separator`` value: ``\\x09`` as Zeek writes it, or ``\\t`` as some tools do."""
    return _ESC.sub(lambda m: chr(int(m.group(1), 16)) if m.group(1) else _SIMPLE[m.group(2)], value)


@dataclass
class Block:
    """One header block: its settings, its fields, and the lines its data may occupy."""

    fields_line: int
    fields: list[str]
    path: str | None
    sep: str = "\t"
    set_sep: str = ","
    unset: str = "-"
    empty: str = "(empty)"
    last_line: int = 0
    warnings: list[str] = field(default_factory=list)


def parse_blocks(header_lines: list[tuple[int, str]], last_line: int) -> list[Block]:
    """Header blocks from the scanned ``(line, text)`` header lines, in file order."""
    sep, set_sep, unset, empty, path = "\t", ",", "-", "(empty)", None
    blocks: list[Block] = []
    for ln, text in header_lines:
        text = text.lstrip(" \t")
        if text.startswith("#separator"):
            value = text[len("#separator"):].lstrip(" \t")
            sep = _unescape_header(value) or "\t"
            continue
        key, _, value = text.partition(sep)
        if key == "#set_separator":
            set_sep = value or ","
        elif key == "#unset_field":
            unset = value
        elif key == "#empty_field":
            empty = value
        elif key == "#path":
            path = value
        elif key == "#fields":
            if blocks:
                blocks[-1].last_line = ln - 1
            blocks.append(Block(ln, value.split(sep), path, sep, set_sep, unset, empty))
    if blocks:
        blocks[-1].last_line = last_line
    return blocks


def load(
    con: duckdb.DuckDBPyConnection,
    tally: Tally,
    blocks: list[Block],
    default_kind: str | None,
    lo: int,
    hi: int,
) -> list[str]:
    """Load data lines ``lo..hi`` (1-based, inclusive). Returns warnings."""
    warnings: list[str] = []
    first = blocks[0].fields_line if blocks else hi + 1
    if lo < first:
        _reject_all(con, tally, lo, min(hi, first - 1), "data line before any #fields header")
    for b in blocks:
        b_lo, b_hi = max(lo, b.fields_line + 1), min(hi, b.last_line)
        if b_lo > b_hi:
            continue
        kind = b.path or default_kind
        table = ZEEK_KINDS.get(kind or "")
        if table is None:
            _reject_all(con, tally, b_lo, b_hi, f"block of unsupported log kind {kind!r}")
            continue
        if "ts" not in b.fields:
            warnings.append(f"header block at line {b.fields_line} has no ts field")
        _load_block(con, tally, b, table, b_lo, b_hi)
    return warnings


def _load_block(con: duckdb.DuckDBPyConnection, tally: Tally, b: Block, table: str, lo: int, hi: int) -> None:
    index = {name: i + 1 for i, name in reversed(list(enumerate(b.fields)))}  # first occurrence wins
    n = len(b.fields)

    def pos(names: tuple[str, ...]) -> int | None:
        return next((index[f] for f in names if f in index), None)

    def raw(c: Col) -> str | None:
        i = pos(c.fields)
        if i is None:
            return None
        if c.type in ("list_str", "list_double"):
            return f"zeek_list(p[{i}], $unset, $empty, $setsep)"
        if c.type == "str":
            return f"zeek_unescape(zeek_field(p[{i}], $unset, $empty))"
        return f"zeek_field(p[{i}], $unset, $empty)"

    ts_i = pos(("ts",))
    # A trailing separator (one empty extra field at the end, as some tools write) is tolerated.
    source = (
        f"SELECT line, CASE WHEN len(p) = {n + 1} AND p[{n + 1}] = '' THEN p[1:{n}] ELSE p END AS p "
        f"FROM (SELECT line, string_split(l, $sep) AS p FROM _lines "
        f"WHERE line BETWEEN $lo AND $hi AND {DATA_TSV}) AS raw_lines"
    )
    pre = f"CASE WHEN len(p) <> {n} THEN 'expected {n} fields, found ' || len(p) END"
    ts_raw = f"zeek_field(p[{ts_i}], $unset, $empty)" if ts_i else None
    params: dict[str, object] = {
        "sep": b.sep, "lo": lo, "hi": hi, "unset": b.unset, "empty": b.empty, "setsep": b.set_sep,
    }
    query = StageQuery(source, lambda src: typed_stage_sql(table, src, ts_raw, raw, pre), params)
    tally.move_stage(con, table, "zeek", query=query)


def _reject_all(con: duckdb.DuckDBPyConnection, tally: Tally, lo: int, hi: int, reason: str) -> None:
    row = con.execute(
        f"SELECT count(*) FROM _lines WHERE line BETWEEN $lo AND $hi AND {DATA_TSV}", {"lo": lo, "hi": hi}
    ).fetchone()
    if not row or not row[0]:
        return  # the usual case: only header lines before the first #fields
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _stage AS SELECT line, $reason AS reason FROM _lines "
        f"WHERE line BETWEEN $lo AND $hi AND {DATA_TSV}",
        {"reason": reason, "lo": lo, "hi": hi},
    )
    row = con.execute("SELECT count(*) FROM _stage").fetchone()
    tally.reject_lines(con, "_stage", int(row[0]) if row else 0)
