#!/usr/bin/env python3
"""Detection benchmark: how many C2 beacons a scan finds, and how high benign traffic scores.

Not a test: it prints a table. It writes its own day of Zeek TSV logs with a generator that shares
nothing with ``analyzer/simulate.py`` (the scenario generator the tests and the demo use), so the
scorer is measured on timing it was not written against:

* 72 implants, one per host: every sleep of 30 s, 60 s, 5 min, 15 min, 30 min and 1 h, with jitter
  0, 20, 50 and 80 %, under three jitter models: Cobalt Strike's (each sleep shortened by up to
  jitter x sleep), Sliver's (lengthened by up to jitter x sleep) and symmetric (+- jitter x sleep).
  Each runs always on, in office hours (08-17) or on a laptop that sleeps (00-07, 12-13:30, 19-24);
  3 % of check-ins are lost; tasking bursts of 3-6 quick follow-ups now and then. Destinations are
  Cloudflare Workers, Lambda function URLs, API Gateway, Azure Functions, Cloud Functions, Netlify,
  Vercel and Apps Script; clients are a Go TLS stack, Python requests (plain HTTP) or WinINet.
* 12 plain-HTTP implants (sleep 10, 30 and 60 s, the four jitters) whose client keeps its connection
  open between check-ins, so one connection carries hours of requests; 30 people browsing plain-HTTP
  sites whose browser keeps connections open as well (pages of a few requests, clicks seconds to
  minutes apart).
* 6 campaigns: one implant (one tenant, one client, one sleep and jitter) on 3 hosts each, as a
  phishing wave or lateral movement leaves it: sleeps of 1, 15 and 30 min at jitter 20 and 50 %.
  Hosts in step with one tenant look like a fleet agent; they are reported on a line of their own
  (generated last, so the figures above are those of the day without them).
* 16 rotations: one implant spreading its check-ins over 2-5 serverless tenants, in turn or at random
  (Cobalt Strike's rotate and random host strategies), sleeps of 1, 5, 15 and 30 min at jitter 20
  and 50 % (generated after the campaigns).
* 120 users browsing (Chrome) from morning to evening, legitimate serverless sites included, and 40
  Poisson pollers (Go or Python clients) to serverless tenants, at mean rates of 2-20 minutes.

    python bench/bench_detection.py                 # seed 1, logs in a temporary folder
    python bench/bench_detection.py --seed 2 --keep /tmp/det2
    python bench/bench_detection.py --logs conn,dns      # a sensor that logs connections and DNS only
    python bench/bench_detection.py --rita               # also score every channel with RITA v5's formula
    python bench/bench_detection.py --no-fingerprints    # ssl.log as stock Zeek writes it: no ja3, no ja4

``--rita`` also scores every (source, SNI or Host) channel with RITA v5's beacon score
(``bench/rita_v5.py``, checked against the published figures) and reports, next to ours, how many
implants RITA puts at "low" (score >= 0.7) or "medium" (>= 0.9) and above, and how many benign channels
it scores that high.

Reported: for each (sleep, jitter), how many implants came out as beacon findings at the default
--min-score (0.5); each implant missed; how many implants are listed at all (a beacon, or a contact at
a lower severity); the highest score of any finding on a benign host (contacts
of Poisson pollers are expected: non-browser clients to serverless, listed by design at 0.4-0.5),
and whether any benign host got a *beacon* finding.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import string
import subprocess
import sys
import tempfile
from pathlib import Path

START = 1_795_651_200.0  # 2026-11-26T00:00:00Z
DAY = 86400.0
SLEEPS = (30, 60, 300, 900, 1800, 3600)
JITTERS = (0.0, 0.2, 0.5, 0.8)
MODELS = ("cs", "sliver", "sym")
CHROME = ("773906b0efdefa24a7f2b8eb6985bf37", "t13d1516h2_8daaf6152771_02713d6af862",
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
          "Safari/537.36")
GO = ("f4febc55ea12b31ae17cfb7e614afda8", "t13d1311h2_f57a46bbacb6_ab7e3b40a677", "Go-http-client/1.1")
PY = ("a0e9f5d64349fb13191bc781f81f42e1", "t13d5911_a56c5b993250_d41ae481755e", "python-requests/2.31.0")
WININET = ("b32309a26951912be7dba376398abc3b", "t12d1209h2_d34a8e72043a_b39be8c56a14",
           "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Trident/7.0; rv:11.0) like Gecko")
SITES = ("www.google.com", "outlook.office365.com", "github.com", "news.ycombinator.com", "docs.python.org",
         "app.netlify.com", "vercel.com", "mysite-docs.netlify.app", "status.vercel.app", "script.google.com",
         "docs.google.com")
LOGS = {
    "conn": (("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"), ("id.resp_h", "addr"),
             ("id.resp_p", "port"), ("proto", "enum"), ("service", "string"), ("duration", "interval"),
             ("orig_bytes", "count"), ("resp_bytes", "count"), ("conn_state", "string")),
    "ssl": (("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"), ("id.resp_h", "addr"),
            ("id.resp_p", "port"), ("version", "string"), ("server_name", "string"), ("established", "bool"),
            ("ja3", "string"), ("ja4", "string")),
    "http": (("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"), ("id.resp_h", "addr"),
             ("id.resp_p", "port"), ("method", "string"), ("host", "string"), ("uri", "string"),
             ("user_agent", "string"), ("request_body_len", "count"), ("response_body_len", "count"),
             ("status_code", "count")),
    "dns": (("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"), ("id.resp_h", "addr"),
            ("id.resp_p", "port"), ("query", "string"), ("qtype_name", "string"), ("rcode_name", "string"),
            ("answers", "vector[string]"), ("TTLs", "vector[interval]")),
}


class Day:
    """One day of logs, built row by row."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.rows: dict[str, list[tuple]] = {k: [] for k in LOGS}
        self.truth: list[dict] = []
        self.ips: dict[str, str] = {}

    def rid(self, n: int, alphabet: str = string.ascii_lowercase + string.digits) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def ip(self, name: str) -> str:
        if name not in self.ips:
            self.ips[name] = f"104.21.{len(self.ips) % 250}.{self.rng.randint(1, 250)}"
        return self.ips[name]

    def flow(self, t: float, src: str, name: str, client: tuple, *, inn: int | None = None) -> None:
        uid = "C" + self.rid(17, string.ascii_letters + string.digits)
        dst, sport, https = self.ip(name), self.rng.randint(40000, 65000), client is not PY
        inn = inn if inn is not None else self.rng.randint(500, 4000)
        self.rows["conn"].append((t, uid, src, sport, dst, 443 if https else 80, "tcp", "ssl" if https else "http",
                                  self.rng.uniform(0.1, 1.5), self.rng.randint(300, 900), inn, "SF"))
        if https:
            self.rows["ssl"].append((t + 0.05, uid, src, sport, dst, 443, "TLSv13", name, "T", client[0], client[1]))
        else:
            self.rows["http"].append((t + 0.05, uid, src, sport, dst, 80, "GET", name, "/" + self.rid(6), client[2],
                                      0, inn, 200))

    def kept_alive(self, times: list[float], src: str, name: str, client: tuple, idle: float) -> None:
        """Plain-HTTP requests at ``times`` on connections the client keeps open: a request reuses the
        open connection unless it was idle ``idle`` s or more (the server then closed it). One conn row
        per connection (start, length, bytes of all its requests), one http row per request."""
        conns: list[list] = []
        for t in times:
            if not conns or t - conns[-1][2] >= idle:
                conns.append(["C" + self.rid(17, string.ascii_letters + string.digits), t, t, 0, 0,
                              self.rng.randint(40000, 65000)])
            c = conns[-1]
            out, inn = self.rng.randint(200, 400), self.rng.randint(100, 3000)
            self.rows["http"].append((t + 0.05, c[0], src, c[5], self.ip(name), 80, "POST", name,
                                      "/" + self.rid(6), client[2], out, inn, 200))
            c[2], c[3], c[4] = t, c[3] + out + 150, c[4] + inn + 150
        for uid, start, last, out, inn, sport in conns:
            self.rows["conn"].append((start, uid, src, sport, self.ip(name), 80, "tcp", "http",
                                      last - start + 0.3, out, inn, "SF"))

    def query(self, t: float, src: str, name: str) -> None:
        self.rows["dns"].append((t, "D" + self.rid(16), src, self.rng.randint(1024, 65000), "10.0.0.53", 53, name,
                                 "A", "NOERROR", self.ip(name), 300.0))

    def schedule(self, sleep: float, jitter: float, model: str, active, loss: float = 0.03) -> list[float]:
        t, times = START + self.rng.uniform(0, sleep), []
        while t < START + DAY:
            if active(t) and self.rng.random() >= loss:
                times.append(t)
            u = self.rng.uniform(0, jitter * sleep)
            t += max(1.0, {"cs": sleep - u, "sliver": sleep + u, "sym": sleep + self.rng.uniform(-1, 1) * jitter * sleep}[model])
        return times


def _hour(t: float) -> float:
    return ((t - START) / 3600) % 24


ACTIVITY = {
    "always": lambda t: True,
    "office": lambda t: 8 <= _hour(t) < 17,
    "laptop": lambda t: not (_hour(t) < 7 or 12 <= _hour(t) < 13.5 or _hour(t) >= 19),
}


def build(seed: int) -> Day:
    d = Day(seed)
    platforms = (lambda: f"{d.rid(8)}.{d.rid(6)}.workers.dev", lambda: f"{d.rid(32)}.lambda-url.us-east-1.on.aws",
                 lambda: f"{d.rid(10)}.execute-api.eu-west-1.amazonaws.com", lambda: f"{d.rid(8)}-{d.rid(6)}.azurewebsites.net",
                 lambda: f"us-central1-{d.rid(1, string.ascii_lowercase)}{d.rid(7)}.cloudfunctions.net", lambda: f"{d.rid(9)}.netlify.app",
                 lambda: f"{d.rid(9)}.vercel.app", lambda: "script.google.com")
    k = 0
    for sleep in SLEEPS:
        for jitter in JITTERS:
            for model in MODELS:
                k += 1
                src, name = f"10.1.{k // 200}.{k % 200 + 10}", d.rng.choice(platforms)()
                client, activity = d.rng.choice((GO, PY, WININET)), d.rng.choice(sorted(ACTIVITY))
                times = d.schedule(sleep, jitter, model, ACTIVITY[activity])
                for t in times:
                    d.flow(t, src, name, client)
                    if d.rng.random() < 0.03:  # tasking: a few quick follow-ups with bigger answers
                        for i in range(1, d.rng.randint(3, 6)):
                            d.flow(t + i * d.rng.uniform(1, 4), src, name, client, inn=d.rng.randint(5000, 50000))
                for t in times[::max(1, int(300 / sleep))]:  # resolved about once per 300 s TTL
                    d.query(t - 0.02, src, name)
                d.truth.append(dict(kind="c2", src=src, host=name, sleep=sleep, jitter=jitter, model=model,
                                    activity=activity, checkins=len(times)))
    for u in range(120):
        src = f"10.2.{u // 200}.{u % 200 + 10}"
        t, end = START + d.rng.uniform(7, 10) * 3600, START + d.rng.uniform(16, 19) * 3600
        while t < end:
            site = d.rng.choice(SITES)
            for i in range(d.rng.randint(1, 8)):
                d.flow(t + i * d.rng.expovariate(1 / 3), src, site, CHROME)
            d.query(t - 0.01, src, site)
            t += d.rng.expovariate(1 / 240)
        d.truth.append(dict(kind="browsing", src=src))
    for i in range(40):
        src, name, client = f"10.3.0.{i + 10}", d.rng.choice(platforms)(), d.rng.choice((GO, PY))
        t, rate = START + d.rng.uniform(0, 600), d.rng.choice((120, 300, 600, 1200))
        while t < START + DAY:
            d.flow(t, src, name, client)
            t += d.rng.expovariate(1 / rate)
        d.truth.append(dict(kind="poisson", src=src, host=name, rate=rate))
    # Plain-HTTP implants whose client keeps its connection open (Go's net/http, a requests.Session):
    # sleeps under the server's idle timeout (60-120 s) ride one connection for hours.
    k = 0
    for sleep in (10, 30, 60):
        for jitter in JITTERS:
            k += 1
            src, name = f"10.4.0.{k + 10}", d.rng.choice(platforms)()
            activity = d.rng.choice(sorted(ACTIVITY))
            times = d.schedule(sleep, jitter, d.rng.choice(MODELS), ACTIVITY[activity])
            d.kept_alive(times, src, name, d.rng.choice((GO, PY)), idle=d.rng.uniform(60, 120))
            for t in times[::max(1, int(300 / sleep))]:
                d.query(t - 0.02, src, name)
            d.truth.append(dict(kind="c2-keepalive", src=src, host=name, sleep=sleep, jitter=jitter,
                                activity=activity, checkins=len(times)))
    # ... and people on plain-HTTP sites, whose browser keeps connections open too: a page is a few
    # requests within seconds; the next click comes 5 s to 10 min later, on the same connection when soon
    for u in range(30):
        src = f"10.5.0.{u + 10}"
        t, end = START + d.rng.uniform(7, 10) * 3600, START + d.rng.uniform(16, 19) * 3600
        while t < end:
            site, times = f"www.{d.rid(6)}-news.com", []
            for _ in range(d.rng.randint(1, 12)):   # pages read on this site
                times += [t + i * d.rng.uniform(0.05, 0.8) for i in range(d.rng.randint(1, 8))]
                t = times[-1] + d.rng.expovariate(1 / 60) + 5
            d.kept_alive(times, src, site, CHROME, idle=d.rng.uniform(60, 120))
            d.query(times[0] - 0.01, src, site)
            t += d.rng.expovariate(1 / 600)
        d.truth.append(dict(kind="browsing-http", src=src))
    # Campaigns: one implant config on three hosts (a tenant of its own, never the shared script.google.com)
    k = 0
    for sleep in (60, 900, 1800):
        for jitter in (0.2, 0.5):
            name, client, model = d.rng.choice(platforms[:-1])(), d.rng.choice((GO, PY, WININET)), d.rng.choice(MODELS)
            for _ in range(3):
                k += 1
                src, activity = f"10.6.0.{k + 10}", d.rng.choice(sorted(ACTIVITY))
                times = d.schedule(sleep, jitter, model, ACTIVITY[activity])
                for t in times:
                    d.flow(t, src, name, client)
                for t in times[::max(1, int(300 / sleep))]:
                    d.query(t - 0.02, src, name)
                d.truth.append(dict(kind="c2-campaign", src=src, host=name, sleep=sleep, jitter=jitter, model=model,
                                    activity=activity, checkins=len(times)))
    # Rotations: one implant spreading its check-ins over 2-5 serverless tenants, picked in turn or at
    # random (Cobalt Strike's rotate and random host strategies), each name resolved when its 300 s TTL
    # has run out (generated last, so the figures above are those of the day without them)
    k = 0
    for sleep in (60, 300, 900, 1800):
        for jitter in (0.2, 0.5):
            for strategy in ("in turn", "random"):
                k += 1
                names = [d.rng.choice(platforms[:-1])() for _ in range(d.rng.randint(2, 5))]
                src, client = f"10.7.0.{k + 10}", d.rng.choice((GO, PY, WININET))
                model, activity = d.rng.choice(MODELS), d.rng.choice(sorted(ACTIVITY))
                times = d.schedule(sleep, jitter, model, ACTIVITY[activity])
                resolved: dict[str, float] = {}
                for i, t in enumerate(times):
                    name = names[i % len(names)] if strategy == "in turn" else d.rng.choice(names)
                    if t - resolved.get(name, -1e9) >= 300:
                        d.query(t - 0.02, src, name)
                        resolved[name] = t
                    d.flow(t, src, name, client)
                d.truth.append(dict(kind="c2-rotation", src=src, host=names[0], names=names, strategy=strategy,
                                    sleep=sleep, jitter=jitter, model=model, activity=activity, checkins=len(times)))
    return d


#: fields of ssl.log that stock Zeek does not write (the ja3 and ja4 packages add them; last in LOGS)
FINGERPRINTS = 2


def write(d: Day, out: Path, logs: tuple[str, ...] = tuple(LOGS), fingerprints: bool = True) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for log, fields in LOGS.items():
        if log not in logs:
            continue
        cut = len(fields) - FINGERPRINTS if log == "ssl" and not fingerprints else len(fields)
        fields = fields[:cut]
        with open(out / f"{log}.log", "w", encoding="utf-8") as fh:
            fh.write(f"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t{log}\n"
                     f"#open\t2026-11-26-00-00-00\n#fields\t" + "\t".join(f for f, _ in fields) + "\n#types\t"
                     + "\t".join(t for _, t in fields) + "\n")
            for row in sorted(d.rows[log], key=lambda r: r[0]):
                fh.write("\t".join(f"{v:.6f}" if isinstance(v, float) else str(v) for v in row[:cut]) + "\n")
            fh.write("#close\t2026-11-27-00-00-00\n")


#: the kinds of truth rows that are implants
C2_KINDS = ("c2", "c2-keepalive", "c2-campaign", "c2-rotation")


def _not_beacons(truth: list[dict], by_src: dict) -> list[tuple[dict, list]]:
    """The implants of ``truth`` with no beacon finding to their host, each with what its source got."""
    return [(t, [(f["kind"], f["score"]) for f in by_src[t["src"]]]) for t in truth
            if not any(f["kind"] == "beacon" and f["host"] == t["host"] for f in by_src[t["src"]])]


def evaluate(truth: list[dict], findings: list[dict]) -> dict:
    by_src = collections.defaultdict(list)
    for f in findings:
        by_src[f["src"]].append(f)
    cells = collections.defaultdict(lambda: [0, 0])
    missed = []
    for t in (t for t in truth if t["kind"] == "c2"):
        hit = any(f["kind"] == "beacon" and f["host"] == t["host"] for f in by_src[t["src"]])
        cell = cells[(t["sleep"], t["jitter"])]
        cell[0] += hit
        cell[1] += 1
        if not hit:
            missed.append((t, [(f["kind"], f["score"]) for f in by_src[t["src"]]]))
    listed = [t for t in truth if t["kind"] == "c2" and any(f["host"] == t["host"] for f in by_src[t["src"]])]
    kept = [t for t in truth if t["kind"] == "c2-keepalive"]
    campaign = [t for t in truth if t["kind"] == "c2-campaign"]
    kept_missed, campaign_missed = _not_beacons(kept, by_src), _not_beacons(campaign, by_src)
    rotation = [t for t in truth if t["kind"] == "c2-rotation"]
    # a rotating implant is found when a beacon finding of its source names one of its tenants: its
    # rotation channel (``rotation`` lists the names), or one tenant's share timed on its own
    rotation_found = {t["src"]: [f for f in by_src[t["src"]] if f["kind"] == "beacon"
                                 and ({f["host"]} | set(f.get("rotation") or ())) & set(t["names"])]
                      for t in rotation}
    c2 = {t["src"] for t in truth if t["kind"] in C2_KINDS}
    benign = [f for f in findings if f["src"] not in c2]
    return {"cells": cells, "missed": missed, "listed": listed, "kept": kept, "kept_missed": kept_missed,
            "campaign": campaign, "campaign_missed": campaign_missed,
            "rotation": rotation, "rotation_found": rotation_found, "by_src": by_src,
            "c2_lowest": min((f["score"] for f in findings if f["src"] in c2 and f["kind"] == "beacon"), default=None),
            "benign_highest": max((f["score"] for f in benign), default=None),
            "benign_beacons": [f for f in benign if f["kind"] == "beacon"], "benign_findings": len(benign)}


def rita_scores(d: Day) -> dict[tuple[str, str], float | None]:
    """RITA v5's beacon score of every (source, FQDN) channel: its 'sni' beacon type, timed by the conn
    start of each connection whose TLS SNI or HTTP Host is the FQDN, sizes from originator bytes;
    HTTP connections with several requests are left out, as RITA leaves out multi-request rows."""
    from rita_v5 import beacon_score

    conn = {row[1]: (row[0], row[9]) for row in d.rows["conn"]}
    requests = collections.Counter(row[1] for row in d.rows["http"])
    times: dict[tuple[str, str], list[tuple[float, float]]] = collections.defaultdict(list)
    for row in d.rows["ssl"]:
        times[(row[2], row[7])].append(conn.get(row[1], (row[0], 0)))
    for row in d.rows["http"]:
        if requests[row[1]] == 1:
            times[(row[2], row[7])].append(conn.get(row[1], (row[0], 0)))
    return {key: beacon_score([t for t, _ in v], [b for _, b in v], START, START + DAY) for key, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, default=None, help="write the logs here and keep them")
    ap.add_argument("--rita", action="store_true", help="also score the channels with RITA v5's beacon formula")
    ap.add_argument("--logs", default=",".join(LOGS),
                    help="which logs to write, e.g. conn,dns for a sensor without ssl/http logs (default: all)")
    ap.add_argument("--no-fingerprints", action="store_true",
                    help="write ssl.log as stock Zeek does, without the ja3 and ja4 fields of their packages")
    args = ap.parse_args()
    logs = tuple(x for x in args.logs.split(",") if x)
    if not logs or set(logs) - set(LOGS):
        ap.error(f"--logs takes a comma-separated subset of {','.join(LOGS)}")
    with tempfile.TemporaryDirectory(prefix="sc2-det-") as tmp:
        out = args.keep or Path(tmp) / "logs"
        d = build(args.seed)
        write(d, out, logs, fingerprints=not args.no_fingerprints)
        run = subprocess.run([sys.executable, "-m", "analyzer", "scan", str(out), "--format", "json", "-q"],
                             check=True, capture_output=True, text=True)
        r = evaluate(d.truth, json.loads(run.stdout)["findings"])
    print(f"seed {args.seed}, logs {','.join(logs)}{' (ssl.log without ja3/ja4)' if args.no_fingerprints else ''}: "
          f"{len(d.rows['conn'])} connections; found as beacons, per sleep x jitter:")
    print("sleep   " + "".join(f"  j={j:<4.0%}" for j in JITTERS))
    for s in SLEEPS:
        print(f"{s:>5} s " + "".join(f"  {r['cells'][(s, j)][0]}/{r['cells'][(s, j)][1]}   " for j in JITTERS))
    up_to_50 = [v for (s, j), v in r["cells"].items() if j <= 0.5]
    print(f"jitter <= 50 %: {sum(v[0] for v in up_to_50)}/{sum(v[1] for v in up_to_50)};"
          f" all: {sum(v[0] for v in r['cells'].values())}/{sum(v[1] for v in r['cells'].values())}")
    listed_50 = sum(1 for t in r["listed"] if t["jitter"] <= 0.5)
    print(f"listed at all (a beacon, or a contact): {len(r['listed'])}/{sum(v[1] for v in r['cells'].values())}; "
          f"jitter <= 50 %: {listed_50}/{sum(v[1] for v in up_to_50)}")
    for t, fs in r["missed"]:
        print(f"  missed: sleep {t['sleep']} s, jitter {t['jitter']:.0%} ({t['model']}, {t['activity']}, "
              f"{t['checkins']} check-ins) -> {t['host'][:40]}: {fs or 'no finding'}")
    kept, kept_missed = r["kept"], r["kept_missed"]
    kept_50 = [t for t in kept if t["jitter"] <= 0.5]
    print(f"plain-HTTP implants on kept-alive connections (sleep 10-60 s): {len(kept) - len(kept_missed)}/{len(kept)}"
          f" found as beacons; jitter <= 50 %: {len(kept_50) - sum(1 for t, _ in kept_missed if t['jitter'] <= 0.5)}"
          f"/{len(kept_50)}")
    for t, fs in kept_missed:
        print(f"  missed: kept-alive, sleep {t['sleep']} s, jitter {t['jitter']:.0%} ({t['activity']}, "
              f"{t['checkins']} check-ins) -> {t['host'][:40]}: {fs or 'no finding'}")
    campaign, campaign_missed = r["campaign"], r["campaign_missed"]
    print(f"campaigns (one implant on 3 hosts; sleep 1-30 min, jitter 20 and 50 %): "
          f"{len(campaign) - len(campaign_missed)}/{len(campaign)} hosts found as beacons")
    for t, fs in campaign_missed:
        print(f"  missed: campaign, sleep {t['sleep']} s, jitter {t['jitter']:.0%} ({t['model']}, {t['activity']}, "
              f"{t['checkins']} check-ins) -> {t['host'][:40]}: {fs or 'no finding'}")
    rot, rot_found = r["rotation"], r["rotation_found"]
    as_rotation = sum(1 for t in rot if any(f.get("rotation") for f in rot_found[t["src"]]))
    print(f"rotations (one implant over 2-5 serverless tenants, in turn or at random; sleep 1-30 min, jitter 20 "
          f"and 50 %): {sum(1 for t in rot if rot_found[t['src']])}/{len(rot)} found as beacons, {as_rotation} of "
          f"them timed across their tenants")
    for t in rot:
        if not rot_found[t["src"]]:
            fs = [(f["kind"], f["score"]) for f in r["by_src"][t["src"]]]
            print(f"  missed: rotation of {len(t['names'])} ({t['strategy']}), sleep {t['sleep']} s, jitter "
                  f"{t['jitter']:.0%} ({t['model']}, {t['activity']}, {t['checkins']} check-ins): {fs or 'no finding'}")
    if args.rita:
        _print_rita(d, r)
    print(f"lowest C2 beacon score {r['c2_lowest']}; benign hosts: {r['benign_findings']} findings, highest score "
          f"{r['benign_highest']}, beacon findings {len(r['benign_beacons'])}")


def _print_rita(d: Day, r: dict) -> None:
    rita = rita_scores(d)
    found = {(t["src"], t["host"]) for t in d.truth if t["kind"] == "c2"} - {
        (t["src"], t["host"]) for t, _ in r["missed"]}
    print("\nRITA v5 beacon score on the same channels (bench/rita_v5.py): implants at >= 0.7 ('low') / "
          ">= 0.9 ('medium'), against ours found as beacons:")
    print("sleep   " + "".join(f"  j={j:<15.0%}" for j in JITTERS))
    cells: dict = collections.defaultdict(lambda: [0, 0, 0, 0])
    for t in (t for t in d.truth if t["kind"] == "c2"):
        score = rita.get((t["src"], t["host"])) or 0.0
        c = cells[(t["sleep"], t["jitter"])]
        c[0] += (t["src"], t["host"]) in found
        c[1] += score >= 0.7
        c[2] += score >= 0.9
        c[3] += 1
    for sl in SLEEPS:
        print(f"{sl:>5} s " + "".join(f"  ours {cells[(sl, j)][0]} RITA {cells[(sl, j)][1]}/{cells[(sl, j)][2]} of "
                                      f"{cells[(sl, j)][3]}" for j in JITTERS))
    tot = [sum(c[i] for c in cells.values()) for i in range(4)]
    low = [sum(c[i] for (sl, j), c in cells.items() if j <= 0.5) for i in range(4)]
    print(f"all implants: ours {tot[0]}/{tot[3]}, RITA >= 0.7 {tot[1]}/{tot[3]}, >= 0.9 {tot[2]}/{tot[3]}; "
          f"jitter <= 50 %: ours {low[0]}/{low[3]}, RITA >= 0.7 {low[1]}/{low[3]}, >= 0.9 {low[2]}/{low[3]}")
    kept = [rita.get((t["src"], t["host"])) or 0.0 for t in d.truth if t["kind"] == "c2-keepalive"]
    print(f"kept-alive plain-HTTP implants: RITA >= 0.7: {sum(x >= 0.7 for x in kept)}/{len(kept)} (RITA leaves "
          f"multi-request HTTP connections out)")
    rot = [max(rita.get((t["src"], n)) or 0.0 for n in t["names"]) for t in d.truth if t["kind"] == "c2-rotation"]
    print(f"rotating implants (the best of their tenants' channels): RITA >= 0.7: {sum(x >= 0.7 for x in rot)}/"
          f"{len(rot)}, >= 0.9: {sum(x >= 0.9 for x in rot)}/{len(rot)}; ours: "
          f"{sum(1 for fs in r['rotation_found'].values() if fs)}/{len(rot)}")
    camp = [rita.get((t["src"], t["host"])) or 0.0 for t in d.truth if t["kind"] == "c2-campaign"]
    print(f"campaign hosts: RITA >= 0.7: {sum(x >= 0.7 for x in camp)}/{len(camp)}, >= 0.9: "
          f"{sum(x >= 0.9 for x in camp)}/{len(camp)}; ours: {len(camp) - len(r['campaign_missed'])}/{len(camp)}")
    c2 = {t["src"] for t in d.truth if t["kind"] in C2_KINDS}
    benign = [v for (src, _), v in rita.items() if src not in c2 and v is not None]
    print(f"benign channels RITA scores (of {len(benign)}): >= 0.7: {sum(v >= 0.7 for v in benign)}, >= 0.9: "
          f"{sum(v >= 0.9 for v in benign)}, highest {max(benign, default=0):.3f}; "
          f"ours: {len(r['benign_beacons'])} beacon findings")


if __name__ == "__main__":
    main()
