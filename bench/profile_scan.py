#!/usr/bin/env python3
"""Where the time of ``serverless-c2 scan FILES`` goes: each file's ingest, each narrowing batch and
each SQL stage of the scan, with wall and CPU seconds (all threads). Not a test: it prints a table.

    python bench/bench_scan.py --rows 10000000 --dir /tmp/b10m --keep --steps read   # make a day once
    python bench/profile_scan.py /tmp/b10m/*.log                  # the scan's path, 1.6GB cap
    python bench/profile_scan.py /tmp/b10m/*.log --memory-limit 8GB   # what the cap costs, per step
    python bench/profile_scan.py /tmp/b10m/*.log --json           # the same figures as JSON

It runs what the command runs (a scratch store, narrowed during its ingest, analyzer.narrow; then
analyzer.scan.run_scan with release_logs), in this process, timing the library's own functions from
outside. Each row is one call (``x3``: three calls, summed). The steps do not add up to the total:
the ingest's own work between files, the matcher and the Python of the findings are in the total only.
On a shared machine, compare profiles taken one after the other, several times: a neighbour's load
moves every figure by 10-30 %.

``spill MB``: what the process wrote during the step (Linux /proc/self/io ``wchar``), which for a scan
of plain files is DuckDB's spill to disk past the memory cap (a ``.gz`` log's temporary copy counts
too, in its ingest). Unlike the times it does not move with the machine's load: a change that makes a
stage spill less is seen here in one run, where its seconds need several alternating ones.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

import analyzer.ingest.pipeline as pipeline  # noqa: E402
import analyzer.narrow as narrow  # noqa: E402
import analyzer.scan as scan  # noqa: E402
from analyzer.store import DEFAULT_MEMORY_LIMIT, Store  # noqa: E402

Timings = "OrderedDict[str, list[float]]"


def written_mb() -> float | None:
    """Megabytes this process has written so far (``wchar``), or None where /proc/self/io is not."""
    try:
        with open("/proc/self/io") as fh:
            for line in fh:
                if line.startswith("wchar:"):
                    return int(line.split()[1]) / 1e6
    except OSError:
        pass
    return None


def _timer(steps: Timings, label: Callable[..., str], fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn``, adding its wall and CPU seconds and what it wrote to ``steps[label(*args)]`` at each call."""
    def timed(*args: Any, **kwargs: Any) -> Any:
        t, c, w = time.perf_counter(), time.process_time(), written_mb()
        try:
            return fn(*args, **kwargs)
        finally:
            row = steps.setdefault(label(*args, **kwargs), [0.0, 0.0, 0, 0.0])
            row[0] += time.perf_counter() - t
            row[1] += time.process_time() - c
            row[2] += 1
            after = written_mb()
            row[3] += after - w if after is not None and w is not None else 0.0
    return timed


def profile(paths: list[str], memory_limit: str) -> dict[str, Any]:
    """Ingest ``paths`` into a scratch store and scan it, as ``scan FILES`` does; the timings."""
    steps: Timings = OrderedDict()
    saved = (pipeline.ingest_file, narrow._run, narrow._empty_logs, scan.run_stage, scan.build_name_matches)
    pipeline.ingest_file = _timer(steps, lambda con, path, **k: f"ingest {Path(path).name}",
                                  pipeline.ingest_file)
    narrow._run = _timer(steps, lambda con, name: f"narrow {name}", narrow._run)
    narrow._empty_logs = _timer(steps, lambda con: "narrow empty the logs", narrow._empty_logs)
    scan.run_stage = _timer(steps, lambda con, name, values: f"scan {name}", scan.run_stage)
    scan.build_name_matches = _timer(steps, lambda con, options: "scan matcher", scan.build_name_matches)
    try:
        t0, c0, w0 = time.perf_counter(), time.process_time(), written_mb()
        with Store(scratch=True, memory_limit=memory_limit) as store:
            report = pipeline.ingest_paths(store, paths, after_file=lambda: narrow.narrow_when_big(store.con))
            t1, c1, w1 = time.perf_counter(), time.process_time(), written_mb()
            result = scan.run_scan(store, scan.ScanOptions(release_logs=True))
        t2, c2, w2 = time.perf_counter(), time.process_time(), written_mb()
    finally:
        (pipeline.ingest_file, narrow._run, narrow._empty_logs, scan.run_stage, scan.build_name_matches) = saved
    return {
        "memory_limit": memory_limit, "rows_loaded": report.rows_loaded, "findings": len(result.findings),
        "total_s": t2 - t0, "total_cpu_s": c2 - c0, "ingest_s": t1 - t0, "ingest_cpu_s": c1 - c0,
        "scan_s": t2 - t1, "scan_cpu_s": c2 - c1,
        **({"ingest_spill_mb": w1 - w0, "scan_spill_mb": w2 - w1, "total_spill_mb": w2 - w0}
           if None not in (w0, w1, w2) else {}),
        "steps": [{"step": k, "s": v[0], "cpu_s": v[1], "calls": v[2], "spill_mb": v[3]} for k, v in steps.items()],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", help="log files or folders, as `serverless-c2 scan` takes them")
    ap.add_argument("--memory-limit", default=DEFAULT_MEMORY_LIMIT, help=f"DuckDB's cap (default {DEFAULT_MEMORY_LIMIT})")
    ap.add_argument("--min-s", type=float, default=0.05, help="leave out steps faster than this (default 0.05 s)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = ap.parse_args()
    out = profile(args.paths, args.memory_limit)
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"{out['rows_loaded']:,} rows, {out['findings']} findings, memory limit {out['memory_limit']}")
    print(f"{'wall s':>8} {'CPU s':>8} {'spill MB':>9}  step")
    for row in out["steps"]:
        if row["s"] >= args.min_s:
            calls = f" x{row['calls']}" if row["calls"] > 1 else ""
            print(f"{row['s']:8.2f} {row['cpu_s']:8.2f} {row['spill_mb']:9.0f}  {row['step']}{calls}")
    for part in ("ingest", "scan", "total"):
        spill = out.get(part + "_spill_mb")
        print(f"{out[part + '_s']:8.2f} {out[part + '_cpu_s']:8.2f} {'' if spill is None else f'{spill:9.0f}':>9}  = {part}"
              + (" (narrowing batches included)" if part == "ingest" else ""))


if __name__ == "__main__":
    main()
