"""``serverless-c2 scan`` end to end: files -> ingest -> scan -> output, and the bundled demo."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer.cli import cli
from analyzer.simulate import build_scenario, write_logs


def _run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli, ["scan", *args])
    return r.exit_code, r.stdout, r.stderr


README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(scope="module")
def demo_json_run() -> tuple[int, str, str]:
    return _run("--demo", "--format", "json")


@pytest.fixture(scope="module")
def demo_json(demo_json_run: tuple[int, str, str]) -> dict:
    code, out, err = demo_json_run
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="module")
def demo_table() -> str:
    code, out, err = _run("--demo", "--format", "table", "-q")
    assert code == 0, err
    return out


def test_demo_shows_the_serverless_beacons_and_no_browsing(demo_json: dict) -> None:
    findings = demo_json["findings"]
    truth = build_scenario("demo", seed=7).truth
    c2 = {t.src for t in truth if t.malicious}
    browsing = {t.src for t in truth if t.note == "browsing"}
    top = [f for f in findings if f["kind"] == "beacon"][:2]
    assert {f["src"] for f in top} == c2
    assert {f["host"] for f in top} == {"cdn-sync.orbit-relay.workers.dev", "script.google.com"}
    assert all(f["severity"] == "high" and f["platform"] for f in top)
    assert not [f for f in findings if f["src"] in browsing]


def test_demo_table_is_default_format_choice_and_readable(demo_table: str) -> None:
    assert demo_table.splitlines()[0].split()[:3] == ["sev", "score", "kind"]
    assert "beacons every" in demo_table and "script.google.com" in demo_table


def test_demo_first_screen_skips_nothing(demo_json_run: tuple[int, str, str]) -> None:
    # what a new user sees first: the demo's logs load whole, with no note of a skipped file
    code, _, err = demo_json_run
    assert code == 0
    assert "ingested" in err and "from 3 file(s)" in err
    assert "skipped" not in err and "rejected" not in err


def test_readme_example_is_the_demo_output(demo_table: str) -> None:
    # the README's "What you get" block is the demo's table, line for line ("..." elides lines)
    block = README.read_text(encoding="utf-8").split("$ serverless-c2 scan --demo\n", 1)[1].split("```", 1)[0]
    shown = [line for line in block.splitlines() if line not in ("...", "")]
    lines = demo_table.splitlines()
    assert len(shown) >= 10 and all(line in lines for line in shown), [x for x in shown if x not in lines]
    assert lines.index(shown[-1]) > lines.index(shown[0])


def test_readme_json_schema_is_the_output_schema(demo_json: dict) -> None:
    # the README documents the JSON schema by example: the same keys at every level as a real scan
    readme = README.read_text(encoding="utf-8")
    doc = json.loads(readme.split("## JSON output", 1)[1].split("```json\n", 1)[1].split("```", 1)[0])
    assert doc["schema_version"] == demo_json["schema_version"] and doc["schema"] == demo_json["schema"]
    assert set(doc) == set(demo_json)
    assert set(doc["window"]) == set(demo_json["window"]) and set(doc["summary"]) == set(demo_json["summary"])
    shown, real = doc["findings"][0], demo_json["findings"][0]
    assert set(shown) == set(real) and set(shown["scores"]) == set(real["scores"])


def test_not_a_terminal_defaults_to_json(tmp_path: Path) -> None:
    paths = write_logs(build_scenario("c2", seed=4, hours=2), tmp_path)
    code, out, _ = _run(*map(str, paths), "-q")
    assert code == 0 and json.loads(out)["schema"] == "serverless-c2/scan"


@pytest.mark.parametrize("fmt", ["zeek-tsv", "zeek-json", "eve"])
def test_each_sensor_format_finds_the_same_beacons(fmt: str, tmp_path: Path) -> None:
    scen = build_scenario("c2", seed=4, hours=12)
    paths = write_logs(scen, tmp_path, fmt)
    code, out, err = _run(*map(str, paths), "--format", "ndjson", "--min-score", "0.7", "-q")
    assert code == 0, err
    found = [json.loads(x) for x in out.splitlines()]
    beacons = {f["src"] for f in found if f["kind"] == "beacon"}
    expected = {t.src for t in scen.truth if t.malicious and t.note not in ("keep-alive", "contact")}
    expected.discard(next(t.src for t in scen.truth if t.label == "cs-3600s-j50"))  # 12 h: ~14 check-ins
    assert expected <= beacons
    sources = {s for f in found for s in f["sources"]}
    assert ("eve" in sources) == (fmt == "eve")
    # every sensor gives a beacon its byte counts (Suricata: bytes on the wire, eve has no payload count);
    # the DNS tunnel has none: it is timed by DNS queries alone
    tunnel = next(t.src for t in scen.truth if t.label == "dns-tunnel")
    with_bytes = [f for f in found if f["kind"] == "beacon" and f["src"] in expected - {tunnel}]
    assert len(with_bytes) >= 10 and all(f["bytes_out"] > 0 and f["bytes_in"] > 0 for f in with_bytes)


def test_conn_log_alone_finds_beacons_and_warns_that_no_platform_can_be_named(tmp_path: Path) -> None:
    """A sensor that keeps conn.log alone: beacons are still found, keyed by address and port, and the
    summary says that no serverless platform can be named; with dns.log beside it, no such warning."""
    scen = build_scenario("c2", seed=4, hours=6)
    paths = {p.name: p for p in write_logs(scen, tmp_path)}
    code, out, err = _run(str(paths["conn.log"]), "--format", "json", "-q")
    assert code == 0, err
    doc = json.loads(out)
    assert [w for w in doc["summary"]["warnings"] if "no DNS, TLS or HTTP record" in w], doc["summary"]
    assert doc["summary"]["beacons"] >= 3
    assert {f["category"] for f in doc["findings"]} == {"non-serverless"}
    assert all(f["platform"] is None for f in doc["findings"])
    code, out, err = _run(str(paths["conn.log"]), str(paths["dns.log"]), "--format", "json", "-q")
    assert code == 0, err
    doc = json.loads(out)
    assert not [w for w in doc["summary"]["warnings"] if "no DNS, TLS or HTTP record" in w]
    assert any(f["platform"] for f in doc["findings"])
    # the table shows the warning too, control characters stripped like every line of it
    code, out, err = _run(str(paths["conn.log"]), "--format", "table", "-q")
    assert code == 0 and "warning: the window holds connections but no DNS, TLS or HTTP record" in out


def test_ssl_log_without_ja3_or_ja4_is_warned_about(tmp_path: Path) -> None:
    """An ssl.log as stock Zeek writes it (no ja3 or ja4 field), scanned from files: the warning names
    the JA4 package; the same day with its fingerprints gives none."""
    paths = {p.name: p for p in write_logs(build_scenario("c2", seed=4, hours=6), tmp_path / "with")}
    stock = tmp_path / "stock"
    stock.mkdir()
    for name, path in paths.items():
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        if name == "ssl.log":
            # the columns of ja3 and ja4, counted as in a record line; #fields and #types lines carry
            # their tag first, so there each column is one further along
            fields = next(line for line in lines if line.startswith("#fields")).rstrip("\n").split("\t")[1:]
            drop = {i for i, f in enumerate(fields) if f in ("ja3", "ja4")}
            assert len(drop) == 2

            def without(line: str) -> str:
                tagged = line.startswith(("#fields", "#types"))
                if line.startswith("#") and not tagged:
                    return line
                cells = line.rstrip("\n").split("\t")
                return "\t".join(c for i, c in enumerate(cells) if i - tagged not in drop) + "\n"

            lines = [without(line) for line in lines]
        (stock / name).write_text("".join(lines), encoding="utf-8")
    for folder, warned in ((stock, True), (tmp_path / "with", False)):
        code, out, err = _run(str(folder), "--format", "json", "-q")
        assert code == 0, err
        doc = json.loads(out)
        hits = [w for w in doc["summary"]["warnings"] if "zeek/foxio/ja4" in w]
        assert bool(hits) == warned, doc["summary"]["warnings"]
        assert doc["summary"]["beacons"] >= 3 and doc["summary"]["warnings"] == hits


def test_db_store_is_reused_and_scanned_without_paths(tmp_path: Path) -> None:
    paths = write_logs(build_scenario("c2", seed=4, hours=6), tmp_path / "logs")
    db = str(tmp_path / "s.duckdb")
    code, _, err = _run(*map(str, paths), "--db", db, "-q")
    assert code == 0, err
    code, out, err = _run("--db", db, "--format", "csv", "--window", "3h")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and all(float(r["score"]) >= 0.5 or r["kind"] == "contact" for r in rows)
    assert "window ends at the latest log timestamp" in err


def test_allowlist_from_cli_is_reported(tmp_path: Path) -> None:
    paths = write_logs(build_scenario("benign", seed=4, hours=4), tmp_path / "logs")
    al = tmp_path / "allow.txt"
    al.write_text('tenant=acme-uptime reason="uptime probe"\n', encoding="utf-8")
    code, out, err = _run(*map(str, paths), "--allowlist", str(al), "--format", "json", "--min-score", "0")
    assert code == 0, err
    doc = json.loads(out)
    assert not [f for f in doc["findings"] if f["tenant"] == "acme-uptime"]
    assert list(doc["summary"]["suppressed"].values()) == [6]
    assert "suppressed by the allowlist" in err


def test_pcap_option_replays_then_scans(monkeypatch, tmp_path: Path) -> None:
    import analyzer.replay

    scen = build_scenario("c2", seed=4, hours=6)
    calls = []

    def fake_replay(pcaps, workdir):
        calls.append([Path(p).name for p in pcaps])
        return write_logs(scen, Path(workdir) / "000-x", "eve")

    monkeypatch.setattr(analyzer.replay, "replay_pcaps", fake_replay)
    pcap = tmp_path / "cap.pcap"
    pcap.write_bytes(b"\xd4\xc3\xb2\xa1")
    code, out, err = _run("--pcap", str(pcap), "--format", "json", "-q")
    assert code == 0, err
    assert calls == [["cap.pcap"]]
    assert any("eve" in f["sources"] for f in json.loads(out)["findings"])


def test_missing_suricata_is_an_error_not_a_traceback(monkeypatch, tmp_path: Path) -> None:
    import analyzer.replay
    from analyzer.errors import ToolMissingError

    def missing(pcaps, workdir):
        raise ToolMissingError("suricata is not installed: apt-get install suricata")

    monkeypatch.setattr(analyzer.replay, "replay_pcaps", missing)
    pcap = tmp_path / "cap.pcap"
    pcap.write_bytes(b"")
    code, _, err = _run("--pcap", str(pcap))
    assert code == 2 and "suricata is not installed" in err


@pytest.mark.parametrize("args,message", [
    ((), "nothing to scan"),
    (("--demo", "--window", "forever"), "bad window"),
    (("--demo", "--since", "yesterday"), "--since"),
    (("--demo", "--memory-limit", "lots"), "--memory-limit"),
    (("--demo", "--since", "inf"), "'inf' is out of the range of dates"),
    (("--demo", "--until", "1e400"), "--until"),
    (("--demo", "--since", "9999999999999999999"), "out of the range of dates"),
    (("--demo", "--window", "99999999999d"), "at most 130 years"),
])
def test_bad_invocations(args, message: str) -> None:
    code, _, err = _run(*args)
    assert code != 0 and message in err and "Traceback" not in err


def test_a_scan_out_of_memory_is_an_error_that_says_what_to_do() -> None:
    """Under a cap too small for the day, DuckDB gives up: the scan fails with one line naming the cap
    and the ways out, exit 2 (an error, as cron expects), not a traceback and exit 1."""
    code, out, err = _run("--demo", "--memory-limit", "12MB", "--format", "json", "-q")
    assert code == 2 and out == ""
    assert "out of memory in " in err and "--memory-limit" in err and "--since/--until" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_an_unexpected_failure_is_exit_2_with_one_line(monkeypatch) -> None:
    import analyzer.scan as scan_mod

    def broken(store, options=None):
        raise RuntimeError("boom \x1b[31m")

    monkeypatch.setattr(scan_mod, "run_scan", broken)
    code, _, err = _run("--demo", "--format", "json", "-q")
    assert code == 2 and "unexpected RuntimeError: boom" in err and "\x1b" not in err and "Traceback" not in err


def test_memory_limit_default_is_the_stores() -> None:
    from analyzer.cli.scan_cmd import scan
    from analyzer.store import DEFAULT_MEMORY_LIMIT

    option = next(p for p in scan.params if p.name == "memory_limit")
    assert option.default == DEFAULT_MEMORY_LIMIT


def _progress(monkeypatch, tty: bool, **kw):
    import sys

    from analyzer.cli import ingest_cmd

    monkeypatch.setattr(sys.stderr, "isatty", lambda: tty, raising=False)
    monkeypatch.setattr(ingest_cmd._Progress, "EVERY", 0.0)
    return ingest_cmd._Progress(False, **kw)


def test_scan_shows_ingest_progress_on_a_terminal_only(monkeypatch, capsys) -> None:
    """scan shows which file it is loading on a terminal (one line, rewritten, file names escaped);
    to a pipe or cron's mail, where `ingest` prints a line every few seconds, scan prints nothing."""
    hostile = "/logs/conn.\x1b[2J.log"
    for tty, tty_only in ((True, True), (False, True), (False, False)):
        p = _progress(monkeypatch, tty, tty_only=tty_only)
        p(hostile, 0, 2048)
        p("/logs/dns.log", 1024, 2048)
        p("", 2048, 2048)
        err = capsys.readouterr().err
        if tty:
            assert err == "\r\x1b[K[1] 0 B/2.0 KiB (0%) /logs/conn.\\x1b[2J.log\r\x1b[K[2] 1.0 KiB/2.0 KiB (50%) /logs/dns.log\n"
        elif tty_only:
            assert err == ""
        else:
            assert err.splitlines() == ["[1] 0 B/2.0 KiB (0%) /logs/conn.\\x1b[2J.log", "[2] 1.0 KiB/2.0 KiB (50%) /logs/dns.log"]


def test_scan_to_a_pipe_says_only_what_it_loaded(tmp_path: Path) -> None:
    logs = write_logs(build_scenario("demo", seed=7, hours=2.0), tmp_path / "logs")
    code, out, err = _run(*map(str, logs), "--format", "json")
    assert code == 0 and json.loads(out)["schema"] == "serverless-c2/scan"
    assert err.splitlines()[0].startswith(f"ingested ") and "[1]" not in err


def test_scan_says_which_files_had_warnings_rejects_or_were_skipped(tmp_path: Path) -> None:
    """A scan hides nothing its ingest found: a truncated .gz, a rejected line (file and line), files
    that are no log; the files counted as read are those read."""
    import gzip

    logs = write_logs(build_scenario("demo", seed=7, hours=2.0), tmp_path / "logs")
    conn = next(p for p in logs if p.name.startswith("conn"))
    lines = conn.read_text().splitlines(keepends=True)
    first_data = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    lines.insert(first_data + 1, "1.0\tonly\tthree\x1b[2J\n")             # wrong field count
    conn.write_text("".join(lines))
    dns = next(p for p in logs if p.name.startswith("dns"))
    packed = gzip.compress(dns.read_bytes())
    cut = tmp_path / "logs" / "dns.cut.log.gz"
    cut.write_bytes(packed[: len(packed) // 2])                                 # a truncated archive
    dns.unlink()
    (tmp_path / "logs" / "notes.txt").write_text("not a log\n")
    wrecked = bytearray(packed)
    wrecked[12:40] = b"\xff" * 28
    bad = tmp_path / "logs" / "ssl.bad.log.gz"
    bad.write_bytes(bytes(wrecked))                                             # nothing decompresses
    code, out, err = _run(str(tmp_path / "logs"), "--format", "json")
    assert code == 0 and json.loads(out)["schema"] == "serverless-c2/scan"
    # the night must not look whole: the unreadable file is a warning of the result, not only a note
    assert [w for w in json.loads(out)["summary"]["warnings"] if "could not be read" in w] == \
        [f"1 file(s) could not be read and are left out: {bad}: cannot read: nothing decompresses: "
         + next(line for line in err.splitlines() if "nothing decompresses: " in line).split("nothing decompresses: ")[1]]
    assert ", 2 line(s) rejected" in err.splitlines()[0]  # the bad line, and the cut archive's last line
    # conn, ssl and the cut dns: notes.txt and the header-only http.log of these two hours are skipped
    assert " from 3 file(s)" in err.splitlines()[0] and "skipped 2 file(s): 1 header only, 1 not a log" in err
    assert err.splitlines()[0].endswith(", 1 file(s) could not be read")
    assert f"{bad}: failed: cannot read: nothing decompresses" in err
    assert f"{conn}: 1 line(s) rejected" in err and f"{conn}:{first_data + 2}: expected" in err
    assert f"{cut}: warning: truncated gzip" in err
    assert "\x1b" not in err


def test_without_db_the_scan_uses_a_scratch_store_and_releases_it(tmp_path: Path, monkeypatch) -> None:
    """scan PATH loads a scratch store (fewer columns, tables dropped once read); scan PATH --db keeps
    a full store with its tables; both list the same findings."""
    import analyzer.scan as scan_mod
    from analyzer.store import Store

    seen: list[tuple[bool, bool, set[str]]] = []
    real_run_scan = scan_mod.run_scan

    def spy(store: Store, options):  # type: ignore[no-untyped-def]
        result = real_run_scan(store, options)
        tables = {r[0] for r in store.con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary")
                  .fetchall()} & {"conn", "dns", "tls", "http"}
        seen.append((store.scratch, options.release_logs, tables))
        return result

    monkeypatch.setattr(scan_mod, "run_scan", spy)
    logs = [str(p) for p in write_logs(build_scenario("demo", seed=7), tmp_path / "logs")]
    outs = []
    for extra in ([], ["--db", str(tmp_path / "kept.duckdb")]):
        code, out, err = _run(*logs, "--format", "json", *extra)
        assert code == 0, err
        outs.append(json.loads(out)["findings"])
    assert seen == [(True, True, set()), (False, False, {"conn", "dns", "tls", "http"})]
    assert outs[0] == outs[1] and any(f["kind"] == "beacon" for f in outs[0])


@pytest.mark.parametrize("command", ["scan", "report"])
@pytest.mark.parametrize("value", ["nan", "NaN", "-0.1", "1.5"])
def test_a_min_score_that_is_no_score_is_refused(command: str, value: str) -> None:
    """NaN passes a plain range check (every comparison with it is false) and would have listed no
    beacon at all, silently."""
    result = CliRunner().invoke(cli, [command, "--demo", "--min-score", value])
    assert result.exit_code == 2 and "--min-score" in result.stderr


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_a_scan_stopped_by_a_signal_removes_its_spill_folder(tmp_path: Path, sig: str) -> None:
    """timeout, systemd and cron stop a job with SIGTERM: Python's default handling ended the process
    on the spot and left the scratch store's spill folder behind (hundreds of MB on a big day). Ctrl-C
    (SIGINT) said "unexpected RuntimeError: Query interrupted" and exited 2, not 130."""
    import os
    import signal
    import subprocess
    import sys
    import time

    bench = Path(__file__).resolve().parent.parent / "bench"
    sys.path.insert(0, str(bench))
    try:
        from bench_scan import generate
    finally:
        sys.path.remove(str(bench))
    logs = generate(tmp_path / "day", 300_000, 3000, 1)
    spill_root = tmp_path / "tmp"
    spill_root.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", "from analyzer.cli import main; main()", "scan",
                             *map(str, logs), "--format", "json"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(spill_root)})
    deadline = time.monotonic() + 60
    while not list(spill_root.glob("serverless-c2-spill-*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert list(spill_root.glob("serverless-c2-spill-*")), "the scan made its spill folder"
    proc.send_signal(getattr(signal, sig))
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + getattr(signal, sig)
    assert f"stopped by {sig}" in err and "Traceback" not in err
    assert not list(spill_root.glob("serverless-c2-spill-*"))


def test_a_beacon_over_quic_in_eve_json_is_named_by_its_quic_hello(tmp_path: Path) -> None:
    """Suricata logs a QUIC (HTTP/3) connection's handshake as a ``quic`` event, not a ``tls`` one.
    An implant on HTTP/3 to a Worker, its resolver out of sight (DNS over HTTPS): the flows are named
    by the hello's SNI and keyed by its JA3, so the beacon is the Worker's; a browser's QUIC visits to
    a search engine at random times are no finding."""
    import random

    rng, lines, day = random.Random(5), [], 1_795_651_200.0

    def iso(t: float) -> str:
        return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")

    def quic_flow(flow: int, t: float, src: str, dst: str, sni: str, ja3: str) -> None:
        base = {"flow_id": flow, "src_ip": src, "src_port": 40000 + flow % 20000, "dest_ip": dst,
                "dest_port": 443, "proto": "UDP"}
        lines.append({"timestamp": iso(t), "event_type": "quic", **base,
                      "quic": {"version": "1", "sni": sni, "ja3": {"hash": ja3, "string": "771,4865-4866-4867"}}})
        lines.append({"timestamp": iso(t + 0.05), "event_type": "quic", **base, "src_ip": dst, "dest_ip": src,
                      "quic": {"version": "1", "ja3s": {"hash": "f4febc55ea12b31ae17cfb7e614afda8"}}})
        lines.append({"timestamp": iso(t + 1.2), "event_type": "flow", **base, "app_proto": "quic",
                      "flow": {"start": iso(t), "end": iso(t + 1.2), "pkts_toserver": 9, "pkts_toclient": 8,
                               "bytes_toserver": 2400 + rng.randint(0, 80), "bytes_toclient": 3100, "state": "new"}})

    t, flow = day + 30, 1
    while t < day + 86400 - 120:
        quic_flow(flow, t, "10.3.0.7", "104.21.55.8", "sync.ops-relay.workers.dev", "203c2306834e5bf5ace01fb74ad1badf")
        t, flow = t + 90 * (1 - 0.4 * rng.random()), flow + 1              # 90 s, Cobalt Strike's 40 % jitter
    for _ in range(150):
        quic_flow(flow, day + rng.uniform(8, 18) * 3600, "10.3.0.9", "142.250.1.1", "www.google.com",
                  "b719940c5ab9a3373cb4475d8143ff88")
        flow += 1
    lines.sort(key=lambda e: e["timestamp"])
    eve = tmp_path / "eve.json"
    eve.write_text("".join(json.dumps(e) + "\n" for e in lines))
    code, out, err = _run(str(eve), "--format", "json", "-q")
    assert code == 0, err
    doc = json.loads(out)
    beacons = [f for f in doc["findings"] if f["kind"] == "beacon"]
    assert [(f["src"], f["host"], f["platform"], f["tenant"], f["ja3"]) for f in beacons] == [
        ("10.3.0.7", "sync.ops-relay.workers.dev", "Cloudflare Workers", "ops-relay", "203c2306834e5bf5ace01fb74ad1badf")]
    assert beacons[0]["severity"] == "high" and 800 <= beacons[0]["connections"] <= 1200
    assert not [f for f in doc["findings"] if f["src"] == "10.3.0.9"]
    assert not [f for f in doc["findings"] if f["host"] in ("104.21.55.8", "142.250.1.1")]


VALID_TSV = Path(__file__).resolve().parent / "fixtures" / "ingest" / "valid_tsv"


@pytest.mark.parametrize("command", ["scan", "report"])
def test_a_store_a_failed_first_run_left_empty_is_an_error_not_an_empty_scan(tmp_path: Path, command: str) -> None:
    """A first night's ingest of a wrong (empty) folder made the store and loaded nothing; every later
    report on it said "No findings" and "every stream has rows in every hour of the window", exit 0."""
    store, empty = tmp_path / "nsm.duckdb", tmp_path / "empty"
    empty.mkdir()
    assert CliRunner().invoke(cli, ["ingest", str(empty), "--db", str(store), "-q"]).exit_code == 0 and store.exists()
    result = CliRunner().invoke(cli, [command, "--db", str(store), *(["-o", "-"] if command == "report" else [])])
    assert result.exit_code == 2 and f"--db {store}: the store holds no logs yet" in result.stderr
    assert result.stdout == ""
    assert CliRunner().invoke(cli, ["ingest", str(VALID_TSV), "--db", str(store), "-q"]).exit_code == 0
    result = CliRunner().invoke(cli, [command, "--db", str(store), *(["-o", "-"] if command == "report" else [])])
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("command", ["scan", "report"])
def test_a_store_that_does_not_exist_is_an_error_not_an_empty_scan(tmp_path: Path, command: str) -> None:
    """A typo in a cron line's --db made a new, empty store and printed "no findings", exit 0, every night."""
    typo = tmp_path / "nsm.duckbd"
    result = CliRunner().invoke(cli, [command, "--db", str(typo), *(["-o", "-"] if command == "report" else [])])
    assert result.exit_code == 2 and f"--db {typo}: no such store" in result.stderr
    assert result.stdout == "" and not typo.exists()
    # with logs to load, --db makes the store, as documented
    result = CliRunner().invoke(cli, ["scan", str(VALID_TSV), "--db", str(typo), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert typo.exists() and CliRunner().invoke(cli, ["scan", "--db", str(typo), "--format", "json"]).exit_code == 0


@pytest.mark.parametrize("command", ["scan", "report"])
def test_logs_that_load_no_row_are_an_error_naming_why(tmp_path: Path, command: str) -> None:
    (tmp_path / "conn.log").write_text("")
    (tmp_path / "notes.txt").write_text("not a log\n")
    result = CliRunner().invoke(cli, [command, str(tmp_path), *(["-o", "-"] if command == "report" else [])])
    assert result.exit_code == 2 and result.stdout == ""
    assert "the 2 file(s) given loaded no log rows (skipped: 1 empty file, 1 not a log)" in result.stderr


def test_the_demo_day_is_never_mixed_with_real_logs_or_written_into_a_real_store(tmp_path: Path) -> None:
    store = tmp_path / "nsm.duckdb"
    assert CliRunner().invoke(cli, ["ingest", str(VALID_TSV), "--db", str(store), "-q"]).exit_code == 0
    for args in (["scan", "--demo", "--db", str(store)], ["scan", "--demo", str(VALID_TSV)],
                 ["report", "--demo", "--db", str(store), "-o", "-"], ["report", "--demo", str(VALID_TSV), "-o", "-"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2 and "--demo scans a generated day of its own" in result.stderr, args
    files = CliRunner().invoke(cli, ["scan", "--db", str(store), "--format", "json"])
    assert files.exit_code == 0 and "demo" not in files.stdout
    # the report's demo keeps a store of its own for its history: a new one, then the same again
    demo_store = tmp_path / "demo.duckdb"
    for _ in range(2):
        result = CliRunner().invoke(cli, ["report", "--demo", "--db", str(demo_store), "-f", "json", "-o", "-", "-q"])
        assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["findings"][0]["host"] == "cdn-sync.orbit-relay.workers.dev"


def test_since_with_a_window_starts_there_and_all_three_are_an_error() -> None:
    """--since S --window 1h scanned from S to the newest line, the window silently ignored; a --since
    after the newest line was blamed on an --until never given; a window before the logs said nothing
    (then a warning; now an error, as after them)."""
    def summary(*args: str):
        result = CliRunner().invoke(cli, ["scan", "--demo", "--format", "json", *args])
        return result, (json.loads(result.stdout) if result.exit_code == 0 else None)

    result, doc = summary("--since", "2026-11-26T02:00", "--window", "1h")
    assert result.exit_code == 0, result.stderr
    assert "in 2026-11-26 02:00..2026-11-26 03:00 UTC" in result.stderr
    result, _ = summary("--since", "2026-11-26T02:00", "--until", "2026-11-26T05:00", "--window", "1h")
    assert result.exit_code == 2 and "give at most two of --since, --until and --window" in result.stderr
    result, _ = summary("--since", "2026-12-20")
    assert result.exit_code == 2 and "--since 2026-12-20 00:00:00 UTC is after the newest log line" in result.stderr
    # a window wholly before the logs is the mirror of one after them: an error too (it was a warning)
    result, doc = summary("--until", "2026-11-20")
    assert result.exit_code == 2 and "before the oldest log line (2026-11-2" in result.stderr, result.stderr
    result, doc = summary()
    assert not [w for w in doc["summary"]["warnings"] if w.startswith("nothing to score")]


def test_a_log_on_standard_input_is_scanned_as_the_file_is(tmp_path: Path) -> None:
    """`zcat conn.*.log.gz | serverless-c2 scan -`: '-' is standard input, read as the file would be."""
    import gzip

    logs = write_logs(build_scenario("demo", seed=7, hours=3.0), tmp_path / "logs")
    ssl = next(p for p in logs if p.name.startswith("ssl"))
    direct = CliRunner().invoke(cli, ["scan", str(ssl), "--format", "json", "--min-score", "0"])
    piped = CliRunner().invoke(cli, ["scan", "-", "--format", "json", "--min-score", "0"], input=ssl.read_bytes())
    packed = CliRunner().invoke(cli, ["scan", "-", "--format", "json", "--min-score", "0"],
                                input=gzip.compress(ssl.read_bytes()))
    assert direct.exit_code == 0 == piped.exit_code == packed.exit_code, piped.stderr
    found = json.loads(direct.stdout)["findings"]
    assert found and json.loads(piped.stdout)["findings"] == found == json.loads(packed.stdout)["findings"]
    nothing = CliRunner().invoke(cli, ["scan", "-", "--format", "json"], input=b"")
    assert nothing.exit_code == 2 and "nothing to scan" in nothing.stderr
    # what the ingest says of standard input names it so, not the command's temporary copy of it
    both = CliRunner().invoke(cli, ["scan", "-", str(ssl), "--format", "json"], input=ssl.read_bytes())
    assert (f"{ssl}: warning: the same content as <stdin>, loaded before" in both.stderr
            or f"<stdin>: warning: the same content as {ssl}, loaded before" in both.stderr), both.stderr
    assert "stdin.log" not in both.stderr


@pytest.mark.parametrize("command", ["ingest", "report"])
def test_only_scan_reads_standard_input_and_the_others_say_so(command: str, tmp_path: Path) -> None:
    """`ingest -` and `report -` read '-' as a file that does not exist ("-: no such file or
    directory"), and a failed `ingest - --db` still made the store. They say what to do instead."""
    store = tmp_path / "s.duckdb"
    res = CliRunner().invoke(cli, [command, "-", "--db", str(store), *(["-o", "-"] if command == "report" else [])],
                             input=b"")
    assert res.exit_code == 2 and f"{command} does not read standard input ('-')" in res.stderr
    assert "serverless-c2 scan -" in res.stderr and not store.exists()


@pytest.mark.parametrize("command", ["scan", "report"])
def test_a_night_of_no_logs_into_a_kept_store_is_an_error_and_a_retry_is_not(command: str, tmp_path: Path) -> None:
    """With --db, a folder with no log in it (a sensor that wrote nothing, a wrong path) was reported as
    the store's older days again, exit 0; a retry of a night already loaded adds no row and is fine."""
    import gzip

    db = str(tmp_path / "store.duckdb")
    logs = write_logs(build_scenario("demo", seed=7, hours=3.0), tmp_path / "night1")
    out = ["-o", "-", "-f", "json"] if command == "report" else ["--format", "json"]
    first = CliRunner().invoke(cli, [command, str(tmp_path / "night1"), "--db", db, *out])
    assert first.exit_code == 0, first.stderr
    retry = CliRunner().invoke(cli, [command, str(tmp_path / "night1"), "--db", db, *out])
    assert retry.exit_code == 0, retry.stderr
    empty = tmp_path / "night2"
    empty.mkdir()
    (empty / "conn.log").write_text(logs[0].read_text().split("\n#fields", 1)[0] + "\n")  # a header, no row
    (empty / "ssl.00:00:00-01:00:00.log.gz").write_bytes(b"\0" * 4096)                   # what a crash leaves
    res = CliRunner().invoke(cli, [command, str(empty), "--db", db, *out, "-q"])
    assert res.exit_code == 2 and "loaded no log rows" in res.stderr, res.stderr
    assert "not a log" in res.stderr             # named under -q: a file named as a log that is none


def test_warnings_and_lost_lines_reach_stderr_under_q(tmp_path: Path) -> None:
    """-q drops progress and counts, not what a nightly job must hear of: the scan's warnings and
    the lines a file lost, with where."""
    logs = write_logs(build_scenario("demo", seed=7, hours=3.0), tmp_path / "logs")
    conn = next(p for p in logs if p.name.startswith("conn"))
    text = conn.read_text().split("\n")
    text.insert(9, "not\ta\tconn\tline")
    conn.write_text("\n".join(text))
    res = CliRunner().invoke(cli, ["scan", str(tmp_path / "logs"), "--format", "json", "-q"])
    assert res.exit_code == 0, res.stderr
    assert "conn.log:10" in res.stderr and "ingested" not in res.stderr
    for command, out in (("scan", ["--format", "json"]), ("report", ["-o", "-", "-f", "json"])):
        only_conn = CliRunner().invoke(cli, [command, str(conn), *out, "-q"])  # conn.log alone: a warning
        assert only_conn.exit_code == 0 and "no DNS, TLS or HTTP record" in only_conn.stderr, only_conn.stderr
        assert "conn.log:10" in only_conn.stderr
    # a live log's last line, still being written, is read again when it grows: nothing to say under -q
    conn.write_text("\n".join(text[:9] + text[10:]).rstrip("\n").rsplit("\n#close", 1)[0])
    live = CliRunner().invoke(cli, ["scan", str(tmp_path / "logs"), "--format", "json", "-q"])
    assert live.exit_code == 0 and "incomplete last line" not in live.stderr, live.stderr
    loud = CliRunner().invoke(cli, ["scan", str(tmp_path / "logs"), "--format", "json"])
    assert "incomplete last line" in loud.stderr
