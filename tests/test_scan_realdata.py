"""False-positive sanity checks on real public logs (../shared/data; skipped when absent).

zed-sample-data is WRCCDC 2018 (Zeek dns+ssl, ~100 k rows, ~20 min): it holds benign PaaS traffic
(azurewebsites.net, appspot.com, cloudfront.net) that must not be reported as beacons, and a red-team
C2 (cortanaupdate.stream, a 30 s beacon) that should be. slips test6 is real Suricata eve.json of a
malware run.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from analyzer.scan import ScanOptions, ScanParams, run_scan
from analyzer.store import Store

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ZED = DATA / "zed-sample-data" / "zeek-default"
SLIPS = DATA / "slips" / "dataset" / "test6-malicious.suricata.json"
REMCOS = DATA / "slips" / "dataset" / "test18-malicious-ctu-sme-11-win"
OTHER_YEAR = DATA / "slips" / "dataset" / "test10-mixed-zeek-dir"
RITA = DATA / "rita" / "test_data" / "valid_json"

pytestmark = pytest.mark.shared


def _ingest(*paths: Path) -> Store:
    ingest = pytest.importorskip("analyzer.ingest")
    store = Store()
    ingest.ingest_paths(store, [str(p) for p in paths])
    return store


@pytest.mark.skipif(not ZED.is_dir(), reason="../shared/data/zed-sample-data is not available")
def test_wrccdc_benign_paas_is_not_a_beacon_and_the_red_team_c2_is() -> None:
    store = _ingest(ZED / "dns.log.gz", ZED / "ssl.log.gz")
    result = run_scan(store, ScanOptions())
    beacons = [f for f in result.findings if f.kind == "beacon"]
    paas = ("azurewebsites.net", "appspot.com", "cloudfront.net")
    assert not [f for f in beacons if f.host and f.host.endswith(paas)]
    assert not [f for f in beacons if f.platform]  # no serverless beacon in this capture
    top = beacons[0]
    assert top.host == "cortanaupdate.stream" and 25 <= top.period_s <= 35
    assert len(beacons) <= 5  # the scanners and brute force of the exercise are strobes, not beacons


@pytest.mark.skipif(not SLIPS.is_file(), reason="../shared/data/slips is not available")
def test_slips_eve_malware_beacon() -> None:
    store = _ingest(SLIPS)
    result = run_scan(store, ScanOptions(window="30d"))
    beacons = [f for f in result.findings if f.kind == "beacon"]
    assert beacons and beacons[0].src == "192.168.1.129" and beacons[0].dst == "122.248.252.67"
    assert beacons[0].sources == ["eve", "dns"]  # Suricata flows, named from its own DNS records
    assert beacons[0].host == "www.myedimax.com" and any("DNS answers" in r for r in beacons[0].reasons)
    assert not [f for f in result.findings if f.platform]
    # the malware's three C2 channels time at 19 min; it misses check-ins (intervals of 1 and 2
    # periods), which is not jitter; the host's SSDP announcements every 2 min are not a channel
    c2 = [f for f in beacons if f.dst and f.dst.startswith("122.248.")]
    # the DDNS name the malware resolves (two ports: two channels), and an address it never looked up
    assert sorted(f.host or f.dst for f in c2) == ["122.248.234.231", "www.myedimax.com", "www.myedimax.com"]
    assert len(c2) == 3 and all(1100 <= f.period_s <= 1200 and f.jitter < 0.1 for f in c2)
    assert any(any("missed check-ins" in r for r in f.reasons) for f in c2)
    assert not [f for f in result.findings if f.dst == "239.255.255.250"]
    # timed by its DNS queries alone (Suricata's dns records): they are called queries, not connections
    google = [f for f in beacons if f.host == "www.google.com"]
    assert len(google) == 1 and google[0].sources == ["dns", "eve"] and google[0].dst is None
    assert f"{google[0].connections} DNS queries" in google[0].reasons[0]
    assert not [r for f in c2 for r in f.reasons if r.startswith("no payload")]  # they got answers


@pytest.mark.skipif(not (REMCOS.is_dir() and OTHER_YEAR.is_dir()), reason="../shared/data/slips is not available")
def test_a_short_capture_scanned_with_another_years_logs_keeps_its_beacon() -> None:
    """Slips' RemcosRAT capture covers 8 minutes; scanned with another Slips capture (2020), the span a
    beacon needs is what the logs cover of its own host, not of the whole store."""
    alone = run_scan(_ingest(REMCOS), ScanOptions(window="3650d"))
    both = run_scan(_ingest(REMCOS, OTHER_YEAR), ScanOptions(window="3650d"))
    for result in (alone, both):
        remcos = [f for f in result.findings if f.kind == "beacon" and f.dst == "66.63.168.35"]
        assert len(remcos) == 1 and remcos[0].dst_port == 5888 and remcos[0].connections > 700
        # every one of its connections was refused: said in words, and the 0.5 s period as such
        assert any(r.startswith("no payload either way in any of the") for r in remcos[0].reasons)
        assert remcos[0].reasons[0].startswith("beacons every ~0.5 s (median 0.5 s")
    assert not [f for f in both.findings if f.kind == "beacon" and f.src != "192.168.1.107"]


@pytest.mark.skipif(not RITA.is_dir(), reason="../shared/data/rita is not available")
def test_windows_revocation_fetches_are_not_an_attack_tool() -> None:
    """RITA's sample: ten hosts fetch crl.comodoca.com hourly with Microsoft-CryptoAPI, Windows itself.
    A non-browser client, but no scripting or attack tool; PowerShell in the same logs is one."""
    result = run_scan(_ingest(RITA), ScanOptions(window="3650d", min_score=0.0))
    crl = [f for f in result.findings if f.host == "crl.comodoca.com"]
    assert crl and all(f.user_agent.startswith("Microsoft-CryptoAPI/") for f in crl)
    assert not [r for f in crl for r in f.reasons if "attack-tool" in r]
    assert all(any("non-browser client" in r for r in f.reasons) for f in crl)
    ps = [f for f in result.findings if f.user_agent and "WindowsPowerShell" in f.user_agent]
    assert ps and all(any("attack-tool" in r for r in f.reasons) for f in ps)


@pytest.mark.skipif(not (SLIPS.is_file() and OTHER_YEAR.is_dir()), reason="../shared/data/slips is not available")
def test_first_seen_in_the_reasons_is_never_after_the_findings_first_seen() -> None:
    """Slips test 6 after a 2020 capture: its destinations are new to the store. The DDNS name on port
    9765 is first used at 13:57 by a connection named from a DNS answer logged 18 minutes later; the
    reason's "first seen" is the channel's first event then, not the name's first query."""
    # The store starts before, with one minute of 2020: no baseline by default (a stray record long
    # before is no history, test_sql_stages), so the history asked for here is that one clock hour.
    result = run_scan(_ingest(OTHER_YEAR, SLIPS),
                      ScanOptions(since=datetime(2021, 1, 1, tzinfo=timezone.utc),
                                  params=ScanParams(novelty_history_s=3600.0)))
    said = {(f.host, f.dst_port): next((r for r in f.reasons if r.startswith("first seen in the store at ")), None)
            for f in result.findings}
    assert said[("www.myedimax.com", 9765)] == "first seen in the store at 2021-06-06 13:57 UTC (new destination)"
    for f in result.findings:
        reason = said[(f.host, f.dst_port)]
        if reason is not None:
            assert reason[len("first seen in the store at "):][:16] <= f.first_seen.strftime("%Y-%m-%d %H:%M")
