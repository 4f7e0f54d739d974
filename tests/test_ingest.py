"""Ingest: one test per input scenario (tests/fixtures/ingest/<scenario>/), plus format equivalence."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pytest

from analyzer.ingest import FileReport, IngestReport, ingest_paths
from analyzer.ingest.detect import EVE, ZEEK_JSON, ZEEK_TSV, detect
from analyzer.store import Store

FIX = Path(__file__).parent / "fixtures" / "ingest"
TABLES = ("conn", "dns", "tls", "http")


@pytest.fixture
def store():
    s = Store()
    yield s
    s.close()


def load(store: Store, *paths: Path | str) -> IngestReport:
    report = ingest_paths(store, [str(p) for p in paths])
    for f in report.files:
        assert f.accounted, f"lines do not add up for {f.path}: {f}"
    return report


def rows(store: Store, table: str, cols: str = "*") -> list[tuple]:
    order = "" if cols.startswith("count(") else " ORDER BY file_id, line"
    return store.con.execute(f"SELECT {cols} FROM {table}{order}").fetchall()


def only(report: IngestReport) -> FileReport:
    assert len(report.files) == 1
    return report.files[0]


# ---------------------------------------------------------------- detection


@pytest.mark.parametrize(
    "head,name,fmt,kind",
    [
        (b"#separator \\x09\n#path\tdns\n", "whatever.txt", ZEEK_TSV, "dns"),
        (b"\t#separator \\x09\n#fields\tts\n", "conn.log", ZEEK_TSV, "conn"),
        (b"### BTest baseline data\n#separator \\x09\n#path\tssl\n", "x.log", ZEEK_TSV, "ssl"),
        (b'{"_path":"http","ts":1}\n', "dns.log", ZEEK_JSON, "http"),
        (b'{"ts":1,"uid":"C","query":"a","qtype":1}\n', "conn_json.log", ZEEK_JSON, "dns"),
        (b'{"timestamp":"2026-01-01T00:00:00+0000","event_type":"flow"}\n', "conn.log", EVE, "eve"),
        # a first object that says neither what it is (no event_type, no _path) does not decide
        (b'{"timestamp":"x","foo":1}\n{"timestamp":"2026-01-01T00:00:00+0000","event_type":"flow"}\n',
         "capture.json", EVE, "eve"),
        (b'{"ts":1,"uid":"C"}\n{"_path":"dns","ts":2}\n', "conn.json", ZEEK_JSON, "conn"),  # _path per line
        (b'{"timestamp":"x","foo":1}\n', "eve.json", EVE, "eve"),
        (b'{"ts":1,"uid":"C","query":"a","qtype":1}\n{"ts":2}\n', "x.json", ZEEK_JSON, "dns"),
    ],
)
def test_detect_from_content_not_name(head, name, fmt, kind):
    d = detect(head, name)
    assert (d.format, d.kind, d.skip) == (fmt, kind, None)


@pytest.mark.parametrize("head, epoch", [
    (b'{"ts": 1795651200.25, "uid": "C1"}\n', True),
    (b'{"ts": 1795651200, "uid": "C1"}\n', True),
    (b'{"ts": "2026-11-26T00:00:00.25Z", "uid": "C1"}\n{"ts": 1795651200.5}\n', False),
    (b'{"ts": true, "uid": "C1"}\n', False),
    (b'{"uid": "C1"}\n', False),
    (b'{"ts": 17956\n{"ts": 1795651200.25, "uid": "C1"}\n', True),  # the first parseable object decides
])
def test_detect_says_whether_zeek_json_times_are_epoch_numbers(head, epoch):
    """Detection.epoch_ts: the fast read then has DuckDB read every ts as a number."""
    d = detect(head, "conn.log")
    assert (d.format, d.kind, d.epoch_ts) == (ZEEK_JSON, "conn", epoch)
    assert detect(b'{"event_type": "flow", "ts": 1.5}\n', "eve.json").epoch_ts is False


@pytest.mark.parametrize("head", [b"", b"\n\n", b"hello world\n", b"\x00\x01binary", b"[1,2]\n"])
def test_detect_not_a_log(head):
    d = detect(head, "dns.log")
    assert d.format is None and d.skip


def test_a_file_whose_lines_end_in_cr_only_is_skipped_with_that_reason(store, tmp_path):
    """Read by LF, such a file is one line that starts like a header: its data lines were neither
    loaded nor rejected (the file was "header only")."""
    p = tmp_path / "conn.log"
    p.write_bytes(b"#separator \\x09\r#path\tconn\r#fields\tts\tuid\r#types\ttime\tstring\r"
                  + b"".join(b"%d.0\tC%d\r" % (1795651200 + i, i) for i in range(8)))
    f = only(load(store, p))
    assert f.status == "skipped" and f.rows_loaded == 0
    assert "lines end in CR only" in f.reason
    # CRLF, and a CR at the very end, are still read as lines
    assert detect(b'{"ts":1}\r\n{"ts":2}\r\n', "conn.log").skip is None
    assert detect(b'{"ts":1}\r', "conn.log").skip is None


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize("eve", [False, True], ids=["zeek-json", "eve"])
def test_a_first_line_longer_than_the_head_is_still_detected(tmp_path, gz, eve):
    """A JSON log whose first record carries a 70 KB field (a long URI, a certificate subject) holds no
    complete line in the 64 KiB detection reads first: it is read further, not skipped whole as "not
    a log" (which would hide every record of the file, beacons included)."""
    import json

    def rec(i, uri):
        if eve:
            return {"timestamp": f"2026-11-26T00:{i:02d}:00.000000+0000", "flow_id": 1000 + i, "event_type": "http",
                    "src_ip": "10.1.1.5", "src_port": 40000 + i, "dest_ip": "104.21.1.1", "dest_port": 80,
                    "proto": "TCP", "http": {"hostname": "x.evil.workers.dev", "url": uri,
                                             "http_user_agent": "curl/8.4.0", "http_method": "GET"}}
        return {"ts": 1795651200.0 + 60 * i, "uid": f"C{i}", "id.orig_h": "10.1.1.5", "id.orig_p": 40000 + i,
                "id.resp_h": "104.21.1.1", "id.resp_p": 80, "method": "GET", "host": "x.evil.workers.dev",
                "uri": uri, "user_agent": "curl/8.4.0"}
    text = "".join(json.dumps(rec(i, "/" + "a" * 70_000 if i == 0 else "/poll")) + "\n" for i in range(30))
    p = tmp_path / ("eve.json" if eve else "http.log")
    if gz:
        p = p.with_name(p.name + ".gz")
        p.write_bytes(gzip.compress(text.encode()))
    else:
        p.write_text(text)
    with Store() as s:
        f = only(ingest_paths(s, [str(p)]))
        assert (f.status, f.format, f.rows_loaded, f.lines_rejected) == ("loaded", EVE if eve else ZEEK_JSON, 30, 0)
        assert s.con.execute("SELECT max(length(uri)) FROM http").fetchone() == (70_001,)


def test_a_gzip_of_which_nothing_decompresses_fails_and_a_plain_file_named_gz_loads(tmp_path):
    """A .gz damaged from its first block is an unreadable file (failed, with why), not "empty"; a plain
    log that is merely named .gz is read as what it is, not refused by DuckDB as "not a GZIP stream"."""
    text = "#separator \\x09\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.resp_h\tid.resp_p\n" + "".join(
        f"{1795651200 + i}.0\tC{i}\t10.0.0.1\t10.0.0.2\t443\n" for i in range(20))
    packed = bytearray(gzip.compress(text.encode()))
    packed[12:40] = b"\xff" * 28                                   # the deflate stream, wrecked at once
    bad = tmp_path / "conn.bad.log.gz"
    bad.write_bytes(bytes(packed))
    named = tmp_path / "conn.plain.log.gz"
    named.write_text(text)
    with Store() as s:
        report = ingest_paths(s, [str(bad), str(named)])
        got = {Path(f.path).name: f for f in report.files}
        assert got[bad.name].status == "failed" and got[bad.name].reason.startswith("cannot read: nothing decompresses: ")
        assert "gzip" in got[bad.name].reason and report.failed == [got[bad.name]]
        assert (got[named.name].status, got[named.name].rows_loaded) == ("loaded", 20)


def test_a_crlf_zeek_tsv_file_loads_as_its_lf_original(tmp_path):
    """A Zeek TSV log whose lines end in CRLF (copied through Windows): its header is read without the
    CR too, so every row loads (it was all "data line before any #fields header"), with a warning."""
    text = "#separator \\x09\n#path\tssl\n#fields\tts\tuid\tid.orig_h\tid.resp_h\tid.resp_p\tserver_name\n" + "".join(
        f"{1795651200 + 60 * i}.0\tC{i}\t10.0.0.1\t104.21.1.1\t443\tx.evil.workers.dev\n" for i in range(20))
    lf, crlf = tmp_path / "lf" / "ssl.log", tmp_path / "crlf" / "ssl.log"
    for p, data in ((lf, text), (crlf, text.replace("\n", "\r\n"))):
        p.parent.mkdir()
        p.write_bytes(data.encode())
    loaded = []
    for p in (lf, crlf):
        with Store() as s:
            f = only(ingest_paths(s, [str(p)]))
            loaded.append((f.status, f.rows_loaded, f.lines_rejected,
                           s.con.execute("SELECT list(server_name ORDER BY epoch), list(uid ORDER BY epoch) FROM tls").fetchone()))
            if p == crlf:
                assert any("CR characters" in w for w in f.warnings)
    assert loaded[0] == loaded[1] and loaded[0][:3] == ("loaded", 20, 0)


# ---------------------------------------------------------------- scenarios


def test_valid_tsv_dns_values(store):
    f = only(load(store, FIX / "valid_tsv" / "dns.log"))
    assert (f.status, f.kind, f.format, f.rows_loaded, f.lines_rejected) == ("loaded", "dns", ZEEK_TSV, 3, 0)
    assert (f.meta_lines, f.data_lines, f.total_lines) == (9, 3, 12)
    got = rows(store, "dns", "uid, query, qtype, rcode, answers, ttls, sensor, line, epoch, CAST(ts AS VARCHAR)")
    assert got == [
        ("CdnsA1", "beacon-1.example-app.workers.dev", "A", "NOERROR", ["104.21.1.1", "172.67.1.1"],
         [300.0, 300.0], "zeek", 9, 1795770000.123456, "2026-11-27 09:00:00.123456"),
        ("CdnsA2", "nx.example.com", "AAAA", "NXDOMAIN", None, None, "zeek", 10, 1795770060.5,
         "2026-11-27 09:01:00.5"),
        ("CdnsA3", "txt.example.org", "TXT", "NOERROR", [], [], "zeek", 11, 1795770120.000001,
         "2026-11-27 09:02:00.000001"),
    ]
    assert (f.min_ts.isoformat(), f.max_ts.isoformat()) == ("2026-11-27T09:00:00.123456", "2026-11-27T09:02:00.000001")


def test_line_numbers_point_at_the_source_line(store):
    path = FIX / "repeated_header" / "dns.log"
    load(store, path)
    lines = path.read_text().splitlines()
    for uid, line in rows(store, "dns", "uid, line"):
        assert lines[line - 1].split("\t")[1] == uid


@pytest.mark.parametrize("kind,table", [("conn", "conn"), ("dns", "dns"), ("ssl", "tls"), ("http", "http")])
def test_same_events_tsv_and_json_load_identically(store, kind, table):
    load(store, FIX / "valid_tsv" / f"{kind}.log")
    other = Store()
    try:
        load(other, FIX / "valid_json" / f"{kind}.log")
        cols = "* EXCLUDE (file_id, line)"
        a = rows(store, table, cols)
        b = rows(other, table, cols)
    finally:
        other.close()
    assert a and a == b


def test_tls_fields_and_platform_columns(store):
    load(store, FIX / "valid_tsv" / "ssl.log")
    got = rows(store, "tls", "server_name, ja3, ja4, version, established, sensor_platform, sensor_tenant")
    assert got == [
        ("API.My-Fn.vercel.app", "160f3e2cb9909c938a919f8d5f04edfa", "t13d0506h2_c03c18a8b7cd_0d385148b956",
         "TLSv13", True, "vercel", "my-fn"),
        (None, None, "", "TLSv12", False, None, None),
    ]


def test_hash_and_quote_inside_values_are_text(store):
    load(store, FIX / "valid_tsv" / "http.log")
    got = rows(store, "http", "uri, user_agent, host, status, request_body_len")
    assert got[0] == ("/poll?id=42#frag", '"Mozilla/5.0 # not a comment', "c2.example.pages.dev:8080", 200, 0)
    assert got[1][0] == "/up?q=\"';DROP TABLE http;--"
    assert store.con.execute("SELECT count(*) FROM http").fetchone() == (2,)  # the table survived


def test_gz_and_rotated_directory(store, tmp_path):
    day = tmp_path / "2026-11-27"
    day.mkdir()
    for name, src in (("dns.09:00:00-10:00:00.log.gz", "valid_tsv/dns.log"),
                      ("conn.09:00:00-10:00:00.log.gz", "valid_tsv/conn.log"),
                      ("x509.09:00:00-10:00:00.log.gz", "valid_tsv/http.log")):
        data = (FIX / src).read_bytes()
        if name.startswith("x509"):
            data = data.replace(b"#path\thttp", b"#path\tx509")
        (day / name).write_bytes(gzip.compress(data))
    report = load(store, tmp_path)
    by = {Path(f.path).name: f for f in report.files}
    assert by["dns.09:00:00-10:00:00.log.gz"].rows_loaded == 3
    assert by["conn.09:00:00-10:00:00.log.gz"].rows_loaded == 2
    assert by["x509.09:00:00-10:00:00.log.gz"].status == "skipped"
    assert "unsupported log kind 'x509'" in by["x509.09:00:00-10:00:00.log.gz"].reason
    assert rows(store, "dns", "count(*)") == [(3,)]


def test_a_scratch_store_loads_tls_then_connections_then_the_rest_and_a_kept_store_as_given(tmp_path):
    """A scratch store (the scan's own) loads ssl logs first and conn logs next, each kind in its given
    order, open_* logs last as always: the big logs are narrowed as they load, and this way the least
    is held while each is read. A store kept with --db loads in the order given. Both load the same,
    and both reports list the files as given."""
    day = tmp_path / "day"
    day.mkdir()
    names = ["conn.09:00:00-10:00:00.log.gz", "conn.10:00:00-11:00:00.log.gz", "dns.09:00:00-10:00:00.log.gz",
             "http.09:00:00-10:00:00.log.gz", "open_conn.10:00:00-11:00:00.log.gz",
             "open_ssl.10:00:00-11:00:00.log.gz", "ssl.09:00:00-10:00:00.log.gz", "ssl.10:00:00-11:00:00.log.gz"]
    for name in names:
        kind = name.split(".")[0].removeprefix("open_")
        data = (FIX / "valid_tsv" / f"{kind}.log").read_bytes()
        if name.startswith("open_"):
            data = data.replace(f"#path\t{kind}".encode(), f"#path\topen_{kind}".encode())
        if ".10:00" in name:  # another hour: its own content (a file loaded twice is only loaded once)
            data = data.replace(b"#open\t2026-11-27-09", b"#open\t2026-11-27-10")
        (day / name).write_bytes(gzip.compress(data))
    scratch, kept = Store(scratch=True), Store()
    got = {}
    for label, store in (("scratch", scratch), ("kept", kept)):
        report = ingest_paths(store, [day])
        got[label] = [Path(f.path).name for f in report.files]
        assert all(f.status == "loaded" for f in report.files), [(f.path, f.status, f.reason) for f in report.files]
    in_order = names[:4] + names[6:] + names[4:6]
    assert got["kept"] == got["scratch"] == in_order      # each report lists the files as given
    loaded = {label: [Path(path).name for (path,) in store.con.execute(
                  "SELECT path FROM ingest_files ORDER BY file_id").fetchall()]
              for label, store in (("scratch", scratch), ("kept", kept))}
    assert loaded["kept"] == in_order
    assert loaded["scratch"] == [names[6], names[7], names[0], names[1], names[2], names[3], names[5], names[4]]
    for table in ("conn", "dns", "tls", "http"):
        assert rows(scratch, table, "count(*)") == rows(kept, table, "count(*)") != [(0,)]


def test_glob(store):
    report = load(store, str(FIX / "valid_*" / "dns.log"))
    assert sorted(Path(f.path).parent.name for f in report.files) == ["valid_json", "valid_tsv"]


def test_truncated_gzip_keeps_what_decompressed(store, tmp_path):
    big = (FIX / "valid_tsv" / "dns.log").read_text().splitlines(keepends=True)
    header, body = big[:8], big[8:11]
    text = "".join(header) + "".join(body * 2000)
    data = gzip.compress(text.encode())
    p = tmp_path / "dns.log.gz"
    p.write_bytes(data[: len(data) // 2])
    f = only(load(store, p))
    assert f.status == "loaded"
    assert any("truncated gzip" in w for w in f.warnings)
    assert 0 < f.rows_loaded < 6000
    # the cut-off last line is rejected as incomplete, never loaded half
    assert f.lines_rejected == 1 and "incomplete last line" in f.rejects[0].reason
    # and a compressed file never grows: the reason says it was cut short, not "read again if it grows"
    assert "ends mid-line (truncated)" in f.rejects[0].reason and "grows" not in f.rejects[0].reason
    assert rows(store, "dns", "count(*)") == [(f.rows_loaded,)]


@pytest.mark.parametrize(
    "scenario,reason",
    [("empty/conn.log", "empty file"), ("header_only/http.log", "header only: no data lines")],
)
def test_skipped_with_reason(store, scenario, reason):
    f = only(load(store, FIX / scenario))
    assert (f.status, f.reason, f.rows_loaded) == ("skipped", reason, 0)


def test_not_a_log_skipped(store, tmp_path):
    (tmp_path / "notes.txt").write_text("hello\n")
    (tmp_path / "capture.pcap").write_bytes(b"\xd4\xc3\xb2\xa1" + b"\x00" * 100)
    report = load(store, tmp_path)
    assert [f.status for f in report.files] == ["skipped", "skipped"]
    reasons = {Path(f.path).name: f.reason for f in report.files}
    assert reasons["notes.txt"].startswith("not a log")
    assert reasons["capture.pcap"].startswith("packet capture: scan it with --pcap")  # says how to scan it


def test_missing_close_loads_everything(store):
    f = only(load(store, FIX / "missing_close" / "conn.log"))
    assert (f.rows_loaded, f.lines_rejected) == (2, 0)
    got = rows(store, "conn", "uid, duration, orig_bytes, orig_ip_bytes, resp_pkts, conn_state, service")
    assert got == [("CconA1", 1.5, 517, 1049, 9, "SF", "ssl"), ("CconA2", None, None, 72, 0, "S0", "dns")]


def test_repeated_header_with_different_fields(store):
    f = only(load(store, FIX / "repeated_header" / "dns.log"))
    assert (f.rows_loaded, f.lines_rejected, f.meta_lines) == (3, 0, 18)
    assert [r[0] for r in rows(store, "dns", "uid")] == ["CdnsA1", "CdnsA2", "CdnsB1"]


def _block_queries(monkeypatch) -> list:
    """The line ranges of each typed query of zeek_tsv's line path, as the load makes them."""
    from analyzer.ingest import zeek_tsv

    queries: list = []
    real = zeek_tsv._load_block
    monkeypatch.setattr(zeek_tsv, "_load_block", lambda *a: (queries.append(a[4]), real(*a))[1])
    return queries


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_many_alike_header_blocks_are_read_as_one_with_their_own_line_numbers(store, tmp_path, monkeypatch):
    """2,000 concatenated rotations (one header block and one row each) were a typed query per block,
    17-30 ms each; blocks that read alike are now one query. A bad row deep inside keeps its own line
    number, and a block with other fields in the middle is still read by its own fields."""
    head = "#separator \\x09\n#path\tssl\n#fields\tts\tuid\tid.orig_h\tid.resp_h\tid.resp_p\tserver_name\n"
    other = "#separator \\x09\n#path\tssl\n#fields\tts\tserver_name\tuid\n"
    parts, bad_line, line = [], 0, 0
    for i in range(2000):
        block = other if i == 1000 else head
        row = (f"{1795651200 + i}.0\tmid.example\tCm{i}\n" if i == 1000
               else f"{1795651200 + i}.0\tC{i}\t10.0.0.1\t104.21.1.1\t{'x443' if i == 1500 else 443}\tx.example\n")
        parts.append(block + row)
        line += block.count("\n") + 1
        if i == 1500:
            bad_line = line
    queries = _block_queries(monkeypatch)
    f = only(load(store, _write(tmp_path / "ssl.log", "".join(parts))))
    assert (f.rows_loaded, f.lines_rejected) == (1999, 1)
    assert f.rejects[0].line == bad_line and "bad port value" in f.rejects[0].reason
    assert len(queries) == 3                            # the blocks before the odd one, it, and those after
    assert rows(store, "tls", "uid, server_name")[1000] == ("Cm1000", "mid.example")


def test_header_blocks_alternating_between_two_layouts_are_two_queries(store, tmp_path, monkeypatch):
    """Blocks whose fields alternate (a crafted 200 KiB file of 6,000 such blocks took 75 s, a query
    per block) are typed by one query per layout over all its blocks' lines, each row by its own
    block's fields; a bad row keeps its line number."""
    a = "#separator \\x09\n#path\tssl\n#fields\tts\tuid\tserver_name\n"
    b = "#separator \\x09\n#path\tssl\n#fields\tuid\tts\tserver_name\n"
    parts, line, bad_line = [], 0, 0
    for i in range(200):
        ts = f"{1795651200 + i}.0" if i != 151 else "not-a-time"
        parts.append(a + f"{ts}\tC{i}\ta{i}.example\n" if i % 2 == 0 else b + f"C{i}\t{ts}\tb{i}.example\n")
        line += 4
        if i == 151:
            bad_line = line
    queries = _block_queries(monkeypatch)
    f = only(load(store, _write(tmp_path / "ssl.log", "".join(parts))))
    assert (f.rows_loaded, f.lines_rejected, f.accounted) == (199, 1, True)
    assert f.rejects[0].line == bad_line
    assert len(queries) == 2 and sorted(len(q) for q in queries) == [100, 100]   # a range per block
    got = {uid: (ts, name) for uid, ts, name in rows(store, "tls", "uid, epoch, server_name")}
    assert got["C10"] == (1795651210.0, "a10.example") and got["C11"] == (1795651211.0, "b11.example")
    assert "C151" not in got and len(got) == 199


def test_more_header_layouts_than_are_read_have_their_lines_rejected(store, tmp_path, monkeypatch):
    """A file of thousands of differently laid-out blocks cannot cost a query each: the first
    MAX_LAYOUTS layouts are read, the lines of the others rejected (with a reason, all counted)."""
    from analyzer.ingest import zeek_tsv

    monkeypatch.setattr(zeek_tsv, "MAX_LAYOUTS", 5)
    parts = []
    for i in range(12):
        parts.append(f"#separator \\x09\n#path\tssl\n#fields\tts\tuid\tserver_name\textra{i}\n")
        parts.append(f"{1795651200 + i}.0\tC{i}\tn{i}.example\tx\n{1795651300 + i}.0\tD{i}\tn{i}.example\tx\n")
    p = tmp_path / "ssl.log"
    p.write_text("".join(parts))
    f = only(load(store, p))
    assert (f.rows_loaded, f.lines_rejected, f.accounted) == (10, 14, True)
    assert {r.reason for r in f.rejects} == {"header block of more than 5 different layouts in one file"}
    assert sorted(u for (u,) in rows(store, "tls", "uid")) == sorted([f"C{i}" for i in range(5)] + [f"D{i}" for i in range(5)])


def test_unknown_field_ignored(store):
    f = only(load(store, FIX / "unknown_field" / "dns.log"))
    assert (f.rows_loaded, f.lines_rejected) == (3, 0)
    assert rows(store, "dns", "query, rcode")[1] == ("nx.example.com", "NXDOMAIN")


def test_extension_column_before_ts(store):
    load(store, FIX / "extension_before_ts" / "dns.log")
    other = Store()
    try:
        load(other, FIX / "valid_tsv" / "dns.log")
        assert rows(store, "dns", "* EXCLUDE (file_id)") == rows(other, "dns", "* EXCLUDE (file_id)")
    finally:
        other.close()


def test_stray_tab_before_separator(store):
    f = only(load(store, FIX / "stray_tab" / "conn.log"))
    assert (f.kind, f.rows_loaded, f.lines_rejected) == ("conn", 2, 0)


def test_escapes_decoded(store):
    load(store, FIX / "escapes" / "dns.log", FIX / "escapes" / "http.log")
    assert rows(store, "dns", "query, answers, ttls") == [
        ("café.example.com", ["a,b.example.com", "c.example.com"], [60.0, 120.0])
    ]
    # \x09 decoded; invalid UTF-8 (\xff\xfe) kept as escaped text; \x2d is a literal '-', not unset
    assert rows(store, "http", "uri") == [("/a\tb/\\xff\\xfe/-",), ("-",)]


def test_raw_non_utf8_bytes_do_not_crash(store, tmp_path):
    src = (FIX / "valid_tsv" / "http.log").read_bytes()
    p = tmp_path / "http.log"
    p.write_bytes(src.replace(b"/poll?id=42", b"/poll\xff\xfe?id=\x0042\r"))
    f = only(load(store, p))
    assert (f.rows_loaded, f.lines_rejected) == (2, 0)
    assert any("sanitized" in w for w in f.warnings)
    # invalid UTF-8 stays visible as \xNN; NUL and CR are escaped like Zeek does, then decoded as Zeek's are
    assert rows(store, "http", "uri")[0] == ("/poll\\xff\\xfe?id=\x0042\r#frag",)


def test_bad_lines_rejected_with_line_and_reason(store):
    f = only(load(store, FIX / "bad_lines" / "dns.log"))
    assert (f.data_lines, f.rows_loaded, f.lines_rejected) == (5, 2, 3)
    assert [(r.line, r.reason) for r in f.rejects] == [
        (10, "expected 24 fields, found 21"),
        (11, "unparseable ts"),
        (12, "bad port value in field id.orig_p"),
    ]
    stored = store.con.execute("SELECT line, reason, text FROM ingest_rejects ORDER BY line").fetchall()
    assert [s[:2] for s in stored] == [(r.line, r.reason) for r in f.rejects]
    assert stored[1][2].startswith("XXXXXXXXXX.XXXXXX\t")
    assert [r[0] for r in rows(store, "dns", "line")] == [9, 13]


def test_strict_rolls_back_and_names_file_and_line(store):
    from analyzer.errors import InputError

    with pytest.raises(InputError) as exc:
        ingest_paths(store, [FIX / "bad_lines" / "dns.log"], strict=True)
    assert exc.value.line == 10 and exc.value.path.endswith("dns.log")
    assert rows(store, "dns", "count(*)") == [(0,)]
    assert rows(store, "ingest_files", "count(*)") == [(0,)]


def test_missing_path_is_an_input_error(store, tmp_path):
    from analyzer.errors import InputError

    with pytest.raises(InputError):
        ingest_paths(store, [tmp_path / "nope.log"])


# ---------------------------------------------------------------- Suricata


@pytest.mark.parametrize("shape,events", [("suricata_dns_v1", 3), ("suricata_dns_v2", 2), ("suricata_dns_v3", 2)])
def test_suricata_dns_shapes_give_one_row(store, shape, events):
    f = only(load(store, FIX / shape / "eve.json"))
    assert (f.kind, f.format, f.rows_loaded, f.lines_loaded, f.lines_rejected) == ("eve", EVE, 1, events, 0)
    assert rows(store, "dns", "* EXCLUDE (file_id)") == [
        (dt.datetime(2026, 11, 27, 9, 0, 0, 123456), 1795770000.123456, "1374195536821504",
         "10.0.0.5", 51000, "10.0.0.53", 53, "udp", "beacon-1.example-app.workers.dev", "A", "NOERROR",
         ["104.21.1.1", "172.67.1.1"], [300.0, 300.0], "suricata", 1)
    ]


def test_suricata_dns_answer_with_only_grouped_or_only_answers(store, tmp_path):
    """A v2 answer record carries answers[] (with TTLs), grouped{} (addresses by type), or both
    (Suricata's dns.formats setting). Both are read from one extra parse of the DNS line: answers[]
    wins with its TTLs; grouped alone gives the addresses without TTLs; neither gives none."""
    import json as _json

    query, answer = (FIX / "suricata_dns_v2" / "eve.json").read_text().splitlines()
    rec = _json.loads(answer)
    only_grouped = {**rec, "dns": {k: v for k, v in rec["dns"].items() if k != "answers"}}
    only_answers = {**rec, "dns": {k: v for k, v in rec["dns"].items() if k != "grouped"}}
    neither = {**rec, "dns": {k: v for k, v in rec["dns"].items() if k not in ("answers", "grouped")}}
    lines = []
    for i, r in enumerate((only_grouped, only_answers, neither)):
        q = _json.loads(query)
        q["dns"]["id"] = r["dns"]["id"] = 100 + i
        lines += [_json.dumps(q), _json.dumps(r)]
    p = tmp_path / "eve.json"
    p.write_text("\n".join(lines) + "\n")
    f = only(load(store, p))
    assert (f.rows_loaded, f.lines_loaded, f.lines_rejected) == (3, 6, 0)
    assert rows(store, "dns", "line, answers, ttls, rcode") == [
        (1, ["104.21.1.1", "172.67.1.1"], None, "NOERROR"),
        (3, ["104.21.1.1", "172.67.1.1"], [300.0, 300.0], "NOERROR"),
        (5, None, None, "NOERROR"),
    ]


@pytest.mark.parametrize("scratch", [False, True])
def test_suricata_rejects_keep_their_text_after_the_lines_are_released(tmp_path, scratch):
    """eve.json is parsed before its transaction and its lines dropped (eve.parse, release_lines); the
    rejected lines' text is kept first. Every reject is counted, the first 1000 are stored with their
    exact text, JSON rejects and event rejects alike, in line order."""
    from analyzer.ingest.common import MAX_STORED_REJECTS

    good = (FIX / "suricata_mixed" / "eve.json").read_text().splitlines()[0]
    bad_ts = good.replace('"timestamp":', '"timestamp":"not a time","was":', 1)
    lines = [bad_ts]
    for i in range(1200):
        lines += [good, f'{{"event_type": "flow", "oops": {i}']            # malformed JSON
    lines.append('["an array"]')
    p = tmp_path / "eve.json"
    p.write_text("\n".join(lines) + "\n")
    with Store(scratch=scratch) as s:
        f = only(load(s, p))
        assert (f.data_lines, f.lines_rejected) == (len(lines), 1202)
        assert [(r.line, r.reason) for r in f.rejects] == [
            (1, "unparseable timestamp"), (3, "malformed JSON"), (5, "malformed JSON"), (7, "malformed JSON"),
            (9, "malformed JSON")]
        stored = s.con.execute("SELECT line, reason, text FROM ingest_rejects ORDER BY line").fetchall()
    assert len(stored) == MAX_STORED_REJECTS
    assert stored[0] == (1, "unparseable timestamp", bad_ts)
    assert all(text == lines[line - 1] for line, _reason, text in stored)
    assert [line for line, _r, _t in stored] == [1] + [3 + 2 * i for i in range(MAX_STORED_REJECTS - 1)]


def test_suricata_mixed_events(store):
    f = only(load(store, FIX / "suricata_mixed" / "eve.json"))
    assert (f.rows_loaded, f.skipped_events, f.lines_rejected) == (3, 2, 2)
    assert [(r.line, r.reason) for r in f.rejects] == [(6, "malformed JSON"), (7, "unparseable timestamp")]
    assert rows(store, "tls", "uid, server_name, ja3, ja4, version, CAST(ts AS VARCHAR)") == [
        ("987654321", "API.My-Fn.vercel.app", "160f3e2cb9909c938a919f8d5f04edfa",
         "t13d0506h2_c03c18a8b7cd_0d385148b956", "TLSv13", "2026-11-27 09:00:01")
    ]
    assert rows(store, "conn", "uid, duration, orig_ip_bytes, resp_ip_bytes, orig_pkts, service, proto") == [
        ("987654321", 1.5, 1049, 4672, 10, "tls", "tcp")
    ]
    assert rows(store, "http", "host, uri, user_agent, method, status, response_body_len") == [
        ("c2.example.pages.dev", "/poll?id=42#frag", '"Mozilla/5.0 # not a comment', "GET", 200, 2)
    ]


def test_fixture_tree_is_intact():
    # guard: fixtures are read by name above; a missing one would make a scenario vacuous
    for scenario in ("valid_tsv", "valid_json", "empty", "header_only", "missing_close", "repeated_header",
                     "unknown_field", "extension_before_ts", "escapes", "stray_tab", "bad_lines",
                     "suricata_dns_v1", "suricata_dns_v2", "suricata_dns_v3", "suricata_mixed"):
        assert (FIX / scenario).is_dir(), scenario


def test_suricata_retransmitted_query_pairs_with_its_own_answer(store, tmp_path):
    v2 = (FIX / "suricata_dns_v2" / "eve.json").read_text().splitlines()
    again = [line.replace("09:00:00.1", "09:00:01.1") for line in v2]   # same flow and dns.id, 1 s later
    p = tmp_path / "eve.json"
    p.write_text("\n".join([v2[0], again[0], v2[1], again[1]]) + "\n")
    f = only(load(store, p))
    assert (f.rows_loaded, f.lines_loaded) == (2, 4)
    assert rows(store, "dns", "CAST(ts AS VARCHAR), answers, rcode") == [
        ("2026-11-27 09:00:00.123456", ["104.21.1.1", "172.67.1.1"], "NOERROR"),
        ("2026-11-27 09:00:01.123456", ["104.21.1.1", "172.67.1.1"], "NOERROR"),
    ]


def test_zeek_json_stream_with_other_paths_counts_them_as_skipped(store, tmp_path):
    lines = (FIX / "valid_json" / "dns.log").read_text().splitlines()
    stream = [line.replace("{", '{"_path":"dns",', 1) for line in lines]
    stream.insert(1, '{"_path":"x509","ts":1795770000.0,"id":"Fxyz"}')
    stream.append("### a comment line")
    stream.append("")
    p = tmp_path / "stream.json"
    p.write_text("\n".join(stream) + "\n")
    f = only(load(store, p))
    assert (f.kind, f.rows_loaded, f.skipped_events, f.meta_lines, f.blank_lines) == ("dns", 3, 1, 1, 1)


def test_zeek_json_timestamp_variants(store, tmp_path):
    base = '"uid":"C%d","id.orig_h":"10.0.0.5","id.orig_p":1,"id.resp_h":"10.0.0.53","id.resp_p":53,"query":"a.example"'
    p = tmp_path / "dns.log"
    p.write_text(
        '{"ts":1795770000.123456,%s}\n' % (base % 1)
        + '{"ts":"2026-11-27T09:00:00.123456Z",%s}\n' % (base % 2)
        + '{"ts":1795770000123,%s}\n' % (base % 3)              # TS_MILLIS
        + '{"ts":null,%s,"answers":null}\n' % (base % 4)        # json_include_unset_fields=T
        + '{"ts":"XXXXXXXXXX.XXXXXX",%s}\n' % (base % 5)
    )
    f = only(load(store, p))
    assert [(r.line, r.reason) for r in f.rejects] == [(4, "missing ts"), (5, "unparseable ts")]
    assert rows(store, "dns", "uid, epoch") == [
        ("C1", 1795770000.123456), ("C2", 1795770000.123456), ("C3", 1795770000.123)
    ]


def test_concatenated_gzip_members_and_corrupt_gzip(store, tmp_path):
    a = (FIX / "valid_tsv" / "dns.log").read_bytes()
    b = (FIX / "repeated_header" / "dns.log").read_bytes()
    cat = tmp_path / "cat" / "dns.log.gz"
    cat.parent.mkdir()
    cat.write_bytes(gzip.compress(a) + gzip.compress(b))          # zcat-able rotation of two files
    f = only(load(store, cat))
    assert (f.rows_loaded, f.lines_rejected, f.warnings) == (6, 0, [])
    bad = tmp_path / "bad" / "dns.log.gz"
    bad.parent.mkdir()
    row = a.splitlines(keepends=True)[8]
    body = b"".join(row.replace(b"CdnsA1", b"C%08d" % i) for i in range(5000))
    data = gzip.compress(a.replace(b"#close", b"#x") + body)
    cut = len(data) // 2
    bad.write_bytes(data[:cut] + bytes(256) + data[cut + 256:])    # garbage in the middle of the stream
    f = only(load(store, bad))
    assert f.status == "loaded" and any("corrupt gzip" in w for w in f.warnings)
    assert 100 < f.rows_loaded < 5003 and f.accounted


def test_suricata_hostile_types_do_not_crash(store):
    """Values of the wrong JSON type (answers as a string, ports as text, objects for ids ...)."""
    f = only(load(store, FIX / "suricata_hostile" / "eve.json"))
    assert f.status == "loaded"
    assert (f.data_lines, f.lines_rejected, f.skipped_events) == (11, 6, 1)
    assert [(r.line, r.reason) for r in f.rejects] == [
        (1, "bad src_port"), (5, "bad http.status"), (6, "bad src_port"), (8, "no event_type"), (9, "not a JSON object")
    ]
    assert rows(store, "dns", "line, answers") == [(2, ['{"x":1}']), (11, ["1.1.1.1"])]


@pytest.mark.parametrize("first", [
    '{"timestamp": "x", "foo": 1}',
    '{"timestamp": "2021-06-06T16:00:00.000000+0200", "flow_id": 9, "src_ip": "10.0.0.9", "src_port": 5, '
    '"dest_ip": "10.0.0.8", "dest_port": 443, "proto": "TCP"}',
], ids=["junk", "flow-without-event-type"])
def test_an_eve_json_whose_first_line_has_no_event_type_is_still_eve(store, tmp_path, first):
    """The first line does not decide the format when it says nothing of it: the file is read as the
    eve.json its later lines show, and that line alone is rejected (it was the whole file, skipped
    as an unknown kind 'eve')."""
    whole = (FIX / "suricata_hostile" / "eve.json").read_text().splitlines()
    good = [ln for ln in whole if '"event_type": "flow"' in ln or '"event_type":"flow"' in ln][:1]
    assert good, "the fixture has a flow event"
    ev = tmp_path / "sensor" / "events.json"   # a name that says nothing: the content decides
    ev.parent.mkdir()
    ev.write_text("\n".join([first, *good]) + "\n")
    f = only(load(store, ev))
    assert (f.format, f.status) == (EVE, "loaded")
    assert [(r.line, r.reason) for r in f.rejects] == [(1, "no event_type")]
    assert f.rows_loaded == 1 and f.accounted


def test_a_broken_link_in_a_folder_is_listed_as_skipped_and_the_rest_loads(store, tmp_path):
    """A stale link in a log folder (a rotated-away file) was left out without a word; the look-ahead
    that opens the next gzip file ahead must not fail the file before it either."""
    d = tmp_path / "logs"
    d.mkdir()
    (d / "a.log").write_bytes((FIX / "valid_tsv" / "dns.log").read_bytes())
    (d / "b.log").symlink_to(tmp_path / "gone" / "b.log.gz")
    (d / "c.log.gz").write_bytes(gzip.compress((FIX / "valid_json" / "dns.log").read_bytes()))
    report = load(store, d)
    by_name = {Path(f.path).name: f for f in report.files}
    assert by_name["b.log"].status == "skipped" and by_name["b.log"].reason.startswith("broken symbolic link")
    assert str(tmp_path / "gone") in by_name["b.log"].reason
    assert by_name["a.log"].status == by_name["c.log.gz"].status == "loaded"


@pytest.mark.parametrize("port,reason", [(70000, "bad dest_port"), (-1, "bad dest_port"), (65535, None), (0, None)])
def test_an_eve_port_outside_0_to_65535_is_a_bad_port(store, tmp_path, port, reason):
    ev = tmp_path / "eve.json"
    ev.write_text('{"timestamp": "2026-11-26T00:00:00.000000+0000", "event_type": "flow", "flow_id": 7, '
                  '"src_ip": "10.0.0.9", "src_port": 50000, "dest_ip": "10.0.0.8", "dest_port": %d, '
                  '"proto": "TCP", "flow": {"start": "2026-11-26T00:00:00.000000+0000", "bytes_toserver": 5, '
                  '"bytes_toclient": 6}}\n' % port)
    f = only(load(store, ev))
    assert [(r.line, r.reason) for r in f.rejects] == ([(1, reason)] if reason else [])
    assert rows(store, "conn", "dst_port") == ([] if reason else [(port,)])


def test_gzip_recognised_by_content_not_name(store, tmp_path):
    p = tmp_path / "dns.log"                      # no .gz suffix
    p.write_bytes(gzip.compress((FIX / "valid_json" / "dns.log").read_bytes()))
    f = only(load(store, p))
    assert (f.format, f.rows_loaded) == (ZEEK_JSON, 3)


# ---------------------------------------------------------------- line counting of big files


def test_count_newlines_agrees_with_bytes_count_below_and_above_the_numpy_size():
    import random

    from analyzer.ingest.files import _NUMPY_COUNT_BYTES, count_newlines

    rnd = random.Random(7)
    for size in (0, 1, _NUMPY_COUNT_BYTES - 1, _NUMPY_COUNT_BYTES, _NUMPY_COUNT_BYTES + 1, 3 * 2**20 + 5):
        data = bytes(rnd.choice(b"ab\n\r\x00\xff#") for _ in range(size))
        assert count_newlines(data) == data.count(b"\n"), size
    assert count_newlines(b"\n" * _NUMPY_COUNT_BYTES) == _NUMPY_COUNT_BYTES
    assert count_newlines(b"x" * _NUMPY_COUNT_BYTES) == 0


@pytest.mark.parametrize("gz", [False, True])
def test_a_file_of_many_chunks_counts_every_line_once(store, tmp_path, gz):
    """Lines are counted chunk by chunk (files.CHUNK, 1 MiB) as the file is fingerprinted: a file of
    several chunks, with a bad line deep inside, has every data line counted, loaded or rejected."""
    from analyzer.ingest.files import CHUNK

    head = ("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
            "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n"
            "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\n")
    n, bad = 60_000, 41_234
    body = "".join(f"{1795651200 + i / 10:.6f}\tC{i:08d}\t10.0.{i % 250}.{i % 200}\t{40000 + i % 20000}\t"
                   f"104.21.{i % 200}.{i % 251}\t{'x443' if i == bad else 443}\ttcp\n" for i in range(n))
    text = (head + body + "#close\t2026-11-27-00-00-00\n").encode()
    assert len(text) > 3 * CHUNK
    p = tmp_path / ("conn.log.gz" if gz else "conn.log")
    p.write_bytes(gzip.compress(text) if gz else text)
    f = only(load(store, p))
    assert (f.data_lines, f.rows_loaded, f.lines_rejected) == (n, n - 1, 1)
    assert f.rejects[0].line == 7 + bad + 1 and "bad port value" in f.rejects[0].reason
    assert rows(store, "conn", "count(*)") == [(n - 1,)]


def test_a_header_without_a_key_field_loads_with_a_warning_that_says_what_its_rows_lose(store, tmp_path):
    """A SIEM export that renamed id.orig_h (or uid) loaded with no word: the connections had no source
    host and the poller on them vanished from the scan (or, without uid, each TLS connection counted
    twice). The file still loads; its report says which field is missing and what that costs. A log
    with its usual fields says nothing of the kind."""
    conn = (FIX / "valid_tsv" / "conn.log").read_text()
    renamed = conn.replace("\tid.orig_h\t", "\torig_host\t", 1)
    assert renamed != conn
    f = only(load(store, _write(tmp_path / "conn.log", renamed)))
    assert f.rows_loaded > 0
    assert [w for w in f.warnings if "#fields header" in w] == \
        ["its #fields header has no id.orig_h field (renamed?): its rows have no source host: they cannot be timed"]
    no_uid = only(load(store, _write(tmp_path / "conn2.log", conn.replace("\tuid\t", "\tconn_id\t", 1))))
    assert any("no uid field" in w and "counts twice" in w for w in no_uid.warnings)
    for name in ("conn.log", "ssl.log", "dns.log", "http.log"):
        fresh = Store()
        assert not [w for w in only(load(fresh, FIX / "valid_tsv" / name)).warnings if "#fields header" in w], name


def test_json_lines_escaping_a_lone_surrogate_are_read_with_u_fffd(store, tmp_path):
    """Python's json.dumps writes a byte that was no UTF-8 as "\\udcff": valid JSON text that DuckDB's
    parser refuses. Such lines were rejected as "malformed JSON" while a raw invalid byte in the same
    field is read as U+FFFD; now both are read the same way, a pair (one emoji) is kept, the file's
    warnings say how many lines, and a line that is no JSON for another reason is still rejected."""
    eve = (FIX / "suricata_mixed" / "eve.json").read_text().splitlines()
    hostile = eve[0].replace('"API.My-Fn.vercel.app"', '"bad\\udcff\\udcfe.My-Fn.vercel.app"')
    pair = eve[0].replace('"API.My-Fn.vercel.app"', '"ok\\ud83d\\ude00.My-Fn.vercel.app"').replace("987654321", "7")
    broken = '{"timestamp": "2026-11-27T11:00:09+0200", "event_type": "tls", "tls": {"sni": \\udcff}}'
    p = tmp_path / "eve.json"
    p.write_text("\n".join([hostile, pair, broken]) + "\n")
    f = only(load(store, p))
    assert (f.rows_loaded, f.lines_rejected) == (2, 1), f.rejects
    assert [(r.line, r.reason) for r in f.rejects] == [(3, "malformed JSON")]
    assert sorted(rows(store, "tls", "server_name")) == [("bad\ufffd\ufffd.My-Fn.vercel.app",),
                                                          ("ok\U0001F600.My-Fn.vercel.app",)]
    assert any(w.startswith("1 line(s) escape a lone UTF-16 surrogate") for w in f.warnings), f.warnings
    # Zeek JSON: the same
    ssl = (FIX / "valid_json" / "ssl.log").read_text().splitlines()
    z = tmp_path / "ssl.log"
    z.write_text("\n".join([ssl[0].replace('"API.My-Fn.vercel.app"', '"x\\udcff.My-Fn.vercel.app"'), *ssl[1:]]) + "\n")
    with Store() as s2:
        g = only(load(s2, z))
        assert g.lines_rejected == 0 and any("lone UTF-16 surrogate" in w for w in g.warnings)
        assert ("x\ufffd.My-Fn.vercel.app",) in rows(s2, "tls", "server_name")


def test_suricata_ipv6_addresses_are_stored_as_zeek_writes_them(store, tmp_path):
    """Suricata writes IPv6 in full (fd00:0001:0000:...:0022), Zeek compressed (fd00:1::22): one host was
    two sources with both sensors, AAAA answers named no connection Zeek logged, and every table, JSON and
    CSV showed the full form, which grep and pivots against other logs miss."""
    import json

    full_src, full_dst = "fd00:0001:0000:0000:0000:0000:0000:0022", "2606:4700:0000:0000:0000:0000:6812:0a0b"
    flow = {"timestamp": "2026-11-27T11:00:02.500000+0000", "flow_id": 1, "src_ip": full_src, "src_port": 49152,
            "dest_ip": full_dst, "dest_port": 443, "proto": "TCP", "event_type": "flow", "app_proto": "tls",
            "flow": {"pkts_toserver": 5, "pkts_toclient": 5, "bytes_toserver": 900, "bytes_toclient": 4000,
                     "start": "2026-11-27T11:00:01.000000+0000", "end": "2026-11-27T11:00:02.000000+0000",
                     "state": "closed"}}
    dns = {"timestamp": "2026-11-27T11:00:00.900000+0000", "flow_id": 2, "src_ip": "fd00:0000:0000:0000:0000:0000:0000:0053",
           "src_port": 53, "dest_ip": full_src, "dest_port": 53000, "proto": "UDP", "event_type": "dns",
           "dns": {"version": 2, "type": "answer", "id": 7, "rrname": "x.acct.workers.dev", "rrtype": "AAAA",
                   "rcode": "NOERROR", "answers": [{"rrname": "x.acct.workers.dev", "rrtype": "AAAA", "ttl": 300,
                                                    "rdata": full_dst}]}}
    p = tmp_path / "eve.json"
    p.write_text(json.dumps(flow) + "\n" + json.dumps(dns) + "\n")
    f = only(load(store, p))
    assert f.lines_rejected == 0
    assert rows(store, "conn", "src, dst") == [("fd00:1::22", "2606:4700::6812:a0b")]
    assert rows(store, "dns", "src, dst, answers") == [("fd00:1::22", "fd00::53", ["2606:4700::6812:a0b"])]
