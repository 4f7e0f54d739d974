"""The scenario generator writes real, consistent sensor logs, and the same seed gives the same bytes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from analyzer.simulate import FORMATS, build_scenario, write_logs


@pytest.fixture(scope="module")
def demo():
    return build_scenario("demo", seed=7)


def _digest(paths: list[Path]) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a = _digest(write_logs(build_scenario("c2", seed=5, hours=6), tmp_path / "a"))
    b = _digest(write_logs(build_scenario("c2", seed=5, hours=6), tmp_path / "b"))
    c = _digest(write_logs(build_scenario("c2", seed=6, hours=6), tmp_path / "c"))
    assert a == b and a != c


def test_zeek_tsv_header_and_rows(demo, tmp_path: Path) -> None:
    paths = {p.name: p for p in write_logs(demo, tmp_path, "zeek-tsv")}
    assert set(paths) == {"conn.log", "dns.log", "ssl.log", "http.log"}
    lines = paths["ssl.log"].read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#separator \\x09" and lines[4] == "#path\tssl"
    fields = lines[6].split("\t")[1:]
    types = lines[7].split("\t")[1:]
    assert fields[:3] == ["ts", "uid", "id.orig_h"] and len(fields) == len(types)
    assert lines[-1].startswith("#close\t")
    row = lines[8].split("\t")
    assert len(row) == len(fields)
    ts = row[0]
    assert len(ts.split(".")[1]) == 6  # 6-decimal epochs, as Zeek writes them


def test_skip_empty_writes_no_header_only_log(demo, tmp_path: Path) -> None:
    # the demo has no plain HTTP: by default its http.log is a header alone; with skip_empty (the
    # demo commands) it is not written, as Zeek opens a log's file at its first record
    every = {p.name: p for p in write_logs(demo, tmp_path / "all", "zeek-tsv")}
    assert not [x for x in every["http.log"].read_text(encoding="utf-8").splitlines() if not x.startswith("#")]
    kept = {p.name for p in write_logs(demo, tmp_path / "kept", "zeek-tsv", skip_empty=True)}
    assert kept == {"conn.log", "dns.log", "ssl.log"}
    assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == sorted(kept)
    busy = build_scenario("c2", seed=4, hours=2)
    assert {p.name for p in write_logs(busy, tmp_path / "busy", "zeek-tsv", skip_empty=True)} == set(
        p.name for p in write_logs(busy, tmp_path / "busy_all", "zeek-tsv"))


def test_zat_reads_our_tsv(demo, tmp_path: Path) -> None:
    """zat (an independent Zeek reader) parses what we write, value for value."""
    zat = pytest.importorskip("zat.zeek_log_reader")
    paths = {p.name: p for p in write_logs(demo, tmp_path, "zeek-tsv")}
    rows = list(zat.ZeekLogReader(str(paths["dns.log"])).readrows())
    assert len(rows) == len(demo.dns)
    assert rows[0]["query"] == demo.dns[0].query and rows[0]["qtype_name"] == demo.dns[0].qtype


def test_uids_join_conn_to_ssl_and_http(demo, tmp_path: Path) -> None:
    paths = {p.name: p for p in write_logs(demo, tmp_path, "zeek-json")}
    conn = [json.loads(x) for x in paths["conn.log"].read_text().splitlines()]
    ssl = [json.loads(x) for x in paths["ssl.log"].read_text().splitlines()]
    by_uid = {r["uid"]: r for r in conn}
    assert len(by_uid) == len(conn)
    for r in ssl:
        c = by_uid[r["uid"]]
        assert (c["id.orig_h"], c["id.orig_p"], c["id.resp_h"]) == (r["id.orig_h"], r["id.orig_p"], r["id.resp_h"])
        assert c["ts"] <= r["ts"]
    assert "ja4" in ssl[0] and "server_name" in ssl[0]


def test_eve_flow_ids_are_consistent(demo, tmp_path: Path) -> None:
    (path,) = write_logs(demo, tmp_path, "eve")
    events = [json.loads(x) for x in path.read_text().splitlines()]
    kinds = {e["event_type"] for e in events}
    assert kinds == {"flow", "tls", "dns", "http"} or kinds == {"flow", "tls", "dns"}
    flows = {e["flow_id"]: e for e in events if e["event_type"] == "flow"}
    tls = [e for e in events if e["event_type"] == "tls"]
    assert tls and all(e["flow_id"] in flows for e in tls)
    assert all(flows[e["flow_id"]]["src_ip"] == e["src_ip"] for e in tls)
    assert events[0]["timestamp"].endswith("+0000")
    answers = [e for e in events if e["event_type"] == "dns" and e["dns"]["type"] == "answer"]
    assert answers and answers[0]["dns"]["answers"][0]["ttl"] > 0


def test_scenarios_carry_ground_truth() -> None:
    scen = build_scenario("mixed", seed=1, hours=2)
    labels = {t.label for t in scen.truth}
    assert {"appscript-redirect", "rotating-workers", "spoofed-ua", "browsing", "ci-runner"} <= labels
    assert all(scen.start <= f.ts < scen.end + 60 for f in scen.flows)
    with pytest.raises(ValueError):
        build_scenario("nope")
    with pytest.raises(ValueError):
        write_logs(scen, "/tmp", fmt="pcap")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_ingests_to_the_same_rows(fmt: str, tmp_path: Path) -> None:
    ingest = pytest.importorskip("analyzer.ingest")
    from analyzer.store import Store

    scen = build_scenario("c2", seed=3, hours=3)
    store = Store()
    ingest.ingest_paths(store, [str(p) for p in write_logs(scen, tmp_path, fmt)])
    con = store.con
    n_conn = con.execute("SELECT count(*) FROM conn WHERE dst_port <> 53").fetchone()[0]
    n_tls = con.execute("SELECT count(*) FROM tls").fetchone()[0]
    n_dns = con.execute("SELECT count(DISTINCT uid) FROM dns").fetchone()[0]
    assert n_conn == len(scen.flows)
    assert n_tls == sum(1 for f in scen.flows if f.sni)
    assert n_dns == len(scen.dns)
    joined = con.execute("SELECT count(*) FROM conn c JOIN tls t ON t.uid = c.uid").fetchone()[0]
    assert joined == n_tls


@pytest.mark.parametrize("value, written", [
    ("plain.example.com", "plain.example.com"),        # nothing to escape: taken as it is
    ("a\\b", "a\\\\b"), ("tab\there", "tab\\x09here"), ("esc\x1b[2J", "esc\\x1b[2J"),
    ("caf\u00e9", "caf\u00e9"), ("zw\u200bsp", "zw\\xe2\\x80\\x8bsp"),
    ("-", "\\x2d"), ("(empty)", "\\x28empty)"),
])
def test_tsv_values_are_escaped_as_zeek_writes_them(value: str, written: str) -> None:
    from analyzer.simulate import _tsv_escape

    assert _tsv_escape(value) == written
