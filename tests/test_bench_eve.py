"""bench/bench_eve.py, the eve.json speed benchmark the notes and the README quote, measures what it
says: the file holds ``--copies`` separate networks (no flow_id or internal address shared between
copies), DuckDB's read loads every event of it, the scan finds each network's beacons, and each ratio is
the quotient of the two times it prints. (Nothing here is timed.)"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_eve.py"


def _run(*args: str) -> dict:
    out = subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_copies_are_separate_networks_read_and_scanned_whole(tmp_path: Path) -> None:
    one = _run("--copies", "1", "--dir", str(tmp_path / "one"))
    two = _run("--copies", "2", "--dir", str(tmp_path / "two"), "--repeat", "2",
               "--compare", str(BENCH.parent.parent))
    lines = (tmp_path / "two" / "eve.json").read_text().splitlines()
    assert two["events"] == len(lines) == 2 * one["events"] > 0
    flow_ids = {}
    for line in lines:
        e = json.loads(line)
        if e["event_type"] == "flow":
            assert e["flow_id"] not in flow_ids, "a flow_id repeats"
            flow_ids[e["flow_id"]] = e["src_ip"].split(".")[0]
    assert set(flow_ids.values()) == {"100", "101"}            # copy i's internal hosts are (100 + i).x.y.z
    assert not any(re.search(r'"(src|dest)_ip":"10\.', line) for line in lines)
    # each network is scanned as the one network is: twice its findings, none lost or merged
    assert one["findings"] > 0 and two["findings"] == 2 * one["findings"] == two["compare_findings"]
    assert len(two["read_runs_s"]) == len(two["scan_runs_s"]) == 2
    for r in (one, two):
        for kind in ("", "cpu_"):
            ratio = r[f"ratio_{kind}end_to_end_vs_read"]
            num, den = r[f"scan_end_to_end_{kind}s"], r[f"duckdb_read_json_{kind}s"]
            # each of the three is printed rounded to 0.01: the ratio lies between the quotients of
            # the times' rounding bounds
            lo, hi = (num - 0.005) / (den + 0.005), (num + 0.005) / max(den - 0.005, 1e-9)
            assert lo - 0.005 <= ratio <= hi + 0.005, (ratio, num, den)


def test_copies_out_of_range_are_refused(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(BENCH), "--copies", "156", "--dir", str(tmp_path)],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "--copies must be 1-155" in out.stderr
    assert not (tmp_path / "eve.json").exists()
