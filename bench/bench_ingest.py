"""Ingest speed: ``ingest_paths`` vs a raw DuckDB ``read_csv`` of the same file (the floor).

Generates a synthetic Zeek dns.log (TSV) and the same rows as Zeek JSON, then times, each in a
fresh in-memory store:
  * raw:    CREATE TABLE AS SELECT * FROM read_csv(typed columns, quote='', escape='')  (recipe A)
  * ingest: analyzer.ingest.ingest_paths (line accounting, escapes, rejects, fingerprint)
Usage: python bench/bench_ingest.py [ROWS] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("rows", nargs="?", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tsv, js = Path(d) / "dns.log", Path(d) / "dns.json.log"
        generate(args.rows, tsv, js)
        print(f"{args.rows} rows: TSV {tsv.stat().st_size / 2**20:.0f} MiB, JSON {js.stat().st_size / 2**20:.0f} MiB")
        runs: dict[str, list[float]] = {"raw read_csv (TSV)": [], "ingest_paths (TSV)": [], "ingest_paths (JSON)": []}
        for _ in range(args.repeat):
            runs["raw read_csv (TSV)"].append(raw_read(tsv))
            t, n = ingest(tsv)
            assert n == args.rows, n
            runs["ingest_paths (TSV)"].append(t)
            t, n = ingest(js)
            assert n == args.rows, n
            runs["ingest_paths (JSON)"].append(t)
        base = statistics.median(runs["raw read_csv (TSV)"])
        for name, ts in runs.items():
            med = statistics.median(ts)
            print(f"{name:22s} median {med:6.2f} s  ({med / base:4.1f}x raw)  runs {' '.join(f'{x:.2f}' for x in ts)}")


if __name__ == "__main__":
    main()
