"""analyzer.ingest.duplicates: one traffic logged twice (TSV and JSON, a copy) is loaded once, counted."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import analyzer.narrow as narrow_mod
from analyzer.cli import cli
from analyzer.ingest import ingest_paths
from analyzer.scan import ScanOptions, run_scan
from analyzer.simulate import build_scenario, write_logs
from analyzer.store import Store


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> dict[str, list[Path]]:
    """One scenario day written twice: Zeek TSV and Zeek JSON, the same events."""
    scen = build_scenario("mixed", seed=11, hours=12.0)
    base = tmp_path_factory.mktemp("dup")
    return {fmt: write_logs(scen, base / fmt, fmt=fmt) for fmt in ("zeek-tsv", "zeek-json")}


def _scan(paths: list[Path], *, scratch: bool) -> tuple[list[dict], object]:
    with Store(scratch=scratch) as store:
        after = (lambda: narrow_mod.narrow_when_big(store.con)) if scratch else None
        report = ingest_paths(store, [str(p) for p in paths], after_file=after)
        findings = [f.to_dict() for f in run_scan(store, ScanOptions(min_score=0.0, release_logs=scratch)).findings]
    return findings, report


@pytest.mark.parametrize("scratch", [False, True])
def test_tsv_and_json_of_one_day_count_each_connection_once(day, scratch, monkeypatch) -> None:
    """The JSON copy beside the TSV adds no row: every record of it is counted as repeated and named
    in a warning, and the findings (connection counts included) are those of the TSV alone. In the
    scratch store (BATCH_ROWS = 1) the TSV's conn and ssl rows were already moved to the narrowed
    tables when the JSON came, so the copy is compared with those."""
    if scratch:
        monkeypatch.setattr(narrow_mod, "BATCH_ROWS", 1)
    alone, alone_rep = _scan(day["zeek-tsv"], scratch=scratch)
    both, rep = _scan(day["zeek-tsv"] + day["zeek-json"], scratch=scratch)
    assert both == alone
    assert sum(f["kind"] == "beacon" for f in both) > 5
    # moved rows leave out the connections whose service is DNS (the scan never reads them): the
    # copy's cannot be compared with them, and stay
    dns_conns = sum(1 for x in day["zeek-tsv"][0].read_text(encoding="utf-8").splitlines()
                    if not x.startswith("#") and x.split("\t")[7] == "dns") if scratch else 0
    assert dns_conns > 100 or not scratch
    assert rep.rows_loaded == alone_rep.rows_loaded + dns_conns > 0
    json_files = [f for f in rep.files if f.format == "zeek-json"]
    assert {f.kind for f in json_files} == {"conn", "dns", "ssl", "http"}
    for f in json_files:
        kept = dns_conns if f.kind == "conn" else 0
        assert f.duplicates == f.lines_loaded - kept > 0 and f.rows_loaded == kept, (f.path, f.duplicates)
        assert f.accounted
        assert len(f.warnings) == 1 and f"{f.duplicates} record(s) repeat those already loaded from" in f.warnings[0]
        assert Path(f.warnings[0].split("loaded from ")[1].split(":")[0]).suffix == ".log"  # the TSV it repeats
    assert all(f.duplicates == 0 and not f.warnings for f in rep.files if f.format == "zeek-tsv")


def test_rotated_halves_and_repeated_lines_within_a_file_are_all_kept(day, tmp_path) -> None:
    """Files that follow each other (a log's rows split in two, as rotation makes them) share no
    record: nothing is removed. A line repeated inside one file is the log's own: both stay."""
    conn = day["zeek-tsv"][0]
    assert conn.name == "conn.log"
    lines = conn.read_text(encoding="utf-8").splitlines(keepends=True)
    head = [x for x in lines if x.startswith("#") and not x.startswith("#close")]
    data = [x for x in lines if not x.startswith("#")]
    half = len(data) // 2
    (tmp_path / "conn.0.log").write_text("".join(head + data[:half]), encoding="utf-8")
    (tmp_path / "conn.1.log").write_text("".join(head + data[half:] + data[-1:]), encoding="utf-8")
    with Store() as store:
        rep = ingest_paths(store, [str(tmp_path)])
        rows = store.con.execute("SELECT count(*), count(DISTINCT uid) FROM conn").fetchone()
    assert rep.duplicates == 0 and not any(f.warnings for f in rep.files)
    assert rows == (len(data) + 1, len(data))


def test_eve_copy_is_kept_once_but_zeek_and_suricata_are_never_compared(tmp_path) -> None:
    """A second eve.json of the same events (here with one extra line first, so its fingerprint
    differs) adds nothing; Zeek logs of the same traffic are another sensor's, whose uids are
    not Suricata's flow ids: nothing of them is removed."""
    scen = build_scenario("mixed", seed=3, hours=6.0)
    eve = write_logs(scen, tmp_path / "eve", fmt="eve")[0]
    copy = tmp_path / "copy" / "eve.json"
    copy.parent.mkdir()
    copy.write_text('{"event_type":"stats","timestamp":"2026-01-01T00:00:00+0000"}\n'
                    + eve.read_text(encoding="utf-8"), encoding="utf-8")
    zeek = write_logs(scen, tmp_path / "zeek", fmt="zeek-tsv")
    with Store() as store:
        rep = ingest_paths(store, [str(eve), str(copy)] + [str(p) for p in zeek])
    first, second, *zeek_files = rep.files
    assert first.duplicates == 0 and first.rows_loaded > 0
    assert second.duplicates == first.rows_loaded and second.rows_loaded == 0 and second.skipped_events == 1
    assert second.accounted
    assert all(f.duplicates == 0 and f.rows_loaded > 0 for f in zeek_files)


def test_ingest_cli_shows_repeated_records_in_its_table_and_names_the_file(day, tmp_path) -> None:
    db = tmp_path / "s.duckdb"
    dns_tsv = [p for p in day["zeek-tsv"] if p.name == "dns.log"]
    dns_json = [p for p in day["zeek-json"] if p.name.startswith("dns.")]
    result = CliRunner().invoke(cli, ["ingest", *map(str, dns_tsv + dns_json), "--db", str(db)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = lines[0].split()
    assert "repeated" in header
    dns_row = next(x.split() for x in lines if x.startswith("dns "))
    rows, repeated = int(dns_row[2]), int(dns_row[header.index("repeated") - 1])  # "skipped events" is two words
    n = sum(1 for x in dns_tsv[0].read_text(encoding="utf-8").splitlines() if not x.startswith("#"))
    assert rows == repeated == n
    assert f"{n} record(s) repeat those already loaded from" in result.stderr
    assert str(dns_tsv[0].resolve()) in result.stderr
    # a plain ingest shows no such column
    plain = CliRunner().invoke(cli, ["ingest", str(dns_tsv[0]), "--db", str(tmp_path / "t.duckdb")])
    assert "repeated" not in plain.stdout


def test_scan_stderr_says_what_was_kept_once(day) -> None:
    result = CliRunner().invoke(cli, ["scan", *map(str, day["zeek-tsv"] + day["zeek-json"]), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("repeat those already loaded from") == 4
    assert json.loads(result.stdout)["findings"]


def _drop_zeek_rows(path: Path, src: str, before: float) -> int:
    """Remove from a Zeek TSV log the rows of ``src`` before ``before`` (a sensor that dropped them)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    fields = next(x for x in lines if x.startswith("#fields")).rstrip("\n").split("\t")[1:]
    ts, orig = fields.index("ts"), fields.index("id.orig_h")
    kept = [x for x in lines if x.startswith("#") or not (x.split("\t")[orig] == src and float(x.split("\t")[ts]) < before)]
    path.write_text("".join(kept), encoding="utf-8")
    return len(lines) - len(kept)


@pytest.mark.parametrize("scratch", [False, True])
def test_zeek_and_suricata_of_the_same_hours_count_each_connection_once(tmp_path, scratch, monkeypatch) -> None:
    """Two sensors on one link (Security Onion runs Zeek and Suricata side by side): every connection
    and query is in both logs, under different ids. The scan matches the two records of a connection
    (addresses, port, start within a second) and of a query, keeps Zeek's, and says so: the findings,
    connection counts and DNS evidence included, are those of Zeek's logs alone. What only Suricata saw
    stays: with a beacon's first hours cut out of Zeek's conn and ssl logs, Zeek alone counts fewer
    connections, and the two together count them all again. One sensor alone, or the other sensor's
    logs of another day, give no warning and match nothing. In the scratch store (BATCH_ROWS = 1) the
    rows were moved to the narrowed tables during the ingest."""
    if scratch:
        monkeypatch.setattr(narrow_mod, "BATCH_ROWS", 1)
    scen = build_scenario("mixed", seed=3, hours=6.0)
    eve = write_logs(scen, tmp_path / "eve", fmt="eve")
    zeek = write_logs(scen, tmp_path / "zeek", fmt="zeek-tsv")
    later = write_logs(build_scenario("mixed", seed=3, hours=6.0, start=1_795_651_200.0 + 3 * 86400),
                       tmp_path / "later", fmt="eve")

    def scan(paths: list[Path]) -> tuple[list[dict], list[str]]:
        with Store(scratch=scratch) as store:
            after = (lambda: narrow_mod.narrow_when_big(store.con)) if scratch else None
            ingest_paths(store, [str(p) for p in paths], after_file=after)
            result = run_scan(store, ScanOptions(min_score=0.0, window="7d", release_logs=scratch))
        return [f.to_dict() for f in result.findings], result.warnings

    def counts(findings: list[dict]) -> dict[tuple, tuple]:
        return {(f["src"], f["host"], f["kind"]): (f["connections"], f["period_s"],
                                                   [r for r in f["reasons"] if "DNS" in r]) for f in findings}

    alone, none = scan(zeek)
    assert none == [] and sum(f["kind"] == "beacon" for f in alone) > 3
    both, warnings = scan(zeek + eve)
    assert counts(both) == counts(alone)
    # every connection and query was Zeek's and Suricata's: both sensors are among the sources of
    # each finding, the ones timed by DNS queries alone included
    assert all("eve" in f["sources"] for f in both)
    assert any(set(f["sources"]) == {"eve", "dns"} for f in both)  # a DNS-timed channel
    assert not any("eve" in f["sources"] for f in alone)
    assert len(warnings) == 1 and warnings[0].startswith("Zeek and Suricata logs cover the same hours (e.g. ")
    assert "eve.json" in warnings[0] and "counted once, from Zeek's record" in warnings[0]
    flows, queries = (int(x) for x in re.findall(r"; (\d+) Suricata flow\(s\) and (\d+) DNS quer", warnings[0])[0])
    assert flows > 1000 and queries > 100

    # a beacon whose first two hours Zeek did not log: Suricata's records of them fill the gap
    beacon = max((f for f in alone if f["kind"] == "beacon" and f["platform"]), key=lambda f: f["connections"])
    cut = scen.start + 2 * 3600
    removed = sum(_drop_zeek_rows(p, beacon["src"], cut) for p in zeek if p.name in ("conn.log", "ssl.log"))
    assert removed > 10
    partial, _ = scan(zeek)
    merged, _ = scan(zeek + eve)
    key = (beacon["src"], beacon["host"], "beacon")
    assert counts(partial)[key][0] < beacon["connections"] == counts(merged)[key][0]
    [row] = [f for f in merged if (f["src"], f["host"], f["kind"]) == key]
    assert "eve" in row["sources"] and "conn" in row["sources"]

    for other in (eve, zeek + later):
        findings, warned = scan(other)
        assert warned == [] and findings
    if not scratch:  # the command says it on stderr too (and puts it in the JSON summary)
        cli_run = CliRunner().invoke(cli, ["scan", *map(str, zeek + eve), "--format", "json", "--window", "7d"])
        assert cli_run.exit_code == 0, cli_run.output
        assert "counted once, from Zeek's record" in cli_run.stderr
        [summary_warning] = json.loads(cli_run.stdout)["summary"]["warnings"]
        assert "counted once, from Zeek's record" in summary_warning


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
OPEN_SNI = SHARED / "rita" / "test_data" / "open_sni"

_CONN_HEAD = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t{path}\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\t"
    "resp_bytes\tconn_state\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\n"
)
_SSL_HEAD = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t{path}\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tserver_name\tja3\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tstring\n"
)
T0 = 1_795_651_200.0


def _conn_row(uid: str, t: float, duration: float, sent: int) -> str:
    return f"{t:.6f}\t{uid}\t10.1.1.5\t50000\t104.21.1.1\t443\ttcp\tssl\t{duration:.6f}\t{sent}\t{sent}\tOTH\n"


def test_open_connection_logs_load_once_per_connection_beside_conn_log(tmp_path) -> None:
    """open_conn/open_ssl (Zeek's open-connections package, in RITA's setup): a connection still open
    at the end of the day is only there, and counts; one that closed later is in conn.log, whose
    record (the whole connection) is kept and its open records dropped as repeats; one open across
    two rotations is kept once."""
    day = tmp_path / "day"
    day.mkdir()
    (day / "conn.log").write_text(_CONN_HEAD.format(path="conn") + _conn_row("Cclosed", T0, 9000.0, 900))
    (day / "open_conn.01.log").write_text(_CONN_HEAD.format(path="open_conn")
                                          + _conn_row("Cclosed", T0, 3600.0, 300)
                                          + _conn_row("Cstill", T0 + 60, 3540.0, 200))
    (day / "open_conn.02.log").write_text(_CONN_HEAD.format(path="open_conn")
                                          + _conn_row("Cstill", T0 + 60, 7140.0, 400))
    (day / "open_ssl.01.log").write_text(_SSL_HEAD.format(path="open_ssl")
                                         + f"{T0 + 60:.6f}\tCstill\t10.1.1.5\t50000\t104.21.1.1\t443\tc2.acct.workers.dev\t-\n")
    with Store() as store:
        rep = ingest_paths(store, [str(day)])
        conn = store.con.execute("SELECT uid, duration FROM conn ORDER BY uid").fetchall()
        tls = store.con.execute("SELECT uid, server_name FROM tls").fetchall()
    assert conn == [("Cclosed", 9000.0), ("Cstill", 3540.0)]
    assert tls == [("Cstill", "c2.acct.workers.dev")]
    by_name = {Path(f.path).name: f for f in rep.files}
    assert [by_name[n].kind for n in ("open_conn.01.log", "open_conn.02.log", "open_ssl.01.log")] == \
        ["open_conn", "open_conn", "open_ssl"]
    assert (by_name["open_conn.01.log"].rows_loaded, by_name["open_conn.01.log"].duplicates) == (1, 1)
    assert (by_name["open_conn.02.log"].rows_loaded, by_name["open_conn.02.log"].duplicates) == (0, 1)
    assert {s.kind: s.rows for s in rep.summary()} == {"conn": 1, "open_conn": 1, "open_ssl": 1}


@pytest.mark.skipif(not OPEN_SNI.is_dir(), reason="../shared/data (RITA's open_sni sample) is not beside the project")
def test_rita_open_logs_of_two_rotations_keep_each_connection_once() -> None:
    """RITA's sample: the connections open at 18:00 are open at 19:00 too: the second hour's records
    all repeat the first's."""
    with Store() as store:
        rep = ingest_paths(store, [str(OPEN_SNI)])
        uids = store.con.execute("SELECT count(*), count(DISTINCT uid) FROM conn").fetchone()
    first = {Path(f.path).name.split(".")[0]: f for f in rep.files if ".17_" in f.path}
    second = {Path(f.path).name.split(".")[0]: f for f in rep.files if ".18_00_00-19" in f.path}
    assert set(first) == set(second) == {"open_conn", "open_ssl", "open_http"}
    for kind, f in second.items():
        assert f.duplicates == f.lines_loaded > 0 and f.rows_loaded == 0, kind
        assert f.duplicates == first[kind].rows_loaded
    assert uids[0] == uids[1] == first["open_conn"].rows_loaded


def _split(path: Path) -> tuple[list[str], list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    return ([x for x in lines if x.startswith("#") and not x.startswith("#close")],
            [x for x in lines if not x.startswith("#")])


def test_a_day_file_beside_one_hour_of_it_is_compared_in_that_hour(day, tmp_path) -> None:
    """The hour's file comes first (names sort so); the day's first rows are from another hour, so
    the probe looks where the two overlap: the hour's records are found in the day file."""
    head, rows = _split(day["zeek-tsv"][0])
    hour = [r for r in rows if T0 + 3 * 3600 <= float(r.split("\t")[0]) < T0 + 4 * 3600]
    assert 100 < len(hour) < len(rows) // 5
    (tmp_path / "a-conn.03.log").write_text("".join(head + hour), encoding="utf-8")
    (tmp_path / "b-conn.log").write_text("".join(head + rows), encoding="utf-8")
    with Store() as store:
        rep = ingest_paths(store, [str(tmp_path)])
        n, uids = store.con.execute("SELECT count(*), count(DISTINCT uid) FROM conn").fetchone()
    assert n == uids == len(rows)
    assert [f.duplicates for f in rep.files] == [0, len(hour)]


@pytest.mark.parametrize("as_given", [False, True])
def test_a_closed_record_and_the_open_one_of_the_day_before_are_kept_once(day, tmp_path, as_given) -> None:
    """day1/open_conn.log and day2/conn.log: open logs load after every other file, so the closed
    record, whole, is the one kept, and the open one is the repeat. Given as files in that order on
    the command line, they load so too. Either way the two are compared whatever the first rows of
    conn.log are."""
    head, rows = _split(day["zeek-tsv"][0])
    some = [r.split("\t") for r in rows[len(rows) // 2: len(rows) // 2 + 3]]
    some = ["\t".join(f[:8] + ["0.500000"] + f[9:]) for f in some]   # open: its duration so far
    (tmp_path / "day1").mkdir()
    (tmp_path / "day2").mkdir()
    (tmp_path / "day1" / "open_conn.log").write_text(
        "".join(h.replace("#path\tconn", "#path\topen_conn") for h in head) + "".join(some), encoding="utf-8")
    (tmp_path / "day2" / "conn.log").write_text("".join(head + rows), encoding="utf-8")
    paths = [tmp_path / "day1" / "open_conn.log", tmp_path / "day2" / "conn.log"] if as_given else [tmp_path]
    with Store() as store:
        rep = ingest_paths(store, [str(p) for p in paths])
        n, uids, half = store.con.execute(
            "SELECT count(*), count(DISTINCT uid), count(*) FILTER (WHERE duration = 0.5) FROM conn").fetchone()
    assert n == uids == len(rows) and half == 0
    assert [(f.kind, f.duplicates) for f in rep.files] == [("conn", 0), ("open_conn", 3)]


@pytest.mark.parametrize("bad_line", [False, True])
def test_zeek_json_open_logs_are_rows_not_skipped_events(tmp_path, bad_line) -> None:
    """A Zeek JSON open_conn stream (with `_path`, so read line by line) loads as conn rows: none of
    its lines is a skipped event, and every line is accounted for."""
    lines = [json.dumps({"_path": "open_conn", "ts": T0 + i, "uid": f"Copen{i}", "id.orig_h": "10.1.1.5",
                         "id.orig_p": 50000 + i, "id.resp_h": "104.21.1.1", "id.resp_p": 443, "proto": "tcp",
                         "duration": 3600.0, "orig_bytes": 10, "resp_bytes": 10}) for i in range(5)]
    if bad_line:
        lines.append("{broken")
    p = tmp_path / "open_conn.log"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with Store() as store:
        f = ingest_paths(store, [str(p)]).files[0]
        n = store.con.execute("SELECT count(*) FROM conn").fetchone()[0]
    assert (f.status, f.kind, f.rows_loaded, f.skipped_events, f.lines_rejected) == \
        ("loaded", "open_conn", 5, 0, int(bad_line))
    assert f.accounted and n == 5


def test_a_file_name_cannot_add_lines_to_the_two_sensor_warning(tmp_path) -> None:
    scen = build_scenario("mixed", seed=3, hours=6.0)
    zeek = write_logs(scen, tmp_path / "zeek", fmt="zeek-tsv")
    eve = write_logs(scen, tmp_path / "eve", fmt="eve")[0]
    odd = eve.with_name("e\x1b[31mRED\nwarning: fake.json")
    eve.rename(odd)
    result = CliRunner().invoke(cli, ["scan", *map(str, zeek), str(odd), "--format", "table"])
    assert result.exit_code == 0, result.output
    lines = [x for x in result.stdout.splitlines() if "Zeek and Suricata" in x or "fake.json" in x]
    assert len(lines) == 1 and "\\n" in lines[0] and "\\x1b" in lines[0] and "\x1b" not in result.stdout


def test_two_sensors_matching_stays_linear_on_a_busy_pair(tmp_path) -> None:
    """20,000 connections of one client to one proxy address and port, every half second, in both
    sensors' logs: each Suricata flow is matched to the nearest Zeek connection (in one sort), not
    compared with every Zeek connection of the pair (400 million comparisons with a join on the pair
    and the time tolerance as its filter, which a hostile or merely busy log must not cost: measured
    apart, at 43,000 connections, 7.2 s against 0.55 s for the whole scan). Every flow is counted once."""
    from analyzer.simulate import GO, Builder

    b = Builder("busy-pair", 5, hours=6.0)
    for i in range(20_000):
        b.flow(b.scen.start + 10 + i * 0.5, "10.9.9.9", "proxy.corp.example", GO, out=400, inn=900, ttl=1e9)
    scen = b.finish()
    paths = write_logs(scen, tmp_path / "zeek", fmt="zeek-tsv") + write_logs(scen, tmp_path / "eve", fmt="eve")
    with Store(scratch=True) as store:
        ingest_paths(store, [str(p) for p in paths])
        result = run_scan(store, ScanOptions(min_score=0.0))
    [warning] = result.warnings
    assert "; 20000 Suricata flow(s) and 1 DNS query matched a Zeek record" in warning
    assert [(f.src, f.host, f.connections) for f in result.findings] == [("10.9.9.9", "proxy.corp.example", 20_000)]


def test_two_sensors_whose_clocks_differ_are_matched_on_one_clock(tmp_path) -> None:
    """One link seen by Zeek and by a Suricata whose clock is 5 s ahead: nothing met within a second,
    so every connection counted twice, and each pair of copies 5 s apart looked like a reconnect loop.
    The offset is measured on the records (the median time to the nearest record of the other sensor)
    and taken out for the matching: the same beacons and counts as Zeek alone, and the warning says
    how far apart the clocks were."""
    from analyzer.simulate import DEFAULT_START

    zeek = write_logs(build_scenario("demo", seed=7, hours=6.0), tmp_path / "zeek", fmt="zeek-tsv")
    eve = write_logs(build_scenario("demo", seed=7, hours=6.0, start=DEFAULT_START + 5.0), tmp_path / "eve", fmt="eve")

    def scan(paths: list[Path]):
        with Store() as store:
            ingest_paths(store, [str(p) for p in paths])
            return run_scan(store, ScanOptions(min_score=0.0))

    alone = scan(zeek)
    both = scan(zeek + eve)
    [warning] = both.warnings
    assert "(Suricata's clock 5.0 s ahead of Zeek's" in warning and "two sensors on one link" in warning
    assert sorted((f.src, f.host, f.kind, f.connections) for f in both.findings) == \
        sorted((f.src, f.host, f.kind, f.connections) for f in alone.findings)
    assert not [f for f in both.findings if f.period_s is not None and f.period_s < 10]


def test_two_sensors_whose_records_never_match_are_both_counted_and_said_so(tmp_path) -> None:
    """Zeek and Suricata logs of the same hours whose records do not meet (sensors on different links:
    the same kinds of hosts, another day's draw of their traffic): the few that meet by chance, after
    the best clock offset is taken out, are not taken for one link, nothing is left out, a beacon's
    connections are counted from both, and the warning says why that can be."""
    zeek = write_logs(build_scenario("demo", seed=7, hours=6.0), tmp_path / "zeek", fmt="zeek-tsv")
    eve = write_logs(build_scenario("demo", seed=8, hours=6.0), tmp_path / "eve", fmt="eve")

    def scan(paths: list[Path]):
        with Store() as store:
            ingest_paths(store, [str(p) for p in paths])
            return run_scan(store, ScanOptions(min_score=0.0))

    alone = {(f.src, f.host): f.connections for f in scan(zeek).findings if f.kind == "beacon"}
    other = {(f.src, f.host): f.connections for f in scan(eve).findings if f.kind == "beacon"}
    both = scan(zeek + eve)
    [warning] = both.warnings
    assert re.search(r"but under 50% of Suricata's \d+ flow\(s\) match a Zeek connection", warning), warning
    assert "clocks differ" in warning
    counted = {(f.src, f.host): f.connections for f in both.findings if f.kind == "beacon"}
    beacon = ("10.1.10.12", "cdn-sync.orbit-relay.workers.dev")
    assert counted[beacon] == alone[beacon] + other[beacon] and alone[beacon] > 0 and other[beacon] > 0
