"""analyzer.narrow: conn and tls kept as numbers (sql/03-05), in one go or in batches during the ingest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import analyzer.narrow as narrow_mod
from analyzer.cli import cli
from analyzer.ingest import ingest_paths
from analyzer.scan import ScanOptions, run_scan
from analyzer.simulate import build_scenario, load_into_store, write_logs
from analyzer.store import Store

#: keys that collide for every two strings of the same length (replacing those of sql/03_duckdb_keys.sql)
COLLIDING_KEYS = (
    "CREATE OR REPLACE TEMP MACRO addr_key(a) AS CAST(length(a) AS BIGINT);"
    "CREATE OR REPLACE TEMP MACRO name_key(n) AS CASE WHEN n IS NOT NULL AND n <> '' THEN CAST(length(n) AS BIGINT) END;"
    "CREATE OR REPLACE TEMP MACRO client_key(ja3, ja4) AS "
    "CAST(length(coalesce(ja3, '')) + length(coalesce(ja4, '')) AS BIGINT);"
)


def _colliding(monkeypatch) -> None:
    """Colliding keys for the narrowing and for a scratch store's ingest, which numbers conn and tls
    rows as it reads them (analyzer.store.SCRATCH_DERIVED) with the same macros (sqlfiles.run_sql)."""
    import analyzer.sqlfiles as sqlfiles_mod

    real = sqlfiles_mod.read_sql
    monkeypatch.setattr(sqlfiles_mod, "read_sql",   # the file's macros, then the three keys replaced
                        lambda name: real(name) + "\n" + COLLIDING_KEYS if name == "03_duckdb_keys" else real(name))


def _halves(paths: list[Path], outdir: Path) -> list[Path]:
    """Each Zeek TSV log as two files (its header, then half of its rows each), as rotation makes them."""
    outdir.mkdir()
    out = []
    for p in paths:
        lines = p.read_text(encoding="utf-8").splitlines(keepends=True)
        head = [x for x in lines if x.startswith("#") and not x.startswith("#close")]
        data = [x for x in lines if not x.startswith("#")]
        for i, part in enumerate((data[: len(data) // 2], data[len(data) // 2:])):
            q = outdir / f"{p.stem}.{i}.log"
            q.write_text("".join(head + part), encoding="utf-8")
            out.append(q)
    return out


@pytest.fixture(scope="module")
def mixed_logs(tmp_path_factory) -> list[Path]:
    scen = build_scenario("mixed", seed=7, hours=24.0)
    base = tmp_path_factory.mktemp("mixed")
    return _halves(write_logs(scen, base / "whole", fmt="zeek-tsv"), base / "halves")


def _findings(store: Store, release: bool) -> list[dict]:
    return [f.to_dict() for f in run_scan(store, ScanOptions(min_score=0.0, release_logs=release)).findings]


@pytest.fixture(scope="module")
def kept_findings(mixed_logs) -> list[dict]:
    with Store() as store:  # a store that keeps its logs: narrowed once, at the scan
        ingest_paths(store, [str(p) for p in mixed_logs])
        return _findings(store, release=False)


@pytest.mark.parametrize("keys", ["real", "colliding"])
def test_batches_during_the_ingest_scan_exactly_as_a_kept_store(mixed_logs, kept_findings, monkeypatch, keys) -> None:
    """A scan-owned store narrows conn and tls file by file here (BATCH_ROWS = 1): four batches, each
    emptying the logs, then the rest before the scan. The findings are those of a store that keeps
    its logs, field for field, also when every two strings of one length share a key, so that the
    strings of later batches are numbered apart from those already in the dictionaries."""
    if keys == "colliding":
        _colliding(monkeypatch)
    monkeypatch.setattr(narrow_mod, "BATCH_ROWS", 1)
    batches = []
    with Store(scratch=True) as store:
        def after() -> None:
            if narrow_mod.narrow_when_big(store.con):
                left = store.con.execute("SELECT (SELECT count(*) FROM conn) + (SELECT count(*) FROM tls)").fetchone()
                batches.append(left[0])
        ingest_paths(store, [str(p) for p in mixed_logs], after_file=after)
        if keys == "colliding":
            apart = store.con.execute(
                "SELECT (SELECT count(*) FROM scan_addr_dict WHERE addr_id < 0), "
                "(SELECT count(*) FROM scan_name_dict WHERE raw_id < 0), "
                "(SELECT count(*) FROM scan_client_dict WHERE client_id < 0)").fetchone()
            assert all(n > 0 for n in apart), apart
        got = _findings(store, release=True)
    assert batches == [0, 0, 0, 0]  # conn.0, conn.1, ssl.0, ssl.1: each narrowed, the logs left empty
    assert got == kept_findings
    assert sum(f["kind"] == "beacon" for f in got) > 10


@pytest.mark.parametrize("fmt", ["eve", "zeek-json"])
def test_batches_of_other_formats_scan_as_a_kept_store(tmp_path, monkeypatch, fmt) -> None:
    """Suricata's eve.json (every log kind in one file, bytes on the wire) and Zeek JSON, narrowed
    during the ingest of a scratch store, give the findings of a store that keeps them."""
    scen = build_scenario("mixed", seed=5, hours=12.0)
    paths = [str(p) for p in write_logs(scen, tmp_path, fmt=fmt)]
    with Store() as store:
        ingest_paths(store, paths)
        want = _findings(store, release=False)
    monkeypatch.setattr(narrow_mod, "BATCH_ROWS", 1)
    with Store(scratch=True) as store:
        moved = []
        ingest_paths(store, paths, after_file=lambda: moved.append(narrow_mod.narrow_when_big(store.con)))
        got = _findings(store, release=True)
    assert any(moved) and got == want
    assert sum(f["kind"] == "beacon" for f in got) > 5


def test_the_cli_narrows_during_the_ingest_of_a_scan_without_db(mixed_logs, kept_findings, monkeypatch, tmp_path) -> None:
    """``scan FILES`` (no --db) narrows as the files come; ``scan --db`` keeps the logs. Same findings."""
    monkeypatch.setattr(narrow_mod, "BATCH_ROWS", 1)
    calls = []
    real = narrow_mod.narrow_when_big
    monkeypatch.setattr(narrow_mod, "narrow_when_big", lambda con: calls.append(real(con)) or calls[-1])
    args = [str(p) for p in mixed_logs] + ["--format", "json", "--min-score", "0", "--quiet"]
    out = {}
    for db in (None, tmp_path / "kept.duckdb"):
        result = CliRunner().invoke(cli, ["scan", *args] + (["--db", str(db)] if db else []))
        assert result.exit_code == 0, result.output
        out[db is None] = json.loads(result.stdout)["findings"]
    assert calls.count(True) == 4 and len(calls) == len(mixed_logs)  # after each file, scratch store only
    assert out[True] == out[False]
    assert sum(f["kind"] == "beacon" for f in out[True]) > 10


def _conn(con, uid: str, t: float, src: str, dst: str, service: str, sensor: str = "zeek") -> None:
    con.execute("INSERT INTO conn (epoch, uid, src, dst, dst_port, service, duration, orig_bytes, resp_bytes,"
                " orig_ip_bytes, resp_ip_bytes, sensor) VALUES (?, ?, ?, ?, 443, ?, 1.5, 10, 20, 110, 120, ?)",
                [t, uid, src, dst, service, sensor])


def test_narrowed_rows_carry_every_row_of_conn_and_tls_as_logged() -> None:
    """Joined back to the dictionaries, conn_n and tls_n give the rows of conn and tls, string for
    string, except the connections whose service is DNS (no stage makes an event of them), which still
    bound the store's time span. Bytes: Zeek's payload bytes, a Suricata flow's bytes on the wire."""
    scen = build_scenario("mixed", seed=3, hours=6.0)
    store = Store()
    con = store.con
    load_into_store(scen, con)
    _conn(con, "Cdns", 9e9, "10.9.9.9", "10.0.0.53", "dns")                 # the latest row of all
    _conn(con, "Csuri", 1e9, "10.9.9.8", "2001:db8::1", "tls", "suricata")
    con.execute("INSERT INTO tls (epoch, uid, src, dst, dst_port, server_name, ja3, ja4, sensor) VALUES "
                "(1e9, 'Csuri', '10.9.9.8', '2001:db8::1', 443, '', '', NULL, 'suricata')")
    narrow_mod.narrow(con)
    conn_back = con.execute(
        "SELECT c.uid, c.epoch, s.addr, d.addr, c.dst_port, c.duration, c.orig_bytes, c.resp_bytes, c.suri "
        "FROM conn_n c JOIN scan_addr_dict s ON s.addr_id = c.src_id JOIN scan_addr_dict d ON d.addr_id = c.dst_id"
    ).fetchall()
    conn_logged = con.execute(
        "SELECT uid, epoch, src, dst, dst_port, duration, CASE WHEN sensor = 'suricata' THEN orig_ip_bytes "
        "ELSE orig_bytes END, CASE WHEN sensor = 'suricata' THEN resp_ip_bytes ELSE resp_bytes END, "
        "sensor = 'suricata' FROM conn WHERE coalesce(service, '') <> 'dns'").fetchall()
    assert sorted(conn_back, key=repr) == sorted(conn_logged, key=repr) and len(conn_back) > 1000
    assert ("Csuri", 1e9, "10.9.9.8", "2001:db8::1", 443, 1.5, 110, 120, True) in conn_back
    assert con.execute("SELECT count(*) FROM conn_n WHERE uid = 'Cdns'").fetchone()[0] == 0
    assert con.execute("SELECT max(last_epoch) FROM scan_conn_span").fetchone()[0] == 9e9

    tls_back = con.execute(
        "SELECT t.uid, t.epoch, s.addr, d.addr, n.raw_name, k.ja3, k.ja4 FROM tls_n t "
        "JOIN scan_addr_dict s ON s.addr_id = t.src_id JOIN scan_addr_dict d ON d.addr_id = t.dst_id "
        "LEFT JOIN scan_name_dict n ON n.raw_id = t.raw_id JOIN scan_client_dict k ON k.client_id = t.client_id"
    ).fetchall()
    tls_logged = con.execute(
        "SELECT uid, epoch, src, dst, nullif(server_name, ''), nullif(ja3, ''), nullif(ja4, '') FROM tls").fetchall()
    assert sorted(tls_back, key=repr) == sorted(tls_logged, key=repr) and len(tls_back) > 1000
    assert ("Csuri", 1e9, "10.9.9.8", "2001:db8::1", None, None, None) in tls_back
    for table, id_ in (("scan_addr_dict", "addr_id"), ("scan_name_dict", "raw_id")):
        rows, ids = con.execute(f"SELECT count(*), count(DISTINCT {id_}) FROM {table}").fetchone()
        assert rows == ids, table  # one number per string


def test_narrowing_a_kept_store_again_rebuilds_only_when_its_logs_changed() -> None:
    """A kept store is narrowed once per scan: its dictionaries are rebuilt when the logs changed, and
    conn_n/tls_n are views of the logs (nothing copied)."""
    store = Store()
    con = store.con
    _conn(con, "C1", 1e9, "10.0.0.1", "192.0.2.1", "ssl")
    narrow_mod.narrow(con)
    assert con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name IN ('conn_n', 'tls_n')").fetchone()[0] == 2
    con.execute("INSERT INTO scan_addr_dict VALUES ('a mark', -99)")  # a rebuild would drop it
    narrow_mod.narrow(con)
    assert con.execute("SELECT count(*) FROM scan_addr_dict WHERE addr = 'a mark'").fetchone()[0] == 1
    _conn(con, "C2", 1e9 + 60, "10.0.0.1", "192.0.2.2", "ssl")
    narrow_mod.narrow(con)
    assert con.execute("SELECT count(*) FROM scan_addr_dict WHERE addr = 'a mark'").fetchone()[0] == 0
    assert sorted(r[0] for r in con.execute("SELECT uid FROM conn_n").fetchall()) == ["C1", "C2"]
    assert con.execute("SELECT count(*) FROM scan_addr_dict").fetchone()[0] == 3
    assert con.execute("SELECT count(*) FROM conn").fetchone()[0] == 2  # a kept store keeps its logs


def _conn_scratch(con, uid: str, t: float, src: str, dst: str, service: str, sensor: str = "zeek") -> None:
    """A conn row as a scratch store's ingest writes it: uid hashed, addresses numbered as read."""
    con.execute("INSERT INTO conn (epoch, uid, src, dst, dst_port, service, duration, orig_bytes, resp_bytes,"
                " orig_ip_bytes, resp_ip_bytes, sensor, src_id, dst_id) VALUES (?, hash(?), ?, ?, 443, ?, 1.5,"
                " 10, 20, 110, 120, ?, addr_key(?), addr_key(?))", [t, uid, src, dst, service, sensor, src, dst])


def test_once_batches_were_moved_the_rest_is_moved_too(monkeypatch) -> None:
    """narrow_when_big keeps a scratch store's first batch of conn and tls rows in place: the log
    tables renamed, their strings dropped, empty logs in their place; narrow() adds the rest to them
    and empties the logs again. A connection whose service is DNS is left out, a Suricata flow counts
    its bytes on the wire. A store whose rows were not numbered as they were read (not scratch) is not
    batched, and a day that never reached a batch is not copied (views of the logs)."""
    monkeypatch.setattr(narrow_mod, "BATCH_ROWS", 1)
    with Store(scratch=True) as store:
        con = store.con
        for i in range(3):
            _conn_scratch(con, f"C1{i}", 1e9 + i, "10.0.0.1", "192.0.2.1", "ssl")
        _conn_scratch(con, "Cdns", 1e9 + 9, "10.0.0.1", "10.0.0.53", "dns")
        assert narrow_mod.narrow_when_big(con)
        assert con.execute("SELECT (SELECT count(*) FROM conn), (SELECT count(*) FROM conn_n)").fetchone() == (0, 3)
        # kept in place, not copied: the DNS row is deleted in the same table (a quarter: DEAD_SHARE)
        assert con.execute("SELECT estimated_size FROM duckdb_tables() WHERE table_name = 'conn_moved'").fetchone()[0] == 4
        kinds = dict(con.execute("SELECT table_name, 'TABLE' FROM duckdb_tables() UNION ALL "
                                 "SELECT view_name, 'VIEW' FROM duckdb_views()").fetchall())
        assert [kinds.get(t) for t in ("conn_moved", "tls_moved", "conn_n", "tls_n", "conn", "tls")] == \
            ["TABLE", "TABLE", "VIEW", "VIEW", "TABLE", "TABLE"]
        kept = [r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'conn_moved'"
                                          " ORDER BY column_index").fetchall()]
        assert sorted(kept) == sorted(narrow_mod._KEEP["conn"]) and "src" not in kept  # the strings dropped
        _conn_scratch(con, "C2", 1e9 + 60, "10.0.0.1", "192.0.2.2", "ssl")
        _conn_scratch(con, "C3", 1e9 + 90, "10.0.0.3", "192.0.2.2", "tls", sensor="suricata")
        narrow_mod.narrow(con)  # the new rows are added, not the table rebuilt
        assert con.execute("SELECT (SELECT count(*) FROM conn), (SELECT count(*) FROM conn_n)").fetchone() == (0, 5)
        back = con.execute("SELECT s.addr, d.addr, c.orig_bytes, c.resp_bytes, c.suri FROM conn_n c "
                           "JOIN scan_addr_dict s ON s.addr_id = c.src_id JOIN scan_addr_dict d ON d.addr_id = c.dst_id "
                           "ORDER BY c.epoch").fetchall()
        assert back == [("10.0.0.1", "192.0.2.1", 10, 20, False)] * 3 + [
            ("10.0.0.1", "192.0.2.2", 10, 20, False), ("10.0.0.3", "192.0.2.2", 110, 120, True)]
        assert con.execute("SELECT count(*) FROM scan_addr_dict").fetchone()[0] == 5  # the DNS server's too
    with Store(scratch=True) as store:  # half of the batch DNS: its other rows copied, the table dropped
        _conn_scratch(store.con, "C1", 1e9, "10.0.0.1", "192.0.2.1", "ssl")
        _conn_scratch(store.con, "Cdns", 1e9 + 1, "10.0.0.1", "10.0.0.53", "dns")
        assert narrow_mod.narrow_when_big(store.con)
        assert store.con.execute("SELECT estimated_size, (SELECT count(*) FROM conn_n) FROM duckdb_tables() "
                                 "WHERE table_name = 'conn_moved'").fetchone() == (1, 1)
    with Store() as store:
        _conn(store.con, "C1", 1e9, "10.0.0.1", "192.0.2.1", "ssl")
        assert not narrow_mod.narrow_when_big(store.con)
    monkeypatch.setattr(narrow_mod, "BATCH_ROWS", 10)
    with Store(scratch=True) as store:
        con = store.con
        _conn_scratch(con, "C1", 1e9, "10.0.0.1", "192.0.2.1", "ssl")
        assert not narrow_mod.narrow_when_big(con)
        narrow_mod.narrow(con)
        assert con.execute("SELECT (SELECT count(*) FROM conn), (SELECT count(*) FROM conn_n)").fetchone() == (1, 1)
        assert con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name IN ('conn_n', 'tls_n')").fetchone()[0] == 2
