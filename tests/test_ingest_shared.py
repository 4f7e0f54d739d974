"""Ingest against the real public logs in ../shared/data (skipped when that folder is absent).

Rejects that are *explained* (and therefore allowed here):
* ``unparseable ts``: zeek's btest baselines mask timestamps as ``XXXXXXXXXX.XXXXXX``;
* ``missing ts``: a btest baseline (spicy.terminate-session) whose header has no ts field at all;
* ``incomplete last line``: files that end without a newline (rita's truncated/ scenarios, a
  truncated gzip) - the cut line is reported, never loaded half;
* ``expected 30 fields, found 29``: rita's has_unknown_field/http.log, whose line 9 really has one
  field less than its header;
* ``bad port value in field id.orig_p``: rita's truncated/conn_json.log, whose line 3 has the source
  port 93145 (a port is 0 to 65535).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.ingest import ingest_paths
from analyzer.store import Store

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} is absent (public test data)")
pytestmark = [needs_shared, pytest.mark.shared]

EXPLAINED = ("unparseable ts", "missing ts", "incomplete last line")


@pytest.mark.parametrize("kind,table", [("dns", "dns"), ("ssl", "tls")])
def test_zed_tsv_and_json_load_identically(kind, table):
    tsv = SHARED / "zed-sample-data" / "zeek-default" / f"{kind}.log.gz"
    js = SHARED / "zed-sample-data" / "zeek-json" / f"{kind}.json.gz"
    with Store() as a, Store() as b:
        ra, rb = ingest_paths(a, [tsv]), ingest_paths(b, [js])
        assert ra.lines_rejected == rb.lines_rejected == 0
        assert ra.rows_loaded == rb.rows_loaded > 40000
        q = f"SELECT * EXCLUDE (file_id, line) FROM {table} ORDER BY ALL"
        assert a.con.execute(q).fetchall() == b.con.execute(q).fetchall()


def test_every_shared_log_loads_with_only_explained_rejects():
    with Store() as s:
        report = ingest_paths(s, [SHARED])
        for f in report.files:
            assert f.status != "failed", f
            assert f.accounted, f
        loaded = [f for f in report.files if f.status == "loaded"]
        kinds = {f.kind for f in loaded}
        assert {"conn", "dns", "ssl", "http", "eve"} <= kinds
        # every file whose content is a conn/dns/ssl/http log or eve.json was loaded, not skipped
        for f in report.files:
            if f.status == "skipped" and f.format is not None:
                assert f.reason.startswith(("unknown/unsupported log kind", "header only", "no flow, dns, tls or http")), f
        reasons = dict(s.con.execute("SELECT reason, count(*) FROM ingest_rejects GROUP BY ALL").fetchall())
        one_each = ("expected 30 fields, found 29", "bad port value in field id.orig_p")
        unexplained = {r: n for r, n in reasons.items() if not r.startswith(EXPLAINED) and r not in one_each}
        assert unexplained == {}
        assert [reasons.get(r) for r in one_each] == [1, 1]
        # the masked btest timestamps are the bulk of the rejects
        assert reasons["unparseable ts"] > 900
        eve = [f for f in loaded if f.kind == "eve"]
        assert sum(f.skipped_events for f in eve) > 0 and sum(f.rows_loaded for f in eve) > 3000


def test_slips_eve_dns_queries_pair_with_answers():
    """slips' real eve.json: 680 dns records = 340 queries (some retransmitted) + 340 answers."""
    with Store() as s:
        f = ingest_paths(s, [SHARED / "slips" / "dataset" / "test6-malicious.suricata.json"]).files[0]
        assert (f.lines_rejected, f.data_lines) == (0, 5000)
        assert f.rows_by_table == {"conn": 3512, "tls": 1, "http": 56, "dns": 340}
        # every transaction got its answer: no unpaired query or answer rows
        assert s.con.execute("SELECT count(*), count(rcode), count(query) FROM dns").fetchone() == (340, 340, 340)
        # +0200 offsets converted to UTC
        assert s.con.execute("SELECT CAST(min(ts) AS VARCHAR) FROM http").fetchone() == ("2021-06-06 13:57:37.272281",)


def _single_block_logs() -> list[Path]:
    out = []
    for p in sorted((SHARED / "zat" / "data").glob("*.log")):
        head = p.read_bytes()
        if p.name.split(".")[0] in ("conn", "dns", "http", "ssl") and head.count(b"#fields") == 1:
            out.append(p)
    return out


@pytest.mark.parametrize("path", _single_block_logs() if SHARED.is_dir() else [], ids=lambda p: p.name)
def test_zat_as_independent_oracle(path):
    """zat reads single-block Zeek TSV correctly for row counts, uids and strings (see facts doc §2)."""
    from zat.zeek_log_reader import ZeekLogReader

    oracle = list(ZeekLogReader(str(path)).readrows())
    with Store() as s:
        f = ingest_paths(s, [path]).files[0]
        table = {"ssl": "tls"}.get(f.kind, f.kind)
        ours = s.con.execute(f"SELECT uid, src, dst_port FROM {table} ORDER BY line").fetchall()
    assert f.rows_loaded == len(oracle) - f.lines_rejected
    if f.lines_rejected == 0:
        assert ours == [(r["uid"], r["id.orig_h"], r["id.resp_p"]) for r in oracle]
