"""Ingest speed: ``ingest_paths`` vs a raw DuckDB ``read_csv`` of the same file (the floor).

Generates a synthetic Zeek dns.log (TSV) and the same rows as Zeek JSON, then times, each in a
fresh process with a fresh in-memory store (so peak RSS is that step's own, from /proc VmHWM):
  * raw:    CREATE TABLE AS SELECT * FROM read_csv(typed columns, quote='', escape='')  (recipe A)
  * ingest: analyzer.ingest.ingest_paths (line accounting, escapes, rejects, fingerprint)
The steps are interleaved per repeat, so a busy machine slows all of them alike; compare ratios.
Usage: python bench/bench_ingest.py [ROWS] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from analyzer.ingest import ingest_paths
from analyzer.store import Store

FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "trans_id", "rtt", "query",
          "qclass", "qclass_name", "qtype", "qtype_name", "rcode", "rcode_name", "AA", "TC", "RD", "RA", "Z",
          "answers", "TTLs", "rejected"]
TYPES = ["time", "string", "addr", "port", "addr", "port", "enum", "count", "interval", "string", "count", "string",
         "count", "string", "count", "string", "bool", "bool", "bool", "bool", "count", "vector[string]",
         "vector[interval]", "bool"]
DUCK = {"time": "DOUBLE", "port": "INTEGER", "count": "BIGINT", "interval": "DOUBLE", "bool": "VARCHAR"}


def generate(n: int, tsv: Path, js: Path) -> None:
    rnd = random.Random(7)
    t0 = 1795770000.0
    with tsv.open("w") as ft, js.open("w") as fj:
        ft.write("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
                 "#open\t2026-11-27-09-00-00\n#fields\t" + "\t".join(FIELDS) + "\n#types\t" + "\t".join(TYPES) + "\n")
        for i in range(n):
            ts = t0 + i * 0.05
            q = f"h{rnd.randrange(50000)}.example{rnd.randrange(100)}.com"
            a = f"10.{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(256)}"
            ft.write(f"{ts:.6f}\tC{i:017d}\t10.0.{i % 250}.{i % 200}\t{40000 + i % 20000}\t10.0.0.53\t53\tudp\t{i % 65536}"
                     f"\t0.010000\t{q}\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t{a}\t300.000000\tF\n")
            fj.write(json.dumps({"ts": round(ts, 6), "uid": f"C{i:017d}", "id.orig_h": f"10.0.{i % 250}.{i % 200}",
                                 "id.orig_p": 40000 + i % 20000, "id.resp_h": "10.0.0.53", "id.resp_p": 53,
                                 "proto": "udp", "trans_id": i % 65536, "rtt": 0.01, "query": q, "qclass": 1,
                                 "qclass_name": "C_INTERNET", "qtype": 1, "qtype_name": "A", "rcode": 0,
                                 "rcode_name": "NOERROR", "AA": False, "TC": False, "RD": True, "RA": True, "Z": 0,
                                 "answers": [a], "TTLs": [300.0], "rejected": False}) + "\n")
        ft.write("#close\t2026-11-27-10-00-00\n")


def raw_read(path: Path) -> float:
    cols = {f: DUCK.get(t, "VARCHAR") for f, t in zip(FIELDS, TYPES)}
    con = duckdb.connect()
    t = time.perf_counter()
    con.execute(
        "CREATE TABLE d AS SELECT * FROM read_csv(?, delim='\t', quote='', escape='', header=false, "
        "columns=?, nullstr='-', auto_detect=false, ignore_errors=true)", [str(path), cols],
    )
    dt = time.perf_counter() - t
    con.close()
    return dt


def ingest(path: Path) -> tuple[float, int]:
    with Store() as s:
        t = time.perf_counter()
        r = ingest_paths(s, [path])
        return time.perf_counter() - t, r.rows_loaded


def peak_rss_mib() -> float:
    """This process's peak RSS (VmHWM: ru_maxrss would carry the parent's across fork+exec)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step(kind: str, path: Path) -> None:
    """One measurement, in this (child) process: prints ``seconds rows peak_rss_mib``."""
    if kind == "raw":
        t, n = raw_read(path), -1
    else:
        t, n = ingest(path)
    print(f"{t} {n} {peak_rss_mib()}")


def measure(kind: str, path: Path) -> tuple[float, int, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--step", kind, str(path)], check=True, capture_output=True, text=True
    ).stdout.split()
    return float(out[-3]), int(out[-2]), float(out[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("rows", nargs="?", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--step", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.step:
        step(args.step[0], Path(args.step[1]))
        return
    with tempfile.TemporaryDirectory() as d:
        tsv, js = Path(d) / "dns.log", Path(d) / "dns.json.log"
        generate(args.rows, tsv, js)
        print(f"{args.rows} rows: TSV {tsv.stat().st_size / 2**20:.0f} MiB, JSON {js.stat().st_size / 2**20:.0f} MiB")
        plan = {"raw read_csv (TSV)": ("raw", tsv), "ingest_paths (TSV)": ("ingest", tsv),
                "ingest_paths (JSON)": ("ingest", js)}
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in plan}
        for _ in range(args.repeat):
            for name, (kind, path) in plan.items():
                t, n, rss = measure(kind, path)
                if kind == "ingest":
                    assert n == args.rows, n
                runs[name].append((t, rss))
        base = statistics.median(t for t, _ in runs["raw read_csv (TSV)"])
        for name, rs in runs.items():
            med = statistics.median(t for t, _ in rs)
            rss = max(m for _, m in rs)
            print(f"{name:22s} median {med:6.2f} s  ({med / base:4.2f}x raw)  peak RSS {rss:5.0f} MiB  "
                  f"runs {' '.join(f'{t:.2f}' for t, _ in rs)}")


if __name__ == "__main__":
    main()
