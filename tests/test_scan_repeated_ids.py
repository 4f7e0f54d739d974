"""Connection ids (Zeek uid, Suricata flow_id) that repeat within a log: stage 21 joins the logs on the
id, and a repeated id paired every copy with every other (sql/21_events_2_conn.sql, $repeated_ids;
analyzer.scan.repeated_ids decides). Found by fuzzing: 20k rows sharing one uid were 400M events and
tens of GB of spill; a log concatenated with itself counted each connection four times; two hosts
whose connections shared ids were credited with each other's names."""

from __future__ import annotations

from pathlib import Path

from analyzer.ingest import ingest_paths
from analyzer.narrow import narrow
from analyzer import scan
from analyzer.scan import ScanOptions, repeated_ids, run_scan
from analyzer.simulate import build_scenario, write_logs
from analyzer.store import Store

T0 = 1_800_000_000.0
JA4_GO = "t13d1812h1_85036bcba153_375ca2c5e164"
JA4_CHROME = "t13d1516h2_8daaf6152771_02713d6af862"
CONN_FIELDS = (["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration",
                "orig_bytes", "resp_bytes", "conn_state"],
               ["time", "string", "addr", "port", "addr", "port", "enum", "string", "interval", "count", "count",
                "string"])
SSL_FIELDS = (["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "server_name", "ja4"],
              ["time", "string", "addr", "port", "addr", "port", "string", "string"])


def _zeek(path: Path, kind: str, fields: tuple[list[str], list[str]], rows: list[list[str]]) -> None:
    head = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", f"#path\t{kind}",
            "#fields\t" + "\t".join(fields[0]), "#types\t" + "\t".join(fields[1])]
    path.write_text("\n".join(head + ["\t".join(r) for r in rows]) + "\n", encoding="utf-8")


def _channel(src: str, dst: str, sni: str, ja4: str, times: list[float], uid) -> tuple[list, list]:
    conn, ssl = [], []
    for i, t in enumerate(times):
        conn.append([f"{t:.6f}", uid(i), src, str(40000 + i % 20000), dst, "443", "tcp", "ssl", "0.3", "420", "900",
                     "SF"])
        ssl.append([f"{t + 0.02:.6f}", uid(i), src, str(40000 + i % 20000), dst, "443", sni, ja4])
    return conn, ssl


def _scan_dir(d: Path) -> tuple[list[tuple], bool]:
    with Store(scratch=True) as store:
        ingest_paths(store, [d])
        narrow(store.con)
        seen = repeated_ids(store.con)
        result = run_scan(store, ScanOptions(min_score=0.0, release_logs=True))
    return [(f.src, f.host, f.kind, f.connections, round(f.period_s or 0)) for f in result.findings], seen


def _implant_and_browser() -> tuple[tuple[list, list], tuple[list, list]]:
    """(conn, ssl) rows of a 60 s implant on 10.1.10.12 to abc.workers.dev (300 check-ins) and of a
    person on 10.1.20.5 browsing www.wikipedia.org (60 visits), whose connections have the same ids."""
    times = [T0 + 60.0 * i + (i * 7919 % 13) for i in range(300)]
    implant = _channel("10.1.10.12", "104.21.9.9", "abc.workers.dev", JA4_GO, times, lambda i: f"C{i}")
    browse_times = [T0 + 37.0 + 283.0 * i + (i * 104729 % 211) for i in range(60)]
    browser = _channel("10.1.20.5", "198.35.26.96", "www.wikipedia.org", JA4_CHROME, browse_times, lambda i: f"C{i}")
    return implant, browser


def _by_src(found: list[tuple]) -> dict[str, list[tuple]]:
    by_src: dict[str, list[tuple]] = {}
    for src, host, kind, conns, _period in found:
        by_src.setdefault(src, []).append((host, kind, conns))
    return by_src


def _assert_own_names(by_src: dict[str, list[tuple]]) -> None:
    """The implant is a beacon of its 300 connections; each host is credited with its own name only,
    and the implant's connections are not the browser's."""
    assert ("abc.workers.dev", "beacon", 300) in by_src["10.1.10.12"]
    assert all(host == "abc.workers.dev" for host, _k, _c in by_src["10.1.10.12"])
    assert all(host != "abc.workers.dev" for host, _k, _c in by_src.get("10.1.20.5", []))


def _spy_join_check(monkeypatch) -> list[bool]:
    """What each call of analyzer.scan.join_multiplied answered, in order (the check itself runs)."""
    answers: list[bool] = []
    real = scan.join_multiplied

    def spy(con, values) -> bool:
        answers.append(real(con, values))
        return answers[-1]
    monkeypatch.setattr(scan, "join_multiplied", spy)
    return answers


def test_a_log_concatenated_with_itself_counts_each_connection_once(tmp_path: Path) -> None:
    scen = build_scenario("mixed", seed=7, hours=24.0)
    once, twice = tmp_path / "once", tmp_path / "twice"
    write_logs(scen, once)
    write_logs(scen, twice)
    for name in ("conn.log", "ssl.log"):   # `cat conn.log conn.log > conn.log`: two header blocks, every row twice
        text = (twice / name).read_text()
        (twice / name).write_text(text + text)
    a, seen_a = _scan_dir(once)
    b, seen_b = _scan_dir(twice)
    assert (seen_a, seen_b) == (False, True)
    assert a and b == a      # the same findings, with the same connection counts and periods


def test_two_hosts_whose_connections_share_ids_keep_their_own_names(tmp_path: Path) -> None:
    implant, browser = _implant_and_browser()
    _zeek(tmp_path / "conn.log", "conn", CONN_FIELDS, implant[0] + browser[0])
    _zeek(tmp_path / "ssl.log", "ssl", SSL_FIELDS, implant[1] + browser[1])
    found, seen = _scan_dir(tmp_path)
    assert seen
    _assert_own_names(_by_src(found))


def test_thousands_of_rows_sharing_one_id_are_as_many_connections(tmp_path: Path) -> None:
    """Each copy paired with every other made rows^2 events (20k: 400M, a scan that never ended):
    here 9M, reported as 9M connections."""
    rows = 3000
    times = [T0 + 20.0 * i for i in range(rows)]       # 16.7 h: all in the default 24 h window
    conn, ssl = _channel("10.1.10.12", "104.21.9.9", "abc.workers.dev", JA4_GO, times, lambda i: "CSAME")
    _zeek(tmp_path / "conn.log", "conn", CONN_FIELDS, conn)
    _zeek(tmp_path / "ssl.log", "ssl", SSL_FIELDS, ssl)
    with Store(scratch=True) as store:
        ingest_paths(store, [tmp_path])
        result = run_scan(store, ScanOptions(min_score=0.0))
    assert [(f.host, f.kind, f.connections, round(f.period_s)) for f in result.findings] == \
        [("abc.workers.dev", "beacon", rows, 20)]


def test_a_day_whose_ids_are_unique_takes_the_plain_join(tmp_path: Path) -> None:
    write_logs(build_scenario("mixed", seed=7, hours=6.0), tmp_path)
    with Store(scratch=True) as store:
        ingest_paths(store, [tmp_path])
        narrow(store.con)
        assert repeated_ids(store.con) is False


def test_repeated_ids_the_sample_misses_are_caught_after_the_join(tmp_path: Path, monkeypatch) -> None:
    """The sample of analyzer.scan.repeated_ids can miss a few hundred copies of one id (or a few ids
    that two hosts share); the join then made more events than the logs have rows, and the stage checks
    that (join_multiplied) and runs again on the deduplicating path. With the sample made to see
    nothing, the findings are those of the sample that sees the repetition: each host has its own name,
    the implant its 300 connections, the 400 rows of one id 400 connections, not 160,000."""
    implant, browser = _implant_and_browser()
    same = _channel("10.1.30.7", "104.21.8.8", "same.workers.dev", JA4_GO, [T0 + 30.0 * i for i in range(400)],
                    lambda i: "CSAME")
    _zeek(tmp_path / "conn.log", "conn", CONN_FIELDS, implant[0] + browser[0] + same[0])
    _zeek(tmp_path / "ssl.log", "ssl", SSL_FIELDS, implant[1] + browser[1] + same[1])
    sampled, seen = _scan_dir(tmp_path)
    assert seen
    monkeypatch.setattr(scan, "repeated_ids", lambda con: False)
    checked = _spy_join_check(monkeypatch)
    missed, _seen = _scan_dir(tmp_path)
    assert checked == [True]
    assert missed == sampled
    by_src = _by_src(missed)
    _assert_own_names(by_src)
    assert [c for host, _k, c in by_src["10.1.30.7"]] == [400]


def test_a_day_whose_ids_are_unique_is_not_joined_twice(tmp_path: Path, monkeypatch) -> None:
    write_logs(build_scenario("mixed", seed=7, hours=6.0), tmp_path)
    checked = _spy_join_check(monkeypatch)
    found, seen = _scan_dir(tmp_path)
    assert found and seen is False and checked == [False]


def test_zeek_logs_concatenated_with_themselves_beside_suricatas_count_each_connection_once(tmp_path: Path) -> None:
    """Two sensors on one link, Zeek's conn.log and ssl.log each concatenated with itself: every Zeek
    connection has a Suricata twin (scan_zeek_twins, joined to Zeek's rows: listed once per uid) and two
    copies of itself. The findings are those of the logs written once."""
    scen = build_scenario("mixed", seed=3, hours=6.0)
    once, twice = tmp_path / "once", tmp_path / "twice"
    for d in (once, twice):
        write_logs(scen, d / "zeek", fmt="zeek-tsv")
        write_logs(scen, d / "eve", fmt="eve")
    for name in ("conn.log", "ssl.log"):
        text = (twice / "zeek" / name).read_text()
        (twice / "zeek" / name).write_text(text + text)
    a, _ = _scan_dir(once)
    b, seen = _scan_dir(twice)
    assert seen and sum(kind == "beacon" for _s, _h, kind, _c, _p in a) > 3
    assert b == a
