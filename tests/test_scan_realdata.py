"""False-positive sanity checks on real public logs (../shared/data; skipped when absent).

zed-sample-data is WRCCDC 2018 (Zeek dns+ssl, ~100 k rows, ~20 min): it holds benign PaaS traffic
(azurewebsites.net, appspot.com, cloudfront.net) that must not be reported as beacons, and a red-team
C2 (cortanaupdate.stream, a 30 s beacon) that should be. slips test6 is real Suricata eve.json of a
malware run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.scan import ScanOptions, run_scan
from analyzer.store import Store

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ZED = DATA / "zed-sample-data" / "zeek-default"
SLIPS = DATA / "slips" / "dataset" / "test6-malicious.suricata.json"

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
