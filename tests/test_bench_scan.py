"""bench/bench_scan.py, the speed benchmark the notes and the README quote, measures what it says:
every step runs on a small day, the baseline reads every data line of the generated logs, the capped
read runs under the cap it reports, each ratio (of wall or CPU time) is the quotient of the two times it
prints, and --compare times the other checkout end to end and scan-only.
(Nothing here is timed: the timings are only checked for consistency with each other.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_scan.py"


def _data_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for line in fh if line.strip() and not line.startswith(b"#"))


def _ratio_of(ratio: float, num: float, den: float) -> None:
    """``ratio`` is num / den, each of the three as printed (rounded to 0.01)."""
    lo, hi = (num - 0.005) / (den + 0.005), (num + 0.005) / max(den - 0.005, 1e-9)
    assert lo - 0.005 <= ratio <= hi + 0.005, (ratio, num, den)


def test_small_day_every_step(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(BENCH), "--rows", "20000", "--dir", str(tmp_path), "--memory-limit", "900MB",
         "--steps", "read,read-capped,e2e,ingest,scan", "--compare", str(BENCH.parent.parent)],
        capture_output=True, text=True, check=True,
    )
    r = json.loads(out.stdout)
    logs = sorted(tmp_path.glob("*.log"))
    assert [p.name for p in logs] == ["conn.log", "dns.log", "http.log", "ssl.log"]
    assert r["rows_conn"] == _data_lines(tmp_path / "conn.log") == 20000
    # the baseline loads every data line of the four logs, and nothing else
    assert r["rows_read"] == sum(_data_lines(p) for p in logs)
    assert r["read_cap"] == r["memory_limit"] == "900MB"
    _ratio_of(r["ratio_end_to_end_vs_read"], r["scan_end_to_end_s"], r["duckdb_read_s"])
    _ratio_of(r["ratio_end_to_end_vs_read_capped"], r["scan_end_to_end_s"], r["duckdb_read_capped_s"])
    # CPU seconds are counted over the process's threads, and their ratio is theirs
    assert r["duckdb_read_cpu_s"] > 0 and r["scan_end_to_end_cpu_s"] > 0
    _ratio_of(r["ratio_cpu_end_to_end_vs_read"], r["scan_end_to_end_cpu_s"], r["duckdb_read_cpu_s"])
    # --compare (here: this same checkout) times the other version end to end and scan-only too
    _ratio_of(r["compare_ratio_end_to_end_vs_read"], r["compare_end_to_end_s"], r["duckdb_read_s"])
    assert r["compare_end_to_end_cpu_s"] > 0 and r["compare_scan_only_s"] > 0
    # what each scan wrote to disk (its spill) is reported for both versions
    assert r["scan_end_to_end_spill_mb"] >= 0 and r["compare_end_to_end_spill_mb"] >= 0
    # the planted workers.dev beacons are found end to end and from the stored DB alike, by both
    assert r["findings"] == r["scan_only_findings"] == r["compare_findings_end_to_end"] == r["compare_findings"] >= 1
    assert (tmp_path / "bench.duckdb").exists()


def test_repeat_reports_each_read_against_the_scan_after_it(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(BENCH), "--rows", "5000", "--dir", str(tmp_path), "--steps", "read,e2e", "--repeat", "3"],
        capture_output=True, text=True, check=True,
    )
    r = json.loads(out.stdout)
    reads, scans, pairs = r["duckdb_read_runs_s"], r["scan_end_to_end_runs_s"], r["ratio_end_to_end_vs_read_pairs"]
    assert len(reads) == len(scans) == len(pairs) == 3
    for ratio, read, scan in zip(pairs, reads, scans):
        _ratio_of(ratio, scan, read)
    assert r["ratio_end_to_end_vs_read_pairs_median"] == sorted(pairs)[1]
    # the headline ratio is still best against best
    _ratio_of(r["ratio_end_to_end_vs_read"], min(scans), min(reads))


def test_unknown_step_is_refused(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(BENCH), "--rows", "1000", "--dir", str(tmp_path), "--steps", "raed"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "unknown step(s): raed" in out.stderr
    assert not list(tmp_path.glob("*.log"))  # refused before generating anything


def test_dns_every_sets_how_many_dns_rows_the_day_has(tmp_path: Path) -> None:
    counts = {}
    for every in (1, 7):
        out = tmp_path / str(every)
        subprocess.run([sys.executable, str(BENCH), "--rows", "7000", "--dir", str(out), "--dns-every", str(every),
                        "--steps", "read"], capture_output=True, text=True, check=True)
        counts[every] = (_data_lines(out / "conn.log"), _data_lines(out / "dns.log"))
    assert counts[1] == (7000, 7000) and counts[7] == (7000, 1000)


def test_json_day_is_the_same_day_as_zeek_json_and_read_whole(tmp_path: Path) -> None:
    """--json measures the day as Zeek JSON logs: the same records as the TSV logs (ingested, the two
    stores hold the same rows), each file typed by DuckDB's JSON reader in one pass (the fast path),
    the baseline reading every line, and the same findings."""
    sys.path.insert(0, str(BENCH.parent))
    try:
        from bench_scan import generate, to_zeek_json
    finally:
        sys.path.remove(str(BENCH.parent))
    from analyzer.ingest import pipeline, zeek_json
    from analyzer.ingest.pipeline import ingest_paths
    from analyzer.store import Store

    tsv = generate(tmp_path, 3000, 60, seed=3)
    js = to_zeek_json(tsv, tmp_path / "json")
    assert [p.name for p in js] == [p.name for p in tsv]
    assert all(p.read_bytes()[:1] == b"{" for p in js)
    tables = {}
    for name, paths in (("tsv", tsv), ("json", js)):
        with Store() as s, pytest.MonkeyPatch.context() as mp:
            mp.setattr(pipeline, "FAST_MIN_BYTES", 0)
            read_whole = []
            fast = zeek_json.fast_read
            mp.setattr(zeek_json, "fast_read", lambda *a, **k: read_whole.append(fast(*a, **k)) or read_whole[-1])
            report = ingest_paths(s, [str(p) for p in paths])
            assert len(read_whole) == (4 if name == "json" else 0) and None not in read_whole
            assert [f.lines_rejected for f in report.files] == [0, 0, 0, 0]
            tables[name] = {t: s.con.execute(f"SELECT * EXCLUDE (line, file_id) FROM {t} ORDER BY ALL").fetchall()
                            for t in ("conn", "dns", "tls", "http")}
    assert tables["tsv"] == tables["json"] and len(tables["json"]["conn"]) == 3000
    out = subprocess.run([sys.executable, str(BENCH), "--rows", "20000", "--dir", str(tmp_path / "day"), "--json",
                          "--steps", "read,e2e"], capture_output=True, text=True, check=True)
    r = json.loads(out.stdout)
    jlogs = sorted((tmp_path / "day" / "json").glob("*.log"))
    assert [p.name for p in jlogs] == ["conn.log", "dns.log", "http.log", "ssl.log"]
    assert r["rows_read"] == sum(_data_lines(p) for p in jlogs) and r["findings"] >= 1
    _ratio_of(r["ratio_end_to_end_vs_read"], r["scan_end_to_end_s"], r["duckdb_read_s"])


def test_profile_times_every_file_and_stage_of_the_scan(tmp_path: Path) -> None:
    """bench/profile_scan.py runs the scan's own path: one row per file ingested, per narrowing file and
    per scan stage run; the steps fit in the total, and it finds what the command finds."""
    subprocess.run([sys.executable, str(BENCH), "--rows", "30000", "--dir", str(tmp_path), "--steps", "read"],
                   capture_output=True, text=True, check=True)
    logs = [str(p) for p in sorted(tmp_path.glob("*.log"))]
    out = subprocess.run([sys.executable, str(BENCH.parent / "profile_scan.py"), *logs, "--json"],
                         capture_output=True, text=True, check=True)
    r = json.loads(out.stdout)
    steps = {s["step"]: s for s in r["steps"]}
    assert {f"ingest {Path(p).name}" for p in logs} <= set(steps)
    from analyzer.scan import scoring_stages

    assert {f"scan {name}" for name in scoring_stages()} <= set(steps)
    assert "narrow 05_narrow_1_batch" in steps  # a day this small is narrowed once, before the scan
    assert sum(s["s"] for s in r["steps"]) <= r["total_s"] and r["ingest_s"] + r["scan_s"] <= r["total_s"] + 1e-6
    # what each step wrote (the spill past the memory cap): never negative, and where the system says
    # (Linux /proc/self/io) counted inside the total of the ingest and the scan
    assert all(s["spill_mb"] >= 0 for s in r["steps"])
    if Path("/proc/self/io").exists():
        assert sum(s["spill_mb"] for s in r["steps"]) <= r["total_spill_mb"] + 1e-6
        assert r["ingest_spill_mb"] + r["scan_spill_mb"] == pytest.approx(r["total_spill_mb"])
    cli = subprocess.run([sys.executable, "-m", "analyzer", "scan", *logs, "--format", "json", "-q"],
                         capture_output=True, text=True, check=True)
    assert r["findings"] == len(json.loads(cli.stdout)["findings"]) >= 1
