"""Tests for analyzer/replay.py: pcaps through Suricata into eve.json, then (when the stages
exist) through ingest and scan.

Captures: the project's own (pcaps/) and the public ones in ../shared/data (skipped with a reason
when that folder is absent). Each end-to-end check asserts what must be found and what must not.
"""

from __future__ import annotations

import json
import shutil
import statistics
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from analyzer.errors import InputError, ToolMissingError
from analyzer.replay import INSTALL_HINT, find_suricata, replay_pcaps

ROOT = Path(__file__).resolve().parents[1]
PCAPS = ROOT / "pcaps"
SHARED = ROOT.parent / "shared" / "data"
TEST_CC_1 = SHARED / "slips/dataset/test-cc/test-cc-capture-1.pcap"
TEST_CC_2 = SHARED / "slips/dataset/test-cc/test-cc-capture-2.pcap"
QUASAR = SHARED / "corelight-quasarrat/testing/Traces/09ffabf7-774a-43a3-8c97-68f2046fd385.pcap"
SURICATA_VERIFY = SHARED / "suricata-verify/tests"
ZEEK_TRACES = SHARED / "zeek/testing/btest/Traces"

needs_suricata = pytest.mark.skipif(shutil.which("suricata") is None,
                                    reason="suricata not installed (" + INSTALL_HINT + ")")
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data not present")


def events(eve: Path) -> list[dict]:
    return [json.loads(line) for line in eve.read_text().splitlines()]


def ts(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def flow_starts(evs: list[dict], dest_ip: str, dest_port: int) -> list[float]:
    return sorted(ts(e["flow"]["start"]) for e in evs
                  if e["event_type"] == "flow" and e["dest_ip"] == dest_ip and e.get("dest_port") == dest_port)


# ------------------------------------------------------------------------------- errors, no tool


def test_missing_suricata_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("SURICATA", "suricata-that-does-not-exist")
    with pytest.raises(ToolMissingError) as err:
        replay_pcaps([PCAPS / "serverless-dns.pcap"], tmp_path)
    assert "apt-get install -t bookworm-backports suricata" in str(err.value)
    assert "bookworm-backports main" in str(err.value)          # how to add the suite
    assert not any(tmp_path.iterdir())                          # failed before touching workdir


def test_empty_path_env_also_reports_missing_tool(monkeypatch):
    monkeypatch.delenv("SURICATA", raising=False)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(ToolMissingError):
        find_suricata()


@needs_suricata
def test_missing_capture_is_an_input_error_naming_it(tmp_path):
    with pytest.raises(InputError) as err:
        replay_pcaps([tmp_path / "nope.pcap"], tmp_path / "out")
    assert err.value.path == str(tmp_path / "nope.pcap")


@needs_suricata
def test_a_file_that_is_not_a_capture_is_an_input_error(tmp_path):
    bogus = tmp_path / "notes.pcap"
    bogus.write_text("this is not a pcap\n")
    with pytest.raises(InputError) as err:
        replay_pcaps([bogus], tmp_path / "out")
    assert err.value.path == str(bogus) and "not a pcap or pcapng capture" in str(err.value)


@needs_suricata
def test_a_gzipped_capture_is_replayed_as_the_capture_and_a_cut_one_is_an_error(tmp_path):
    """Capture archives keep .pcap.gz: Suricata reads no gzip, so it is decompressed first (it was
    refused with "decompress it first"); its eve.json is the plain capture's, and no copy is left."""
    import gzip

    plain = PCAPS / "serverless-dns.pcap"
    packed = tmp_path / "x.pcap.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    [eve_gz] = replay_pcaps([packed], tmp_path / "gz")
    [eve_plain] = replay_pcaps([plain], tmp_path / "plain")

    def dns(eve: Path) -> list:
        return sorted((e["src_ip"], e["dns"].get("rrname") or str(e["dns"].get("queries")))
                      for e in events(eve) if e["event_type"] == "dns")

    assert dns(eve_gz) and dns(eve_gz) == dns(eve_plain)
    assert not list((tmp_path / "gz").rglob("capture.pcap"))
    cut = tmp_path / "cut.pcap.gz"
    cut.write_bytes(packed.read_bytes()[: len(packed.read_bytes()) // 2])
    with pytest.raises(InputError, match="cannot be decompressed whole"):
        replay_pcaps([cut], tmp_path / "out")
    notgz = tmp_path / "notes.txt.gz"
    notgz.write_bytes(gzip.compress(b"hello\n"))
    with pytest.raises(InputError, match="not a pcap or pcapng capture .a gzip file, but not of a capture"):
        replay_pcaps([notgz], tmp_path / "out2")


@needs_suricata
def test_suricata_failure_carries_its_reason(tmp_path):
    """A capture with a valid header that Suricata still refuses: its error text is passed on."""
    nflog = tmp_path / "nflog.pcap"
    # pcap global header with linktype 239 (NFLOG), which Suricata 7's pcap-file reader lacks
    header = bytes.fromhex("d4c3b2a1020004000000000000000000ffff0000ef000000")
    record = bytes.fromhex("00000000000000001400000014000000") + bytes(20)
    nflog.write_bytes(header + record)
    with pytest.raises(InputError) as err:
        replay_pcaps([nflog], tmp_path / "out")
    assert "suricata could not replay" in str(err.value) and "datalink type 239" in str(err.value)


@needs_suricata
def test_missing_rules_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="rules file not found"):
        replay_pcaps([PCAPS / "serverless-dns.pcap"], tmp_path, rules=tmp_path / "none.rules")


# ---------------------------------------------------------------------------- project captures


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    if shutil.which("suricata") is None:
        pytest.skip("suricata not installed")
    pcaps = sorted(PCAPS.glob("*.pcap"))
    eves = replay_pcaps(pcaps, tmp_path_factory.mktemp("own"))
    return {p.name: e for p, e in zip(pcaps, eves)}


@needs_suricata
def test_one_eve_per_capture_in_input_order(own, tmp_path):
    pcaps = [PCAPS / "serverless-tls.pcap", PCAPS / "serverless-dns.pcap"]
    stale = tmp_path / "000-serverless-tls" / "eve.json"
    stale.parent.mkdir(parents=True)
    stale.write_text('{"event_type":"stale"}\n')
    eves = replay_pcaps(pcaps, tmp_path)
    assert [e.parent.name for e in eves] == ["000-serverless-tls", "001-serverless-dns"]
    assert {e["event_type"] for e in events(eves[0])} == {"tls", "flow"}   # stale file replaced
    assert {e["event_type"] for e in events(eves[1])} == {"dns", "flow"}


@needs_suricata
def test_dns_tls_http_records_of_the_project_captures(own):
    dns = events(own["serverless-dns.pcap"])
    queries = {e["dns"]["rrname"] for e in dns if e["event_type"] == "dns" and e["dns"]["type"] == "query"}
    assert "beacon-1.example-app.workers.dev" in queries and "evilworkers.dev" in queries
    assert len(queries) == 16

    tls = [e for e in events(own["serverless-tls.pcap"]) if e["event_type"] == "tls"]
    assert len(tls) == 16 and "API.My-Fn.Vercel.APP" in {e["tls"]["sni"] for e in tls}
    assert all(e["tls"]["ja4"].startswith("t13d") and e["tls"]["ja3"]["hash"] for e in tls)

    http = [e for e in events(own["serverless-http.pcap"]) if e["event_type"] == "http"]
    upper = [e for e in http if e["http"]["hostname"] == "Relay.Example-App.Workers.DEV"]
    assert len(upper) == 1 and upper[0]["http"]["http_port"] == 8080


@needs_suricata
def test_project_beacons_have_the_generated_timing(own):
    web = events(own["beacon-http-workers.pcap"])
    implant = sorted(ts(e["timestamp"]) for e in web
                     if e["event_type"] == "http" and e["src_ip"] == "10.1.1.10")
    gaps = [b - a for a, b in zip(implant, implant[1:])]
    assert len(implant) == 24 and 51 <= min(gaps) and max(gaps) <= 69      # 60 s +/- 15 %
    agents = {e["http"]["http_user_agent"] for e in web if e["event_type"] == "http" and e["src_ip"] == "10.1.1.10"}
    assert agents == {"python-requests/2.32.3"}

    tls = [e for e in events(own["beacon-tls-lambda.pcap"]) if e["event_type"] == "tls"]
    assert len(tls) == 26 and {e["tls"]["ja4"][8:10] for e in tls} == {"00"}   # no ALPN


# --------------------------------------------------------------------------- public captures


@pytest.fixture(scope="module")
def public(tmp_path_factory):
    if shutil.which("suricata") is None:
        pytest.skip("suricata not installed")
    if not SHARED.is_dir():
        pytest.skip("../shared/data not present")
    pcaps = [TEST_CC_1, TEST_CC_2, QUASAR]
    eves = replay_pcaps(pcaps, tmp_path_factory.mktemp("public"))
    return dict(zip(("cc1", "cc2", "quasar"), eves))


@needs_suricata
@needs_shared
def test_slips_test_cc_replays_into_a_periodic_https_series(public):
    cc1 = events(public["cc1"])
    counts = Counter(e["event_type"] for e in cc1)
    assert counts["tls"] == 299 and counts["flow"] == 299
    assert {e["tls"].get("sni") for e in cc1 if e["event_type"] == "tls"} == {"testing.com"}
    starts = flow_starts(cc1, "141.193.213.21", 443)
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert len(starts) == 297 and 2.0 <= statistics.median(gaps) <= 2.4
    assert starts[-1] - starts[0] > 600                       # about 11 minutes of beacons

    cc2 = events(public["cc2"])
    tls2 = [e for e in cc2 if e["event_type"] == "tls"]
    assert len(tls2) == 22 and {e["tls"]["sni"] for e in tls2} == {"testing.com"}


@needs_suricata
@needs_shared
def test_quasarrat_reconnects_every_three_and_a_half_seconds(public):
    evs = events(public["quasar"])
    starts = flow_starts(evs, "86.136.67.231", 1337)
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert len(starts) == 77
    assert 3.3 <= min(gaps) and max(gaps) <= 3.9 and starts[-1] - starts[0] > 250
    # the C2 speaks TLS without SNI: the beacon must be keyed on the address, not a name
    c2_tls = [e for e in evs if e["event_type"] == "tls" and e["dest_ip"] == "86.136.67.231"]
    assert len(c2_tls) == 77 and not any(e["tls"].get("sni") for e in c2_tls)


# -------------------------------------------------------------------------- ingest + scan (e2e)


def _scan(eves: list[Path]):
    ingest = pytest.importorskip("analyzer.ingest", reason="ingest stage not available")
    scan = pytest.importorskip("analyzer.scan", reason="scan stage not available")
    from analyzer.store import Store

    with Store() as store:
        ingest.ingest_paths(store, [str(e) for e in eves])
        return scan.run_scan(store, scan.ScanOptions(window="7d")).findings


@needs_suricata
@needs_shared
def test_scan_finds_the_test_cc_beacon_as_non_serverless(public):
    findings = _scan([public["cc1"]])
    beacons = [f for f in findings if f.kind == "beacon" and f.host == "testing.com"]
    assert len(beacons) == 1
    b = beacons[0]
    assert b.category == "non-serverless" and b.platform is None
    assert b.src == "147.32.80.37" and 2.0 <= b.period_s <= 2.4 and b.connections >= 290
    assert not any(f.platform for f in findings)              # nothing serverless in this capture


@needs_suricata
@needs_shared
def test_scan_finds_the_quasarrat_reconnects(public):
    findings = _scan([public["quasar"]])
    c2 = [f for f in findings if f.kind == "beacon" and f.dst == "86.136.67.231"]
    assert len(c2) == 1
    assert c2[0].dst_port == 1337 and c2[0].connections == 77 and 3.3 <= c2[0].period_s <= 3.8
    assert c2[0].category == "non-serverless" and c2[0].severity in ("medium", "high")
    # the sandbox's ordinary Windows traffic (login.live.com, settings-win...) is not a beacon
    assert [f.dst for f in findings if f.kind == "beacon"] == ["86.136.67.231"]


@needs_suricata
def test_scan_finds_the_project_beacons_and_not_the_browser(own):
    web = _scan([own["beacon-http-workers.pcap"]])
    beacons = [f for f in web if f.kind == "beacon"]
    assert [(f.src, f.host, f.platform) for f in beacons] == [
        ("10.1.1.10", "beacon-1.example-app.workers.dev", "Cloudflare Workers")]
    assert beacons[0].connections == 24 and 55 <= beacons[0].period_s <= 65
    assert not any(f.src == "10.1.1.20" for f in web)         # the browser's two visits

    lam = [f for f in _scan([own["beacon-tls-lambda.pcap"]]) if f.kind == "beacon"]
    assert [(f.src, f.platform, f.connections) for f in lam] == [("10.1.1.30", "AWS Lambda Function URL", 26)]


@needs_suricata
def test_scan_reports_non_browser_contacts_and_not_browsers(own):
    """One request each: scripted clients to serverless hosts are contacts; the browser's visits
    (Chrome-shaped TLS, Chrome User-Agent) and every decoy are not findings at all."""
    assert _scan([own["serverless-tls.pcap"]]) == []
    http = _scan([own["serverless-http.pcap"]])
    assert {(f.kind, f.host) for f in http} == {
        ("contact", "relay.example-app.workers.dev"), ("contact", "script.google.com"),
        ("contact", "contoso-fn.azurewebsites.net"),
        ("contact", "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"),
        ("contact", "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws")}
    assert all(f.platform and f.severity != "high" for f in http)


@needs_suricata
def test_scan_reports_nothing_for_decoys(own):
    assert _scan([own["decoys.pcap"]]) == []


@needs_suricata
@needs_shared
def test_benign_suricata_verify_captures_give_no_high_severity_finding(tmp_path):
    pcaps = sorted(p for p in SURICATA_VERIFY.rglob("*") if p.suffix in (".pcap", ".pcapng"))
    assert len(pcaps) >= 15
    eves = replay_pcaps(pcaps, tmp_path)
    for pcap, eve in zip(pcaps, eves):
        high = [f for f in _scan([eve]) if f.severity == "high"]
        assert high == [], (pcap.relative_to(SHARED), [(f.host, f.dst, f.reasons) for f in high])


@pytest.mark.slow
@needs_suricata
@needs_shared
def test_every_public_capture_replays_or_fails_with_its_reason(tmp_path):
    """All 168 public captures: each replays, except the NFLOG one Suricata cannot read, which
    fails with an InputError that names the file and carries Suricata's reason. Benign Zeek test
    traces (everything but the Merlin C2 and the RAT sandboxes) give no high-severity finding."""
    pcaps = sorted(p for p in SHARED.rglob("*") if p.suffix in (".pcap", ".pcapng"))
    failures, high = {}, defaultdict(list)
    for index, pcap in enumerate(pcaps):
        try:
            [eve] = replay_pcaps([pcap], tmp_path / str(index))
        except InputError as exc:
            failures[pcap.name] = str(exc)
            continue
        benign = pcap.is_relative_to(ZEEK_TRACES) and "merlinc2" not in pcap.name
        if benign and eve.stat().st_size:
            high[pcap.name] = [f.host or f.dst for f in _scan([eve]) if f.severity == "high"]
    assert list(failures) == ["nflog-http.pcap"]
    assert "datalink type 239" in failures["nflog-http.pcap"]
    assert {name: h for name, h in high.items() if h} == {}
    assert len(high) > 100


def test_install_hint_is_actionable():
    assert INSTALL_HINT.startswith("suricata is not installed")
    assert "apt-get install -t bookworm-backports suricata" in INSTALL_HINT


# ------------------------------------------------------------------------ a capture given as a PATH


def test_a_capture_is_detected_as_one_not_as_binary_junk():
    from analyzer.ingest.detect import CAPTURE_REASON, detect

    pcap = (PCAPS / "decoys.pcap").read_bytes()[:65536]
    pcapng = b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c\x2b\x1a" + b"\x00" * 16
    for head in (pcap, pcapng):
        det = detect(head, "capture")
        assert det.format is None and det.skip == CAPTURE_REASON and "--pcap" in det.skip
    assert detect(b"\x00\x01binary\x00", "blob").skip == "not a log: binary data"   # other binaries unchanged


def _cli_scan(args: list[str]):
    from click.testing import CliRunner

    from analyzer.cli import cli

    return CliRunner().invoke(cli, ["scan", *args, "--format", "json"])


@needs_suricata
def test_scan_replays_a_capture_given_as_a_path(tmp_path):
    result = _cli_scan([str(PCAPS / "beacon-tls-lambda.pcap")])
    assert result.exit_code == 0, result.output
    assert "beacon-tls-lambda.pcap: a packet capture, replayed as with --pcap" in result.stderr
    found = [(f["src"], f["platform"], f["connections"]) for f in json.loads(result.stdout)["findings"]
             if f["kind"] == "beacon"]
    assert found == [("10.1.1.30", "AWS Lambda Function URL", 26)]
    # the same as --pcap gives, and a capture named twice (as a PATH and with --pcap) is replayed once
    via_option = _cli_scan(["--pcap", str(PCAPS / "beacon-tls-lambda.pcap")])
    assert json.loads(via_option.stdout)["findings"] == json.loads(result.stdout)["findings"]
    both = _cli_scan([str(PCAPS / "beacon-tls-lambda.pcap"), "--pcap", str(PCAPS / "beacon-tls-lambda.pcap")])
    assert "replaying 1 capture(s)" in both.stderr and "repeat" not in both.stderr
    assert json.loads(both.stdout)["findings"] == json.loads(result.stdout)["findings"]


def test_a_capture_inside_a_folder_is_skipped_with_how_to_scan_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SURICATA", "suricata-that-does-not-exist")   # never replayed: no tool needed
    shutil.copy(PCAPS / "beacon-tls-lambda.pcap", tmp_path / "capture.pcap")
    result = _cli_scan([str(tmp_path)])
    assert "skipped 1 file(s): 1 packet capture" in result.stderr and "replay" not in result.stderr.split("skipped")[0]
    # and nothing else was there: an error (exit 2), not an empty list of findings
    assert result.exit_code == 2 and result.stdout == ""
    assert "nothing to scan: the 1 file(s) given loaded no log rows (skipped: 1 packet capture)" in result.stderr
    # beside a log, the capture is skipped and the log scanned
    shutil.copy(ROOT / "tests" / "fixtures" / "ingest" / "valid_tsv" / "conn.log", tmp_path / "conn.log")
    result = _cli_scan([str(tmp_path)])
    assert result.exit_code == 0 and "skipped 1 file(s): 1 packet capture" in result.stderr


def test_a_capture_given_as_a_path_without_suricata_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("SURICATA", "suricata-that-does-not-exist")
    result = _cli_scan([str(PCAPS / "beacon-tls-lambda.pcap")])
    assert result.exit_code == 2 and "apt-get install -t bookworm-backports suricata" in result.stderr
    assert result.stdout == ""


@needs_suricata
def test_ingest_replays_a_capture_given_as_a_path_into_the_store(tmp_path, monkeypatch):
    """`ingest FILE.pcap --db S` skipped the capture and exited 0: the night's store stayed without it,
    while `scan` and `report` replay a capture named as a PATH."""
    from click.testing import CliRunner

    from analyzer.cli import cli

    db = str(tmp_path / "s.duckdb")
    result = CliRunner().invoke(cli, ["ingest", str(PCAPS / "beacon-tls-lambda.pcap"), "--db", db])
    assert result.exit_code == 0, result.output
    assert "replaying 1 capture(s) through Suricata" in result.stderr and "skipped" not in result.stderr
    assert result.stdout.splitlines()[2].split()[:2] == ["eve", "1"]
    found = json.loads(_cli_scan(["--db", db]).stdout)["findings"]
    assert [(f["src"], f["platform"]) for f in found if f["kind"] == "beacon"] == [("10.1.1.30", "AWS Lambda Function URL")]
    monkeypatch.setenv("SURICATA", "suricata-that-does-not-exist")
    result = CliRunner().invoke(cli, ["ingest", str(PCAPS / "beacon-tls-lambda.pcap"), "--db", str(tmp_path / "t.duckdb")])
    assert result.exit_code == 2 and "apt-get install -t bookworm-backports suricata" in result.stderr


@needs_suricata
def test_report_replays_a_capture_given_as_a_path(tmp_path):
    from click.testing import CliRunner

    from analyzer.cli import cli

    result = CliRunner().invoke(cli, ["report", str(PCAPS / "beacon-tls-lambda.pcap"), str(PCAPS / "decoys.pcap"),
                                      "--format", "json", "-o", "-"])
    assert result.exit_code == 0, result.output
    assert "replaying 2 capture(s) through Suricata" in result.stderr
    found = [(f["src"], f["platform"], f["kind"]) for f in json.loads(result.stdout)["findings"]]
    assert found == [("10.1.1.30", "AWS Lambda Function URL", "beacon")]   # the decoys give nothing


def test_an_unreadable_capture_is_an_input_error_naming_it(tmp_path, monkeypatch):
    import analyzer.replay as replay

    capture = tmp_path / "locked.pcap"
    capture.write_bytes((PCAPS / "decoys.pcap").read_bytes())
    monkeypatch.setattr(replay, "_magic", lambda path: None)   # as for a file without read permission
    with pytest.raises(InputError, match="cannot be read") as err:
        replay.check_capture(capture)
    assert err.value.path == str(capture) and not replay.is_capture(capture)


@needs_suricata
@needs_shared
def test_quic_captures_replay_into_named_handshakes(tmp_path):
    """HTTP/3: the shipped configuration logs QUIC with JA3 and JA4, and each connection's hello
    becomes one handshake of the store, named by its SNI (Chromium to api.cirrus-ci.com; quic-go
    after a Retry, whose resent hello is not a second one; the Merlin C2 agent, which sends no SNI,
    by its fingerprints alone)."""
    from analyzer.ingest import ingest_paths
    from analyzer.scan import ja4_browser_like
    from analyzer.store import Store

    quic = SHARED / "zeek" / "testing" / "btest" / "Traces" / "quic"
    pcaps = [quic / "chromium-115.0.5790.110-api-cirrus-com.pcap", quic / "interop" / "quic-go_quic-go" / "retry.pcap",
             quic / "merlinc2_Zeek_example.pcapng"]
    eves = replay_pcaps(pcaps, tmp_path)
    assert sum(e["event_type"] == "quic" for e in events(eves[1])) == 4     # two hellos, the server's, a packet
    with Store() as store:
        report = ingest_paths(store, eves)
        assert [f.lines_rejected for f in report.files] == [0, 0, 0]
        got = store.con.execute(
            "SELECT t.server_name, t.ja3, t.ja4, t.version, c.service FROM tls t JOIN conn c USING (uid) "
            "ORDER BY t.file_id").fetchall()
    assert got == [
        ("api.cirrus-ci.com", "526bdfecc3fb6cf46540d7ff70e88cec", "q13d0311h3_55b375c5d22e_3512bcbbc9ec", "QUIC 1", "quic"),
        ("server4:443", "3e9680842aa1ac1f48edc74e779ebc97", "q13d0311hp_55b375c5d22e_df5b9e597968", "QUIC 1", "quic"),
        (None, "203c2306834e5bf5ace01fb74ad1badf", "q13i0311h3_55b375c5d22e_c183556c78e2", "QUIC 1", "quic")]
    # Chromium's hello is a browser's; quic-go's (ALPN hq-interop) and Merlin's (no SNI) are not
    assert [ja4_browser_like(row[2]) for row in got] == [True, False, False]


@needs_suricata
def test_a_capture_replayed_twice_into_a_store_is_loaded_once(tmp_path):
    """Suricata draws its flow ids anew on every run: the same capture replayed into a --db store a
    second time gave records that differed in their ids alone, and every connection was counted
    twice (299 -> 598 for a beacon). The replay numbers flows from the capture's content, so the
    second run's records are the first's, and the store keeps them once."""
    pcap = PCAPS / "beacon-tls-lambda.pcap"
    ids = []
    for run in ("a", "b"):
        [eve] = replay_pcaps([pcap], tmp_path / run)
        ids.append(sorted((e["flow_id"], e["event_type"], e.get("src_port")) for e in events(eve) if "flow_id" in e))
    assert ids[0] == ids[1] and len({i for i, _, _ in ids[0]}) > 10
    store = tmp_path / "s.duckdb"
    first = _cli_scan(["--pcap", str(pcap), "--db", str(store)])
    second = _cli_scan(["--pcap", str(pcap), "--db", str(store)])
    assert first.exit_code == 0 == second.exit_code, second.stderr
    conns = [[(f["src"], f["host"], f["connections"]) for f in json.loads(r.stdout)["findings"]] for r in (first, second)]
    assert conns[0] and conns[0] == conns[1]
    assert "ingested 0 rows" in second.stderr and "repeat those already loaded" in second.stderr
    # another capture's flows get other ids: no two captures share one
    [other] = replay_pcaps([PCAPS / "serverless-tls.pcap"], tmp_path / "c")
    assert not {i for i, _, _ in ids[0]} & {e["flow_id"] for e in events(other) if "flow_id" in e}


@needs_suricata
def test_a_kept_alive_connection_quiet_for_minutes_is_one_flow(tmp_path):
    """One TCP connection with a 15-minute silence between two exchanges (an HTTP/2 implant polling inside
    a kept-alive connection): Suricata's default flow timeout cut it into two flows, two "connections"
    of which the second began mid-stream. The replay keeps it one flow, as TCP does."""
    from scapy.layers.inet import IP, TCP
    from scapy.packet import Raw
    from scapy.utils import wrpcap

    t0, cli, srv = 1768467600.0, ("10.1.1.10", 50123), ("104.21.9.9", 443)
    seq, ack = 1000, 5000
    pkts = []

    def add(t, src, dst, flags, payload=b"", s=0, a=0):
        p = IP(src=src[0], dst=dst[0]) / TCP(sport=src[1], dport=dst[1], flags=flags, seq=s, ack=a)
        if payload:
            p = p / Raw(payload)
        p.time = t
        pkts.append(p)

    add(t0, cli, srv, "S", s=seq)
    add(t0 + 0.01, srv, cli, "SA", s=ack, a=seq + 1)
    add(t0 + 0.02, cli, srv, "A", s=seq + 1, a=ack + 1)
    seq, ack = seq + 1, ack + 1
    for start in (t0 + 1, t0 + 1 + 900):         # two exchanges, 15 minutes apart
        add(start, cli, srv, "PA", b"x" * 100, s=seq, a=ack)
        add(start + 0.05, srv, cli, "PA", b"y" * 200, s=ack, a=seq + 100)
        add(start + 0.06, cli, srv, "A", s=seq + 100, a=ack + 200)
        seq, ack = seq + 100, ack + 200
    add(t0 + 905, cli, srv, "FA", s=seq, a=ack)
    add(t0 + 905.01, srv, cli, "FA", s=ack, a=seq + 1)
    add(t0 + 905.02, cli, srv, "A", s=seq + 1, a=ack + 1)
    pcap = tmp_path / "quiet.pcap"
    wrpcap(str(pcap), pkts)
    [eve] = replay_pcaps([pcap], tmp_path / "out")
    flows = [e for e in events(eve) if e["event_type"] == "flow" and e.get("dest_port") == 443]
    assert len(flows) == 1, [(f["flow"]["start"], f["flow"].get("end")) for f in flows]
    assert flows[0]["flow"]["pkts_toserver"] == 8 and ts(flows[0]["flow"]["start"]) == pytest.approx(t0, abs=1e-3)
