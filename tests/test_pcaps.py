"""Tests for pcaps/generate.py and the captures it wrote.

The committed captures must be exactly what the seeded generator produces (so nobody edits a
pcap by hand), stay small, and contain what pcaps/README.md says they contain. The contents are
read back with scapy here, independently of Suricata (tests/test_replay.py covers the Suricata side).
"""

from __future__ import annotations

import importlib.util
import re
import statistics
import sys
from collections import Counter
from pathlib import Path

import pytest

scapy_all = pytest.importorskip("scapy.all", reason="scapy not installed (pip install -e '.[test]')")
from scapy.layers.dns import DNS, DNSQR  # noqa: E402
from scapy.layers.inet import IP, TCP, UDP  # noqa: E402
from scapy.packet import Raw  # noqa: E402
from scapy.utils import rdpcap  # noqa: E402

PCAPS = Path(__file__).resolve().parents[1] / "pcaps"


def _generator():
    spec = importlib.util.spec_from_file_location("pcaps_generate", PCAPS / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


gen = _generator()


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("pcaps")
    return {p.name: p for p in gen.generate(out)}


def test_committed_captures_are_exactly_what_the_generator_writes(regenerated):
    committed = sorted(p.name for p in PCAPS.glob("*.pcap"))
    assert committed == sorted(regenerated)
    for name, fresh in regenerated.items():
        assert (PCAPS / name).read_bytes() == fresh.read_bytes(), f"{name}: run python pcaps/generate.py"


def test_another_seed_gives_other_bytes(tmp_path):
    [first, *_] = gen.generate(tmp_path, seed=gen.SEED + 1)
    assert first.read_bytes() != (PCAPS / first.name).read_bytes()


def test_captures_are_small():
    sizes = {p.name: p.stat().st_size for p in PCAPS.glob("*.pcap")}
    assert sizes and all(1_000 < s < 64_000 for s in sizes.values()), sizes


def test_readme_describes_every_capture():
    readme = (PCAPS / "README.md").read_text()
    for name in gen.FILES:
        assert f"`{name}`" in readme


def _tcp_payloads(pcap: str) -> list[bytes]:
    return [bytes(p[Raw].load) for p in rdpcap(str(PCAPS / pcap)) if p.haslayer(TCP) and p.haslayer(Raw)]


def _extensions(hello: bytes) -> dict[int, bytes]:
    """Walk a ClientHello record to its extensions (independent of the generator's builder)."""
    if hello[:1] != b"\x16" or hello[5:6] != b"\x01":
        return {}
    pos = 9 + 2 + 32                                   # record + handshake headers, version, random
    pos += 1 + hello[pos]                              # session id
    pos += 2 + int.from_bytes(hello[pos:pos + 2], "big")   # cipher suites
    pos += 1 + hello[pos]                              # compression methods
    end = pos + 2 + int.from_bytes(hello[pos:pos + 2], "big")
    pos += 2
    out = {}
    while pos < end:
        ext_type, length = int.from_bytes(hello[pos:pos + 2], "big"), int.from_bytes(hello[pos + 2:pos + 4], "big")
        out[ext_type] = hello[pos + 4:pos + 4 + length]
        pos += 4 + length
    assert pos == end == len(hello), "extension lengths do not add up"
    return out


def _sni(hello: bytes) -> str | None:
    body = _extensions(hello).get(0)
    return body[5:].decode() if body else None


def test_dns_capture_asks_for_every_serverless_host_and_decoy():
    packets = rdpcap(str(PCAPS / "serverless-dns.pcap"))
    queries = [p[DNSQR].qname.decode().rstrip(".") for p in packets if p.haslayer(DNS) and p[DNS].qr == 0]
    answers = [p for p in packets if p.haslayer(DNS) and p[DNS].qr == 1 and p[DNS].ancount == 1]
    assert sorted(queries) == sorted(list(gen.SERVERLESS) + gen.DECOYS)
    assert len(answers) == len(queries)


def test_tls_capture_has_complete_handshakes_with_sni():
    payloads = _tcp_payloads("serverless-tls.pcap")
    snis = [s for s in map(_sni, payloads) if s]
    assert len(snis) == len(gen.SERVERLESS) + len(gen.DECOYS)
    assert "API.My-Fn.Vercel.APP" in snis                      # mixed case, as a client may send it
    assert {s.lower() for s in snis} == set(gen.SERVERLESS) | set(gen.DECOYS)
    server_hellos = [p for p in payloads if p[:1] == b"\x16" and p[5:6] == b"\x02"]
    assert len(server_hellos) == len(snis)
    assert all(b"\x14\x03\x03\x00\x01\x01" in p for p in server_hellos)   # CCS follows: handshake completes


def test_http_capture_has_the_upper_case_host_with_port():
    hosts = [re.search(rb"\r\nHost: ([^\r]+)", p).group(1).decode()
             for p in _tcp_payloads("serverless-http.pcap") if p.startswith(b"GET ")]
    assert "Relay.Example-App.Workers.DEV:8080" in hosts
    assert set(gen.DECOYS) <= set(hosts)
    assert len(hosts) == len(gen.HTTP_REQUESTS) + len(gen.DECOYS)


def test_decoys_capture_only_has_decoy_names():
    payloads = _tcp_payloads("decoys.pcap")
    names = {s.lower() for s in map(_sni, payloads) if s}
    names |= {re.search(rb"\r\nHost: ([^\r:]+)", p).group(1).decode().lower()
              for p in payloads if p.startswith(b"GET ")}
    assert names == set(gen.DECOYS)


def test_http_beacon_is_jittery_and_periodic():
    packets = rdpcap(str(PCAPS / "beacon-http-workers.pcap"))
    syns = sorted(float(p.time) for p in packets
                  if p.haslayer(TCP) and p[TCP].flags == "S" and p[IP].src == "10.1.1.10")
    gaps = [b - a for a, b in zip(syns, syns[1:])]
    assert len(syns) == 24
    assert 55 <= statistics.median(gaps) <= 65 and 51 <= min(gaps) and max(gaps) <= 69
    assert statistics.pstdev(gaps) > 2                           # jitter, not a metronome
    agents = Counter(re.search(rb"User-Agent: ([^\r]+)", p[Raw].load).group(1) for p in packets
                     if p.haslayer(Raw) and p[IP].src == "10.1.1.10" and bytes(p[Raw].load).startswith(b"GET "))
    assert agents == {b"python-requests/2.32.3": 24}
    lookups = [p for p in packets if p.haslayer(UDP) and p.haslayer(DNS) and p[DNS].qr == 0 and p[IP].src == "10.1.1.10"]
    assert 4 <= len(lookups) <= 6                                # re-resolved when the 300 s TTL expires


def test_tls_beacon_has_no_alpn_and_a_fixed_sni():
    payloads = _tcp_payloads("beacon-tls-lambda.pcap")
    hellos = [p for p in payloads if _sni(p)]
    assert len(hellos) == 26
    assert {_sni(p) for p in hellos} == {"abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws"}
    assert not any(16 in _extensions(p) for p in hellos)          # no ALPN extension
    browser = [p for p in _tcp_payloads("serverless-tls.pcap") if _sni(p)]
    assert all(_extensions(p)[16] == b"\x00\x0c\x02h2\x08http/1.1" for p in browser)
