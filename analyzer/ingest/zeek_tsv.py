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

from analyzer.ingest.common import (
    DATA_TSV, READ_ERRORS, FastRead, StageQuery, Tally, insert_head, mark_fast_read, number_lines, row_values,
    used_params,
)
from analyzer.ingest.detect import ZEEK_KINDS
from analyzer.ingest.zeek_fields import NULL_SQL, SPECS, Col, typed_stage_sql

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
        # a CRLF file (copied through Windows): the data lines lose their CR in the sanitized copy
        # (files.py), the header lines here; Zeek itself writes a CR in a value only as \x0d
        text = text.lstrip(" \t").removesuffix("\r")
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
        _reject_all(con, tally, [(lo, min(hi, first - 1))], "data line before any #fields header")
    layouts = _layouts(blocks)
    # a query per run of blocks (one range of lines each) while they are few, as a file of a few
    # concatenated logs is; past that, a query per layout over the lines of all its runs
    runs = [(n, [run]) for n, group in enumerate(layouts) for run in group]
    over: list[tuple[int, int]] = []
    work = sorted(runs, key=lambda x: x[1][0][0].fields_line) if len(runs) <= MAX_RUN_QUERIES \
        else list(enumerate(layouts))
    for n, group in work:
        b = group[0][0]
        ranges = [(max(lo, run[0].fields_line + 1), min(hi, run[-1].last_line)) for run in group]
        ranges = [(a, z) for a, z in ranges if a <= z]
        if not ranges:
            continue
        if n >= MAX_LAYOUTS:
            over += ranges  # rejected together, below: one query, however many such layouts
            continue
        kind = b.path or default_kind
        table = ZEEK_KINDS.get(kind or "")
        if table is None:
            _reject_all(con, tally, ranges, f"block of unsupported log kind {kind!r}")
            continue
        if "ts" not in b.fields:
            warnings += [f"header block at line {g.fields_line} has no ts field" for run in group for g in run
                         if max(lo, g.fields_line + 1) <= min(hi, g.last_line)]
        _load_block(con, tally, b, table, ranges)
    if over:
        _reject_all(con, tally, over, f"header block of more than {MAX_LAYOUTS} different layouts in one file")
    return warnings


#: different header layouts (fields, markers, path) read from one file; the blocks of any further
#: layout have their lines rejected with that reason. Each layout costs a query (10-30 ms): a crafted
#: file of thousands of small blocks, each laid out differently, would otherwise take minutes. Logs
#: concatenated with cat or zcat have one layout per kind and Zeek version.
MAX_LAYOUTS = 64
#: runs of blocks up to which each is typed by a query of its own, over one range of lines (a range
#: join over several, which a layout's query needs, costs more than a few queries: 1M lines in four
#: blocks of two kinds, 11.2 s against 9.6 s)
MAX_RUN_QUERIES = 32


def _layouts(blocks: list[Block]) -> list[list[list[Block]]]:
    """The header blocks grouped by how they read their lines (the same fields, markers and path),
    in the order each layout first appears; within a layout, runs of consecutive blocks (the
    rotations of one log concatenated with cat or zcat), the '#' lines between the blocks of a run
    being no data. A run is typed by one query (a file of 2,000 small blocks took a query per block,
    17-30 ms each: 35 s); past :data:`MAX_RUN_QUERIES` runs, a layout is, over the lines of all its
    runs (a file whose 6,000 blocks alternated between two layouts took 75 s, now 0.2 s)."""
    def reading(b: Block) -> tuple:
        return (tuple(b.fields), b.sep, b.set_sep, b.unset, b.empty, b.path)

    layouts: dict[tuple, list[list[Block]]] = {}
    last: tuple | None = None
    for b in blocks:
        key = reading(b)
        runs = layouts.setdefault(key, [])
        if runs and key == last:
            runs[-1].append(b)
        else:
            runs.append([b])
        last = key
    return list(layouts.values())


def _load_block(
    con: duckdb.DuckDBPyConnection, tally: Tally, b: Block, table: str, ranges: list[tuple[int, int]]
) -> None:
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
        f"WHERE {_in_ranges(con, ranges)} AND {DATA_TSV}) AS raw_lines"
    )
    pre = f"CASE WHEN len(p) <> {n} THEN 'expected {n} fields, found ' || len(p) END"
    ts_raw = f"zeek_field(p[{ts_i}], $unset, $empty)" if ts_i else None
    params: dict[str, object] = {
        "sep": b.sep, "lo": ranges[0][0], "hi": ranges[0][1], "unset": b.unset, "empty": b.empty,
        "setsep": b.set_sep,
    }
    query = StageQuery(source, lambda src: typed_stage_sql(table, src, ts_raw, raw, pre), params)
    tally.move_stage(con, table, "zeek", query=query)


def _in_ranges(con: duckdb.DuckDBPyConnection, ranges: list[tuple[int, int]]) -> str:
    """A SQL test that ``line`` is in one of ``ranges``: ``$lo``/``$hi`` for one range (the usual
    case, bound by the caller as the first range), else a semi-join on the temporary table
    ``_tsv_ranges`` made here (the file's temporaries are dropped after it, common.drop_temps)."""
    if len(ranges) == 1:
        return "line BETWEEN $lo AND $hi"
    con.execute("CREATE OR REPLACE TEMP TABLE _tsv_ranges AS SELECT unnest($lo) AS lo, unnest($hi) AS hi",
                {"lo": [a for a, _z in ranges], "hi": [z for _a, z in ranges]})
    return "line IN (SELECT l2.line FROM _lines l2 JOIN _tsv_ranges r ON l2.line BETWEEN r.lo AND r.hi)"


def _reject_all(con: duckdb.DuckDBPyConnection, tally: Tally, ranges: list[tuple[int, int]], reason: str) -> None:
    cond = _in_ranges(con, ranges)
    used = {"lo": ranges[0][0], "hi": ranges[0][1]} if len(ranges) == 1 else {}   # the bounds _in_ranges uses
    row = con.execute(f"SELECT count(*) FROM _lines WHERE {cond} AND {DATA_TSV}", used).fetchone()
    if not row or not row[0]:
        return  # the usual case: only header lines before the first #fields
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _stage AS SELECT line, $reason AS reason FROM _lines "
        f"WHERE {cond} AND {DATA_TSV}",
        {"reason": reason, **used},
    )
    row = con.execute("SELECT count(*) FROM _stage").fetchone()
    tally.reject_lines(con, "_stage", int(row[0]) if row else 0)


# --- The typed fast path ------------------------------------------------------------------------
#
# Almost every Zeek TSV file is one header block at the top, then well-formed data lines, then
# ``#close``. For those, DuckDB's CSV reader types the fields itself (in parallel, in C++), which is
# several times cheaper than splitting each line in SQL, and the rows go straight into their table.
# They are kept only when they provably equal what the line-by-line path would load: DuckDB
# rejected nothing but ``#`` lines after the last row, every row has a valid ts (a bad one raises,
# which ends the read), and the caller checks that every line is accounted for (no line skipped
# silently). Anything else (a bad value, a wrong field count, a second header block, a blank line,
# a ts that is no plain number) makes the caller roll the rows back and take the line-by-line
# path, which rejects each bad line with its reason. Line numbers: see common.number_lines.

#: DuckDB types the CSV reader gives a column, by Col.type; other columns are read as VARCHAR
_READ_TYPE = {"int": "BIGINT", "port": "INTEGER", "double": "DOUBLE", "bool": "BOOLEAN"}
#: rejects DuckDB records before the fast read gives up (more than a #close line means: slow path)
_FAST_REJECTS_LIMIT = 64
_FAST_REJ, _FAST_SCAN = "_fast_rej", "_fast_scan"


def head_block(head: bytes) -> tuple[Block, int] | None:
    """The header block at the very top of a file (from its first bytes) and the number of lines
    it spans, when the file starts with ``#`` lines holding exactly one ``#fields`` line and the
    first bytes also hold the first data line. None otherwise (the file takes the line-by-line path)."""
    lines = head.split(b"\n")
    header: list[tuple[int, str]] = []
    for i, raw in enumerate(lines[:-1]):  # the last piece may be cut mid-line
        if not raw.startswith(b"#"):
            if not header:
                return None
            blocks = parse_blocks(header, 0)
            if len(blocks) != 1 or sum(1 for _ln, t in header if t.startswith("#fields")) != 1:
                return None
            return blocks[0], i
        try:
            header.append((i + 1, raw.decode("utf-8")))
        except UnicodeDecodeError:
            return None
    return None


#: per table, the fields without which its rows cannot serve the scan, and what is lost: a SIEM export
#: that renamed id.orig_h loaded with no word, and its connections had no source host
KEY_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "conn": (("id.orig_h", "no source host: they cannot be timed"),
             ("id.resp_h", "no destination"),
             ("uid", "no uid: they cannot be joined to ssl.log or http.log, and each TLS connection counts twice")),
    "tls": (("id.orig_h", "no source host"),
            ("uid", "no uid: they cannot be joined to conn.log, and each TLS connection counts twice"),
            ("server_name", "no SNI: no name")),
    "dns": (("id.orig_h", "no source host"), ("query", "no query name")),
    "http": (("id.orig_h", "no source host"),
             ("uid", "no uid: they cannot be joined to conn.log"), ("host", "no Host: no name")),
}


def missing_key_fields(head: bytes, kind: str | None) -> list[str]:
    """Warnings for a Zeek TSV file whose (first) header block lacks a field the scan keys on (renamed
    by an export, or cut from the #fields line): the file loads, but its rows lose what the field gave."""
    top = head_block(head)
    if top is None:
        return []
    block = top[0]
    table = ZEEK_KINDS.get(block.path or kind or "")
    return [f"its #fields header has no {name} field (renamed?): its rows have {lost}"
            for name, lost in KEY_FIELDS.get(table or "", ()) if name not in block.fields]


def fast_eligible(block: Block, kind: str | None) -> str | None:
    """The table a block loads into when the fast path can read it, else None."""
    table = ZEEK_KINDS.get(block.path or kind or "")
    if table is None or "ts" not in block.fields:
        return None
    if len(block.sep) != 1 or block.sep in "\n\r\0" or not block.unset or block.unset == block.empty:
        return None
    return table


def _fast_columns(block: Block, table: str) -> tuple[dict[str, str], list[tuple[Col, int | None]]] | None:
    """The reader's column types (c1..cN, one per field) and, per table column, its field position."""
    index = {name: i + 1 for i, name in reversed(list(enumerate(block.fields)))}  # first occurrence wins
    types = {i: "VARCHAR" for i in range(1, len(block.fields) + 1)}
    types[index["ts"]] = "DOUBLE"
    used: list[tuple[Col, int | None]] = []
    for c in SPECS[table]:
        i = next((index[f] for f in c.fields if f in index), None)
        want = _READ_TYPE.get(c.type, "VARCHAR")
        if i is not None:
            if i == index["ts"] or (types[i] != "VARCHAR" and types[i] != want):
                return None  # one field read as two types: not worth a special case
            types[i] = want
        used.append((c, i))
    return {f"c{i}": t for i, t in types.items()}, used


def fast_read(
    con: duckdb.DuckDBPyConnection, data_path: str, block: Block, table: str, skip: int, file_id: int
) -> FastRead | None:
    """Insert the data lines after line ``skip`` into ``table``, typed, as ``file_id``, inside the
    caller's open transaction. None when this file must take the line-by-line path (see the
    section comment): the caller then rolls back. Never raises for bad content."""
    cols = _fast_columns(block, table)
    if cols is None:
        return None
    types, used = cols
    ts = next(i for i, n in enumerate(block.fields, 1) if n == "ts")
    epoch = f"TRY_CAST(round(ingest_seconds(c{ts}) * 1e6) AS BIGINT) / 1e6"
    exprs = [f"CASE WHEN ingest_epoch_ok({epoch}) THEN {epoch} ELSE error('ts') END AS epoch"]
    for c, i in used:
        if i is None:
            exprs.append(f"{NULL_SQL[c.type]} AS {c.name}")
        elif c.type == "str":
            exprs.append(f"CASE WHEN c{i} = $empty THEN '' ELSE zeek_unescape(c{i}) END AS {c.name}")
        elif c.type == "list_str":
            exprs.append(f"zeek_list(c{i}, $unset, $empty, $setsep) AS {c.name}")
        elif c.type == "list_double":  # CAST, not TRY_CAST: a bad element raises, which ends the read
            exprs.append(f"CAST(zeek_list(c{i}, $unset, $empty, $setsep) AS DOUBLE[]) AS {c.name}")
        else:
            exprs.append(f"c{i} AS {c.name}")
    if mark_fast_read(con):  # a read before this one, in this file, made them
        for t in (_FAST_REJ, _FAST_SCAN):
            con.execute(f"DROP TABLE IF EXISTS {t}")
    head, have = insert_head(con, table, {**row_values(table, "'zeek'", "$fid", "NULL"), "ts": "ingest_ts(epoch)"})
    # A column a scratch store does not keep is still typed by the reader, so that a line with a bad
    # value there fails the fast read as it would in a full store: without a use, DuckDB would not
    # even parse it (projection pushdown). This always-true test is that use.
    checks = [f"({c.name} IS NULL OR {c.name} IS NOT NULL)" for c, i in used
              if i is not None and c.name not in have and c.type not in ("str", "list_str")]
    # Values the reader types but the line path calls bad: a count below zero (ingest_count), a double
    # or an element of a vector of them that is NaN or infinite (ingest_double, ingest_doubles), a port
    # outside 0-65535 (ingest_port). Such a
    # row is left out, so the rows no longer account for every line and the caller takes the line path,
    # which rejects that line with its reason. One test per row (the least of its counts): a CASE ...
    # error() per value cost 0.5-1 CPU-s more than no test at 10M connections, this about 0.1
    # (alternating profiles of conn.log's ingest).
    counts = [c.name for c, i in used if i is not None and c.type == "int"]
    if counts:
        checks.append(f"coalesce(least({', '.join(counts)}) >= 0, true)")
    checks += [f"coalesce(isfinite({c.name}), true)" for c, i in used if i is not None and c.type == "double"]
    checks += [f"coalesce({c.name} BETWEEN 0 AND 65535, true)" for c, i in used if i is not None and c.type == "port"]
    checks += [f"({c.name} IS NULL OR ingest_doubles({c.name}) IS NOT NULL)" for c, i in used
               if i is not None and c.type == "list_double"]
    sql = (
        f"{head} "
        f"FROM (SELECT {', '.join(exprs)} FROM read_csv($path, delim=$sep, quote='', escape='', header=false, "
        "auto_detect=false, new_line='\\n', compression='none', skip=$skip, columns=$cols, nullstr=$unset, "
        "store_rejects=true, "
        f"rejects_table='{_FAST_REJ}', rejects_scan='{_FAST_SCAN}', rejects_limit=$limit)) AS typed"
        + (f" WHERE {' AND '.join(checks)}" if checks else "")
    )
    params = {
        "path": data_path, "sep": block.sep, "skip": skip, "cols": types, "unset": block.unset,
        "empty": block.empty, "setsep": block.set_sep, "limit": _FAST_REJECTS_LIMIT, "fid": file_id,
    }
    try:
        row = con.execute(sql, used_params(sql, params)).fetchone()
        rows = int(row[0]) if row else 0
        rej = con.execute(f"SELECT DISTINCT line, csv_line FROM {_FAST_REJ} ORDER BY line").fetchall()
    except READ_ERRORS:
        return None
    if len(rej) >= _FAST_REJECTS_LIMIT:
        return None
    # only '#' lines, after the last row, each one line of text
    for ln, text in rej:
        text = str(text or "")
        if ln is None or int(ln) <= skip + rows or not text.lstrip(" \t").startswith("#") or "\n" in text:
            return None
    if "line" in have:
        number_lines(con, table, file_id, skip + 1)
    return FastRead(table, skip, rows, len(rej), data_path, file_id, block.path)
