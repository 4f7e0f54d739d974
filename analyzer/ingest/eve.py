"""Suricata eve.json: flow, dns, tls, quic and http events into the normalized tables.

The SQL is ``sql/02_ingest_eve.sql`` (its header lists every mapping choice). What matters for
the numbers in the report:

* every line is one event; lines that are no JSON object, or modelled events (flow, dns, tls,
  http) without a parseable ``timestamp`` (``flow.start`` for flows), are rejected with their line;
* a ``quic`` event that carries the client's hello (SNI, JA3 or JA4), the first of its flow, is a
  TLS handshake, as Zeek logs a QUIC connection's in ssl.log; other QUIC events (the server's hello,
  a hello resent after a Retry) and other event types (alert, stats, fileinfo, anomaly, ...) are
  counted as ``skipped_events``;
* DNS events of one transaction merge into one row: within (flow_id, dns.id) the k-th request
  pairs with the k-th response (all answer records of one packet); the request gives time and
  direction, the response the rcode and the answers.
  Suricata 7's v2 ``answer`` records with their ``answers[]`` (or only ``grouped``), Suricata 8's
  v3 ``request``/``response`` with ``queries[]``/``answers[]`` and the old v1 one-record-per-answer
  shape all give the same row. So ``rows_loaded`` (rows) can be below ``lines_loaded`` (events).
* timestamps with offsets (``+0200``) are converted to UTC.

Each file is parsed one of two ways, which give the same rows (tests/test_ingest_fast.py):
:func:`parse_fast`, DuckDB's JSON reader over the file itself (the usual case), or :func:`parse`,
over its lines, when the file holds anything the fast parse cannot account for line by line.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from analyzer.ingest.common import (
    DATA_JSON, JSON_REASON, MAX_REJECT_TEXT, MAX_STORED_REJECTS, READ_ERRORS, Tally, insertion_order,
    note_line_temps,
)
from analyzer.ingest.sqlstmts import statements


def parse(con: duckdb.DuckDBPyConnection, lo: int, hi: int) -> None:
    """Parse data lines ``lo..hi`` of ``_lines`` into TEMP ``_eve``, with every line's reason for being
    rejected (NULL for the good ones), and keep the text of the first rejected lines (``_eve_text``):
    after this, :func:`load` needs the lines no more. The ingest runs it before the file's transaction
    and then drops the lines (common.release_lines): inside a transaction a dropped table keeps its
    memory until the commit, and the text of a big eve.json (as big as the file) spilled to disk
    under every statement that followed."""
    sql = statements("02_ingest_eve")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _jl AS SELECT line FROM _lines WHERE line BETWEEN $lo AND $hi AND {DATA_JSON}",
        {"lo": lo, "hi": hi},
    )
    con.execute(sql["values_lines"])
    con.execute(sql["events"])
    con.execute("DROP VIEW _eve_v")
    # Parsing is the cost, so each line is parsed once, above; why a line is no JSON object is asked
    # only of the lines where no event_type came out (a parse more for each of those, rare).
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _jr AS SELECT e.line, {JSON_REASON} AS reason "
        "FROM _eve e JOIN _lines USING (line) WHERE e.event_type IS NULL"
    )
    con.execute("UPDATE _eve SET reason = j.reason FROM _jr j WHERE _eve.line = j.line AND j.reason IS NOT NULL")
    con.execute("DROP TABLE _jr")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _eve_text AS SELECT e.line, left(r.l, $cut) AS l "
        "FROM _eve e JOIN _lines r USING (line) WHERE e.reason IS NOT NULL ORDER BY e.line LIMIT $n",
        {"cut": MAX_REJECT_TEXT, "n": MAX_STORED_REJECTS},
    )


def parse_fast(con: duckdb.DuckDBPyConnection, data_path: str | Path) -> int | None:
    """The fast path of :func:`parse` for a file read from its first line: TEMP ``_eve`` made by
    DuckDB's JSON reader from the file itself (sql/02_ingest_eve.sql, values_json), in parallel and
    without loading the lines as text, its rows numbered as the lines they came from. Returns how
    many events it holds, or None (``_eve`` dropped) when the file must take the line path: DuckDB
    refused it (a line that is no JSON object, a duplicate key, a bad escape), or an event is
    rejected (its text would come from the lines, which this path never loads). Never raises for
    bad content. The caller keeps ``_eve`` only when that count is the file's number of lines: the
    reader skips a blank line, which the line path counts.

    The parse itself costs about what the line path's does (each value is read as JSON, then its
    text taken from that); what it saves is loading the lines as text: 545 MB of eve.json end to end
    in 6.0 s against 6.7 s, and 2 GiB ingested in 23-25 s against 30 s, past the memory cap
    (bench/bench_eve.py, 2026-12-03)."""
    sql = statements("02_ingest_eve")
    note_line_temps(con)
    events = sql["events"].replace("FROM _eve_v", "FROM (" + sql["values_json"] + ") AS _eve_v")
    try:
        with insertion_order(con, keep=True):  # the rows in file order: rowid + 1 is the line
            con.execute(events, {"path": str(data_path)})
        row = con.execute("SELECT count(*), count(reason) FROM _eve").fetchone()
    except READ_ERRORS:
        con.execute("DROP TABLE IF EXISTS _eve")
        return None
    if row is None or int(row[1]):
        con.execute("DROP TABLE _eve")
        return None
    con.execute("UPDATE _eve SET line = rowid + 1")
    con.execute("CREATE OR REPLACE TEMP TABLE _eve_text (line BIGINT, l VARCHAR)")
    return int(row[0])


def load(con: duckdb.DuckDBPyConnection, tally: Tally) -> None:
    """Load the events :func:`parse` made into the tables, recording the rejects and skipped events."""
    sql = statements("02_ingest_eve")
    count = ("SELECT count(*) FILTER (WHERE reason IS NOT NULL), "
             "count(*) FILTER (WHERE reason IS NULL AND NOT coalesce(modelled, false)), "
             "count(*) FILTER (WHERE quic_hello AND reason IS NULL) FROM _eve")
    row = con.execute(count).fetchone()
    assert row is not None
    if int(row[2]):  # a client that resends its hello (after a Retry): the flow's first is its handshake
        con.execute(sql["quic_repeats"])
        row = con.execute(count).fetchone()
        assert row is not None
    tally.reject_lines(con, "_eve", int(row[0]), lines="_eve_text")
    tally.skipped_events += int(row[1])
    for name, table in (("conn", "conn"), ("tls", "tls"), ("http", "http")):
        con.execute(sql[name])
        tally.move_stage(con, table, "suricata")
    con.execute(sql["dns_events"])
    con.execute(sql["dns"])
    events = con.execute("SELECT count(*) FROM _dnsev").fetchone()
    tally.move_stage(con, "dns", "suricata", lines=int(events[0]) if events else 0)
    con.execute("DROP TABLE IF EXISTS _dnsev")
