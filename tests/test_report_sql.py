"""The report's SQL stages (sql/50..59) on a seeded store, and the scenario builder the other
report tests share (``seed_store`` / ``scenario_findings``)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from analyzer.findings import Finding, ScanResult
from analyzer.report.health import collect_health
from analyzer.report.history import load_history, record_run
from analyzer.report.model import channel_times
from analyzer.sqlfiles import list_sql, read_sql
from analyzer.store import Store

DAY = datetime(2026, 11, 27, tzinfo=timezone.utc)
T0 = DAY.timestamp()
BEACON_SRC, BEACON_HOST, BEACON_JA4 = "10.0.0.5", "upd.acme-ops.workers.dev", "t13d1516h2_8daaf6152771_02713d6af862"
BROWSER_JA4 = "t13d1517h2_8daaf6152771_b0da82dd1658"
DNS_SRC, DNS_HOST = "10.0.0.7", "x1.example-fn.azurewebsites.net"
IP_SRC, IP_DST, IP_PORT = "10.0.0.9", "203.0.113.50", 8443
QUIET_AT = 3  # the suricata sensor stops at 03:00


def _ts(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).replace(tzinfo=None)


def seed_store(store: Store, *, seed: int = 7, hostile: dict[str, str] | None = None) -> dict[str, list[float]]:
    """Fill a store with one day of known traffic; returns the true start times per channel.

    - beacon: BEACON_SRC -> BEACON_HOST, JA4 BEACON_JA4, every 300 s +-20 %, conn + tls (zeek);
    - browser: same source and host, another JA4, 40 random visits (must not leak into the beacon);
    - dns-only: DNS_SRC queries DNS_HOST every 600 s (zeek dns);
    - ip-only: IP_SRC -> IP_DST:IP_PORT every 900 s (zeek conn);
    - suricata conn rows every 10 min until 03:00, then nothing (a sensor that went quiet).
    ``hostile`` strings replace the rejected line text and a file path, for the injection test.
    """
    rng = random.Random(seed)
    hostile = hostile or {}
    conn, tls, dns = [], [], []
    truth: dict[str, list[float]] = {"beacon": [], "browser": [], "dns": [], "ip": []}
    t, n = T0 + 17, 0
    while t < T0 + 86400:
        uid = f"Cb{n}"
        truth["beacon"].append(t)
        conn.append((_ts(t), t, uid, BEACON_SRC, 50000 + n % 1000, "104.21.1.1", 443, "tcp", "ssl", "zeek"))
        tls.append((_ts(t + 0.05), t + 0.05, uid, BEACON_SRC, 50000 + n % 1000, "104.21.1.1", 443,
                    BEACON_HOST.upper() + ".", None, BEACON_JA4, "zeek"))
        t += 300 * (1 + rng.uniform(-0.2, 0.2))
        n += 1
    for i in range(40):
        t = T0 + rng.uniform(8 * 3600, 18 * 3600)
        uid = f"Cw{i}"
        truth["browser"].append(t)
        conn.append((_ts(t), t, uid, BEACON_SRC, 40000 + i, "104.21.1.1", 443, "tcp", "ssl", "zeek"))
        tls.append((_ts(t), t, uid, BEACON_SRC, 40000 + i, "104.21.1.1", 443, BEACON_HOST, None, BROWSER_JA4, "zeek"))
    for i in range(144):
        t = T0 + 600 * i + 5
        truth["dns"].append(t)
        dns.append((_ts(t), t, f"Cd{i}", DNS_SRC, 53000 + i, "10.0.0.1", 53, "udp", DNS_HOST, "A", "NOERROR", "zeek"))
    for i in range(96):
        t = T0 + 900 * i + 11
        truth["ip"].append(t)
        conn.append((_ts(t), t, f"Ci{i}", IP_SRC, 30000 + i, IP_DST, IP_PORT, "tcp", None, "zeek"))
    for i in range(QUIET_AT * 6):
        t = T0 + 600 * i + 1
        conn.append((_ts(t), t, f"S{i}", "10.0.1.1", 20000 + i, "198.51.100.1", 443, "tcp", None, "suricata"))
    store.con.executemany(
        "INSERT INTO conn (ts, epoch, uid, src, src_port, dst, dst_port, proto, service, sensor) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", conn)
    store.con.executemany(
        "INSERT INTO tls (ts, epoch, uid, src, src_port, dst, dst_port, server_name, ja3, ja4, sensor) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", tls)
    store.con.executemany(
        "INSERT INTO dns (ts, epoch, uid, src, src_port, dst, dst_port, proto, query, qtype, rcode, sensor) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", dns)
    files = [
        (1, "/logs/2026-11-27/conn.log.gz", "conn", "zeek-tsv", 1000, "a", len(conn) - QUIET_AT * 6,
         len(conn) - QUIET_AT * 6, 0, 0, "loaded", None),
        (2, "/logs/2026-11-27/ssl.log.gz", "ssl", "zeek-tsv", 1000, "b", len(tls) + 2, len(tls), 2, 0, "loaded", None),
        (3, "/logs/2026-11-27/dns.log", "dns", "zeek-tsv", 1000, "c", len(dns), len(dns), 0, 0, "loaded", None),
        (4, hostile.get("path", "/logs/eve.json"), "eve", "eve", 1000, "d", QUIET_AT * 6, QUIET_AT * 6, 0, 12,
         "loaded", hostile.get("reason")),
        (5, "/logs/2026-11-27/notice.log", None, "zeek-tsv", 10, "e", 0, 0, 0, 0, "skipped", "unknown log kind: notice"),
    ]
    # the files' rows span the day (a skipped file has none), all loaded the morning after
    day = (DAY.replace(tzinfo=None), (DAY + timedelta(hours=23, minutes=59)).replace(tzinfo=None))
    loaded_at = (DAY + timedelta(days=1, hours=6)).replace(tzinfo=None)
    files = [(*f, *(day if f[10] == "loaded" else (None, None)), loaded_at) for f in files]
    store.con.executemany(
        "INSERT INTO ingest_files (file_id, path, kind, format, size_bytes, head_sha256, data_lines, rows_loaded, "
        "lines_rejected, skipped_events, status, reason, min_ts, max_ts, loaded_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", files)
    store.con.executemany(
        "INSERT INTO ingest_rejects (file_id, line, reason, text) VALUES (?, ?, ?, ?)",
        [(2, 9, "bad timestamp", hostile.get("text", "notatime\tCx\t10.0.0.5")),
         (2, 14, hostile.get("reject_reason", "wrong field count"), "1700000000.1\tCy")])
    return truth


def scenario_findings() -> list[Finding]:
    """Findings as scan would report them for :func:`seed_store`'s channels."""
    def mk(**kw) -> Finding:
        base = dict(src=BEACON_SRC, host=BEACON_HOST, platform="Cloudflare Workers", tenant="acme-ops",
                    category="faas-edge", score=0.91, severity="high", connections=0, period_s=300.0,
                    jitter=0.11, first_seen=DAY, last_seen=DAY + timedelta(hours=23, minutes=59),
                    user_agent=None, ja3=None, ja4=BEACON_JA4, bytes_out=52000, bytes_in=81000,
                    reasons=["regular 5m beacon, jitter 11%", "non-browser TLS fingerprint"],
                    sources=["conn", "ssl"])
        base.update(kw)
        return Finding(**base)

    return [
        mk(connections=288),
        mk(src=DNS_SRC, host=DNS_HOST, platform="Azure Functions", tenant="example-fn", severity="medium",
           score=0.62, period_s=600.0, jitter=0.0, ja4=None, sources=["dns"], reasons=["periodic DNS queries"]),
        mk(src=IP_SRC, host=None, dst=IP_DST, dst_port=IP_PORT, platform=None, tenant=None,
           category="non-serverless", severity="low", score=0.41, period_s=900.0, jitter=0.0, ja4=None,
           sources=["conn"], reasons=["regular 15m beacon to an address"]),
    ]


def scenario_result() -> ScanResult:
    return ScanResult(findings=scenario_findings(), window_start=DAY, window_end=DAY + timedelta(days=1),
                      channels_scored=57, hosts=12, suppressed={"ua \"GitHub-Actions\"": 2})


@pytest.fixture
def store():
    with Store() as s:
        yield s


def test_every_report_sql_file_parses_and_runs(store):
    """Each of sql/50..59 runs (with its parameters) on a seeded store."""
    seed_store(store)
    names = [n for n in list_sql() if n[:2].isdigit() and 50 <= int(n[:2]) <= 59]
    assert len(names) == 12
    findings = scenario_findings()
    for f in findings:
        channel_times(store, f, DAY, DAY + timedelta(days=1))          # 50
    collect_health(store.con, DAY, DAY + timedelta(days=1))            # 51-54
    load_history(store.con, ["k"])                                     # 56-57 before the tables exist
    record_run(store.con, findings, DAY, DAY, DAY)                     # 55, 58, 59
    assert load_history(store.con, ["k"]).earlier_reports == 1         # 56-57 with them
    # a report of the very same window is a re-run: not an earlier report, and it replaces that one
    assert load_history(store.con, ["k"], DAY, DAY).earlier_reports == 0
    record_run(store.con, findings, DAY + timedelta(hours=1), DAY, DAY)
    assert store.con.execute("SELECT count(*) FROM report_runs").fetchone() == (1,)
    assert store.con.execute("SELECT count(DISTINCT run_id), count(*) FROM report_channels").fetchone() == \
        (1, len(findings))
    assert read_sql("55_report_history_schema").count("CREATE TABLE IF NOT EXISTS") == 2


def test_channel_times_follow_the_fingerprint_not_the_browser(store):
    truth = seed_store(store)
    beacon = scenario_findings()[0]
    times = channel_times(store, beacon, DAY, DAY + timedelta(days=1))
    assert times.origin == "conn"                         # timed by conn starts, joined on uid
    assert times.epochs == pytest.approx(truth["beacon"])  # exactly the beacon, none of the 40 visits
    browser = Finding(**{**beacon.__dict__, "ja4": BROWSER_JA4})
    assert channel_times(store, browser, None, None).epochs == pytest.approx(sorted(truth["browser"]))


def test_channel_times_say_which_logs_timed_them_when_conn_hours_are_missing(store):
    """conn.log lost its morning: the handshakes time those hours, and the card must say so ("timed by
    conn 1083 (1445 in store)" sent an analyst to count conn rows that are not there)."""
    truth = seed_store(store)
    beacon = scenario_findings()[0]
    store.con.execute("DELETE FROM conn WHERE uid LIKE 'Cb%' AND epoch < $t", {"t": T0 + 6 * 3600})
    times = channel_times(store, beacon, DAY, DAY + timedelta(days=1))
    morning = sum(1 for t in truth["beacon"] if t < T0 + 6 * 3600)
    assert times.epochs == pytest.approx([t + (0.05 if t < T0 + 6 * 3600 else 0) for t in truth["beacon"]])
    assert times.by_log == (("conn", len(truth["beacon"]) - morning), ("tls", morning))
    assert times.described == f"conn {len(truth['beacon']) - morning}, tls {morning}" and times.origin == "conn"
    whole = channel_times(store, scenario_findings()[1], None, None)
    assert whole.described == "dns" and whole.by_log == (("dns", len(truth["dns"])),)


def test_channel_times_window_bounds(store):
    truth = seed_store(store)
    beacon = scenario_findings()[0]
    noon = DAY + timedelta(hours=12)
    times = channel_times(store, beacon, DAY, noon)
    assert times.epochs == pytest.approx([t for t in truth["beacon"] if t < noon.timestamp()])
    assert times.epochs and max(times.epochs) < noon.timestamp()


def test_channel_times_dns_only_and_ip_only(store):
    truth = seed_store(store)
    _, dns_f, ip_f = scenario_findings()
    dns_times = channel_times(store, dns_f, None, None)
    assert dns_times.origin == "dns" and dns_times.epochs == pytest.approx(truth["dns"])
    ip_times = channel_times(store, ip_f, None, None)
    assert ip_times.origin == "conn" and ip_times.epochs == pytest.approx(truth["ip"])
    nothing = Finding(**{**ip_f.__dict__, "dst_port": 1})
    assert channel_times(store, nothing, None, None).epochs == []
    # connections to that address a Host names are another channel's: not plotted with the address's
    store.con.execute("INSERT INTO http (ts, epoch, uid, src, src_port, dst, dst_port, host, sensor)"
                      " SELECT ts, epoch, uid, src, src_port, dst, dst_port, 'feed.example.net', 'zeek'"
                      " FROM conn WHERE uid IN ('Ci0', 'Ci1')")
    assert channel_times(store, ip_f, None, None).epochs == pytest.approx(truth["ip"][2:])


def test_coverage_shows_the_sensor_that_went_quiet(store):
    seed_store(store)
    health = collect_health(store.con, DAY, DAY + timedelta(days=1))
    streams = {(s.kind, s.sensor): s for s in health.coverage}
    assert set(streams) == {("conn", "zeek"), ("ssl", "zeek"), ("dns", "zeek"), ("conn", "suricata")}
    assert all(len(s.hours) == 24 for s in streams.values())          # zero-filled, whole window
    quiet = [g for g in health.gaps if g.sensor == "suricata"]
    assert len(quiet) == 1
    assert quiet[0].start == DAY + timedelta(hours=QUIET_AT) and quiet[0].hours == 24 - QUIET_AT
    assert quiet[0].to_window_end
    assert not [g for g in health.gaps if g.sensor == "zeek" and g.kind in ("conn", "dns")]


def test_ingest_health_counts_and_rejects(store):
    seed_store(store)
    health = collect_health(store.con, None, None)
    kinds = {k.kind: k for k in health.kinds}
    assert kinds["ssl"].lines_rejected == 2 and kinds["ssl"].files_with_rejects == 1
    assert kinds["(skipped)"].files == 1
    assert health.total_rejected == 2
    assert [f.path for f in health.files][:1] == ["/logs/2026-11-27/ssl.log.gz"]   # worst first
    assert "/logs/2026-11-27/notice.log" in [f.path for f in health.files]
    assert "/logs/2026-11-27/dns.log" not in [f.path for f in health.files]         # healthy: not listed
    assert [(r.line, r.reason) for r in health.rejects] == [(9, "bad timestamp"), (14, "wrong field count")]


def test_a_sensor_silent_for_the_whole_window_still_shows(store):
    seed_store(store)
    next_day = DAY + timedelta(days=1)
    health = collect_health(store.con, next_day, next_day + timedelta(hours=6))
    assert {(s.kind, s.sensor) for s in health.coverage} >= {("conn", "suricata"), ("conn", "zeek")}
    assert all(g.hours == 6 and g.to_window_end for g in health.gaps)
    assert len(health.gaps) == len(health.coverage) == 4


def test_window_edges_count_only_hours_mostly_inside(store):
    """A scan window ending 1 ms after the last row must not invent an empty sliver hour."""
    seed_store(store)
    start = DAY - timedelta(milliseconds=1)
    health = collect_health(store.con, start, start + timedelta(days=1))
    zeek = next(s for s in health.coverage if (s.kind, s.sensor) == ("conn", "zeek"))
    assert zeek.hours[0][0] == DAY and len(zeek.hours) == 24
    assert [g for g in health.gaps if g.sensor == "zeek" and g.kind == "conn"] == []


def test_hours_before_the_store_begins_are_not_gaps(store):
    """A 24 h window over a store that starts at 00:00 the same day reports no leading gap."""
    seed_store(store)
    health = collect_health(store.con, DAY - timedelta(hours=12), DAY + timedelta(hours=12))
    zeek = next(s for s in health.coverage if (s.kind, s.sensor) == ("conn", "zeek"))
    assert zeek.hours[0][0] == DAY and len(zeek.hours) == 12
    assert [g for g in health.gaps if g.sensor == "zeek"] == []


def _tls_rows(store: Store, src: str, names_times: list[tuple[str, float]], ja4: str) -> None:
    store.con.executemany(
        "INSERT INTO tls (ts, epoch, uid, src, dst, dst_port, server_name, ja4, sensor) "
        "VALUES (?, ?, ?, ?, '104.21.9.9', 443, ?, ?, 'zeek')",
        [(_ts(t), t, f"R{i}", src, name, ja4) for i, (name, t) in enumerate(names_times)])


def test_channel_times_follow_tenant_rotation_via_name_matches(store):
    """Workers of one account rotating: one channel, timed across all its names."""
    from analyzer.report.model import channel_names

    rotation = [(f"w{i % 3}.acme-ops.workers.dev", T0 + 60 * i) for i in range(30)]
    _tls_rows(store, "10.3.3.3", rotation + [("other.evil.workers.dev", T0 + 5)], BEACON_JA4)
    finding = replace(scenario_findings()[0], src="10.3.3.3", host="w0.acme-ops.workers.dev")
    assert len(channel_times(store, finding, None, None).epochs) == 10      # no name_matches: host only
    store.con.execute("CREATE TABLE name_matches (raw_name VARCHAR, platform VARCHAR, tenant VARCHAR)")
    store.con.executemany("INSERT INTO name_matches VALUES (?, ?, ?)",
                          [(f"W{i}.acme-ops.workers.dev", "Cloudflare Workers", "acme-ops") for i in range(3)]
                          + [("other.evil.workers.dev", "Cloudflare Workers", "evil")])
    assert channel_names(store, finding) == [f"w{i}.acme-ops.workers.dev" for i in range(3)]
    times = channel_times(store, finding, None, None)
    assert times.epochs == pytest.approx([t for _, t in rotation])         # all 30, not the other tenant


def test_channel_times_follow_a_redirect_pair(store):
    pair = [("script.google.com" if i % 2 == 0 else "script.googleusercontent.com", T0 + 300 * i) for i in range(8)]
    _tls_rows(store, "10.4.4.4", pair, BEACON_JA4)
    finding = replace(scenario_findings()[0], src="10.4.4.4", host="script.google.com", platform="Google Apps Script",
                      tenant=None)
    assert len(channel_times(store, finding, None, None).epochs) == 8


def test_channel_times_include_the_later_requests_of_a_kept_alive_connection(store):
    """The timeline shows what the scan timed: a plain-HTTP implant's requests on its one kept-alive
    connection, each after 5 s or more of quiet; a page load's follow-up requests within a second are
    part of the request before them, as in stage 21."""
    src, host, ua = "10.0.0.20", "edge.acct.azurewebsites.net", "Go-http-client/1.1"
    beats = [T0 + 100 + 45 * i for i in range(30)]
    store.con.execute("INSERT INTO conn (epoch, uid, src, dst, dst_port, proto, service, sensor) "
                      "VALUES (?, 'Ck', ?, '20.1.1.1', 80, 'tcp', 'http', 'zeek')", [beats[0], src])
    store.con.executemany(
        "INSERT INTO http (epoch, uid, src, dst, dst_port, method, host, user_agent, sensor) "
        "VALUES (?, 'Ck', ?, '20.1.1.1', 80, 'POST', ?, ?, 'zeek')",
        [(t + 0.01, src, host, ua) for t in beats] + [(t + 0.4, src, host, ua) for t in beats[::3]])
    finding = Finding(src=src, host=host, platform="Azure Functions", tenant="acct", category="faas-edge",
                      score=0.9, severity="high", connections=1, period_s=45.0, jitter=0.0, first_seen=DAY,
                      last_seen=DAY, user_agent=ua, ja3=None, ja4=None, bytes_out=0, bytes_in=0, reasons=[],
                      sources=["conn", "http"])
    times = channel_times(store, finding, None, None)
    assert times.epochs == pytest.approx([beats[0]] + [t + 0.01 for t in beats[1:]])
    assert times.origin == "http"


def test_channel_times_count_a_connection_two_sensors_logged_once(store):
    """Zeek and Suricata on one link: Suricata's records of the beacon's connections (its flow starts a
    few ms off Zeek's, under its own flow_id) and of the DNS channel's queries are the same check-ins,
    not a second set at zero-second gaps; a Suricata record with no Zeek one near it (a connection Zeek
    dropped) is a check-in of its own. A channel Suricata alone saw keeps every record."""
    truth = seed_store(store)
    beacon, dns_f, ip_f = scenario_findings()
    conn, tls, dns = [], [], []
    for i, t in enumerate(truth["beacon"]):
        s = t + 0.003
        conn.append((_ts(s), s, f"{9000 + i}", BEACON_SRC, 50000 + i % 1000, "104.21.1.1", 443, "tcp", "suricata"))
        tls.append((_ts(s + 0.05), s + 0.05, f"{9000 + i}", BEACON_SRC, 50000 + i % 1000, "104.21.1.1", 443,
                    BEACON_HOST, None, BEACON_JA4, "suricata"))
    dropped = T0 + 86400 - 100.0  # after the beacon's last Zeek record: only Suricata saw it
    conn.append((_ts(dropped), dropped, "8999", BEACON_SRC, 49999, "104.21.1.1", 443, "tcp", "suricata"))
    tls.append((_ts(dropped), dropped, "8999", BEACON_SRC, 49999, "104.21.1.1", 443, BEACON_HOST, None, BEACON_JA4,
                "suricata"))
    for t in truth["dns"]:
        dns.append((_ts(t + 0.001), t + 0.001, None, DNS_SRC, 53001, "10.0.0.1", 53, "udp", DNS_HOST, "A", "NOERROR",
                    "suricata"))
    only_suri = [T0 + 7 * 3600 + 60 * i for i in range(5)]  # a channel only Suricata saw
    for i, t in enumerate(only_suri):
        conn.append((_ts(t), t, f"7{i}", "10.0.2.2", 31000 + i, "192.0.2.7", 8080, "tcp", "suricata"))
    store.con.executemany("INSERT INTO conn (ts, epoch, uid, src, src_port, dst, dst_port, proto, sensor) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", conn)
    store.con.executemany("INSERT INTO tls (ts, epoch, uid, src, src_port, dst, dst_port, server_name, ja3, ja4, "
                          "sensor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", tls)
    store.con.executemany("INSERT INTO dns (ts, epoch, uid, src, src_port, dst, dst_port, proto, query, qtype, "
                          "rcode, sensor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", dns)

    times = channel_times(store, beacon, DAY, DAY + timedelta(days=1))
    assert times.epochs == pytest.approx(sorted(truth["beacon"] + [dropped]))
    assert channel_times(store, dns_f, None, None).epochs == pytest.approx(truth["dns"])
    alone = Finding(**{**ip_f.__dict__, "src": "10.0.2.2", "dst": "192.0.2.7", "dst_port": 8080})
    assert channel_times(store, alone, None, None).epochs == pytest.approx(only_suri)


def test_health_shows_the_files_of_the_window_and_this_runs_unreadable_ones(store):
    """A nightly report on a kept store listed every file the store ever loaded: a week-old night's
    rejected lines stayed under "Files to check" in every later report. The files of the window are
    those with rows in it, and those with no rows (skipped) loaded with or after them; a file of this
    run that could not be read at all (no row in the store: its load was rolled back) is named too."""
    seed_store(store)
    week = (DAY - timedelta(days=7)).replace(tzinfo=None)
    store.con.execute(
        "INSERT INTO ingest_files (file_id, path, kind, format, size_bytes, head_sha256, data_lines, rows_loaded,"
        " lines_rejected, skipped_events, status, reason, min_ts, max_ts, loaded_at) VALUES"
        " (90, '/logs/old/conn.log', 'conn', 'zeek-tsv', 10, 'z', 5, 3, 2, 0, 'loaded', NULL, ?, ?, ?),"
        " (91, '/logs/old/x509.log', NULL, 'zeek-tsv', 10, 'y', 0, 0, 0, 0, 'skipped', 'unsupported', NULL, NULL, ?)",
        [week, week + timedelta(hours=23), week + timedelta(days=1), week + timedelta(days=1)])
    store.con.execute("INSERT INTO ingest_rejects VALUES (90, 4, 'week-old damage', 'x')")
    night = collect_health(store.con, DAY, DAY + timedelta(days=1),
                           failed=[("/logs/2026-11-27/http.23.log.gz", "cannot read: nothing decompresses")])
    paths = [f.path for f in night.files]
    assert "/logs/old/conn.log" not in paths and "/logs/old/x509.log" not in paths
    assert "/logs/2026-11-27/notice.log" in paths and paths[0] == "/logs/2026-11-27/http.23.log.gz"
    assert night.files[0].status == "failed" and "nothing decompresses" in night.files[0].reason
    assert all(r.reason != "week-old damage" for r in night.rejects) and night.rejects
    assert ("(failed)", 1) in [(k.kind, k.files) for k in night.kinds]
    assert sum(k.files for k in night.kinds if k.kind == "conn") == 1
    whole = collect_health(store.con, None, None)
    assert "/logs/old/conn.log" in [f.path for f in whole.files]
    assert any(r.reason == "week-old damage" for r in whole.rejects)
    assert "(failed)" not in [k.kind for k in whole.kinds]
