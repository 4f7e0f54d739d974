#!/usr/bin/env python3
"""Suricata eve.json: ``serverless-c2 scan eve.json`` end to end against DuckDB merely reading the
same file (``read_json``, every field, into a table), each in a fresh process, measured in one run.

The day is the demo scenario's eve.json (flow, tls and dns events, as ``analyzer.simulate`` writes
them for Suricata 7), repeated ``--copies`` times as that many separate networks: each copy's
flow_ids and internal addresses are its own, so no copy repeats another's flows (a plain ``cat`` of
one file would make every flow_id appear once per copy, and join with itself). Not a test: it prints
JSON.

    python bench/bench_eve.py --copies 20 --repeat 2          # 545 MB, 1.2M events
    python bench/bench_eve.py --copies 80 --dir /tmp/eve80    # 2.2 GB, 4.7M events
    python bench/bench_eve.py --copies 20 --compare /tmp/old  # and another checkout, in the same run
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))            # bench_scan's helpers
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))     # run from a checkout

from bench_scan import RUN_CLI, measure  # noqa: E402

READ_JSON = r"""
import json, sys, time
PEAK_RSS
import duckdb
t, c = time.perf_counter(), cpu_s()
con = duckdb.connect()
con.execute("CREATE TABLE t AS SELECT * FROM read_json(?, format='newline_delimited', union_by_name=true)",
            [sys.argv[1]])
rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
print(json.dumps({"s": time.perf_counter() - t, "cpu_s": cpu_s() - c, "rss_mb": peak_rss_mb(), "rows": rows}))
"""

_FLOW_ID = re.compile(r'"flow_id":(\d+)')


def generate(path: Path, copies: int, seed: int) -> int:
    """Write ``copies`` networks' eve.json into ``path``; returns its size in bytes."""
    from analyzer.simulate import build_scenario, write_logs

    with tempfile.TemporaryDirectory(prefix="sc2-eve-") as tmp:
        (one,) = write_logs(build_scenario("demo", seed=seed), tmp, fmt="eve")
        text = one.read_text(encoding="utf-8")
    with path.open("w", encoding="utf-8") as out:
        for i in range(copies):
            # copy i: flow_ids shifted past every other copy's, 10.x.y.z -> (100 + i).x.y.z
            part = _FLOW_ID.sub(lambda m: f'"flow_id":{int(m.group(1)) + i * 10**14}', text)
            for key in ("src_ip", "dest_ip"):
                part = part.replace(f'"{key}":"10.', f'"{key}":"{100 + i}.')
            out.write(part)
    return path.stat().st_size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", type=int, default=20, help="networks in the file (default 20: 545 MB)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=1, help="alternating runs; each keeps its fastest")
    ap.add_argument("--dir", type=Path, default=None, help="where to write eve.json (default: a temp dir)")
    ap.add_argument("--reuse", action="store_true", help="with --dir: reuse the eve.json already there")
    ap.add_argument("--compare", type=Path, default=None, metavar="DIR",
                    help="also time the analyzer in DIR (a checkout holding analyzer/ and sql/)")
    args = ap.parse_args()
    if not 1 <= args.copies <= 155:
        ap.error("--copies must be 1-155 (copy i uses the addresses (100 + i).x.y.z)")
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="sc2-bench-eve-"))
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "eve.json"
    if not (args.reuse and path.exists()):
        generate(path, args.copies, args.seed)
    reads, scans, others = [], [], []
    cli = ["scan", str(path), "--format", "json", "-q"]
    for _ in range(args.repeat):
        reads.append(measure(READ_JSON, [str(path)]))
        scans.append(measure(RUN_CLI, cli))
        if args.compare is not None:
            others.append(measure(RUN_CLI, cli, args.compare))
    read = min(reads, key=lambda r: r["s"])
    scan = min(scans, key=lambda r: r["s"])
    result = {
        "eve_mib": round(path.stat().st_size / 2**20, 1), "events": read["rows"],
        "duckdb_read_json_s": round(read["s"], 2), "duckdb_read_json_cpu_s": round(read["cpu_s"], 2),
        "duckdb_read_json_rss_mb": round(read["rss_mb"]),
        "scan_end_to_end_s": round(scan["s"], 2), "scan_end_to_end_cpu_s": round(scan["cpu_s"], 2),
        "scan_end_to_end_rss_mb": round(scan["rss_mb"]), "findings": scan["findings"],
        "ratio_end_to_end_vs_read": round(scan["s"] / read["s"], 2),
        "ratio_cpu_end_to_end_vs_read": round(scan["cpu_s"] / read["cpu_s"], 2),
    }
    if args.repeat > 1:
        result["read_runs_s"] = [round(r["s"], 2) for r in reads]
        result["scan_runs_s"] = [round(r["s"], 2) for r in scans]
    if others:
        other = min(others, key=lambda r: r["s"])
        result.update(compare_end_to_end_s=round(other["s"], 2), compare_end_to_end_cpu_s=round(other["cpu_s"], 2),
                      compare_findings=other["findings"],
                      compare_ratio_end_to_end_vs_read=round(other["s"] / read["s"], 2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
