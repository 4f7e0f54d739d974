"""The scoring SQL stages (sql/20_* .. sql/49_*), one behaviour at a time, on hand-made rows.

Also the rules the SQL is written to: every stage runs, parameters are bound (no tunable numbers
in the SQL), and DuckDB-only functions stay in the one file that says so.
"""

from __future__ import annotations

import itertools
import json
import random
import re
from datetime import datetime, timezone

import pytest

from analyzer.errors import AnalyzerError
from analyzer.scan import BIGINT_RANGE, ECH_SLOTS, LOG_BITS, ScanOptions, ScanParams, prepare_inputs, run_scan, run_stage, score_channels, scoring_stages
from analyzer.sqlfiles import list_sql, read_sql
from analyzer.store import Store

T0 = 1_800_000_000.0
CHROME_JA4 = "t13d1516h2_8daaf6152771_02713d6af862"
TOOL_JA4 = "t13d1812h1_85036bcba153_375ca2c5e164"
CHROME_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


def _conn_tls(con, src: str, name: str | None, times: list[float], ja4: str = TOOL_JA4, size: int = 400,
              dst: str = "104.21.1.1", uid_prefix: str = "") -> None:
    """One conn row (and one ssl row when ``name``) per time, inserted in bulk (unnest of lists)."""
    uids = [f"C{uid_prefix}{src}-{name}-{i}" for i in range(len(times))]
    args = {"t": list(times), "u": uids, "src": src, "dst": dst, "size": size}
    con.execute("INSERT INTO conn (ts, epoch, uid, src, src_port, dst, dst_port, proto, service, duration,"
                " orig_bytes, resp_bytes, conn_state, sensor)"
                " SELECT make_timestamp(CAST(t * 1000000 AS BIGINT)), t, u, $src, 50000, $dst, 443, 'tcp', 'ssl',"
                " 0.3, $size, 300, 'SF', 'zeek' FROM (SELECT unnest($t) AS t, unnest($u) AS u)", args)
    if name is not None:
        con.execute("INSERT INTO tls (ts, epoch, uid, src, src_port, dst, dst_port, server_name, ja4, sensor)"
                    " SELECT make_timestamp(CAST(t * 1000000 AS BIGINT)), t + 0.01, u, $src, 50000, $dst, 443,"
                    " $name, $ja4, 'zeek' FROM (SELECT unnest($t) AS t, unnest($u) AS u)",
                    {"t": list(times), "u": uids, "src": src, "dst": dst, "name": name, "ja4": ja4})


def _dns(con, src: str, name: str, times: list[float], qtype: str = "A", rcode: str = "NOERROR") -> None:
    con.executemany("INSERT INTO dns (ts, epoch, uid, src, dst, dst_port, query, qtype, rcode, answers, ttls, sensor)"
                    " VALUES (?,?,?,?,'10.0.0.53',53,?,?,?,['1.2.3.4'],[300.0],'zeek')",
                    [(datetime.fromtimestamp(t, timezone.utc).replace(tzinfo=None), t, f"D{src}{i}", src, name,
                      qtype, rcode) for i, t in enumerate(times)])


def _run(store: Store, stop_after: str | None = None, params: ScanParams | None = None) -> None:
    prepare_inputs(store.con, ScanOptions())
    score_channels(store.con, T0 - 1, T0 + 10 * 86400, params or ScanParams(), stop_after=stop_after)


def _times(intervals) -> list[float]:
    """Event times from T0 on, one after each interval."""
    return list(itertools.accumulate(intervals, initial=T0))[1:]


def _one(con, sql: str, *args):
    return con.execute(sql, list(args)).fetchone()


# --- the rules ------------------------------------------------------------------------------------


def test_scoring_stages_are_all_the_20_to_49_files_in_order() -> None:
    stages = scoring_stages()
    assert stages == sorted(stages)
    assert stages == [n for n in list_sql() if 20 <= int(n[:2]) <= 49]
    assert stages[0].startswith("20_") and stages[-1].startswith("49_")


def _code(name: str) -> str:
    """The SQL without comments and string literals."""
    sql = re.sub(r"--[^\n]*", "", read_sql(name))
    return re.sub(r"'[^']*'", "''", sql)


@pytest.mark.parametrize("name", scoring_stages() + [n for n in list_sql() if n[:2] in ("03", "04", "05")])
def test_no_magic_numbers(name: str) -> None:
    """Tunables are bound parameters; the only literals left are 0 and 1 (identities, indexes) and the
    quartile levels of percentile_cont (the definition of a median or quartile, not a tunable), alone or
    as the array of the three quartiles, and the positions in that array."""
    code = re.sub(r"percentile_cont\((0\.25|0\.50?|0\.75)\)", "percentile_cont(q)", _code(name))
    code = re.sub(r"percentile_cont\(ARRAY\[0\.25, 0\.50, 0\.75\]\)", "percentile_cont(qs)", code)
    code = re.sub(r"\b(q)\[[123]\]", r"\1[i]", code)  # the quartiles of that array, by position
    numbers = re.findall(r"(?<![\w$.])(\d+(?:\.\d+)?)(?![\w.])", code)
    assert set(numbers) <= {"0", "1", "0.0", "1.0"}, (name, sorted(set(numbers)))


@pytest.mark.parametrize("name", scoring_stages())
def test_every_parameter_has_a_value(name: str) -> None:
    used = set(re.findall(r"\$([a-z_][a-z0-9_]*)", _code(name)))
    ech = {f"ech_{i + 1}" for i in range(ECH_SLOTS)}   # the ECH outer names' numbers (analyzer.scan._ech_values)
    assert used <= set(ScanParams.__dataclass_fields__) | {"t0", "t1", "data_span", "p0_tight", "two_sensors",
                                                          "repeated_ids", "internal_hosts", *BIGINT_RANGE,
                                                          *LOG_BITS, *ech}, name


DUCKDB_ONLY = ("list_entropy", "string_split", "quantile_cont", "median(", "mode(", "arg_max", "arg_min",
               "filter (", "::", "epoch(", "list_", "struct_", "unnest(", "hash(", ">>", "macro", "asof join",
               "rowid")


#: the stages that narrow conn and tls for the scan (analyzer.narrow), held to the same rules
NARROWING_STAGES = [n for n in list_sql() if n[:2] in ("03", "04", "05")]


def test_the_narrowing_stages_exist() -> None:
    assert NARROWING_STAGES[0] == "03_duckdb_keys.sql" and len(NARROWING_STAGES) >= 5


@pytest.mark.parametrize("name", scoring_stages() + NARROWING_STAGES)
def test_duckdb_only_functions_are_isolated(name: str) -> None:
    code = _code(name).lower()
    hits = [f for f in DUCKDB_ONLY if f in code]
    if "duckdb" in name:
        assert hits, f"{name} says DuckDB-only but uses nothing DuckDB-only"
    else:
        assert not hits, (name, hits)


def test_run_stage_refuses_an_unbound_parameter() -> None:
    store = Store()
    with pytest.raises(AnalyzerError, match="t0"):
        run_stage(store.con, next(n for n in scoring_stages() if "$t0" in read_sql(n)), {})


# --- behaviour, stage by stage --------------------------------------------------------------------


def test_events_join_names_by_uid_and_leave_dns_connections_out() -> None:
    store = Store()
    _conn_tls(store.con, "10.0.0.1", "a.b.workers.dev", [T0, T0 + 60])
    _conn_tls(store.con, "10.0.0.1", None, [T0 + 5])  # no TLS row: no name
    store.con.execute("INSERT INTO conn (ts, epoch, uid, src, dst, dst_port, proto, service, sensor) VALUES "
                      "(NULL, ?, 'Cd', '10.0.0.1', '10.0.0.53', 53, 'udp', 'dns', 'zeek')", [T0 + 1])
    _run(store, "21")
    rows = store.con.execute("SELECT n.raw_name, e.by_conn, e.by_ssl FROM scan_events e "
                             "LEFT JOIN scan_raw_names n ON n.raw_id = e.raw_id ORDER BY e.epoch").fetchall()
    assert rows == [("a.b.workers.dev", True, True), (None, True, False), ("a.b.workers.dev", True, True)]


def test_dns_fallback_only_when_there_is_no_connection() -> None:
    store = Store()
    _conn_tls(store.con, "10.0.0.1", "seen.example.com", [T0, T0 + 60])
    _dns(store.con, "10.0.0.1", "seen.example.com", [T0 - 0.1])
    _dns(store.con, "10.0.0.2", "dnsonly.example.com", [T0 + i * 30 for i in range(5)])
    _run(store, "23")
    rows = store.con.execute("SELECT a.addr, n.raw_name, e.by_dns, count(*) FROM scan_events e "
                             "JOIN scan_addrs a ON a.addr_id = e.src_id LEFT JOIN scan_raw_names n ON n.raw_id = e.raw_id "
                             "GROUP BY ALL ORDER BY ALL").fetchall()
    assert rows == [("10.0.0.1", "seen.example.com", False, 2), ("10.0.0.2", "dnsonly.example.com", True, 5)]
    # stage 22 grouped the connections into parts before the queries were added; stage 23 appends
    # the queries' parts: the table is what grouping every event now would give, column for column
    # (no connection here lasts an hour, so no part has a long-lived one: long_conn_s NULL)
    parts = "SELECT * EXCLUDE (answered) FROM scan_parts ORDER BY ALL"
    regrouped = """
        SELECT src_id, raw_id, by_dns, dst_id, dst_port, client_id, ua_id, count(*), min(epoch), max(epoch),
               sum(bytes_out), sum(bytes_in), max(by_conn::INT), max(by_eve::INT), max(by_ssl::INT),
               max(by_http::INT), max(by_answer::INT), sum(by_request::INT), max(duration), max(NULL::DOUBLE)
        FROM scan_events GROUP BY ALL ORDER BY ALL"""
    assert store.con.execute(parts).fetchall() == store.con.execute(regrouped).fetchall()
    assert _one(store.con, "SELECT count(*), sum(cnt) FILTER (WHERE by_dns), sum(answered) FROM scan_parts") == (2, 5, 0)


def test_connections_without_a_name_take_the_name_their_host_resolved() -> None:
    """conn and dns logs only: a beacon to a Worker over its two rotating anycast addresses is one
    channel of the Worker's tenant, named from the host's own DNS answers (answers from just before the
    window count too). An address the host resolved two names to takes the one it resolved last before
    the connection; a host that resolved nothing stays keyed by address; a connection with an SNI keeps
    its SNI."""
    store = Store()
    cf = ["104.21.7.7", "172.67.7.7"]
    store.con.execute("INSERT INTO dns (ts, epoch, uid, src, dst, dst_port, query, qtype, rcode, answers, ttls, sensor)"
                      " SELECT NULL, t, 'D' || t, '10.0.0.1', '10.0.0.53', 53, q, 'A', 'NOERROR', a, [300.0], 'zeek'"
                      " FROM (VALUES (?, 'Beacon.Acct.workers.dev', ?), (?, 'beacon.acct.workers.dev', ?),"
                      "              (?, 'a.shared-cdn.example', ['198.51.100.5']),"
                      "              (?, 'b.shared-cdn.example', ['198.51.100.5'])) v(t, q, a)",
                      [T0 - 5, cf, T0 + 3000, cf[::-1], T0 - 4, T0 - 3])
    times = [T0 + 60 * i for i in range(100)]
    for k, dst in enumerate(cf):
        _conn_tls(store.con, "10.0.0.1", None, times[k::2], dst=dst)              # no ssl row: no SNI
    _conn_tls(store.con, "10.0.0.1", None, times[:10], dst="198.51.100.5")     # ambiguous address
    _conn_tls(store.con, "10.0.0.2", None, times[:10], dst=cf[0])              # never resolved it
    _conn_tls(store.con, "10.0.0.1", "other.example.org", [T0 + 7], dst=cf[0], uid_prefix="s")
    # a host that looks a name up far more often than it connects: its queries are timed (stage 23)
    store.con.execute("INSERT INTO dns (ts, epoch, uid, src, dst, dst_port, query, qtype, rcode, answers, ttls, sensor)"
                      " SELECT NULL, ? + 600 * i, 'Q' || i, '10.0.0.3', '10.0.0.53', 53, 'check.example.net', 'A',"
                      " 'NOERROR', ['203.0.113.50'], [300.0], 'zeek' FROM range(20) t(i)", [T0])
    _conn_tls(store.con, "10.0.0.3", None, [T0 + 1, T0 + 6001, T0 + 9001], dst="203.0.113.50")
    _run(store, "25")
    keys = store.con.execute("SELECT src, dest_key, fp, events FROM scan_channels ORDER BY ALL").fetchall()
    assert keys == [
        ("10.0.0.1", "name:b.shared-cdn.example", "port:443", 10),             # the last of its two names
        ("10.0.0.1", "name:other.example.org", TOOL_JA4, 1),
        ("10.0.0.1", "tenant:Cloudflare Workers/acct", "port:443", 100),   # both addresses, one channel
        ("10.0.0.2", "ip:104.21.7.7:443", "", 10),
        ("10.0.0.3", "name:check.example.net", "", 20),                    # its DNS queries
        ("10.0.0.3", "name:check.example.net", "port:443", 3),
    ]
    named = store.con.execute("SELECT count(*) FROM scan_parts WHERE src_answer = 1").fetchone()[0]
    assert named == 4  # the Worker's two addresses, the shared address and the checked name; nothing else


def test_a_lookup_of_several_record_types_is_one_lookup_against_the_connections_it_named() -> None:
    """conn and dns only, a TTL shorter than the sleep: the host looks the name up before every
    connection, asking for A, AAAA and HTTPS records at once. Counted per query, its 3 x 20 queries
    outnumbered the 20 connections they named, and the channel was timed twice: by its connections, and
    again as a DNS-only channel of the same name (an independent tester's day: 262 of 433 channels
    listed twice). The queries of one second are one lookup. A host that looks up far more often than
    it connects is still timed by its lookups."""
    store = Store()
    ip = "3.161.7.7"
    for i in range(20):
        for k, qtype in enumerate(("A", "AAAA", "HTTPS")):
            store.con.execute("INSERT INTO dns (ts, epoch, uid, src, dst, dst_port, query, qtype, rcode, answers,"
                              " ttls, sensor) VALUES (NULL, ?, ?, '10.0.0.1', '10.0.0.53', 53,"
                              " 'x7k2.lambda-url.us-east-1.on.aws', ?, 'NOERROR', ?, [60.0], 'zeek')",
                              [T0 + 300 * i - 0.3 + 0.01 * k, f"D{i}{qtype}", qtype, [ip] if qtype == "A" else []])
    _conn_tls(store.con, "10.0.0.1", None, [T0 + 300 * i for i in range(20)], dst=ip)
    _run(store, "25")
    keys = store.con.execute("SELECT src, dest_key, fp, events FROM scan_channels ORDER BY ALL").fetchall()
    assert keys == [("10.0.0.1", "name:x7k2.lambda-url.us-east-1.on.aws", "port:443", 20)], keys


def test_an_encrypted_client_hellos_outer_name_is_no_name_and_dns_names_the_connection() -> None:
    """Chrome, Firefox and a Go client with ECH send 'cloudflare-ech.com' as the SNI of every Cloudflare
    site: keyed by it, an implant's Worker was a non-serverless beacon to cloudflare-ech.com beside a
    DNS-only channel of the Worker timed by its lookups. Such a handshake is taken as one without SNI:
    its connection is named from the host's DNS answers (here two names behind one address, each
    connection by the last answer before it), and keeps its client; with no answer, it is keyed by
    address, never by the outer name. Any other SNI stays the name."""
    store = Store()
    ip = "104.18.9.9"
    for t, name in ((T0 - 0.5, "c2.acct.workers.dev"), (T0 + 1805, "www.blog.example"),
                    (T0 + 1900, "c2.acct.workers.dev")):
        store.con.execute("INSERT INTO dns (ts, epoch, uid, src, dst, dst_port, query, qtype, rcode, answers, ttls,"
                          " sensor) VALUES (NULL, ?, ?, '10.0.0.1', '10.0.0.53', 53, ?, 'A', 'NOERROR', [?], [300.0],"
                          " 'zeek')", [t, f"D{t}", name, ip])
    beacon = [T0 + 60 * i for i in range(60)]
    _conn_tls(store.con, "10.0.0.1", "cloudflare-ech.com", [t for t in beacon if not T0 + 1805 <= t < T0 + 1900],
              dst=ip, uid_prefix="b")
    _conn_tls(store.con, "10.0.0.1", "Cloudflare-ECH.com.", [T0 + 1810, T0 + 1815], dst=ip, uid_prefix="w",
              ja4=CHROME_JA4)                                                  # the blog, in a browser
    _conn_tls(store.con, "10.0.0.2", "cloudflare-ech.com", [T0 + 5, T0 + 65], dst=ip, uid_prefix="n")  # no answer
    _conn_tls(store.con, "10.0.0.3", "cloudflare-ech.com.evil.example", [T0 + 7], dst=ip, uid_prefix="o")
    _run(store, "25")
    keys = store.con.execute("SELECT src, dest_key, fp, events FROM scan_channels ORDER BY ALL").fetchall()
    assert keys == [
        ("10.0.0.1", "name:www.blog.example", CHROME_JA4, 2),
        ("10.0.0.1", "tenant:Cloudflare Workers/acct", TOOL_JA4, 59),
        ("10.0.0.2", f"ip:{ip}:443", TOOL_JA4, 2),
        ("10.0.0.3", "name:cloudflare-ech.com.evil.example", TOOL_JA4, 1),
    ], keys


def test_an_answer_from_before_the_window_still_names_the_connections_of_a_nightly_store() -> None:
    """A client that resolved its name once and kept the address (.NET's HttpClient does) named its
    connections on the first night and was an anonymous address the next (an outside tester's two-day
    implant: medium "3.161.167.51:443" on day two). Answers from up to $answer_lookback_s before the
    window still name them; with no lookback, the connections stay keyed by address."""
    from dataclasses import replace

    store = Store()
    ip = "3.161.167.51"
    url = "z9y8x7w6v5u4t3s2r1q0ponmlkjihgf9.lambda-url.eu-central-1.on.aws"
    store.con.execute("INSERT INTO dns (ts, epoch, uid, src, dst, dst_port, query, qtype, rcode, answers, ttls,"
                      " sensor) VALUES (NULL, ?, 'D1', '10.0.0.1', '10.0.0.53', 53, ?, 'A', 'NOERROR', [?], [60.0],"
                      " 'zeek')", [T0 + 180, url, ip])
    _conn_tls(store.con, "10.0.0.1", None, [T0 + 200 + 105 * i for i in range(1600)], dst=ip)   # two days
    day2 = T0 + 86400

    def keys(params: ScanParams) -> list:
        prepare_inputs(store.con, ScanOptions())
        score_channels(store.con, day2, day2 + 86400, params, stop_after="25")
        return store.con.execute("SELECT dest_key, events FROM scan_channels ORDER BY ALL").fetchall()

    assert keys(ScanParams()) == [("tenant:AWS Lambda Function URL/z9y8x7w6v5u4t3s2r1q0ponmlkjihgf9", 779)]
    assert keys(replace(ScanParams(), answer_lookback_s=0.0)) == [(f"ip:{ip}:443", 779)]


def test_a_nameless_connection_never_takes_a_name_its_host_reaches_with_sni() -> None:
    """An implant resolves its Worker once and then connects to the address with no SNI every 90 s;
    later the user's browser looks up another Worker Cloudflare serves from the same address, and
    visits it with SNI. By the last answer alone, the implant's later connections took the site's name
    (an outside tester's day: a second high finding, blaming a tenant 43 hosts visit). A name the host
    reaches with an SNI of its own is not what its nameless connections are for: they stay the
    implant's, one channel. Another host that only looked the site up (never with SNI) still names its
    nameless connections after it."""
    store = Store()
    ip = "104.21.11.194"
    for t, src, name in ((T0 - 0.5, "10.0.0.1", "cmd.ghost-relay.workers.dev"),
                         (T0 + 3000, "10.0.0.1", "hello.tiny-tools.workers.dev"),
                         (T0 - 0.5, "10.0.0.2", "cmd.other-relay.workers.dev"),
                         (T0 + 3000, "10.0.0.2", "hello.tiny-tools.workers.dev")):
        store.con.execute("INSERT INTO dns (ts, epoch, uid, src, dst, dst_port, query, qtype, rcode, answers, ttls,"
                          " sensor) VALUES (NULL, ?, ?, ?, '10.0.0.53', 53, ?, 'A', 'NOERROR', [?], [300.0], 'zeek')",
                          [t, f"D{t}{src}", src, name, ip])
    beacon = [T0 + 90 * i for i in range(80)]
    _conn_tls(store.con, "10.0.0.1", None, beacon, dst=ip, uid_prefix="b")                 # no SNI
    _conn_tls(store.con, "10.0.0.1", "hello.tiny-tools.workers.dev", [T0 + 3001, T0 + 3010], dst=ip,
              uid_prefix="w", ja4=CHROME_JA4)                                              # the browser
    _conn_tls(store.con, "10.0.0.2", None, beacon, dst=ip, uid_prefix="n")                 # no SNI, no visit
    _run(store, "25")
    keys = store.con.execute("SELECT src, dest_key, fp, events FROM scan_channels"
                             " WHERE dest_key NOT LIKE 'rotation:%' ORDER BY ALL").fetchall()
    assert keys == [
        ("10.0.0.1", "tenant:Cloudflare Workers/ghost-relay", "port:443", 80),
        ("10.0.0.1", "tenant:Cloudflare Workers/tiny-tools", CHROME_JA4, 2),
        ("10.0.0.2", "tenant:Cloudflare Workers/other-relay", "port:443", 34),
        ("10.0.0.2", "tenant:Cloudflare Workers/tiny-tools", "port:443", 46),
    ], keys


def test_an_address_resolved_to_several_names_names_each_connection_by_the_last_answer_before_it() -> None:
    """Cloudflare serves millions of names from a few hundred addresses: a host browsing a site behind
    one and beaconing to a Worker behind the same had every connection to it keyed by the address,
    the beacon mixed with the browsing. Each connection takes the name its host resolved to that
    address last before it (an answer logged up to answer_lead_s after it counts too); one made before
    any answer in the window stays keyed by address; an address resolved to one name names all."""
    store = Store()
    ip = "104.21.9.9"

    def answer(t: float, name: str, src: str = "10.0.0.1") -> None:
        store.con.execute("INSERT INTO dns (ts, epoch, uid, src, dst, dst_port, query, qtype, rcode, answers, ttls,"
                          " sensor) VALUES (NULL, ?, ?, ?, '10.0.0.53', 53, ?, 'A', 'NOERROR', [?], [300.0], 'zeek')",
                          [t, f"D{t}{src}", src, name, ip])

    answer(T0 + 100, "www.news-site.example")
    answer(T0 + 1000, "c2.acct.workers.dev")
    answer(T0 + 2000, "www.news-site.example")
    answer(T0 + 3000.5, "c2.acct.workers.dev")           # logged half a second after the connection
    _conn_tls(store.con, "10.0.0.1", None, [T0 + 50], dst=ip, uid_prefix="a")          # before any answer
    _conn_tls(store.con, "10.0.0.1", None, [T0 + 101 + 10 * i for i in range(5)], dst=ip, uid_prefix="b")
    _conn_tls(store.con, "10.0.0.1", None, [T0 + 1001 + 60 * i for i in range(10)], dst=ip, uid_prefix="c")
    _conn_tls(store.con, "10.0.0.1", None, [T0 + 2001 + 10 * i for i in range(3)], dst=ip, uid_prefix="d")
    _conn_tls(store.con, "10.0.0.1", None, [T0 + 3000 + 60 * i for i in range(10)], dst=ip, uid_prefix="e")
    # another host resolved only the Worker's name to it: every connection of its is the Worker's
    answer(T0 + 5000, "c2.acct.workers.dev", src="10.0.0.2")
    _conn_tls(store.con, "10.0.0.2", None, [T0 + 10.0 * i for i in range(7)], dst=ip, uid_prefix="f")
    _run(store, "25")
    keys = store.con.execute("SELECT src, dest_key, events FROM scan_channels ORDER BY ALL").fetchall()
    assert keys == [
        ("10.0.0.1", f"ip:{ip}:443", 1),
        ("10.0.0.1", "name:www.news-site.example", 8),
        ("10.0.0.1", "tenant:Cloudflare Workers/acct", 20),
        ("10.0.0.2", "tenant:Cloudflare Workers/acct", 7),
    ], keys


def test_channel_keys_tenant_name_ip_and_fingerprint() -> None:
    store = Store()
    _conn_tls(store.con, "10.0.0.1", "w1.acct.workers.dev", [T0, T0 + 60])
    _conn_tls(store.con, "10.0.0.1", "w2.acct.workers.dev", [T0 + 30])
    _conn_tls(store.con, "10.0.0.1", "w2.acct.workers.dev", [T0 + 31], ja4=CHROME_JA4, uid_prefix="b")
    _conn_tls(store.con, "10.0.0.1", "Example.COM", [T0 + 40])
    _conn_tls(store.con, "10.0.0.1", None, [T0 + 50], dst="8.8.4.4")
    _run(store, "25")
    keys = store.con.execute("SELECT dest_key, fp, events FROM scan_channels ORDER BY ALL").fetchall()
    assert keys == [
        ("ip:8.8.4.4:443", "", 1),
        ("name:example.com", TOOL_JA4, 1),
        ("tenant:Cloudflare Workers/acct", CHROME_JA4, 1),
        ("tenant:Cloudflare Workers/acct", TOOL_JA4, 3),  # rotation among workers: one channel
    ]


def test_burst_collapse_merges_redirect_pairs_and_tasking() -> None:
    store = Store()
    times = []
    for i in range(30):
        t = T0 + i * 120
        times += [t, t + 0.4]  # script.google.com then the googleusercontent redirect
    _conn_tls(store.con, "10.0.0.1", "script.google.com", times[0::2])
    _conn_tls(store.con, "10.0.0.1", "script.googleusercontent.com", times[1::2], uid_prefix="r")
    burst = [T0 + 10_000 + i * 60 for i in range(30)]
    burst += [burst[5] + k for k in (1, 2.5, 3, 4.2)]  # tasking after one check-in
    _conn_tls(store.con, "10.0.0.2", "c2.example.net", sorted(burst))
    _run(store, "30")
    rows = dict(store.con.execute(
        "SELECT c.src, count(*) FROM scan_intervals k JOIN scan_channels c USING (chan_id) GROUP BY c.src").fetchall())
    assert rows == {"10.0.0.1": 30, "10.0.0.2": 30}


def test_gap_removal_counts_sleep_gaps() -> None:
    store = Store()
    times, t = [], T0
    for i in range(60):
        t += 60 + (3 * 3600 if i in (20, 40) else 0)
        times.append(t)
    _conn_tls(store.con, "10.0.0.1", "c2.example.net", times)
    _run(store, "44")
    n, gaps, beacon = _one(store.con, "SELECT n, gaps, beacon FROM scan_beacon")
    assert (n, gaps) == (57, 2) and beacon > 0.95


def test_poisson_null_is_calibrated() -> None:
    """50 Poisson channels: z stays near N(0,1) and no beacon score survives the evidence ramp."""
    rng = random.Random(1)
    store = Store()
    for h in range(50):
        _conn_tls(store.con, f"10.9.0.{h}", "poller.example.com", _times(rng.expovariate(1 / 120) for _ in range(300)))
    _run(store, "44")
    mean_z, max_z, max_beacon = _one(store.con, "SELECT avg(z_wide), max(z), max(beacon) FROM scan_beacon")
    assert abs(mean_z) < 1.0 and max_z < 3.5 and max_beacon < 0.15


def test_a_precise_timer_with_few_checkins_is_found_and_random_few_are_not() -> None:
    """An hourly beacon over one working day (9 check-ins) fills the narrow window (stage 44's z_tight);
    300 random channels of 9 check-ins each never reach a beacon score."""
    rng = random.Random(7)
    store = Store()
    for h in range(300):
        _conn_tls(store.con, f"10.9.{h // 200}.{h % 200}", "poller.example.com",
                  _times(rng.expovariate(1 / 3600) for _ in range(9)))
    for src, jitter in (("10.8.0.1", 0.0), ("10.8.0.2", 0.1)):
        # Cobalt-Strike-style: each sleep shortened by up to jitter x 1 h
        _conn_tls(store.con, src, "hourly.example.net", _times(3600 * (1 - jitter * rng.random()) for _ in range(9)))
    _run(store, "44")
    rows = dict(store.con.execute(
        "SELECT c.src, b.beacon FROM scan_beacon b JOIN scan_channels c USING (chan_id) "
        "WHERE c.src LIKE '10.8.%'").fetchall())
    assert rows["10.8.0.1"] > 0.6 and rows["10.8.0.2"] > 0.6  # the wide window alone: 0.15
    tight, wide = _one(store.con, "SELECT z_tight, z_wide FROM scan_beacon b JOIN scan_channels c USING (chan_id) "
                                  "WHERE c.src = '10.8.0.1'")
    assert tight > wide  # the wide window alone gave 8 intervals too little evidence (z 3.4)
    assert _one(store.con, "SELECT count(*) FROM scan_beacon b JOIN scan_channels c USING (chan_id) "
                           "WHERE c.src LIKE '10.9.%' AND b.beacon >= ?", ScanParams().beacon_min)[0] == 0


def test_fleet_discount_needs_one_cadence_and_grows_with_the_fleet() -> None:
    """Hosts with one client to one destination: a fleet when they keep one rhythm, or merely use it;
    no alibi for each other when each beacons at its own period (unrelated timers sharing a generic
    fingerprint on a popular platform). Three or four such hosts calling one serverless tenant are a
    small fleet, discounted less: one implant spread to three hosts looks the same, and the full
    discount hid it; three calling an ordinary name (a load balancer, a corporate GitLab) still take
    the full discount."""
    store = Store()
    for i, period in enumerate((60, 300, 900, 1800)):  # four timers, four cadences: no fleet
        _conn_tls(store.con, f"10.1.0.{i}", "mixed.example.org", [T0 + k * period for k in range(40)])
    for i in range(6):  # six hosts on one 300 s heartbeat: a fleet
        _conn_tls(store.con, f"10.2.0.{i}", "fleet.example.org", [T0 + i + k * 300 for k in range(40)])
    for i in range(3):  # three hosts on one 300 s timer to one Worker: a small fleet ...
        _conn_tls(store.con, f"10.4.0.{i}", "sync.few-ops.workers.dev", [T0 + i + k * 300 for k in range(40)])
    for i in range(3):  # ... and to an ordinary name: a fleet
        _conn_tls(store.con, f"10.5.0.{i}", "few.example.org", [T0 + i + k * 300 for k in range(40)])
    _conn_tls(store.con, "10.3.0.9", "used.example.org", [T0 + k * 300 for k in range(40)])  # one timer ...
    for i in range(3):  # ... among three hosts that just use the destination now and then
        _conn_tls(store.con, f"10.3.0.{i}", "used.example.org", [T0 + 5000 * i, T0 + 5000 * i + 777])
    _run(store)
    fleet = dict(store.con.execute(
        "SELECT c.src, p.fleet FROM scan_prevalence p JOIN scan_channels c USING (chan_id)").fetchall())
    assert [fleet[f"10.1.0.{i}"] for i in range(4)] == [1, 1, 1, 1]
    assert [fleet[f"10.2.0.{i}"] for i in range(6)] == [6] * 6
    assert [fleet[f"10.4.0.{i}"] for i in range(3)] == [3] * 3
    assert [fleet[f"10.5.0.{i}"] for i in range(3)] == [3] * 3
    assert fleet["10.3.0.9"] == 4
    context = dict(store.con.execute("SELECT src, evidence FROM scan_findings WHERE kind = 'beacon'").fetchall())
    p = ScanParams()
    assert p.prev_common <= 3 < 4 < p.fleet_large <= 6 and p.w_small_fleet < p.w_common
    assert context["10.1.0.1"] == pytest.approx(p.w_nonbrowser)           # no fleet discount
    assert context["10.2.0.1"] == pytest.approx(p.w_nonbrowser - p.w_common)
    assert context["10.4.0.1"] == pytest.approx(p.w_nonbrowser - p.w_small_fleet)
    assert context["10.5.0.1"] == pytest.approx(p.w_nonbrowser - p.w_common)
    assert context["10.3.0.9"] == pytest.approx(p.w_nonbrowser - p.w_common)
    reasons = {f.src: f.reasons for f in run_scan(store, ScanOptions(min_score=0.0)).findings}
    assert any(r.startswith("6 internal hosts talk to it with this client (fleet-wide") for r in reasons["10.2.0.1"])
    assert any("a small fleet, or one implant on a few hosts" in r for r in reasons["10.4.0.1"])
    assert not any("fleet-wide" in r for r in reasons["10.4.0.1"])
    assert any(r.startswith("3 internal hosts talk to it with this client (fleet-wide") for r in reasons["10.5.0.1"])
    # the one timer's fleet is itself and the three hosts that merely use the destination
    assert any(r.startswith("4 internal hosts talk to it with this client (fleet-wide") for r in reasons["10.3.0.9"])


def test_without_a_client_only_same_cadence_beacons_make_a_fleet_at_a_tenantless_front_door() -> None:
    """conn and dns logs only: every host reaching script.google.com over HTTPS shares the one pseudo-
    client 'port:443'. Five hosts visiting it are no fleet for a beacon there (the front door names no
    tenant: they may be reaching any script); five hosts visiting one Worker tenant still are."""
    rng = random.Random(3)
    store = Store()
    front, worker = ("script.google.com", "142.250.1.1"), ("api.acct.workers.dev", "104.21.9.9")
    rows = []
    for name, ip in (front, worker):
        for h in range(6):
            src = f"10.4.{0 if name == front[0] else 1}.{h}"
            rows.append((T0 - 0.5 + 0.01 * h, f"D{src}{name}", src, name, [ip]))
            if h == 0:  # the beacon
                times = [T0 + 300 * i for i in range(100)]
            else:       # browsing: two visits, too few to time
                times = sorted(T0 + rng.uniform(0, 30000) for _ in range(2))
            _conn_tls(store.con, src, None, times, dst=ip, uid_prefix=name[:3])
    store.con.executemany("INSERT INTO dns (ts, epoch, uid, src, dst, dst_port, query, qtype, rcode, answers, ttls,"
                          " sensor) VALUES (NULL, ?, ?, ?, '10.0.0.53', 53, ?, 'A', 'NOERROR', ?, [300.0], 'zeek')",
                          rows)
    _run(store, "46")
    fleet = dict(store.con.execute(
        "SELECT c.src, p.fleet FROM scan_prevalence p JOIN scan_channels c USING (chan_id) "
        "WHERE c.src IN ('10.4.0.0', '10.4.1.0')").fetchall())
    fps = {r[0] for r in store.con.execute("SELECT DISTINCT fp FROM scan_channels WHERE src LIKE '10.4.%'").fetchall()}
    assert fps == {"port:443"}
    assert fleet == {"10.4.0.0": 1, "10.4.1.0": 6}


def test_without_a_client_one_implant_on_three_hosts_is_listed_and_a_wide_fleet_is_not() -> None:
    """conn and dns logs only, so no client to judge: one implant at Cobalt Strike's 50 % jitter on three
    hosts calling one Lambda URL. Its small-fleet discount puts each beacon under --min-score (0.7
    here; bench_detection's three-host campaigns score 0.3-0.45 without a client, under the default
    0.5), so each host is listed as a contact for its timing, naming the others; the same implant alone
    is a beacon; six hosts in step with another tenant (a fleet) and a user visiting the first now and
    then are not listed."""
    rng = random.Random(11)
    store = Store()
    urls = {n: (f"{n * 8}.lambda-url.us-east-1.on.aws", f"3.5.1.{i}")
            for i, n in enumerate(("a1b2", "c3d4", "e5f6"))}
    dns = []

    def beacon(src: str, url: str) -> list[float]:
        t, out = T0 + rng.uniform(0, 60), []
        while t < T0 + 9 * 3600:
            out.append(t)
            t += 60 * (1 - 0.5 * rng.random())
        return out

    hosts = {"a1b2": [f"10.7.0.{h}" for h in range(3)], "c3d4": ["10.7.1.0"],
             "e5f6": [f"10.7.2.{h}" for h in range(6)]}
    for key, srcs in hosts.items():
        name, ip = urls[key]
        for src in srcs:
            dns.append((T0 - 1, f"D{src}{key}", src, name, [ip]))
            _conn_tls(store.con, src, None, beacon(src, name), dst=ip, uid_prefix=key)
    user = "10.7.3.0"
    dns.append((T0 - 1, "Duser", user, urls["a1b2"][0], [urls["a1b2"][1]]))
    _conn_tls(store.con, user, None, sorted(T0 + rng.uniform(0, 9 * 3600) for _ in range(30)),
              dst=urls["a1b2"][1], uid_prefix="user")
    store.con.executemany("INSERT INTO dns (ts, epoch, uid, src, dst, dst_port, query, qtype, rcode, answers, ttls,"
                          " sensor) VALUES (NULL, ?, ?, ?, '10.0.0.53', 53, ?, 'A', 'NOERROR', ?, [300.0], 'zeek')",
                          dns)
    found = {(f.src, f.kind): f for f in run_scan(store, ScanOptions(min_score=0.7)).findings}
    for h in range(3):
        f = found.get((f"10.7.0.{h}", "contact"))
        assert f is not None and f.host == urls["a1b2"][0], sorted(found)
        steady = "weakly periodic" if f.scores["beacon"] < ScanParams().steady_timing else ", periodic"
        assert any(steady in r and "under --min-score 0.70" in r for r in f.reasons), (f.scores, f.reasons)
        assert any("a small fleet, or one implant on a few hosts" in r and "the others: 10.7.0." in r for r in f.reasons)
        assert any(r.startswith("listed for its regular timing alone") for r in f.reasons)
    assert ("10.7.1.0", "beacon") in found
    assert not [k for k in found if k[0].startswith("10.7.2.") or k[0] == user]


def _resolver_day(store: Store, with_connections: bool = True) -> None:
    """A resolver forwarding its clients' lookups (each name once per 300 s TTL; two of them are one
    Worker tenant's, one channel), a DNS tunnel through it (a new 24-character label every minute
    under one parent), and a client with its own connections and lookups that also looks one name up
    every 300 s without connecting, and five names once (prefetched links it never visits)."""
    rng = random.Random(9)
    for name in [f"n{i}.example.com" for i in range(8)] + ["script.google.com", "a.acct.workers.dev",
                                                           "b.acct.workers.dev"]:
        _dns(store.con, "10.0.0.53", name, [T0 + rng.uniform(0, 5) + 300 * k for k in range(200)])
    for k in range(900):
        label = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(24))
        _dns(store.con, "10.0.0.53", f"{label}.tun.example.net", [T0 + 60 * k + rng.uniform(0, 6)])
    for i in range(10):
        name = f"app{i}.example.org"
        times = sorted(T0 + rng.uniform(0, 60000) for _ in range(12))
        _dns(store.con, "10.1.0.5", name, times)
        if with_connections:
            _conn_tls(store.con, "10.1.0.5", name, [t + 0.05 for t in times], ja4=CHROME_JA4)
    _dns(store.con, "10.1.0.5", "update.vendor.com", [T0 + 300 * k + rng.uniform(0, 5) for k in range(200)])
    for i in range(5):  # prefetched names it never visits: 6 of its 16 names are DNS-only, not 90 %
        _dns(store.con, "10.1.0.5", f"link{i}.example.org", [T0 + 1000 * i])


def test_a_dns_forwarders_lookups_of_one_name_are_not_timed_but_a_tunnel_through_it_is() -> None:
    """A resolver's queries of a name come at its cache's TTL while its clients keep asking: steady, and
    no timer of its own. A source that looked up at least forwarder_min_names names, nearly all without
    connecting to them, is taken for one; its DNS-only channels of one name are not timed, a tunnel
    through it (labels that miss the cache) still is, and a warning names it. A client that connects to
    what it looks up is no forwarder, and with dns logs alone (no connection anywhere) nobody is."""
    params = ScanParams(forwarder_min_names=5)
    store = Store()
    _resolver_day(store)
    result = run_scan(store, ScanOptions(params=params, min_score=0.0))
    beacons = {(f.src, f.host) for f in result.findings if f.kind == "beacon"}
    assert ("10.0.0.53", "tun.example.net") in beacons
    assert ("10.1.0.5", "update.vendor.com") in beacons
    assert not [h for src, h in beacons if src == "10.0.0.53" and h != "tun.example.net"], beacons
    assert [w for w in result.warnings if "DNS resolver or forwarder" in w and "10.0.0.53 (11 names, 100%" in w]
    assert not [w for w in result.warnings if "10.1.0.5" in w]
    assert store.con.execute("SELECT list(src) FROM scan_forwarders").fetchone()[0] == ["10.0.0.53"]
    dns_only = Store()
    _resolver_day(dns_only, with_connections=False)
    result = run_scan(dns_only, ScanOptions(params=params, min_score=0.0))
    beacons = {(f.src, f.host) for f in result.findings if f.kind == "beacon"}
    assert {("10.0.0.53", "script.google.com"), ("10.0.0.53", "n0.example.com")} <= beacons
    assert not [w for w in result.warnings if "forwarder" in w]


def test_a_ja3_that_changes_with_every_connection_is_not_a_channel_key() -> None:
    """Chromium shuffles its TLS extensions on every handshake, and JA3 hashes them in the order sent:
    with JA3 alone, an implant copying Chrome's handshake (uTLS) made one channel per check-in and no
    finding. Its connections to one name are one channel, keyed 'ja3:varies', showing no JA3, and the
    finding says why; a client with two fixed JA3s keeps two channels, and JA4 still keys as before."""
    import hashlib

    rng = random.Random(12)
    store = Store()
    times = _times(rng.uniform(45, 75) for _ in range(600))
    uids = [f"Cv{i}" for i in range(len(times))]
    store.con.execute("INSERT INTO conn (ts, epoch, uid, src, src_port, dst, dst_port, proto, service, duration,"
                      " orig_bytes, resp_bytes, conn_state, sensor) SELECT NULL, t, u, '10.0.0.7', 50000, "
                      "'104.21.1.1', 443, 'tcp', 'ssl', 0.3, 400, 300, 'SF', 'zeek' "
                      "FROM (SELECT unnest($t) AS t, unnest($u) AS u)", {"t": times, "u": uids})
    ja3s = [hashlib.md5(str(rng.random()).encode()).hexdigest() for _ in times]   # one per handshake
    store.con.execute("INSERT INTO tls (ts, epoch, uid, src, src_port, dst, dst_port, server_name, ja3, sensor)"
                      " SELECT NULL, t + 0.01, u, '10.0.0.7', 50000, '104.21.1.1', 443, 'sync.acct.workers.dev', j,"
                      " 'zeek' FROM (SELECT unnest($t) AS t, unnest($u) AS u, unnest($j) AS j)",
                      {"t": times, "u": uids, "j": ja3s})
    # another host, two fixed JA3s in turn to one name: two clients, two channels
    two = [T0 + 300.0 * k for k in range(40)]
    store.con.execute("INSERT INTO tls (ts, epoch, uid, src, src_port, dst, dst_port, server_name, ja3, sensor)"
                      " SELECT NULL, t, 'Ct' || CAST(i AS VARCHAR), '10.0.0.8', 50000, '104.21.1.2', 443, "
                      "'two.example.com', CASE WHEN i % 2 = 0 THEN 'aaaa' ELSE 'bbbb' END, 'zeek' "
                      "FROM (SELECT unnest($t) AS t, unnest(range(40)) AS i)", {"t": two})
    result = run_scan(store, ScanOptions(min_score=0.0))
    chans = store.con.execute("SELECT src, fp, ja3, ja3_values FROM scan_channels ORDER BY src, fp").fetchall()
    assert chans == [("10.0.0.7", "ja3:varies", None, len(set(ja3s))),
                     ("10.0.0.8", "aaaa", "aaaa", 0), ("10.0.0.8", "bbbb", "bbbb", 0)], chans[:4]
    (f,) = [f for f in result.findings if f.src == "10.0.0.7"]
    assert f.kind == "beacon" and f.severity == "high" and f.ja3 is None
    assert any(r.startswith(f"its TLS client's JA3 changed from one connection to the next ({len(set(ja3s))} values)")
               for r in f.reasons)
    assert not [r for g in result.findings if g.src == "10.0.0.8" for r in g.reasons if "JA3 changed" in r]


def test_a_quiet_resolver_is_known_by_the_names_its_clients_connect_to() -> None:
    """A weekend, a small site, a few hours' slice: the resolver looks up a few dozen names, under
    forwarder_min_names, and its TTL-paced queries of its clients' pollers were beacons, high ones. It
    is still a forwarder when most of its names are ones other hosts connect to. A host that looks up
    as many names nobody here connects to (its own connections out of the sensor's sight) is none:
    its one-name periodic lookup stays a beacon."""
    p = ScanParams()
    assert p.forwarder_min_served <= 12 and 16 < p.forwarder_min_names and 12 >= p.forwarder_served_share * 16
    rng = random.Random(4)
    store = Store()
    names = [f"svc{i}.example.com" for i in range(16)]
    for i, name in enumerate(names):
        _dns(store.con, "10.0.0.53", name, [T0 + rng.uniform(0, 5) + 300 * k for k in range(200)])
        if i < 12:   # the clients' own connections to 12 of the 16
            _conn_tls(store.con, f"10.1.0.{i}", name, sorted(T0 + rng.uniform(0, 60000) for _ in range(20)),
                      ja4=CHROME_JA4)
    for i in range(12):   # a host whose connections the sensor misses: names nobody here connects to
        _dns(store.con, "10.2.0.9", f"own{i}.example.net", [T0 + rng.uniform(0, 5) + 300 * k for k in range(200)])
    result = run_scan(store, ScanOptions(params=p, min_score=0.0))
    assert store.con.execute("SELECT list(src) FROM scan_forwarders").fetchone()[0] == ["10.0.0.53"]
    beacons = {(f.src, f.host) for f in result.findings if f.kind == "beacon"}
    assert not [b for b in beacons if b[0] == "10.0.0.53"], beacons
    assert {("10.2.0.9", f"own{i}.example.net") for i in range(12)} <= beacons
    assert [w for w in result.warnings if "10.0.0.53 (16 names, 100%" in w]
    # 12 of its 16 names connected to: under a served share of 0.8, it is not taken for one
    p_strict = ScanParams(forwarder_served_share=0.8)
    store2 = Store()
    for i, name in enumerate(names):
        _dns(store2.con, "10.0.0.53", name, [T0 + 300 * k for k in range(200)])
        if i < 12:
            _conn_tls(store2.con, f"10.1.0.{i}", name, [T0 + 1000.0 * k for k in range(20)], ja4=CHROME_JA4)
    run_scan(store2, ScanOptions(params=p_strict, min_score=0.0))
    assert store2.con.execute("SELECT count(*) FROM scan_forwarders").fetchone()[0] == 0


def test_a_private_address_polled_without_a_name_or_ntp_weighs_less_and_a_proxied_channel_does_not() -> None:
    """A monitor polling twelve devices every 300 s (SNMP, pings: private addresses, no name) is not a
    finding at the default --min-score, and is one at 0 whose reason says it is internal; nor is a
    host's time sync, the same timer to a public NTP server. A host on the same timer to a public
    address is, and so is one reaching a named destination through an explicit proxy, whose address
    is private too (named by the CONNECT target)."""
    rng = random.Random(13)

    def timer() -> list[float]:
        start = T0 + rng.uniform(0, 300)
        return [start + 300 * k + rng.uniform(-2, 2) for k in range(280)]

    store = Store()
    for i in range(12):
        _conn_tls(store.con, "10.0.0.20", None, timer(), dst=f"10.0.5.{i}", uid_prefix=f"p{i}")
    _conn_tls(store.con, "10.1.0.7", None, timer(), dst="93.184.216.34", uid_prefix="pub")
    times = timer()
    _conn_tls(store.con, "10.1.0.8", None, times, dst="10.0.0.3", uid_prefix="px")
    store.con.execute("INSERT INTO http (epoch, uid, src, dst, dst_port, method, host, user_agent, sensor) "
                      "SELECT t, 'Cpx10.1.0.8-None-' || i, '10.1.0.8', '10.0.0.3', 443, 'CONNECT', "
                      "'c2.example.net:443', 'curl/8.5.0', 'zeek' "
                      "FROM (SELECT unnest($t) AS t, unnest(range(len($t))) AS i)", {"t": times})
    ntp = timer()  # a host's time sync: the same timer to a public address, on NTP's port
    store.con.execute("INSERT INTO conn (epoch, uid, src, src_port, dst, dst_port, proto, service, duration, orig_bytes,"
                      " resp_bytes, sensor) SELECT t, 'Cntp' || i, '10.1.0.9', 123, '129.6.15.28', 123, 'udp', 'ntp',"
                      " 0.02, 48, 48, 'zeek' FROM (SELECT unnest($t) AS t, unnest(range(len($t))) AS i)", {"t": ntp})
    found = {f.src: f for f in run_scan(store, ScanOptions()).findings if f.kind == "beacon"}
    assert set(found) == {"10.1.0.7", "10.1.0.8"}, sorted(found)
    assert found["10.1.0.8"].host == "c2.example.net"
    assert not [r for f in found.values() for r in f.reasons if r.startswith("internal:")]
    everything = run_scan(store, ScanOptions(min_score=0.0)).findings
    polls = [f for f in everything if f.src == "10.0.0.20"]
    assert len(polls) == 12 and all(f.kind == "beacon" and f.score <= 0.5 for f in polls)
    assert all(any(r.startswith("internal: 10.0.5.") for r in f.reasons) for f in polls)
    [sync] = [f for f in everything if f.src == "10.1.0.9"]
    assert sync.kind == "beacon" and sync.score < 0.5 and any(r.startswith("NTP: port 123") for r in sync.reasons)
    assert not any(r.startswith("NTP") for f in found.values() for r in f.reasons)


def test_a_beacon_from_a_browsers_handshake_says_what_to_check_and_a_tools_does_not() -> None:
    """Chrome's handshake every 10 min to a Vercel app (a dashboard left open that reloads itself, or an
    implant copying Chrome's TLS) is a beacon whose reasons say both; a Go client's, on the same timer
    to a Worker, says it is a non-browser client instead."""
    store = Store()
    _conn_tls(store.con, "10.2.0.1", "dash.team.vercel.app", [T0 + 600 * k for k in range(100)], ja4=CHROME_JA4)
    _conn_tls(store.con, "10.2.0.2", "sync.acct.workers.dev", [T0 + 600 * k for k in range(100)])
    found = {f.src: f for f in run_scan(store, ScanOptions()).findings}
    assert {s: f.kind for s, f in found.items()} == {"10.2.0.1": "beacon", "10.2.0.2": "beacon"}
    assert [r for r in found["10.2.0.1"].reasons if r.startswith("a browser's TLS client (JA4 t13d1516h2")]
    assert not [r for r in found["10.2.0.1"].reasons if "non-browser" in r]
    assert not [r for r in found["10.2.0.2"].reasons if r.startswith("a browser's")]
    assert [r for r in found["10.2.0.2"].reasons if r.startswith("non-browser TLS client")]


def test_a_long_quiet_connection_is_a_contact_unless_a_browser_made_it() -> None:
    """One 3 h connection moving 300 kB to a Vercel app: from a non-browser client, or one whose handshake
    was not logged (no JA4), it is a contact (a beacon can hide in one kept-alive connection); from
    Chrome's handshake it is a dashboard tab left open, which keeps its HTTP/2 connection: no finding."""
    store = Store()
    for src, ja4 in (("10.3.0.1", CHROME_JA4), ("10.3.0.2", TOOL_JA4), ("10.3.0.3", None)):
        store.con.execute("INSERT INTO conn (epoch, uid, src, src_port, dst, dst_port, proto, service, duration,"
                          " orig_bytes, resp_bytes, sensor) VALUES (?, ?, ?, 5000, '76.76.21.21', 443, 'tcp', 'ssl',"
                          " 10800, 100000, 200000, 'zeek')", [T0, f"L{src}", src])
        store.con.execute("INSERT INTO tls (epoch, uid, src, src_port, dst, dst_port, server_name, ja4, sensor)"
                          " VALUES (?, ?, ?, 5000, '76.76.21.21', 443, 'dash.team.vercel.app', ?, 'zeek')",
                          [T0 + 0.01, f"L{src}", src, ja4])
    found = {f.src: f for f in run_scan(store, ScanOptions()).findings}
    assert sorted(found) == ["10.3.0.2", "10.3.0.3"]
    assert all(f.kind == "contact" and any(r.startswith("long-lived low-volume connection: 3.0 h") for r in f.reasons)
               for f in found.values())


def test_a_browsers_connection_held_for_hours_to_a_tenant_no_one_else_reaches_is_a_low_contact() -> None:
    """A uTLS implant (Chrome's handshake) polling inside one kept-alive connection for 20 h, to a Worker
    only its host reaches, had no finding: a browser's long connection is a tab left open. Past
    long_conn_browser_s, alone, it is listed, low, with a reason that names both readings. A 3 h tab alone,
    and a 20 h one to a tenant another host also reaches, are still no finding."""
    store = Store()

    def held(src: str, name: str, hours: float, dst: str) -> None:
        store.con.execute("INSERT INTO conn (epoch, uid, src, src_port, dst, dst_port, proto, service, duration,"
                          " orig_bytes, resp_bytes, sensor) VALUES (?, ?, ?, 5000, ?, 443, 'tcp', 'ssl', ?,"
                          " 300000, 400000, 'zeek')", [T0, f"H{src}", src, dst, hours * 3600])
        store.con.execute("INSERT INTO tls (epoch, uid, src, src_port, dst, dst_port, server_name, ja4, sensor)"
                          " VALUES (?, ?, ?, 5000, ?, 443, ?, ?, 'zeek')", [T0 + 0.01, f"H{src}", src, dst, name,
                                                                           CHROME_JA4])
    held("10.4.0.1", "sync.implant-acct.workers.dev", 20, "104.21.5.5")
    held("10.4.0.2", "live.tab-acct.workers.dev", 3, "104.21.5.6")
    held("10.4.0.3", "feed.shared-acct.workers.dev", 20, "104.21.5.7")
    held("10.4.0.4", "feed.shared-acct.workers.dev", 1.5, "104.21.5.7")
    found = {f.src: f for f in run_scan(store, ScanOptions()).findings}
    assert sorted(found) == ["10.4.0.1"]
    f = found["10.4.0.1"]
    assert (f.kind, f.severity, f.tenant) == ("contact", "low", "implant-acct"), (f.severity, f.reasons)
    (why,) = [r for r in f.reasons if r.startswith("a browser's TLS client")]
    assert "20.0 h" in why and "uTLS" in why and "no other host reaches" in why, why


def test_a_failing_lookup_retrying_is_discounted_and_failing_names_are_a_sign() -> None:
    """DNS only: one unchanging name answered NXDOMAIN every minute is a lookup retrying (a single-label
    name without its search suffix), discounted; NXDOMAIN across many names (a DGA) is a DNS sign."""
    store = Store()
    _dns(store.con, "10.0.0.7", "tmsc", [T0 + 60 * i for i in range(60)], rcode="NXDOMAIN")
    _dns(store.con, "10.0.0.8", "update.example.com", [T0 + 60 * i for i in range(60)])
    rng = random.Random(5)
    # labels long enough ($label_min_len) for DNS-only names to be grouped under their parent (stage 24)
    dga = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(20)) + ".example.biz" for _ in range(60)]
    for i, name in enumerate(dga):
        _dns(store.con, "10.0.0.9", name, [T0 + 60 * i], rcode="NXDOMAIN")
    _run(store)
    rows = {r[0]: r[1:] for r in store.con.execute(
        "SELECT src, kind, dead_lookup, nx_burst, evidence FROM scan_findings").fetchall()}
    p = ScanParams()
    assert rows["10.0.0.7"][:3] == ("beacon", True, False)
    assert rows["10.0.0.8"][:3] == ("beacon", False, False)
    assert rows["10.0.0.7"][3] == pytest.approx(rows["10.0.0.8"][3] - p.w_dead_lookup)
    assert rows["10.0.0.9"][:3] == ("beacon", False, True)
    assert rows["10.0.0.9"][3] >= rows["10.0.0.8"][3] + p.w_dns


def test_jittered_beacon_scores_high_and_size_matters() -> None:
    rng = random.Random(2)
    store = Store()
    for src, sizes in (("10.0.0.1", lambda: 400), ("10.0.0.2", lambda: rng.randint(100, 20000))):
        times = _times(60 * (1 - 0.5 * rng.random()) for _ in range(200))
        _conn_tls(store.con, src, f"{src}.example.com", times, size=0)
        store.con.execute("UPDATE conn SET orig_bytes = ? WHERE src = ? AND uid LIKE ?", [400, src, "%"])
        if src == "10.0.0.2":
            for uid, in store.con.execute("SELECT uid FROM conn WHERE src = ?", [src]).fetchall():
                store.con.execute("UPDATE conn SET orig_bytes = ? WHERE uid = ?", [sizes(), uid])
    _run(store, "44")
    rows = dict(store.con.execute("SELECT c.src, b.beacon FROM scan_beacon b JOIN scan_channels c USING (chan_id)").fetchall())
    assert rows["10.0.0.1"] > 0.7
    assert rows["10.0.0.2"] < rows["10.0.0.1"] - 0.2  # random sizes lose the size share


def test_regularity_is_measured_on_the_period_not_on_the_burst_shifted_intervals() -> None:
    # A 30 s Cobalt Strike sleep at 80 % jitter (U[6, 30] s) with tasking follow-ups 2 s after some
    # check-ins: those make a burst gap b of several seconds, which stage 30 takes off every interval.
    # The QCD of U[6, 30] is 0.333 whatever b is; on the shifted intervals it would be near 0.46 and
    # the beacon would fall under beacon_min. Random traffic with the same bursts stays at C = 0.
    rng = random.Random(8)
    store = Store()
    for src, draw in (("10.0.0.1", lambda: rng.uniform(6, 30)), ("10.0.0.2", lambda: rng.expovariate(1 / 18))):
        times = []
        for t in _times(draw() for _ in range(1500)):
            times.append(t)
            if rng.random() < 0.3:
                times.append(t + 2.0)
        _conn_tls(store.con, src, f"{src}.example.com", sorted(times))
    p = ScanParams()
    _run(store, "44", p)
    rows = {r[0]: r[1:] for r in store.con.execute(
        "SELECT c.src, b.burst_s, b.qcd, b.beacon, b.c_score FROM scan_beacon b JOIN scan_channels c USING (chan_id)"
    ).fetchall()}
    burst_s, qcd, beacon, _ = rows["10.0.0.1"]
    assert burst_s > 2.0
    assert abs(qcd - 1 / 3) < 0.04
    assert beacon >= p.beacon_min
    assert rows["10.0.0.2"][3] == 0.0 and rows["10.0.0.2"][2] < 1.0


def test_prevalence_is_per_fingerprint_and_novelty_needs_history() -> None:
    """Stage 46 gives a row to each channel that can be a finding (here: all, as the name is
    serverless), counting every host of the destination; a visit to an ordinary site gets none."""
    store = Store()
    for h in range(4):
        _conn_tls(store.con, f"10.0.1.{h}", "shared.acct.workers.dev", [T0 + h, T0 + 100 + h], ja4=CHROME_JA4)
    _conn_tls(store.con, "10.0.1.9", "shared.acct.workers.dev", [T0 + 5, T0 + 200])
    _conn_tls(store.con, "10.0.1.9", "old.example.com",      # 12 hours of history before the window
              [T0 - 86400 * 3 + 3600 * k for k in range(12)])
    _conn_tls(store.con, "10.0.1.9", "plain.example.com", [T0 + 7, T0 + 300])
    prepare_inputs(store.con, ScanOptions())
    score_channels(store.con, T0 - 60, T0 + 86400, ScanParams(), stop_after="46")
    rows = store.con.execute("SELECT DISTINCT fp, prevalence, fp_prevalence, is_new FROM scan_prevalence "
                             "WHERE dest_key = 'tenant:Cloudflare Workers/acct' ORDER BY fp").fetchall()
    assert rows == [(CHROME_JA4, 5, 4, True), (TOOL_JA4, 5, 1, True)]
    assert _one(store.con, "SELECT count(*) FROM scan_prevalence") == (5,)   # not plain.example.com's


def test_novelty_needs_hours_of_history_not_seconds() -> None:
    """A day of logs a few seconds longer than the 24 h window held "data from before the window", and
    every destination of the day was "new to the store" (99 of 100 findings of a benchmark day said
    so); so did one stray minute from long before (a capture of another year replayed into the
    store). The store must hold $novelty_history_s before the window, in clock hours with
    connections: neither seconds nor one old record are a baseline."""
    p = ScanParams()
    hours = int(p.novelty_history_s // 3600)
    for history, expected in (([T0 - 5.0], False),                                   # seconds before
                              ([T0 - 2 * 365 * 86400.0], False),                     # one stray record, years before
                              ([T0 - 86400.0 + 3600 * k for k in range(hours - 1)], False),   # 11 hours
                              ([T0 - 86400.0 + 3600 * k for k in range(hours)], True)):       # 12 hours
        store = Store()
        _conn_tls(store.con, "10.0.1.1", "fresh.acct.workers.dev", [T0 + 100 * k for k in range(10)])
        _conn_tls(store.con, "10.0.1.2", "old.example.com", history)
        prepare_inputs(store.con, ScanOptions())
        score_channels(store.con, T0, T0 + 86400, p, stop_after="46")
        assert _one(store.con, "SELECT DISTINCT is_new FROM scan_prevalence "
                               "WHERE dest_key = 'tenant:Cloudflare Workers/acct'") == (expected,), history[:2]


def test_dns_evidence_txt_nxdomain_and_entropy() -> None:
    store = Store()
    rng = random.Random(3)
    names = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(24)) + ".t.evil.net"
             for _ in range(30)]
    for i, n in enumerate(names):
        _dns(store.con, "10.0.0.5", n, [T0 + 30 * i], qtype="TXT", rcode="NXDOMAIN")
    _run(store)
    row = _one(store.con, "SELECT host, kind, txt_queries, nxdomain, random_labels FROM scan_findings")
    assert row == ("t.evil.net", "beacon", 30, 30, 30)


def test_hostile_names_are_data_not_sql() -> None:
    store = Store()
    evil = "x'); DROP TABLE conn; --.workers.dev"
    _conn_tls(store.con, "10.0.0.1", evil, [T0 + 60 * i for i in range(40)])
    _run(store)
    assert _one(store.con, "SELECT count(*) FROM conn")[0] == 40
    assert _one(store.con, "SELECT host FROM scan_findings")[0] == evil.lower()


def test_fast_short_strobes_are_not_beacons() -> None:
    """A scanner hitting a port every second for two minutes is regular, but it is not a C2 beacon;
    nor is a 7-minute run of regular connections from a host the logs see for 6 hours."""
    store = Store()
    _conn_tls(store.con, "10.0.0.7", None, [T0 + i for i in range(120)], dst="10.0.0.8")
    _conn_tls(store.con, "10.0.0.9", "slow.example.net", [T0 + 30 * i for i in range(15)])  # 7 min only
    _conn_tls(store.con, "10.0.0.9", "other.example.org", [T0 + 6 * 3600.0])  # the host is seen for 6 h
    _conn_tls(store.con, "10.0.0.7", "other.example.org", [T0 + 6 * 3600.0])
    _run(store)
    assert _one(store.con, "SELECT count(*) FROM scan_beacon")[0] == 2  # both timed ...
    assert _one(store.con, "SELECT count(*) FROM scan_findings WHERE kind = 'beacon'")[0] == 0  # ... neither kept


def test_a_short_capture_keeps_its_own_span_beside_other_logs() -> None:
    """A capture of a few minutes (one host beaconing every 30 s for 7 minutes, all the logs have of
    it) scanned together with another host's logs of 6 hours: the span a beacon needs is taken from
    what the logs cover of its own host, so the capture's beacon is kept (real: Slips' RemcosRAT
    capture scanned with the other Slips folders); a host seen for the 6 hours is held to 10 minutes."""
    store = Store()
    _conn_tls(store.con, "10.0.0.9", "slow.example.net", [T0 + 30 * i for i in range(15)])  # the capture
    _conn_tls(store.con, "10.0.0.5", "slow.example.net", [T0 + 30 * i for i in range(15)])  # same burst ...
    _conn_tls(store.con, "10.0.0.5", "other.example.org", [T0 + 6 * 3600.0])  # ... from a host seen for 6 h
    _run(store)
    found = store.con.execute("SELECT src, host FROM scan_findings WHERE kind = 'beacon'").fetchall()
    assert found == [("10.0.0.9", "slow.example.net")]


def test_fast_cadence_to_a_public_address_is_a_beacon_but_a_scanner_is_not() -> None:
    """A RAT reconnecting every 3.5 s to a public address is kept (QuasarRAT); the same cadence from a
    source that does it to many destinations (a scanner) or to an internal address is not. Short logs
    (a replayed pcap of a few minutes) lower the span a beacon needs."""
    store = Store()
    times = [T0 + 3.5 * i for i in range(77)]                                   # 270 s, like the capture
    _conn_tls(store.con, "10.0.0.7", None, times, dst="86.136.67.231")          # the RAT
    _conn_tls(store.con, "10.0.0.8", None, times, dst="10.0.0.99")              # internal brute force
    for k in range(5):                                                          # a scanner, 5 targets
        _conn_tls(store.con, "10.0.0.9", None, [t + k * 0.1 for t in times], dst=f"198.51.100.{k + 1}")
    _run(store)
    found = store.con.execute("SELECT src, dst FROM scan_findings WHERE kind = 'beacon'").fetchall()
    assert found == [("10.0.0.7", "86.136.67.231")]


def test_announcements_to_multicast_or_broadcast_are_not_beacons() -> None:
    """SSDP every 2 minutes to 239.255.255.250 is as periodic as a beacon, but no server answers a
    multicast or broadcast announcement with commands; the same timer to a public address is a beacon."""
    store = Store()
    times = [T0 + 120.0 * i for i in range(300)]
    _conn_tls(store.con, "10.0.0.7", None, times, dst="239.255.255.250")        # SSDP
    _conn_tls(store.con, "10.0.0.7", None, times, dst="255.255.255.255")        # limited broadcast
    _conn_tls(store.con, "10.0.0.7", None, times, dst="ff02::c")                # SSDP over IPv6
    _conn_tls(store.con, "10.0.0.7", None, times, dst="203.0.113.9")            # the same timer, unicast
    _run(store)
    found = store.con.execute("SELECT dst FROM scan_findings WHERE kind = 'beacon'").fetchall()
    assert found == [("203.0.113.9",)]
    timed = store.con.execute("SELECT count(*) FROM scan_beacon WHERE beacon >= 0.8").fetchone()[0]
    assert timed == 4  # all four are timed as beacons; only the destination class drops three


def test_missed_checkins_are_not_jitter() -> None:
    """A precise 19-minute timer that misses a third of its check-ins (real: Slips test 6) has
    intervals of 1 and 2 periods; the quartiles of all of them read as 80 % jitter. The rhythm is
    measured up to 1.5 x the median, so the timer is regular and the skips are counted."""
    rng = random.Random(5)
    store = Store()
    intervals = [1153.0 * (2 if rng.random() < 0.3 else 1) + rng.uniform(-2, 2) for _ in range(60)]
    _conn_tls(store.con, "10.0.0.7", None, _times(intervals), dst="122.248.234.231")
    _run(store, "44")
    n, skips, qcd, r_score = store.con.execute("SELECT n, skips, qcd, r_score FROM scan_beacon").fetchone()
    assert 10 <= skips <= 30 and n == 59  # 60 check-ins
    assert qcd < 0.01 and r_score > 0.95


def test_contacts_need_a_catalogue_entry_that_is_not_low_confidence() -> None:
    """A non-browser client reaching a Worker is a contact; the same client reaching a CDN or a VM
    hostname (low-confidence entries: endless benign updater and telemetry traffic) is not."""
    store = Store()
    few = [T0, T0 + 400.0, T0 + 1900.0]                                         # not periodic
    _conn_tls(store.con, "10.0.0.7", "relay.acct.workers.dev", few)
    _conn_tls(store.con, "10.0.0.7", "d111111abcdef8.cloudfront.net", few, uid_prefix="cf")
    _conn_tls(store.con, "10.0.0.7", "settings-prod-neu-2.northeurope.cloudapp.azure.com", few, uid_prefix="vm")
    _run(store)
    contacts = store.con.execute("SELECT host FROM scan_findings WHERE kind = 'contact'").fetchall()
    assert contacts == [("relay.acct.workers.dev",)]


def test_a_beacon_to_a_low_confidence_entry_is_weighed_as_an_ordinary_one_and_medium_at_most() -> None:
    """A CI runner's API name, a CNAME to CloudFront, polled every 50 s, was a high "serverless" beacon:
    the platform is named, but a generic CDN is mostly ordinary sites, and the catalogue rates its
    contacts low. The same timer to a Worker is high; to an ordinary name, medium, as to CloudFront."""
    rng = random.Random(21)
    times = _times(rng.uniform(48, 52) for _ in range(1500))
    store = Store()
    _conn_tls(store.con, "10.0.0.7", "relay.acct.workers.dev", times, uid_prefix="w")
    _conn_tls(store.con, "10.0.0.8", "d111111abcdef8.cloudfront.net", times, uid_prefix="cf")
    _conn_tls(store.con, "10.0.0.9", "api.plain-ci.example", times, uid_prefix="o")
    result = run_scan(store, ScanOptions(min_score=0.0))
    found = {f.src: f for f in result.findings if f.kind == "beacon"}
    assert found["10.0.0.7"].severity == "high" and found["10.0.0.7"].platform == "Cloudflare Workers"
    cf, plain = found["10.0.0.8"], found["10.0.0.9"]
    assert cf.platform == "AWS CloudFront" and cf.severity == "medium" == plain.severity
    assert cf.score == plain.score < found["10.0.0.7"].score
    assert cf.reasons[0].startswith("serverless destination: AWS CloudFront") and "low-confidence" in cf.reasons[0]
    assert not [r for r in found["10.0.0.7"].reasons if "low-confidence" in r]


def _http(con, src: str, host: str, times: list[float], ua: str, dst: str = "93.184.216.34") -> None:
    con.executemany(
        "INSERT INTO conn (ts, epoch, uid, src, src_port, dst, dst_port, proto, service, duration, orig_bytes,"
        " resp_bytes, conn_state, sensor) VALUES (?,?,?,?,50000,?,80,'tcp','http',0.2,300,900,'SF','zeek')",
        [(datetime.fromtimestamp(t, timezone.utc).replace(tzinfo=None), t, f"H{src}{host}{i}", src, dst)
         for i, t in enumerate(times)])
    con.executemany(
        "INSERT INTO http (ts, epoch, uid, src, src_port, dst, dst_port, method, host, uri, user_agent, status,"
        " sensor) VALUES (?,?,?,?,50000,?,80,'GET',?,'/',?,200,'zeek')",
        [(datetime.fromtimestamp(t, timezone.utc).replace(tzinfo=None), t + 0.01, f"H{src}{host}{i}", src, dst,
          host, ua) for i, t in enumerate(times)])


def test_a_scripting_tool_outranks_an_unrecognised_non_browser_on_the_same_timer() -> None:
    """PowerShell polling every 5 min (RITA's test data) ranks above an OS service on the same timer:
    a recognised tool family is evidence, an unrecognised User-Agent only says 'not a browser'."""
    store = Store()
    timer = [T0 + 300.0 * i for i in range(200)]
    for k in range(3):      # fleet-wide on both sides, so that neither score is capped at 1
        _http(store.con, f"10.0.1.{k}", "www.alexa.com", [t + k for t in timer],
              "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.16299.98")
        _http(store.con, f"10.0.2.{k}", "tile-service.example.com", [t + k for t in timer], "Microsoft-WNS/10.0")
    _run(store)
    rows = store.con.execute("SELECT host, tool, min(score), max(score) FROM scan_findings WHERE kind = 'beacon' "
                             "GROUP BY host, tool ORDER BY host").fetchall()
    assert [(h, t) for h, t, _, _ in rows] == [("tile-service.example.com", False), ("www.alexa.com", True)]
    (_, _, wns_lo, wns_hi), (_, _, ps_lo, ps_hi) = rows
    assert ps_lo > wns_hi and wns_lo == wns_hi and ps_hi < 1.0


def _kept_alive(con, src: str, host: str, uid: str, times: list[float], ua: str, *, https_ja4: str | None = None,
                dst: str = "93.184.216.34") -> None:
    """One connection (conn row at times[0], as long as the requests) carrying one HTTP request per time;
    with ``https_ja4`` it is TLS decrypted by the sensor: an ssl row with that JA4 and the same uid."""
    port = 443 if https_ja4 else 80
    con.execute("INSERT INTO conn (ts, epoch, uid, src, src_port, dst, dst_port, proto, service, duration, orig_bytes,"
                " resp_bytes, conn_state, sensor) VALUES (NULL, ?, ?, ?, 50000, ?, ?, 'tcp', 'http', ?, ?, ?, 'SF', 'zeek')",
                [times[0], uid, src, dst, port, times[-1] - times[0] + 0.1, 500 * len(times), 300 * len(times)])
    if https_ja4:
        con.execute("INSERT INTO tls (epoch, uid, src, dst, dst_port, server_name, ja4, sensor) "
                    "VALUES (?, ?, ?, ?, 443, ?, ?, 'zeek')", [times[0] + 0.005, uid, src, dst, host, https_ja4])
    con.executemany(
        "INSERT INTO http (epoch, uid, src, src_port, dst, dst_port, method, host, uri, user_agent, status,"
        " request_body_len, response_body_len, sensor) VALUES (?,?,?,50000,?,?,'POST',?,'/b',?,200,180,60,'zeek')",
        [(t + 0.01, uid, src, dst, port, host, ua) for t in times])


def test_each_request_on_a_kept_alive_connection_is_a_checkin() -> None:
    """An implant that holds one HTTP connection open between check-ins is timed by its requests: one
    connection event plus one event per later request, keyed like the connection (a decrypted TLS
    connection's later requests keep its JA4); a browser's burst of requests on one connection is one
    check-in, not a beacon."""
    beacon = _times([45 * (1 - 0.3 * ((i * 7919) % 100) / 100) for i in range(400)])
    # a person reading news: a page now and then (about every 20 min, at random), 25 requests within 3 s
    # on one connection per page; on every 4th page a click 20-60 s later loads 5 more on it
    rng = random.Random(3)
    pages = list(itertools.accumulate((rng.expovariate(1 / 1200) for _ in range(40)), initial=T0))[1:]

    def reading(t: float, k: int) -> list[float]:
        click = t + 20 + (k * 13 % 40)
        return [t + 0.12 * j for j in range(25)] + ([click + 0.1 * j for j in range(5)] if k % 4 == 0 else [])

    def seeded(with_tls: bool) -> Store:
        store = Store()
        _kept_alive(store.con, "10.0.0.1", "edge.acct.azurewebsites.net", "Ck1", beacon[:200], "Go-http-client/1.1")
        _kept_alive(store.con, "10.0.0.1", "edge.acct.azurewebsites.net", "Ck2", beacon[200:], "Go-http-client/1.1")
        if with_tls:
            _kept_alive(store.con, "10.0.0.2", "cdn.acct.azurewebsites.net", "Ck3", beacon[:50], "Go-http-client/1.1",
                        https_ja4=TOOL_JA4)
        for k, t in enumerate(pages):
            _kept_alive(store.con, "10.0.0.3", "news.example.org", f"Cb{k}", reading(t, k), CHROME_UA)
        return store

    store = seeded(with_tls=True)
    _run(store, "21")
    rows = store.con.execute("SELECT s.addr, count(*), count(*) FILTER (WHERE by_request), "
                             "count(*) FILTER (WHERE by_conn), count(DISTINCT client_id), count(DISTINCT raw_id) "
                             "FROM scan_events e JOIN scan_addrs s ON s.addr_id = e.src_id "
                             "GROUP BY s.addr ORDER BY s.addr").fetchall()
    assert rows == [("10.0.0.1", 400, 398, 2, 0, 1), ("10.0.0.2", 50, 49, 1, 1, 1), ("10.0.0.3", 50, 10, 40, 0, 1)]
    # the later requests carry their own times and bytes; the connection event the connection's
    times = [r[0] for r in store.con.execute("SELECT epoch FROM scan_events e JOIN scan_addrs s ON s.addr_id = e.src_id "
                                             "WHERE s.addr = '10.0.0.1' AND by_request ORDER BY epoch").fetchall()]
    assert times == pytest.approx([t + 0.01 for t in beacon[1:200] + beacon[201:]])
    assert _one(store.con, "SELECT min(bytes_out), max(bytes_out) FROM scan_events WHERE by_request") == (180, 180)
    store = seeded(with_tls=False)    # and scored: the implant is a beacon, the reader is not
    _run(store)
    found = store.con.execute("SELECT src, host, kind, connections, later_requests FROM scan_findings "
                              "WHERE kind = 'beacon' ORDER BY src").fetchall()
    assert found == [("10.0.0.1", "edge.acct.azurewebsites.net", "beacon", 2, 398)]


def test_a_connections_http_bytes_add_up_as_64_bit_counts_and_a_crafted_sum_saturates() -> None:
    """The events carry a connection's HTTP body lengths summed as 64-bit counts (not the 128-bit sum,
    16 bytes more per event); a crafted log whose lengths add past 2^63 saturates instead of failing
    the scan, and the connection is still an event with its other bytes."""
    store = Store()
    big = 2**62 + 5
    for uid, lens in (("Cbig", [big, big, big]), ("Cneg", [-big, -big, -big]), ("Cok", [100, 250, 0])):
        store.con.executemany(
            "INSERT INTO http (epoch, uid, src, src_port, dst, dst_port, method, host, uri, user_agent, status,"
            " request_body_len, response_body_len, sensor) VALUES (?,?,'10.0.0.9',50000,'93.184.216.34',80,"
            "'POST','h.example.com','/b','curl/8.0',200,?,7,'zeek')",
            [(T0 + k * 0.5, uid, n) for k, n in enumerate(lens)])
    _run(store, "21")
    assert _one(store.con, "SELECT typeof(bytes_out) || ' ' || typeof(bytes_in) FROM scan_events LIMIT 1") == ("BIGINT BIGINT",)
    rows = sorted(store.con.execute("SELECT bytes_out, bytes_in FROM scan_events").fetchall())
    assert rows == [(-2**63, 21), (350, 21), (2**63 - 1, 21)]
    _run(store)    # and every later stage takes them: the host's one channel, of its three connections
    assert _one(store.con, "SELECT count(*), sum(events) FROM scan_channels") == (1, 3)


def test_a_long_connection_with_counts_near_2_63_is_scored_not_an_overflow() -> None:
    """A connection's two byte counts are added to weigh a long-lived connection's rate (stage 22): two
    counts near 2^63 (a wrapped counter, held there by the ingest) must not overflow the scan; such a
    connection moves far too much to be a quiet keep-alive beacon, and the ordinary one beside it
    still is one."""
    store = Store()
    _conn_tls(store.con, "10.0.0.7", "quiet.example.workers.dev", [T0, T0 + 5000.0])
    store.con.execute("UPDATE conn SET duration = 7200, orig_bytes = 2000, resp_bytes = 3000 WHERE src = '10.0.0.7'")
    _conn_tls(store.con, "10.0.0.8", "loud.example.workers.dev", [T0, T0 + 5000.0])
    store.con.execute("UPDATE conn SET duration = 7200, orig_bytes = $m, resp_bytes = $m WHERE src = '10.0.0.8'",
                      {"m": 2**63 - 1})
    _run(store, "22")
    rows = dict(store.con.execute("SELECT a.addr, max(p.long_conn_s) FROM scan_parts p "
                                  "JOIN scan_addr_dict a ON a.addr_id = p.src_id GROUP BY a.addr").fetchall())
    assert rows == {"10.0.0.7": 7200.0, "10.0.0.8": None}
    _run(store)  # and every later stage takes them
    assert _one(store.con, "SELECT count(*) FROM scan_channels") == (2,)


def test_the_long_lived_reason_quotes_that_connections_bytes_not_the_channels() -> None:
    """A channel of one quiet two-hour connection and three short busy ones: the reason says what the
    long connection moved (its 2000 + 3000 bytes), not the channel's total (found by fuzzing: it quoted
    the sum over every connection of the channel); the longest of two quiet ones is the one quoted."""
    store = Store()
    _conn_tls(store.con, "10.0.0.7", "quiet.example.workers.dev", [T0, T0 + 9000.0, T0 + 9100.0, T0 + 9200.0, T0 + 9300.0])
    store.con.execute("UPDATE conn SET duration = 7200, orig_bytes = 2000, resp_bytes = 3000 WHERE epoch = $t",
                      {"t": T0})
    store.con.execute("UPDATE conn SET duration = 3700, orig_bytes = 1000, resp_bytes = 1000 WHERE epoch = $t",
                      {"t": T0 + 9000.0})
    store.con.execute("UPDATE conn SET orig_bytes = 900000, resp_bytes = 4000000 WHERE epoch > $t",
                      {"t": T0 + 9000.0})
    result = run_scan(store, ScanOptions(min_score=0.0))
    (f,) = [f for f in result.findings if f.src == "10.0.0.7"]
    assert f.bytes_out == 2000 + 1000 + 3 * 900000 and f.bytes_in == 3000 + 1000 + 3 * 4000000
    (reason,) = [r for r in f.reasons if r.startswith("long-lived low-volume connection")]
    assert "2.0 h moving 5000 bytes" in reason
    assert str(f.bytes_out + f.bytes_in) not in reason and "2000 bytes" not in reason


def test_a_name_of_which_nothing_is_left_is_no_name() -> None:
    """An SNI '.' or ':443' normalizes to nothing: its connections are keyed by address like those
    without a name, not reported as a finding whose host is '' (found by fuzzing). A real name beside
    them keeps its name."""
    store = Store()
    _conn_tls(store.con, "10.0.0.7", ".", [T0 + 60.0 * i for i in range(200)])
    _conn_tls(store.con, "10.0.0.8", ":443", [T0 + 61.0 * i for i in range(200)], dst="104.21.2.2")
    _conn_tls(store.con, "10.0.0.9", "Abc.Workers.Dev.", [T0 + 62.0 * i for i in range(200)], dst="104.21.3.3")
    result = run_scan(store, ScanOptions(min_score=0.0))
    got = sorted((f.src, f.host, f.dst, f.kind, f.connections) for f in result.findings)
    assert got == [("10.0.0.7", None, "104.21.1.1", "beacon", 200), ("10.0.0.8", None, "104.21.2.2", "beacon", 200),
                   ("10.0.0.9", "abc.workers.dev", "104.21.3.3", "beacon", 200)]


def test_a_rotating_tenants_host_is_its_most_used_name_ties_to_the_smallest() -> None:
    """A beacon rotating among workers of one account is one channel; the finding's host is its most
    used name, and among names used as often, the smallest, the same in every run (max_by took any of
    them). The one name used more than the others wins over the smaller ones."""
    names = [f"w{i:02d}.acct.workers.dev" for i in (7, 3, 9, 1, 5)]
    for extra, want in ((False, "w01.acct.workers.dev"), (True, "w09.acct.workers.dev")):
        store = Store()
        for j, name in enumerate(names):
            _conn_tls(store.con, "10.0.0.7", name, [T0 + 300.0 * i + 60.0 * j for i in range(40)], uid_prefix=name)
        if extra:
            _conn_tls(store.con, "10.0.0.7", names[2], [T0 + 300.0 * 40 + 60.0 * i for i in range(3)], uid_prefix="x")
        result = run_scan(store, ScanOptions(min_score=0.0))
        (f,) = [f for f in result.findings if f.src == "10.0.0.7"]
        assert (f.tenant, f.host) == ("acct", want)
        assert any("5 different names" in r for r in f.reasons)


@pytest.mark.parametrize("per_checkin", [2, 4, 8])
def test_check_ins_of_several_quick_connections_are_timed_by_their_sleep(per_checkin: int) -> None:
    """A check-in of four or more connections 0.1 s apart made three quarters of the raw gaps
    sub-second, and the burst gap (a fraction of the upper quartile) a fraction of them: nothing
    collapsed, and a 60 s beacon was timed "every ~0.1 s" (found by fuzzing). The burst gap now comes
    from the gaps of a second or more. Random polls opening as many connections each time are still
    random: no beacon."""
    rnd = random.Random(per_checkin)
    beacon, polls, t, u = [], [], T0, T0
    for _ in range(600):
        t += 60.0 * (1 - 0.3 * rnd.random())              # Cobalt Strike style, 30 % jitter
        beacon += [t + 0.1 * k for k in range(per_checkin)]
        u += rnd.expovariate(1 / 120.0)                    # Poisson, mean 2 min
        polls += [u + 0.1 * k for k in range(per_checkin)]
    store = Store()
    _conn_tls(store.con, "10.0.0.5", "abc.workers.dev", beacon)
    _conn_tls(store.con, "10.0.0.6", "news.example.com", polls, ja4=CHROME_JA4)
    result = run_scan(store, ScanOptions(min_score=0.0))
    (b,) = [f for f in result.findings if f.src == "10.0.0.5"]
    assert b.kind == "beacon" and 45 <= b.period_s <= 55 and 0.2 <= b.jitter <= 0.4
    assert not [f for f in result.findings if f.src == "10.0.0.6" and f.kind == "beacon"]


def test_a_channels_byte_total_past_2_63_is_reported_as_the_largest_count() -> None:
    """Counts near 2^63 (held there by the ingest) add up past it over a channel: the finding says
    2^63 - 1, as every count it reports fits a 64-bit integer (JSON readers, spreadsheets), not
    6917529027641081856000."""
    store = Store()
    _conn_tls(store.con, "10.0.0.8", "loud.example.workers.dev", [T0 + 60.0 * i for i in range(30)])
    store.con.execute("UPDATE conn SET orig_bytes = $m, resp_bytes = 5 WHERE src = '10.0.0.8'", {"m": 2**62})
    result = run_scan(store, ScanOptions(min_score=0.0))
    (f,) = [f for f in result.findings if f.src == "10.0.0.8"]
    assert (f.bytes_out, f.bytes_in) == (2**63 - 1, 150)


def test_an_outside_address_reaching_an_internal_one_weighs_half_and_says_inbound() -> None:
    """An uptime monitor on the Internet polling an internal web server is timed like any channel but
    is not an internal host calling out: its score is weighted by w_inbound and its reasons say so.
    The same timer from an internal host out, or between two public addresses (a network numbered
    in public space), is not inbound."""
    store = Store()
    timer = [T0 + 300.0 * i + (i * 7 % 5) for i in range(200)]
    _conn_tls(store.con, "216.245.221.83", None, timer, dst="10.0.0.80")          # in
    _conn_tls(store.con, "10.0.0.5", None, timer, dst="93.184.216.34")            # out
    _conn_tls(store.con, "93.184.216.40", None, timer, dst="93.184.216.35")       # public to public
    _run(store)
    rows = {r[0]: r[1:] for r in store.con.execute(
        "SELECT src, kind, inbound, score FROM scan_findings ORDER BY src").fetchall()}
    assert set(rows) == {"216.245.221.83", "10.0.0.5", "93.184.216.40"}
    assert rows["216.245.221.83"][:2] == ("beacon", True) and not rows["10.0.0.5"][1] and not rows["93.184.216.40"][1]
    assert rows["216.245.221.83"][2] == pytest.approx(ScanParams().w_inbound * rows["10.0.0.5"][2])
    result = run_scan(store, ScanOptions(min_score=0.0))
    (inbound,) = [f for f in result.findings if f.src == "216.245.221.83"]
    assert any(r.startswith("inbound: 216.245.221.83 is an outside address") for r in inbound.reasons)
    assert "only this source talks to it" in inbound.reasons and not any("only this internal host" in r for r in inbound.reasons)
    (out,) = [f for f in result.findings if f.src == "10.0.0.5"]
    assert not any(r.startswith("inbound") for r in out.reasons) and out.score > inbound.score


# --- scale: joins that stay proportional to the day ----------------------------------------------


def _max_rows(node: dict) -> int:
    """The most rows any operator of a DuckDB JSON profile produced (key names of DuckDB 1.x and 2.x)."""
    own = int(node.get("operator_cardinality", node.get("intermediate_rows", 0)) or 0)
    return max([own, *(_max_rows(c) for c in node.get("children", []))])


def _profiled_run(store: Store, tmp_path, monkeypatch) -> dict[str, int]:
    """Run the scoring stages as _run does, profiling each statement: the most rows any operator of
    each stage produced."""
    import analyzer.scan as scan_mod

    out = tmp_path / "profile.json"
    widest: dict[str, int] = {}

    def profiled(con, name, values):
        sql = read_sql(name)
        for statement in con.extract_statements(sql):
            con.execute("SET enable_profiling = 'json'")
            con.execute("SET profiling_output = ?", [str(out)])
            con.execute(statement.query, {p: values[p] for p in statement.named_parameters})
            con.execute("SET enable_profiling = 'no_output'")
            profile = json.loads(out.read_text())
            rows = max((_max_rows(op) for op in profile.get("operator", profile.get("children", []))), default=0)
            widest[name] = max(widest.get(name, 0), rows)

    monkeypatch.setattr(scan_mod, "run_stage", profiled)
    _run(store)
    return widest


def test_no_stage_joins_a_popular_name_with_every_channel_of_it(tmp_path, monkeypatch) -> None:
    """200 hosts each resolve one popular name 10 times and connect to it 3 times. Stage 47 once joined
    the queries to the channels' names on the name alone (and the source after): every query of the
    name with every host's channel of it, 200 x the queries (a day of 1M channels: 205M rows, 50 s,
    out of memory). No stage may produce more rows than a small multiple of the logs' own."""
    store = Store()
    for h in range(200):
        src = f"10.9.{h // 250}.{h % 250}"
        _conn_tls(store.con, src, "popular.example.com", [T0 + 1000 * k + h for k in range(3)], ja4=CHROME_JA4)
        store.con.execute(
            "INSERT INTO dns (ts, epoch, uid, src, dst, dst_port, query, qtype, rcode, answers, ttls, sensor)"
            " SELECT make_timestamp(CAST(t * 1000000 AS BIGINT)), t, 'D' || $src || t, $src, '10.0.0.53', 53,"
            " 'popular.example.com', 'A', 'NOERROR', ['104.21.1.1'], [300.0], 'zeek'"
            " FROM (SELECT $t0 + 600 * i + $h AS t FROM range(10) r(i))", {"src": src, "t0": T0, "h": h})
    # ... among 20000 sites visited once each, a quarter of them resolved (the rest cached): so many
    # channels and names that DuckDB, judging by its estimates, would join the queries to the
    # channels' names on the name first
    store.con.execute(
        "INSERT INTO conn (ts, epoch, uid, src, src_port, dst, dst_port, proto, service, duration, orig_bytes,"
        " resp_bytes, conn_state, sensor) SELECT make_timestamp(CAST(t * 1000000 AS BIGINT)), t, 'S' || i,"
        " '10.8.0.' || (i % 200), 50000, '104.21.2.2', 443, 'tcp', 'ssl', 0.3, 400, 300, 'SF', 'zeek'"
        " FROM (SELECT i, $t0 + 4 * i AS t FROM range(20000) r(i))", {"t0": T0})
    store.con.execute(
        "INSERT INTO tls (ts, epoch, uid, src, src_port, dst, dst_port, server_name, ja4, sensor)"
        " SELECT ts, epoch + 0.01, uid, src, 50000, dst, 443, 'site' || substr(uid, 2) || '.example.net', $ja4,"
        " 'zeek' FROM conn WHERE uid LIKE 'S%'", {"ja4": CHROME_JA4})
    store.con.execute(
        "INSERT INTO dns (ts, epoch, uid, src, dst, dst_port, query, qtype, rcode, answers, ttls, sensor)"
        " SELECT ts, epoch - 0.05, 'Q' || uid, src, '10.0.0.53', 53, server_name, 'A', 'NOERROR', ['104.21.2.2'],"
        " [300.0], 'zeek' FROM tls WHERE uid LIKE 'S%' AND CAST(substr(uid, 2) AS INTEGER) % 4 = 0")
    log_rows = sum(store.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("conn", "tls", "dns"))
    assert log_rows == 200 * (3 + 3 + 10) + 2 * 20000 + 5000
    widest = _profiled_run(store, tmp_path, monkeypatch)
    assert "47_dns_evidence.sql" in widest and len(widest) == len(scoring_stages())
    assert max(widest.values()) <= 4 * log_rows, sorted(widest.items(), key=lambda kv: -kv[1])[:3]
    # and the scan still judged it: browsing, no finding, every host a channel of its own
    assert _one(store.con, "SELECT count(*) FROM scan_findings") == (0,)
    assert _one(store.con, "SELECT count(*) FROM scan_channels WHERE dest_key = 'name:popular.example.com'") == (200,)


def test_only_the_channels_that_can_be_findings_get_facts() -> None:
    """Stages 45-49 judge the channels that can be findings (scan_candidates): those timed as beacons,
    those to a serverless or threat-intel name, and those with a long-lived low-volume connection. A
    visit or two to an ordinary site is none of these; the source's span still counts all its channels."""
    store = Store()
    _conn_tls(store.con, "10.0.0.1", "beacon.example.org", _times([300] * 40))            # timed
    _conn_tls(store.con, "10.0.0.1", "visit.example.org", [T0 + 5, T0 + 86000])           # two visits
    _conn_tls(store.con, "10.0.0.2", "x1.acct.workers.dev", [T0 + 7])                     # serverless, once
    _conn_tls(store.con, "10.0.0.3", "plain.example.net", [T0 + 9])                       # a visit
    _run(store)
    facts = {r[0] for r in store.con.execute("SELECT host FROM scan_facts").fetchall()}
    assert facts == {"beacon.example.org", "x1.acct.workers.dev"}
    channels = {r[0] for r in store.con.execute("SELECT dest_key FROM scan_channels").fetchall()}
    assert len(channels) == 4                      # every channel is still a channel (prevalence, hosts)
    span = _one(store.con, "SELECT last_epoch - first_epoch FROM scan_src_span WHERE src = '10.0.0.1'")[0]
    assert span == pytest.approx(86000 - 5)        # the visit, not only the beacon, bounds the host's span
    kinds = dict(store.con.execute("SELECT host, kind FROM scan_findings").fetchall())
    assert kinds == {"beacon.example.org": "beacon", "x1.acct.workers.dev": "contact"}


def test_a_client_rotating_among_serverless_tenants_is_also_one_channel_of_them_all() -> None:
    """Stage 25: a source's client reaching several serverless tenants is timed across them as one more
    channel (its key 'rotation:...'), with every event of its tenants; not when one tenant has more
    than rotation_max_share of them, not across a low-confidence entry (CloudFront), and not with
    another client's events."""
    store = Store()
    con = store.con
    rng = random.Random(5)
    urls = [f"{c * 32}.lambda-url.us-east-1.on.aws" for c in "abc"]
    t, times = T0, {u: [] for u in urls}
    for _ in range(300):                      # every 2 min at 30 % jitter, a tenant picked at random
        times[rng.choice(urls)].append(t)
        t += 120 * (1 - 0.3 * rng.random())
    for u in urls:
        _conn_tls(con, "10.0.0.1", u, times[u])
    _conn_tls(con, "10.0.0.1", "d1111111abcd.cloudfront.net", [T0 + 7 + 600 * i for i in range(40)])  # low confidence
    _conn_tls(con, "10.0.0.1", "other.workers.dev", [T0 + 11 + 900 * i for i in range(30)], ja4=CHROME_JA4)
    # a tenant five hosts reach (an office's site or service) is none of a rotation's
    for h in range(4):
        _conn_tls(con, f"10.0.1.{h}", "app.common-tenant.workers.dev", [T0 + 13 + 700 * i for i in range(20)])
    _conn_tls(con, "10.0.0.1", "app.common-tenant.workers.dev", [T0 + 17 + 700 * i for i in range(20)])
    # one busy tenant and a stray visit to another: that tenant's channel again, no rotation
    _conn_tls(con, "10.0.0.2", "busy.tenant-a.workers.dev", [T0 + 60 * i for i in range(100)])
    _conn_tls(con, "10.0.0.2", "stray.tenant-b.workers.dev", [T0 + 33 + 600 * i for i in range(10)])
    _run(store, "25")
    chans = con.execute("SELECT src, dest_key, fp, events FROM scan_channels WHERE dest_key LIKE 'rotation:%'").fetchall()
    assert len(chans) == 1
    src, key, fp, events = chans[0]
    assert src == "10.0.0.1" and key.startswith("rotation:3:") and fp == TOOL_JA4
    assert events == 300 == sum(len(v) for v in times.values())
    # the tenants keep their own channels
    tenants = con.execute("SELECT count(*) FROM scan_channels WHERE src = '10.0.0.1' AND dest_key LIKE 'tenant:AWS Lambda%' "
                          "AND fp = ?", [TOOL_JA4]).fetchone()[0]
    assert tenants == 3
    # the key stands for the set of tenants: the same on another run, another with a fourth tenant
    again = Store()
    for u in urls:
        _conn_tls(again.con, "10.0.0.9", u, times[u])
    _run(again, "25")
    assert again.con.execute("SELECT dest_key FROM scan_channels WHERE dest_key LIKE 'rotation:%'").fetchall() == [(key,)]
    # with the rotation's share limit raised, the busy tenant and its stray visit make one too
    lax = Store()
    _conn_tls(lax.con, "10.0.0.2", "busy.tenant-a.workers.dev", [T0 + 60 * i for i in range(100)])
    _conn_tls(lax.con, "10.0.0.2", "stray.tenant-b.workers.dev", [T0 + 33 + 600 * i for i in range(10)])
    _run(lax, "25", ScanParams(rotation_max_share=0.95))
    assert lax.con.execute("SELECT count(*) FROM scan_channels WHERE dest_key LIKE 'rotation:2:%'").fetchone()[0] == 1


def test_a_rotation_of_a_browsers_client_is_no_finding() -> None:
    """A browser's serverless sites and a page or extension polling one of them, timed together, made a
    medium "rotation" (an outside tester's day): a rotation channel is a beacon finding only for a client
    that is not a browser's. The same check-ins from a tool's client are a high beacon."""
    rng = random.Random(9)
    urls = [f"{c * 32}.lambda-url.us-east-1.on.aws" for c in "def"]
    store = Store()
    for src, ja4 in (("10.0.0.1", TOOL_JA4), ("10.0.0.2", CHROME_JA4)):
        t, times = T0, {u: [] for u in urls}
        for _ in range(300):
            times[rng.choice(urls)].append(t)
            t += 120 * (1 - 0.3 * rng.random())
        for u in urls:
            _conn_tls(store.con, src, u, times[u], ja4=ja4)
    result = run_scan(store, ScanOptions(min_score=0.0))
    rotations = [(f.src, f.severity) for f in result.findings if f.rotation]
    assert rotations == [("10.0.0.1", "high")]
    assert store.con.execute("SELECT count(*) FROM scan_channels WHERE dest_key LIKE 'rotation:3:%'").fetchone()[0] == 2
