#!/usr/bin/env python3
"""Generate the project's small test captures (seeded, byte-for-byte reproducible).

    python pcaps/generate.py            # rewrites the .pcap files next to this script
    python pcaps/generate.py --out DIR  # writes them somewhere else (the tests do this)

No public capture of serverless C2 exists, so the positives are synthetic: DNS lookups, TLS
handshakes with SNI and HTTP requests to hosts on serverless platforms, decoy names that only
look like them, and two short jittery beacons. ``pcaps/README.md`` describes every file.

TLS records are built by hand (scapy's TLS layer needs the ``cryptography`` package). Suricata
only writes a ``tls`` eve record once the handshake is complete, so every session carries a
TLS 1.3 ServerHello, a ChangeCipherSpec and application data in both directions.
"""

from __future__ import annotations

import argparse
import random
import struct
from dataclasses import dataclass, field
from pathlib import Path

from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw
from scapy.utils import wrpcap

SEED = 20260115
T0 = 1768467600.0          # 2026-01-15T09:00:00Z
DNS_SERVER = "10.1.1.53"
CLIENT_MAC, ROUTER_MAC = "02:00:00:00:01:0a", "02:00:00:00:01:01"

BROWSER_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
              "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
PYTHON_UA = "python-requests/2.32.3"
PWSH_UA = "Mozilla/5.0 (Windows NT 10.0; Microsoft Windows 10.0.19045; en-US) PowerShell/7.4.6"

# Serverless hosts (positives) and the platform each belongs to.
SERVERLESS = {
    "beacon-1.example-app.workers.dev": "Cloudflare Workers",
    "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws": "AWS Lambda Function URL",
    "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com": "AWS API Gateway",
    "script.google.com": "Google Apps Script",
    "contoso-fn.azurewebsites.net": "Azure Functions / App Service",
    "api.my-fn.vercel.app": "Vercel",
    "c2.example.pages.dev": "Cloudflare Pages",
    "relay.example.netlify.app": "Netlify",
}
# Names that contain a platform suffix without being under it: rules and matchers must stay quiet.
DECOYS = [
    "evilworkers.dev",
    "workers.dev.evil.com",
    "notvercel.app",
    "vercel.app.example.org",
    "script.google.com.attacker.net",
    "fakeazurewebsites.net",
    "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws.example.com",
    "www.example.com",
]

_addresses: dict[str, str] = {}


def address_of(host: str) -> str:
    """A stable documentation-range address per host (TEST-NET-2/3), in first-seen order."""
    key = host.lower().split(":")[0]
    if key not in _addresses:
        n = len(_addresses)
        _addresses[key] = f"198.51.100.{10 + n}" if n < 200 else f"203.0.113.{n - 190}"
    return _addresses[key]


# ------------------------------------------------------------------------------------ packet bits


@dataclass
class Capture:
    """Packets of one file, each stamped with its time."""

    packets: list[Packet] = field(default_factory=list)

    def add(self, pkt: Packet, ts: float) -> None:
        pkt.time = round(ts, 6)
        self.packets.append(pkt)

    def write(self, path: Path) -> None:
        self.packets.sort(key=lambda p: float(p.time))
        wrpcap(str(path), self.packets)


def _ether(to_server: bool) -> Ether:
    return Ether(src=CLIENT_MAC, dst=ROUTER_MAC) if to_server else Ether(src=ROUTER_MAC, dst=CLIENT_MAC)


def dns_exchange(cap: Capture, rng: random.Random, client: str, qname: str, ts: float) -> float:
    """A UDP DNS A query and its answer; returns the time after the answer."""
    sport, txid = rng.randint(20000, 60000), rng.randint(1, 0xFFFF)
    query = DNS(id=txid, rd=1, qd=DNSQR(qname=qname, qtype="A"))
    answer = DNS(id=txid, qr=1, rd=1, ra=1, qd=DNSQR(qname=qname, qtype="A"),
                 an=DNSRR(rrname=qname, type="A", ttl=300, rdata=address_of(qname)))
    cap.add(_ether(True) / IP(src=client, dst=DNS_SERVER) / UDP(sport=sport, dport=53) / query, ts)
    rtt = rng.uniform(0.008, 0.030)
    cap.add(_ether(False) / IP(src=DNS_SERVER, dst=client) / UDP(sport=53, dport=sport) / answer, ts + rtt)
    return ts + rtt


class TcpSession:
    """A complete TCP conversation: handshake, payloads with correct seq/ack, FIN teardown."""

    def __init__(self, cap: Capture, rng: random.Random, client: str, server: str, dport: int,
                 ts: float):
        self.cap, self.rng = cap, rng
        self.client, self.server = client, server
        self.sport, self.dport = rng.randint(49152, 65000), dport
        self.cseq, self.sseq = rng.randint(1, 2**31), rng.randint(1, 2**31)
        self.ts = ts
        self.rtt = rng.uniform(0.015, 0.060)
        self._pkt(True, "S", b"")
        self.cseq += 1
        self._pkt(False, "SA", b"", later=self.rtt / 2)
        self.sseq += 1
        self._pkt(True, "A", b"", later=self.rtt / 2)

    def _pkt(self, to_server: bool, flags: str, data: bytes, later: float = 0.0005) -> None:
        self.ts += later
        if to_server:
            ip = IP(src=self.client, dst=self.server)
            tcp = TCP(sport=self.sport, dport=self.dport, flags=flags, seq=self.cseq,
                      ack=self.sseq if "A" in flags else 0, window=64240)
        else:
            ip = IP(src=self.server, dst=self.client)
            tcp = TCP(sport=self.dport, dport=self.sport, flags=flags, seq=self.sseq,
                      ack=self.cseq, window=65535)
        pkt = _ether(to_server) / ip / tcp
        if data:
            pkt = pkt / Raw(load=data)
        self.cap.add(pkt, self.ts)

    def send(self, to_server: bool, data: bytes) -> None:
        """Payload in one segment (all payloads here are far below the MSS)."""
        self._pkt(to_server, "PA", data, later=self.rtt / 2 if not to_server else 0.001)
        if to_server:
            self.cseq += len(data)
        else:
            self.sseq += len(data)

    def close(self) -> float:
        """Client-initiated FIN/ACK teardown; returns the time of the last packet."""
        self._pkt(True, "FA", b"", later=0.002)
        self.cseq += 1
        self._pkt(False, "FA", b"", later=self.rtt / 2)
        self.sseq += 1
        self._pkt(True, "A", b"", later=self.rtt / 2)
        return self.ts


# ------------------------------------------------------------------------------------- TLS bytes


def _ext(ext_type: int, body: bytes) -> bytes:
    return struct.pack("!HH", ext_type, len(body)) + body


def _vec16(body: bytes) -> bytes:
    return struct.pack("!H", len(body)) + body


def _handshake(msg_type: int, body: bytes) -> bytes:
    hs = bytes([msg_type]) + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs if msg_type == 1 else \
        b"\x16\x03\x03" + struct.pack("!H", len(hs)) + hs


# Two client profiles, so JA3/JA4 differ. The browser profile copies the shape of a current
# Chrome ClientHello (15 cipher suites, 16 extensions, ALPN h2: JA4 "t13d1516h2_..."); the
# scripted one is a bare runtime TLS stack (5 suites, no ALPN, which JA4 shows as "00").
BROWSER_HELLO = {"ciphers": [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8,
                             0xC013, 0xC014, 0x009C, 0x009D, 0x002F, 0x0035],
                 "alpn": [b"h2", b"http/1.1"], "chrome_extensions": True}
SCRIPT_HELLO = {"ciphers": [0x1301, 0x1302, 0x1303, 0xC02F, 0xC030], "alpn": [],
                "chrome_extensions": False}

# Extensions a Chrome hello adds to the basic set (type, body): extended_master_secret,
# renegotiation_info, session_ticket, status_request, signed_certificate_timestamp,
# psk_key_exchange_modes, compress_certificate (brotli), application_settings (h2), padding.
CHROME_EXTENSIONS = [
    (23, b""), (65281, b"\x00"), (35, b""), (5, b"\x01\x00\x00\x00\x00"), (18, b""),
    (45, b"\x01\x01"), (27, b"\x02\x00\x02"), (17513, b"\x00\x03\x02h2"), (21, bytes(16)),
]


def client_hello(rng: random.Random, sni: str, profile: dict) -> bytes:
    """A TLS 1.3 ClientHello record carrying ``sni`` in the server_name extension."""
    name = sni.encode("ascii")
    exts = [
        _ext(0, _vec16(b"\x00" + _vec16(name))),                              # server_name
        _ext(10, _vec16(struct.pack("!HHH", 0x001D, 0x0017, 0x0018))),        # supported_groups
        _ext(11, b"\x01\x00"),                                                # ec_point_formats
        _ext(13, _vec16(struct.pack("!HHHHH", 0x0403, 0x0804, 0x0401, 0x0503, 0x0805))),
    ]
    if profile["alpn"]:
        exts.append(_ext(16, _vec16(b"".join(bytes([len(p)]) + p for p in profile["alpn"]))))
    if profile["chrome_extensions"]:
        exts += [_ext(code, body) for code, body in CHROME_EXTENSIONS]
    exts += [
        _ext(43, b"\x04\x03\x04\x03\x03"),                                    # supported_versions
        _ext(51, _vec16(struct.pack("!HH", 0x001D, 32) + rng.randbytes(32))),  # key_share x25519
    ]
    body = (b"\x03\x03" + rng.randbytes(32) + b"\x20" + rng.randbytes(32)
            + _vec16(b"".join(struct.pack("!H", c) for c in profile["ciphers"]))
            + b"\x01\x00" + _vec16(b"".join(exts)))
    return _handshake(1, body)


def server_hello(rng: random.Random) -> bytes:
    """A TLS 1.3 ServerHello (TLS_AES_128_GCM_SHA256, x25519), then CCS and encrypted data."""
    exts = _ext(43, b"\x03\x04") + _ext(51, struct.pack("!HH", 0x001D, 32) + rng.randbytes(32))
    body = b"\x03\x03" + rng.randbytes(32) + b"\x20" + rng.randbytes(32) + b"\x13\x01\x00" + _vec16(exts)
    return _handshake(2, body) + CCS + app_data(rng, 60)


CCS = b"\x14\x03\x03\x00\x01\x01"


def app_data(rng: random.Random, size: int) -> bytes:
    return b"\x17\x03\x03" + struct.pack("!H", size) + rng.randbytes(size)


def tls_session(cap: Capture, rng: random.Random, client: str, sni: str, ts: float,
                profile: dict, request: int = 120, response: int = 300) -> float:
    """DNS-free TLS 1.3 session to the address of ``sni``; returns the end time."""
    s = TcpSession(cap, rng, client, address_of(sni), 443, ts)
    s.send(True, client_hello(rng, sni, profile))
    s.send(False, server_hello(rng))
    s.send(True, CCS + app_data(rng, 58))
    s.send(True, app_data(rng, request))
    s.send(False, app_data(rng, response))
    return s.close()


def http_session(cap: Capture, rng: random.Random, client: str, host_header: str, uri: str,
                 user_agent: str, ts: float, body: bytes = b"ok") -> float:
    """One HTTP/1.1 GET on port 80 (or the port in ``host_header``); returns the end time."""
    host = host_header.split(":")[0]
    port = int(host_header.split(":")[1]) if ":" in host_header else 80
    s = TcpSession(cap, rng, client, address_of(host), port, ts)
    s.send(True, (f"GET {uri} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: {user_agent}\r\n"
                  "Accept: */*\r\nConnection: close\r\n\r\n").encode("latin-1"))
    s.send(False, (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                   + str(len(body)).encode() + b"\r\n\r\n" + body))
    return s.close()


# ----------------------------------------------------------------------------------------- files


def gen_dns(rng: random.Random) -> Capture:
    """One lookup of every serverless host and every decoy, from one workstation."""
    cap, ts = Capture(), T0
    for name in list(SERVERLESS) + DECOYS:
        ts = dns_exchange(cap, rng, "10.1.1.20", name, ts + rng.uniform(0.5, 2.0))
    return cap


def gen_tls(rng: random.Random) -> Capture:
    """A full TLS 1.3 handshake per serverless host (one SNI in mixed case), then the decoys."""
    cap, ts = Capture(), T0
    for name in SERVERLESS:
        sni = "API.My-Fn.Vercel.APP" if name == "api.my-fn.vercel.app" else name
        ts = tls_session(cap, rng, "10.1.1.20", sni, ts + rng.uniform(0.5, 2.0), BROWSER_HELLO)
    for name in DECOYS:
        ts = tls_session(cap, rng, "10.1.1.20", name, ts + rng.uniform(0.5, 2.0), BROWSER_HELLO)
    return cap


HTTP_REQUESTS = [
    # (Host header, uri, user agent)
    ("beacon-1.example-app.workers.dev", "/", BROWSER_UA),
    ("Relay.Example-App.Workers.DEV:8080", "/poll?id=7", PYTHON_UA),   # upper case + port
    ("script.google.com", "/macros/s/AKfycbx0example0deployment0id/exec", PWSH_UA),
    ("contoso-fn.azurewebsites.net", "/api/HttpTrigger1?code=x", "curl/8.5.0"),
    ("a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com", "/prod/task", "Go-http-client/1.1"),
    ("abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws:80", "/", PYTHON_UA),
    ("c2.example.pages.dev", "/poll?id=42", BROWSER_UA),
]


def gen_http(rng: random.Random) -> Capture:
    """Cleartext HTTP to serverless hosts (browser and non-browser agents), then the decoys."""
    cap, ts = Capture(), T0
    for host, uri, ua in HTTP_REQUESTS:
        ts = http_session(cap, rng, "10.1.1.20", host, uri, ua, ts + rng.uniform(0.5, 2.0))
    for name in DECOYS:
        ts = http_session(cap, rng, "10.1.1.20", name, "/", PYTHON_UA, ts + rng.uniform(0.5, 2.0))
    return cap


def gen_decoys(rng: random.Random) -> Capture:
    """Only decoys, over DNS, TLS and HTTP (with and without a port): no rule may fire on it."""
    cap, ts = Capture(), T0
    for name in DECOYS:
        ts = dns_exchange(cap, rng, "10.1.1.40", name, ts + 1)
        ts = tls_session(cap, rng, "10.1.1.40", name, ts + 0.1, SCRIPT_HELLO)
        ts = http_session(cap, rng, "10.1.1.40", name, "/", PYTHON_UA, ts + 0.1)
        ts = http_session(cap, rng, "10.1.1.40", name.upper() + ":8080", "/", PYTHON_UA, ts + 0.1)
    return cap


def gen_beacon_http(rng: random.Random, count: int = 24, period: float = 60.0,
                    jitter: float = 0.15) -> Capture:
    """A python-requests implant polling one Worker every 60 s +/- 15 %, resolving it when the
    300 s TTL has expired; a browser visits the same platform twice, irregularly."""
    cap = Capture()
    host = "beacon-1.example-app.workers.dev"
    ts, resolved_at = T0, -1e9
    for i in range(count):
        if ts - resolved_at >= 300:
            resolved_at = ts
            dns_exchange(cap, rng, "10.1.1.10", host, ts - 0.05)
        http_session(cap, rng, "10.1.1.10", host, f"/api/v1/poll?s={i}", PYTHON_UA, ts,
                     body=b'{"task":null}')
        ts += period * (1 + rng.uniform(-jitter, jitter))
    for offset in (95.0, 731.0):
        dns_exchange(cap, rng, "10.1.1.20", "docs.example-app.workers.dev", T0 + offset - 0.05)
        http_session(cap, rng, "10.1.1.20", "docs.example-app.workers.dev", "/", BROWSER_UA, T0 + offset)
    return cap


def gen_beacon_tls(rng: random.Random, count: int = 26, period: float = 30.0,
                   jitter: float = 0.10) -> Capture:
    """A scripted TLS client (no ALPN) calling one Lambda Function URL every 30 s +/- 10 %."""
    cap = Capture()
    host = "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws"
    ts, resolved_at = T0, -1e9
    for _ in range(count):
        if ts - resolved_at >= 300:
            resolved_at = ts
            dns_exchange(cap, rng, "10.1.1.30", host, ts - 0.05)
        tls_session(cap, rng, "10.1.1.30", host, ts, SCRIPT_HELLO, request=90, response=140)
        ts += period * (1 + rng.uniform(-jitter, jitter))
    return cap


FILES = {
    "serverless-dns.pcap": gen_dns,
    "serverless-tls.pcap": gen_tls,
    "serverless-http.pcap": gen_http,
    "decoys.pcap": gen_decoys,
    "beacon-http-workers.pcap": gen_beacon_http,
    "beacon-tls-lambda.pcap": gen_beacon_tls,
}


def generate(out: Path, seed: int = SEED) -> list[Path]:
    """Write every capture into ``out``; each file has its own RNG so files are independent."""
    out.mkdir(parents=True, exist_ok=True)
    _addresses.clear()
    for name in list(SERVERLESS) + DECOYS + ["docs.example-app.workers.dev"]:
        address_of(name)
    written = []
    for index, (name, build) in enumerate(FILES.items()):
        path = out / name
        build(random.Random(seed + index)).write(path)
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    for path in generate(args.out, args.seed):
        print(f"{path} {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
