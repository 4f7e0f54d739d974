"""Seeded scenario generator: writes real Zeek TSV, Zeek JSON and Suricata eve.json.

Why this exists: no public capture of serverless C2 exists, so the positives the scorer is
validated on (and the bundled demo) come from here. The generator models *behaviour*
(Cobalt-Strike-style renewal jitter, office hours, sleeping laptops, tasking bursts, Apps Script
redirect pairs, rotating workers, DNS caching by TTL, human browsing sessions, Poisson pollers,
CI runners, monitoring heartbeats) and renders it as the exact log formats the sensors write
(``#fields``/``#types`` headers, 6-decimal epochs, ``-`` / ``(empty)``; JSON lines with dotted keys;
eve ``flow``/``tls``/``http``/``dns`` events sharing a ``flow_id``). One ``Flow`` becomes a conn
row plus an ssl or http row with the same uid in every format, so joins are exercised for real.

Everything is driven by ``random.Random(seed)``: the same seed gives byte-identical files.

Library API::

    scen = build_scenario("demo", seed=7)            # or "c2", "benign", "mixed"
    paths = write_logs(scen, outdir, fmt="zeek-tsv")  # zeek-tsv | zeek-json | eve
    scen.truth                                         # labelled channels (for tests)
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

DAY = 86400.0
HOUR = 3600.0
#: Start of the simulated day (UTC midnight); arbitrary but fixed so outputs are reproducible.
DEFAULT_START = datetime(2026, 11, 26, tzinfo=timezone.utc).timestamp()

# --- Client fingerprints ------------------------------------------------------------------------
# JA4 strings follow the real layout (t13d<ciphers><exts><alpn>_<hash>_<hash>); the browser ones are
# the published Chrome/Firefox values, the tool ones are representative (no ALPN, few extensions).


@dataclass(frozen=True)
class Client:
    ua: str | None
    ja3: str
    ja4: str


CHROME = Client(
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "cd08e31494f9531f560d64c695473da9", "t13d1516h2_8daaf6152771_02713d6af862")
FIREFOX = Client(
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "579ccef312d18482fc42e2b822ca2430", "t13d1715h2_5b57614c22b0_3d5424432f57")
PYTHON = Client("python-requests/2.32.3", "a48c0d5f95b1ef98f560f324fd275da1", "t13d1812h1_85036bcba153_375ca2c5e164")
GO = Client("Go-http-client/1.1", "d5ca6e1d11a2a8dcbdb5c9c9b2e31a4c", "t13d1311h2_f57a46bbacb6_e7c285222651")
POWERSHELL = Client("Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.4648",
                    "3b5074b1b5d032e5620f69f9f700ff0e", "t12d190900_9dc949149365_97f8aa674fd9")
#: Cobalt-Strike-style implant (WinINet via schannel) that *claims* to be Chrome in its User-Agent.
SPOOFED = Client(CHROME.ua, "72a589da586844d7f0818ce684948eea", "t12d190800_9dc949149365_e7c285222651")
CURL = Client("curl/8.5.0", "456523fc94726331a4d5a2e1d40b2cd7", "t13d3112h2_e8f1e7e78f70_6bebaf5329ac")
GITLAB_RUNNER = Client("gitlab-runner 17.5.0 (17-5-stable; go1.22.7; linux/amd64)",
                       "e35df3e00ca4ef31d42b34bebaf2d8b8", "t13d1311h2_f57a46bbacb6_d41ae481755e")


# --- The event model ----------------------------------------------------------------------------


@dataclass
class Http:
    method: str
    host: str
    uri: str
    user_agent: str | None
    status: int
    request_body_len: int
    response_body_len: int


@dataclass
class Flow:
    """One TCP connection: becomes a conn row and (when it has a name) an ssl or http row."""

    ts: float
    src: str
    dst: str
    dst_port: int
    duration: float
    orig_bytes: int
    resp_bytes: int
    sni: str | None = None
    ja3: str | None = None
    ja4: str | None = None
    http: Http | None = None
    #: later requests on the same (kept-alive) connection: (time, request); the first is ``http``
    more_http: list[tuple[float, Http]] = field(default_factory=list)
    conn_state: str = "SF"
    uid: str = ""
    flow_id: int = 0
    src_port: int = 0


@dataclass
class DnsQuery:
    ts: float
    src: str
    resolver: str
    query: str
    qtype: str
    rcode: str
    answers: list[str]
    ttls: list[float]
    uid: str = ""
    flow_id: int = 0
    src_port: int = 0


@dataclass
class Truth:
    """A labelled channel: what a test expects the scorer to say about it."""

    label: str          # scenario name, e.g. "cs-60s-j50"
    src: str
    host: str           # one destination name of the channel
    malicious: bool
    note: str = ""


@dataclass
class Scenario:
    name: str
    seed: int
    start: float
    end: float
    flows: list[Flow] = field(default_factory=list)
    dns: list[DnsQuery] = field(default_factory=list)
    truth: list[Truth] = field(default_factory=list)


# --- Behaviour generators -----------------------------------------------------------------------


class Builder:
    """Accumulates flows and DNS for one scenario; each method adds one behaviour."""

    def __init__(self, name: str, seed: int, start: float = DEFAULT_START, hours: float = 24.0):
        self.rng = random.Random(seed)
        self.scen = Scenario(name, seed, start, start + hours * HOUR)
        self._dns_cache: dict[tuple[str, str], float] = {}
        self._ip_of: dict[str, list[str]] = {}

    # helpers
    def ips(self, host: str, count: int = 2) -> list[str]:
        if host not in self._ip_of:
            r = self.rng
            base = r.choice(["104.21", "172.67", "13.248", "52.84", "216.239", "20.50", "76.76", "3.33"])
            self._ip_of[host] = [f"{base}.{r.randrange(1, 255)}.{r.randrange(1, 255)}" for _ in range(count)]
        return self._ip_of[host]

    def resolve(self, src: str, host: str, t: float, ttl: float = 300.0, qtype: str = "A") -> str:
        """Emit a DNS query unless the host's stub resolver still caches the answer (TTL)."""
        ips = self.ips(host)
        key = (src, host)
        if self._dns_cache.get(key, -1.0) <= t:
            self.scen.dns.append(DnsQuery(t - 0.02, src, "10.0.0.53", host, qtype, "NOERROR", list(ips),
                                          [ttl] * len(ips)))
            self._dns_cache[key] = t + ttl
        return self.rng.choice(ips)

    def flow(self, t: float, src: str, host: str, client: Client, *, out: int, inn: int, https: bool = True,
             uri: str = "/", method: str = "GET", duration: float | None = None, ttl: float = 300.0,
             decrypted: bool = False) -> None:
        """One connection. ``decrypted``: the sensor sees the ClientHello *and* the HTTP inside (a
        TLS-inspecting proxy's span port), so the flow has an ssl row and an http row with one uid."""
        if not (self.scen.start <= t < self.scen.end):
            return
        dst = self.resolve(src, host, t, ttl)
        dur = duration if duration is not None else round(self.rng.uniform(0.08, 0.6), 6)
        f = Flow(t, src, dst, 443 if https else 80, dur, out, inn)
        if https:
            f.sni, f.ja3, f.ja4 = host, client.ja3, client.ja4
        if not https or decrypted:
            f.http = Http(method, host, uri, client.ua, 200, max(0, out - 300), max(0, inn - 200))
        self.scen.flows.append(f)

    def sizes(self, base: int, spread: float = 0.05) -> int:
        return max(60, int(base * (1 + self.rng.uniform(-spread, spread))))

    @staticmethod
    def office(t: float, start_h: float = 8.0, end_h: float = 18.0) -> bool:
        h = (t % DAY) / HOUR
        return start_h <= h < end_h

    # behaviours
    def beacon(self, label: str, src: str, hosts: list[str], client: Client, *, sleep: float, jitter: float,
               style: str = "cs", office_hours: bool = False, gaps: int = 0, tasking: float = 0.0,
               https: bool = True, redirect_to: str | None = None, ttl: float = 300.0,
               decrypted: bool = False, note: str = "") -> None:
        """A C2 implant: renewal process, each sleep re-drawn (CS: S*(1-j*U); sym: S*(1+j*(2U-1)))."""
        r = self.rng
        sc = self.scen
        offline: list[tuple[float, float]] = []
        for _ in range(gaps):  # laptop lid closed: 1-4 h offline periods
            s = r.uniform(sc.start, sc.end - 4 * HOUR)
            offline.append((s, s + r.uniform(1, 4) * HOUR))
        t = sc.start + r.uniform(0, sleep)
        while t < sc.end:
            awake = not any(a <= t < b for a, b in offline) and (not office_hours or self.office(t))
            if awake:
                host = r.choice(hosts)
                self.flow(t, src, host, client, out=self.sizes(420), inn=self.sizes(310), https=https,
                          uri="/api/v1/poll", method="POST", ttl=ttl, decrypted=decrypted)
                if redirect_to:  # Apps Script: 302 to script.googleusercontent.com right after
                    self.flow(t + r.uniform(0.15, 0.6), src, redirect_to, client, out=self.sizes(380),
                              inn=self.sizes(900), https=https, ttl=ttl)
                if tasking and r.random() < tasking:  # operator tasking: a burst of quick callbacks
                    tt = t
                    for _ in range(r.randint(3, 15)):
                        tt += r.uniform(0.5, 3.0)
                        self.flow(tt, src, host, client, out=self.sizes(9000, 0.5), inn=self.sizes(30000, 0.5),
                                  https=https, ttl=ttl)
            if style == "cs":
                t += sleep * (1 - jitter * r.random())
            else:
                t += sleep * (1 + jitter * (2 * r.random() - 1))
        sc.truth.append(Truth(label, src, hosts[0], True, note))

    def keepalive_beacon(self, label: str, src: str, host: str, client: Client) -> None:
        """A beacon inside one long-lived TLS connection: one conn row, hours long, few bytes."""
        t = self.scen.start + 600
        dur = 9 * HOUR
        self.flow(t, src, host, client, out=180_000, inn=150_000, duration=dur)
        self.scen.truth.append(Truth(label, src, host, True, "keep-alive"))

    def http_keepalive_beacon(self, label: str, src: str, host: str, client: Client, *, sleep: float,
                              jitter: float, idle_timeout: float = 90.0, max_requests: int = 0,
                              gaps: int = 0) -> None:
        """A plain-HTTP implant whose client keeps its connection alive between check-ins (Go's
        net/http keeps an idle connection 90 s, so any sleep under that reuses one connection): one
        conn row per connection, hours long, and one http row per request (trans_depth 1, 2, ...).
        A connection ends when a sleep outlasts ``idle_timeout``, after ``max_requests`` (a server's
        keepalive_requests; 0: no limit), or in a sleep gap (a laptop lid closed)."""
        r = self.rng
        sc = self.scen
        offline = [(s, s + r.uniform(1, 4) * HOUR) for s in
                   (r.uniform(sc.start, sc.end - 4 * HOUR) for _ in range(gaps))]
        conn: Flow | None = None
        last = 0.0
        t = sc.start + r.uniform(0, sleep)
        while t < sc.end:
            if not any(a <= t < b for a, b in offline):
                req = Http("POST", host, "/api/v2/beat", client.ua, 200, self.sizes(180), self.sizes(60))
                reuse = (conn is not None and t - last < idle_timeout
                         and (not max_requests or len(conn.more_http) + 1 < max_requests))
                if reuse:
                    assert conn is not None
                    conn.more_http.append((t, req))
                else:
                    dst = self.resolve(src, host, t)
                    conn = Flow(t, src, dst, 80, 0.0, 0, 0, http=req)
                    self.scen.flows.append(conn)
                conn.duration = round(t - conn.ts + 0.05, 6)
                conn.orig_bytes += req.request_body_len + 160
                conn.resp_bytes += req.response_body_len + 140
                last = t
            t += sleep * (1 - jitter * r.random())
        sc.truth.append(Truth(label, src, host, True, "http keep-alive"))

    def poisson(self, label: str, src: str, host: str, client: Client, *, rate_s: float, https: bool = True,
                office_hours: bool = False) -> None:
        r = self.rng
        t = self.scen.start + r.expovariate(1 / rate_s)
        while t < self.scen.end:
            if not office_hours or self.office(t):
                self.flow(t, src, host, client, out=self.sizes(500), inn=self.sizes(2000), https=https)
            t += r.expovariate(1 / rate_s)
        self.scen.truth.append(Truth(label, src, host, False, "poisson"))

    def browsing(self, label: str, src: str, sites: list[str], client: Client = CHROME,
                 sessions_per_hour: float = 3.0) -> None:
        """Human browsing 08-18 h: Poisson sessions, geometric page count, lognormal think time."""
        r = self.rng
        t = self.scen.start + 8 * HOUR + r.expovariate(sessions_per_hour / HOUR)
        while t < self.scen.end:
            if self.office(t):
                site = r.choice(sites)
                tt = t
                for _ in range(1 + int(r.expovariate(1 / 7))):
                    for _ in range(r.randint(1, 4)):  # parallel connections for page assets
                        self.flow(tt + r.uniform(0, 0.4), src, site, client, out=self.sizes(900, 0.6),
                                  inn=int(r.lognormvariate(10, 1.2)))
                    tt += r.lognormvariate(3.0, 1.0)
            t += r.expovariate(sessions_per_hour / HOUR)
        for s in sites:
            self.scen.truth.append(Truth(label, src, s, False, "browsing"))

    def periodic(self, label: str, srcs: list[str], host: str, client: Client, *, sleep: float,
                 jitter: float = 0.0, https: bool = True) -> None:
        """Benign timers (monitoring heartbeats, CI runners) on several hosts."""
        r = self.rng
        for src in srcs:
            t = self.scen.start + r.uniform(0, sleep)
            while t < self.scen.end:
                self.flow(t, src, host, client, out=self.sizes(350, 0.01), inn=self.sizes(250, 0.01), https=https,
                          uri="/api/heartbeat", method="POST")
                t += sleep * (1 + jitter * (2 * r.random() - 1))
            self.scen.truth.append(Truth(label, src, host, False, "benign timer"))

    def contact(self, label: str, src: str, host: str, client: Client, times: int = 2,
                malicious: bool = True) -> None:
        """A few one-off requests from a non-browser client (e.g. a staging download)."""
        r = self.rng
        for _ in range(times):
            t = r.uniform(self.scen.start + HOUR, self.scen.end - HOUR)
            self.flow(t, src, host, client, out=self.sizes(300), inn=self.sizes(250_000))
        self.scen.truth.append(Truth(label, src, host, malicious, "contact"))

    def dns_only(self, label: str, src: str, domain: str, *, sleep: float, jitter: float) -> None:
        """DNS C2: TXT queries for high-entropy labels under one domain (no TCP at all)."""
        r = self.rng
        t = self.scen.start + r.uniform(0, sleep)
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
        while t < self.scen.end:
            label_ = "".join(r.choice(alphabet) for _ in range(30))
            self.scen.dns.append(DnsQuery(t, src, "10.0.0.53", f"{label_}.{domain}", "TXT", "NOERROR",
                                          ["\"ok\""], [0.0]))
            t += sleep * (1 - jitter * r.random())
        self.scen.truth.append(Truth(label, src, domain, True, "dns-only"))

    def finish(self) -> Scenario:
        sc = self.scen
        sc.flows.sort(key=lambda f: f.ts)
        sc.dns.sort(key=lambda d: d.ts)
        r = self.rng
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        fid = 1_000_000_000_000
        for f in sc.flows:
            f.uid = "C" + "".join(r.choice(alphabet) for _ in range(17))
            fid += r.randrange(1, 10_000)
            f.flow_id = fid
            f.src_port = r.randrange(49152, 65535)
        for d in sc.dns:
            d.uid = "C" + "".join(r.choice(alphabet) for _ in range(17))
            fid += r.randrange(1, 10_000)
            d.flow_id = fid
            d.src_port = r.randrange(49152, 65535)
        return sc


# --- Named scenarios ----------------------------------------------------------------------------

BROWSING_SITES = ["www.wikipedia.org", "github.com", "docs.python.org", "news.ycombinator.com",
                  # legitimate serverless / PaaS sites a person visits in a browser
                  "acme-docs.pages.dev", "status-page.vercel.app", "intranet-tools.netlify.app",
                  "script.google.com"]


def _benign(b: Builder, hosts: int = 8, ci_sleep: float = 15.0) -> None:
    users = [f"10.1.20.{i}" for i in range(10, 10 + hosts)]
    for i, u in enumerate(users):
        b.browsing("browsing", u, BROWSING_SITES, CHROME if i % 2 == 0 else FIREFOX,
                   sessions_per_hour=b.rng.uniform(2, 6))
    b.poisson("poisson-poller", "10.1.30.5", "telemetry.vendor-updates.com", GO, rate_s=60)
    b.poisson("poisson-serverless", "10.1.30.6", "pricing-feed.vercel.app", PYTHON, rate_s=300)
    b.periodic("monitoring-heartbeat", [f"10.1.40.{i}" for i in range(1, 7)], "acme-uptime.azurewebsites.net",
               GO, sleep=60.0)
    b.periodic("ci-runner", ["10.1.50.2", "10.1.50.3", "10.1.50.4"], "gitlab.acme-corp.com", GITLAB_RUNNER,
               sleep=ci_sleep, jitter=0.1)


def _c2(b: Builder) -> None:
    b.beacon("cs-60s-j0", "10.1.10.11", ["update.cdn-sync.workers.dev"], PYTHON, sleep=60, jitter=0.0)
    b.beacon("cs-60s-j50", "10.1.10.12", ["k3v9q2x7m1b8n4c6z0w5r2t8y3u7i1o9.lambda-url.us-east-1.on.aws"], PYTHON, sleep=60, jitter=0.5)
    b.beacon("cs-300s-j30-office", "10.1.10.13", ["msupdate-sync.azurewebsites.net"], POWERSHELL, sleep=300, jitter=0.3, office_hours=True)
    b.beacon("cs-120s-j40-gaps", "10.1.10.14", ["edge.telemetry-svc.workers.dev"], GO, sleep=120, jitter=0.4,
             gaps=3)
    b.beacon("cs-60s-j30-tasking", "10.1.10.15", ["a7x2kq9d1m.execute-api.eu-west-1.amazonaws.com"], CURL,
             sleep=60, jitter=0.3, tasking=0.05)
    b.beacon("cs-1800s-j30", "10.1.10.16", ["cdn-assets-prod.vercel.app"], PYTHON, sleep=1800, jitter=0.3)
    b.beacon("cs-3600s-j50", "10.1.10.17", ["metrics-relay.netlify.app"], PYTHON, sleep=3600, jitter=0.5)
    b.beacon("appscript-redirect", "10.1.10.18", ["script.google.com"], POWERSHELL, sleep=180, jitter=0.3,
             redirect_to="script.googleusercontent.com")
    b.beacon("spoofed-ua", "10.1.10.19", ["cdn-check.deno.dev"], SPOOFED, sleep=90, jitter=0.4, decrypted=True,
             note="browser User-Agent seen in decrypted HTTP, non-browser JA4")
    b.beacon("rotating-workers", "10.1.10.20",
             [f"w{i}.orbit-relay.workers.dev" for i in range(1, 6)], GO, sleep=120, jitter=0.3)
    b.beacon("dns-cached", "10.1.10.21", ["sync-svc.fly.dev"], PYTHON, sleep=30, jitter=0.2, ttl=3600)
    b.beacon("nonserverless-beacon", "10.1.10.22", ["cdn.badcorp-updates.net"], PYTHON, sleep=240, jitter=0.3)
    b.keepalive_beacon("keepalive", "10.1.10.23", "poll.quiet-relay.workers.dev", GO)
    b.dns_only("dns-tunnel", "10.1.10.24", "t.exfil-dns.net", sleep=30, jitter=0.2)
    b.contact("stager-download", "10.1.10.25", "payload-cache.pages.dev", POWERSHELL, times=2)
    b.http_keepalive_beacon("http-keepalive", "10.1.10.26", "edge-telemetry.azurewebsites.net", GO, sleep=45,
                            jitter=0.3, gaps=2)
    # Cobalt Strike's "random" host rotation over three Lambda function URLs (one account, which the
    # names do not show): each tenant gets a third of the check-ins, at random
    b.beacon("rotating-tenants", "10.1.10.27",
             [f"{u}.lambda-url.us-west-2.on.aws" for u in ("q8w1e7r2t6y3u5i4o0p9a8s7d6f5g4h3",
                                                           "m2n3b4v5c6x7z8l9k0j1h2g3f4d5s6a7",
                                                           "p0o9i8u7y6t5r4e3w2q1a2s3d4f5g6h7")],
             GO, sleep=120, jitter=0.3)


def build_scenario(name: str = "demo", seed: int = 7, start: float = DEFAULT_START, hours: float = 24.0
                   ) -> Scenario:
    """Build a named scenario: ``demo`` (small mixed day), ``c2``, ``benign``, ``mixed`` (both) or ``slow``
    (use ``hours=168``: a 4 h beacon and a Poisson poller at the same rate)."""
    b = Builder(name, seed, start, hours)
    if name == "demo":
        _benign(b, hosts=6, ci_sleep=30.0)
        b.beacon("demo-worker-beacon", "10.1.10.12", ["cdn-sync.orbit-relay.workers.dev"], PYTHON,
                 sleep=60, jitter=0.35, gaps=1, tasking=0.03, note="python implant to a Cloudflare Worker")
        b.beacon("demo-appscript", "10.1.10.18", ["script.google.com"], POWERSHELL, sleep=300, jitter=0.3,
                 office_hours=True, redirect_to="script.googleusercontent.com")
    elif name == "c2":
        _c2(b)
    elif name == "benign":
        _benign(b)
    elif name == "slow":  # a week: a 4 h beacon needs a multi-day window
        b.beacon("cs-4h-j30", "10.1.10.31", ["nightly-sync.relay-ops.workers.dev"], PYTHON, sleep=4 * HOUR,
                 jitter=0.3)
        b.poisson("poisson-4h", "10.1.30.31", "feeds.vendor-rss.com", GO, rate_s=4 * HOUR)
    elif name == "mixed":
        _benign(b)
        _c2(b)
    else:
        raise ValueError(f"unknown scenario {name!r} (demo, c2, benign, mixed, slow)")
    return b.finish()


# --- Writers ------------------------------------------------------------------------------------

_CONN_FIELDS = [("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"),
                ("id.resp_h", "addr"), ("id.resp_p", "port"), ("proto", "enum"), ("service", "string"),
                ("duration", "interval"), ("orig_bytes", "count"), ("resp_bytes", "count"),
                ("conn_state", "string"), ("local_orig", "bool"), ("local_resp", "bool"),
                ("missed_bytes", "count"), ("history", "string"), ("orig_pkts", "count"),
                ("orig_ip_bytes", "count"), ("resp_pkts", "count"), ("resp_ip_bytes", "count"),
                ("tunnel_parents", "set[string]")]
_SSL_FIELDS = [("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"),
               ("id.resp_h", "addr"), ("id.resp_p", "port"), ("version", "string"), ("cipher", "string"),
               ("curve", "string"), ("server_name", "string"), ("resumed", "bool"), ("established", "bool"),
               ("ja3", "string"), ("ja4", "string")]
_HTTP_FIELDS = [("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"),
                ("id.resp_h", "addr"), ("id.resp_p", "port"), ("trans_depth", "count"), ("method", "string"),
                ("host", "string"), ("uri", "string"), ("version", "string"), ("user_agent", "string"),
                ("request_body_len", "count"), ("response_body_len", "count"), ("status_code", "count")]
_DNS_FIELDS = [("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"),
               ("id.resp_h", "addr"), ("id.resp_p", "port"), ("proto", "enum"), ("trans_id", "count"),
               ("rtt", "interval"), ("query", "string"), ("qclass", "count"), ("qclass_name", "string"),
               ("qtype", "count"), ("qtype_name", "string"), ("rcode", "count"), ("rcode_name", "string"),
               ("AA", "bool"), ("TC", "bool"), ("RD", "bool"), ("RA", "bool"), ("Z", "count"),
               ("answers", "vector[string]"), ("TTLs", "vector[interval]"), ("rejected", "bool")]
_QTYPES = {"A": 1, "TXT": 16, "AAAA": 28, "CNAME": 5}
_RCODES = {"NOERROR": 0, "NXDOMAIN": 3}


def _rows(scen: Scenario) -> dict[str, list[dict]]:
    """The four Zeek logs as lists of dicts keyed by Zeek field names (values as Python types)."""
    conn: list[dict] = []
    ssl: list[dict] = []
    http: list[dict] = []
    dns: list[dict] = []
    for f in scen.flows:
        base = {"ts": f.ts, "uid": f.uid, "id.orig_h": f.src, "id.orig_p": f.src_port,
                "id.resp_h": f.dst, "id.resp_p": f.dst_port}
        pkts_o, pkts_r = 4 + f.orig_bytes // 1400, 4 + f.resp_bytes // 1400
        conn.append({**base, "proto": "tcp", "service": "ssl" if f.sni else "http", "duration": f.duration,
                     "orig_bytes": f.orig_bytes, "resp_bytes": f.resp_bytes, "conn_state": f.conn_state,
                     "local_orig": True, "local_resp": False, "missed_bytes": 0, "history": "ShADadFf",
                     "orig_pkts": pkts_o, "orig_ip_bytes": f.orig_bytes + 40 * pkts_o, "resp_pkts": pkts_r,
                     "resp_ip_bytes": f.resp_bytes + 40 * pkts_r, "tunnel_parents": []})
        if f.sni:
            ssl.append({**base, "ts": f.ts + 0.01, "version": "TLSv13", "cipher": "TLS_AES_128_GCM_SHA256",
                        "curve": "x25519", "server_name": f.sni, "resumed": False, "established": True,
                        "ja3": f.ja3, "ja4": f.ja4})
        if f.http:
            h = f.http
            http.append({**base, "ts": f.ts + 0.01, "trans_depth": 1, "method": h.method, "host": h.host,
                         "uri": h.uri, "version": "1.1", "user_agent": h.user_agent,
                         "request_body_len": h.request_body_len, "response_body_len": h.response_body_len,
                         "status_code": h.status})
            for depth, (t, h) in enumerate(f.more_http, start=2):
                http.append({**base, "ts": t, "trans_depth": depth, "method": h.method, "host": h.host,
                             "uri": h.uri, "version": "1.1", "user_agent": h.user_agent,
                             "request_body_len": h.request_body_len,
                             "response_body_len": h.response_body_len, "status_code": h.status})
    for d in scen.dns:
        base = {"ts": d.ts, "uid": d.uid, "id.orig_h": d.src, "id.orig_p": d.src_port,
                "id.resp_h": d.resolver, "id.resp_p": 53}
        dns.append({**base, "proto": "udp", "trans_id": d.src_port % 65536, "rtt": 0.012, "query": d.query,
                    "qclass": 1, "qclass_name": "C_INTERNET", "qtype": _QTYPES.get(d.qtype, 1),
                    "qtype_name": d.qtype, "rcode": _RCODES.get(d.rcode, 0), "rcode_name": d.rcode, "AA": False,
                    "TC": False, "RD": True, "RA": True, "Z": 0, "answers": d.answers, "TTLs": d.ttls,
                    "rejected": False})
        conn.append({**base, "proto": "udp", "service": "dns", "duration": 0.012, "orig_bytes": 40,
                     "resp_bytes": 56, "conn_state": "SF", "local_orig": True, "local_resp": True,
                     "missed_bytes": 0, "history": "Dd", "orig_pkts": 1, "orig_ip_bytes": 68, "resp_pkts": 1,
                     "resp_ip_bytes": 84, "tunnel_parents": []})
    conn.sort(key=lambda r: r["ts"])
    http.sort(key=lambda r: r["ts"])  # later requests of kept-alive connections interleave
    return {"conn": conn, "ssl": ssl, "http": http, "dns": dns}


_FIELDS = {"conn": _CONN_FIELDS, "ssl": _SSL_FIELDS, "http": _HTTP_FIELDS, "dns": _DNS_FIELDS}


#: a value Zeek writes as it is: printable ASCII but backslash (the common case, checked at C speed)
_TSV_PLAIN = re.compile(r"[\x20-\x5b\x5d-\x7e]*")


def _tsv_escape(s: str) -> str:
    """Zeek ASCII escaping: backslash, TAB, non-printables as \\xNN; a lone '-' or '(empty)' escaped."""
    if _TSV_PLAIN.fullmatch(s):  # nothing to escape (writing the demo's 60k rows: 2.2 -> 1.6 s)
        out = s
    else:
        out = _tsv_escape_chars(s)
    if out == "-":
        return "\\x2d"
    if out == "(empty)":
        return "\\x28empty)"
    return out


def _tsv_escape_chars(s: str) -> str:
    out = s.replace("\\", "\\\\")
    return "".join(c if c.isprintable() and c != "\t" else "".join(f"\\x{b:02x}" for b in c.encode()) for c in out)


def _tsv_value(v: object, ztype: str) -> str:
    if v is None:
        return "-"
    if ztype in ("time", "interval"):
        return f"{v:.6f}"
    if ztype == "bool":
        return "T" if v else "F"
    if ztype.startswith(("set[", "vector[")):
        items = list(v)  # type: ignore[call-overload]
        if not items:
            return "(empty)"
        if ztype == "vector[interval]":
            return ",".join(f"{x:.6f}" for x in items)
        return ",".join(_tsv_escape(str(x)).replace(",", "\\x2c") for x in items)
    if isinstance(v, str):
        return _tsv_escape(v) if v else "(empty)"
    return str(v)


def _write_zeek_tsv(path: Path, log: str, rows: list[dict], opened: float) -> None:
    fields = _FIELDS[log]
    stamp = datetime.fromtimestamp(opened, timezone.utc).strftime("%Y-%m-%d-%H-%M-%S")
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n")
        fh.write(f"#path\t{log}\n#open\t{stamp}\n")
        fh.write("#fields\t" + "\t".join(n for n, _ in fields) + "\n")
        fh.write("#types\t" + "\t".join(t for _, t in fields) + "\n")
        for row in rows:
            fh.write("\t".join(_tsv_value(row.get(n), t) for n, t in fields) + "\n")
        fh.write(f"#close\t{stamp}\n")


def _write_zeek_json(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps({k: v for k, v in row.items() if v is not None}, separators=(",", ":")) + "\n")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "+0000"


def _eve_events(scen: Scenario) -> list[tuple[float, dict]]:
    ev: list[tuple[float, dict]] = []
    for f in scen.flows:
        base = {"flow_id": f.flow_id, "src_ip": f.src, "src_port": f.src_port, "dest_ip": f.dst,
                "dest_port": f.dst_port, "proto": "TCP", "pkt_src": "wire/pcap"}
        end = f.ts + f.duration
        ev.append((end, {"timestamp": _iso(end), "event_type": "flow", **base,
                         "app_proto": "tls" if f.sni else "http",
                         "flow": {"pkts_toserver": 4 + f.orig_bytes // 1400, "pkts_toclient": 4 + f.resp_bytes // 1400,
                                  "bytes_toserver": f.orig_bytes + 240, "bytes_toclient": f.resp_bytes + 240,
                                  "start": _iso(f.ts), "end": _iso(end), "age": int(f.duration),
                                  "state": "closed", "reason": "timeout", "alerted": False},
                         "tcp": {"tcp_flags": "1b", "syn": True, "fin": True, "psh": True, "ack": True,
                                 "state": "closed"}}))
        if f.sni:
            ev.append((f.ts + 0.01, {"timestamp": _iso(f.ts + 0.01), "event_type": "tls", **base,
                                     "tls": {"sni": f.sni, "version": "TLS 1.3",
                                             "ja3": {"hash": f.ja3, "string": ""}, "ja4": f.ja4}}))
        if f.http:
            h = f.http
            http: dict = {"hostname": h.host, "url": h.uri, "http_method": h.method, "protocol": "HTTP/1.1",
                          "status": h.status, "length": h.response_body_len}
            if h.user_agent is not None:
                http["http_user_agent"] = h.user_agent
            ev.append((f.ts + 0.01, {"timestamp": _iso(f.ts + 0.01), "event_type": "http", **base, "tx_id": 0,
                                     "http": http}))
            for tx, (t, h) in enumerate(f.more_http, start=1):
                more = {**http, "url": h.uri, "http_method": h.method, "status": h.status,
                        "length": h.response_body_len}
                ev.append((t, {"timestamp": _iso(t), "event_type": "http", **base, "tx_id": tx, "http": more}))
    for d in scen.dns:
        base = {"flow_id": d.flow_id, "src_ip": d.src, "src_port": d.src_port, "dest_ip": d.resolver,
                "dest_port": 53, "proto": "UDP", "pkt_src": "wire/pcap"}
        qid = d.src_port % 65536
        ev.append((d.ts, {"timestamp": _iso(d.ts), "event_type": "dns", **base,
                          "dns": {"version": 2, "type": "query", "id": qid, "rrname": d.query, "rrtype": d.qtype,
                                  "tx_id": 0, "opcode": 0}}))
        answers = [{"rrname": d.query, "rrtype": d.qtype, "ttl": int(t), "rdata": a} for a, t in zip(d.answers, d.ttls)]
        ev.append((d.ts + 0.012, {"timestamp": _iso(d.ts + 0.012), "event_type": "dns", **base,
                                  "dns": {"version": 2, "type": "answer", "id": qid, "flags": "8180", "qr": True,
                                          "rd": True, "ra": True, "opcode": 0, "rrname": d.query,
                                          "rrtype": d.qtype, "rcode": d.rcode, "answers": answers}}))
    ev.sort(key=lambda e: e[0])
    return ev


FORMATS = ("zeek-tsv", "zeek-json", "eve")


def write_logs(scen: Scenario, outdir: str | Path, fmt: str = "zeek-tsv", *, skip_empty: bool = False) -> list[Path]:
    """Write the scenario as ``conn/dns/ssl/http.log`` (Zeek TSV or JSON) or one ``eve.json``.

    ``skip_empty``: write no file for a log without rows, as Zeek, which opens a log's file at its
    first record, does in a day without rotations (the demo has no plain HTTP, and a header-only
    http.log made its first screen say a file was skipped)."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "eve":
        path = out / "eve.json"
        with path.open("w", encoding="utf-8", newline="\n") as fh:
            for _, e in _eve_events(scen):
                fh.write(json.dumps(e, separators=(",", ":")) + "\n")
        return [path]
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} ({', '.join(FORMATS)})")
    paths = []
    for log, rows in _rows(scen).items():
        if skip_empty and not rows:
            continue
        path = out / f"{log}.log"
        if fmt == "zeek-tsv":
            _write_zeek_tsv(path, log, rows, scen.start)
        else:
            _write_zeek_json(path, rows)
        paths.append(path)
    return paths


def load_into_store(scen: Scenario, con) -> None:  # type: ignore[no-untyped-def]
    """Insert the scenario straight into the normalized tables (no files, no ingest).

    For the SQL stage tests: it isolates scoring from parsing. The values are what the ingest
    stage is specified to produce from the written logs (conn from conn.log, tls from ssl.log ...).
    Rows go through a temporary JSON-lines file and ``read_json``: row-by-row inserts are slow.
    """
    import tempfile

    rows = _rows(scen)
    shared = ("ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p")
    selects = {
        "conn": ("ts, epoch, uid, src, src_port, dst, dst_port, proto, service, duration, orig_bytes, resp_bytes,"
                 " orig_ip_bytes, resp_ip_bytes, orig_pkts, resp_pkts, conn_state, history, sensor, file_id, line",
                 "proto, service, duration, orig_bytes, resp_bytes, orig_ip_bytes, resp_ip_bytes, orig_pkts, resp_pkts,"
                 " conn_state, history"),
        "tls": ("ts, epoch, uid, src, src_port, dst, dst_port, server_name, ja3, ja4, version, established,"
                " sensor, file_id, line", "server_name, ja3, ja4, version, established"),
        "http": ("ts, epoch, uid, src, src_port, dst, dst_port, method, host, uri, user_agent, status,"
                 " request_body_len, response_body_len, sensor, file_id, line",
                 "method, host, uri, user_agent, status_code, request_body_len, response_body_len"),
        "dns": ("ts, epoch, uid, src, src_port, dst, dst_port, proto, query, qtype, rcode, answers, ttls,"
                " sensor, file_id, line", "proto, query, qtype_name, rcode_name, answers, \"TTLs\""),
    }
    logs = {"conn": "conn", "tls": "ssl", "http": "http", "dns": "dns"}
    with tempfile.TemporaryDirectory(prefix="sc2-sim-") as tmp:
        for file_id, (table, log) in enumerate(logs.items(), start=1):
            if not rows[log]:
                continue
            path = Path(tmp) / f"{log}.json"
            with path.open("w", encoding="utf-8") as fh:
                for i, r in enumerate(rows[log], start=1):
                    fh.write(json.dumps({**r, "_line": i}) + "\n")
            cols, extra = selects[table]
            con.execute(
                f"INSERT INTO {table} ({cols}) SELECT make_timestamp(CAST(ts * 1000000 AS BIGINT)), ts, uid,"
                f' "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", {extra}, \'zeek\', {file_id}, _line'
                " FROM read_json(?, format = 'newline_delimited', sample_size = -1)", [str(path)])
