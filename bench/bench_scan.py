"""Benchmark: ``serverless-c2 scan`` end to end on a synthetic day of Zeek logs.

    python bench/bench_scan.py --rows 1000000            # 1 M conn rows (+ matching ssl/http/dns)
    python bench/bench_scan.py --rows 1000000 --repeat 3 # read and e2e 3 times each, alternating: best of each
    python bench/bench_scan.py --rows 10000000 --dir /tmp/b10m        # the 10 M target; files kept in /tmp/b10m
    python bench/bench_scan.py --rows 10000000 --dir /tmp/b10m --reuse --steps read,scan
                                                        # again, reusing those logs and their stored DB
    python bench/bench_scan.py ... --compare /tmp/old    # also time e2e and scan-only with the analyzer in /tmp/old
    python bench/bench_scan.py --rows 1000000 --hourly-gz  # the same day as Zeek archives it: 24 hourly .gz per log
    python bench/bench_scan.py --rows 10000000 --dir /tmp/b10m --reuse --memory-limit 8GB  # what memory buys
    python bench/bench_scan.py --rows 10000000 --dir /tmp/b10m --reuse --json  # the same day as Zeek JSON logs

What it does, in one run:

1. Generates a day of Zeek TSV logs with DuckDB (seconds, not minutes, unlike the Python scenario
   generator): ``--rows`` conn rows over ``--channels`` channels (70 % TLS with an ssl row, 10 % HTTP
   with an http row, the rest unnamed), one dns row per ~7 connections (``--dns-every N``), plus a few
   jittery serverless beacons. Real Zeek headers (``#fields``/``#types``), 6-decimal epochs, ``-`` for unset.
2. Baseline: DuckDB *merely reading* the same files (``read_csv`` of every column into a table, as
   ``CREATE TABLE``), in a fresh process. With ``--hourly-gz`` the day is first split into 24 hourly
   gzip files per log, as Zeek's log archive holds it, and both sides read those. With ``--json`` the
   day is written as Zeek JSON logs instead (``LogAscii::use_json``, as Security Onion and Corelight
   sensors keep them), and the baseline is DuckDB's ``read_json`` of each file, its types detected.
3. ``serverless-c2 scan FILES --format json`` (ingest into memory + scan), in a fresh process;
   then ingest into a file store and ``scan --db`` separately, to split the two costs.
4. Prints wall time, CPU time (user + system, all threads) and peak RSS of each, and the ratio scan /
   baseline of both times. Each measurement is its own process, so peak RSS is that step's alone.
   On a shared machine the CPU ratio is the steadier one: a neighbour's load stretches wall time
   (and the read most, as it keeps both cores busiest) far more than it changes CPU seconds.
   ``scan_end_to_end_spill_mb``: what the scan wrote to disk (Linux ``wchar``), which for plain files
   is DuckDB's spill past its memory cap: it does not move with the load, and says whether a change
   made the day fit better under the cap.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from analyzer.store import DEFAULT_MEMORY_LIMIT

DAY_START = 1_795_651_200.0  # 2026-11-26T00:00:00Z

CONN_FIELDS = [("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"),
               ("id.resp_h", "addr"), ("id.resp_p", "port"), ("proto", "enum"), ("service", "string"),
               ("duration", "interval"), ("orig_bytes", "count"), ("resp_bytes", "count"),
               ("conn_state", "string"), ("local_orig", "bool"), ("local_resp", "bool"), ("missed_bytes", "count"),
               ("history", "string"), ("orig_pkts", "count"), ("orig_ip_bytes", "count"), ("resp_pkts", "count"),
               ("resp_ip_bytes", "count"), ("tunnel_parents", "set[string]")]
SSL_FIELDS = [("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"),
              ("id.resp_h", "addr"), ("id.resp_p", "port"), ("version", "string"), ("cipher", "string"),
              ("server_name", "string"), ("established", "bool"), ("ja3", "string"), ("ja4", "string")]
HTTP_FIELDS = [("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"),
               ("id.resp_h", "addr"), ("id.resp_p", "port"), ("trans_depth", "count"), ("method", "string"),
               ("host", "string"), ("uri", "string"), ("user_agent", "string"), ("request_body_len", "count"),
               ("response_body_len", "count"), ("status_code", "count")]
DNS_FIELDS = [("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"),
              ("id.resp_h", "addr"), ("id.resp_p", "port"), ("proto", "enum"), ("trans_id", "count"),
              ("query", "string"), ("qtype", "count"), ("qtype_name", "string"), ("rcode", "count"),
              ("rcode_name", "string"), ("answers", "vector[string]"), ("TTLs", "vector[interval]")]

# One query per log: the columns in #fields order. `c` is the generated connection table.
SELECTS = {
    "conn": """SELECT printf('%.6f', ts), uid, src, sport, dst, dport, 'tcp', svc, printf('%.6f', dur),
                      ob, rb, 'SF', 'T', 'F', 0, 'ShADadFf', 6, ob + 320, 6, rb + 320, '(empty)' FROM c""",
    "ssl": """SELECT printf('%.6f', ts + 0.01), uid, src, sport, dst, dport, 'TLSv13', 'TLS_AES_128_GCM_SHA256',
                     name, 'T', ja3, ja4 FROM c WHERE svc = 'ssl'""",
    "http": """SELECT printf('%.6f', ts + 0.01), uid, src, sport, dst, dport, 1, 'GET', name, '/poll', ua,
                      0, rb, 200 FROM c WHERE svc = 'http'""",
    "dns": """SELECT printf('%.6f', ts - 0.02), 'D' || uid, src, sport, '10.0.0.53', 53, 'udp', sport % 65536,
                     coalesce(name, 'unnamed.example.com'), 1, 'A', 0, 'NOERROR', dst, '300.000000'
              FROM c WHERE k % $dns_every = 0""",
}
FIELDS = {"conn": CONN_FIELDS, "ssl": SSL_FIELDS, "http": HTTP_FIELDS, "dns": DNS_FIELDS}


def split_hourly_gz(paths: list[Path], outdir: Path) -> list[Path]:
    """Split each log into the 24 hourly gzip files Zeek's log archive holds
    (``conn.00:00:00-01:00:00.log.gz`` ...), each with the file's header and a ``#close`` line; rows go
    by the hour of their ts. Level 1 (fast to write; reading costs about the same at any level)."""
    outdir.mkdir(parents=True, exist_ok=True)
    out: list[Path] = []
    for path in paths:
        log = path.name.split(".")[0]
        with path.open("rb") as fh:
            header = [next(fh) for _ in range(8)]
            hours: dict[int, gzip.GzipFile] = {}
            for line in fh:
                if line.startswith(b"#"):
                    continue
                hour = int((float(line.split(b"\t", 1)[0]) - DAY_START) // 3600)
                hour = min(23, max(0, hour))
                if hour not in hours:
                    name = outdir / f"{log}.{hour:02d}:00:00-{hour + 1:02d}:00:00.log.gz"
                    hours[hour] = gzip.open(name, "wb", compresslevel=1)
                    hours[hour].writelines(header)
                    out.append(name)
                hours[hour].write(line)
            for gz in hours.values():
                gz.write(b"#close\t2026-11-27-00-00-00\n")
                gz.close()
    return sorted(out)


def generate(outdir: Path, rows: int, channels: int, seed: int, dns_every: int = 7) -> list[Path]:
    """Write conn/ssl/http/dns.log for ``rows`` connections, a dns row for every ``dns_every``-th.
    Returns the paths."""
    outdir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("SELECT setseed(?)", [seed / 1000])
    # Channel k: host k % 4000, destination k % (channels/ 4000 ...), fingerprint by kind. Times uniform
    # over the day (Poisson-like background); channels 0..9 are jittery 60 s beacons to workers.dev.
    con.execute("""
        CREATE TABLE c AS
        WITH base AS (
            SELECT i AS k, i % $channels AS ch FROM range($rows) t(i)
        )
        SELECT k, ch,
               CASE WHEN ch < 10 THEN $start + (k // $channels) * 60 + 25 * random()
                    ELSE $start + random() * 86400 END AS ts,
               'C' || md5(CAST(k AS VARCHAR))[1:17] AS uid,
               '10.' || (ch % 4000 // 250) || '.' || (ch % 250) || '.' || (ch % 7 + 10) AS src,
               40000 + k % 20000 AS sport,
               '104.21.' || (ch % 200) || '.' || (ch % 251) AS dst,
               CASE WHEN ch % 10 < 7 THEN 443 ELSE 80 END AS dport,
               CASE WHEN ch % 10 < 7 THEN 'ssl' WHEN ch % 10 < 8 THEN 'http' ELSE NULL END AS svc,
               CASE WHEN ch < 10 THEN 'w' || ch || '.bench-acct.workers.dev'
                    WHEN ch % 10 < 8 THEN 'site' || (ch // 10 % 20000) || '.example' || (ch % 13) || '.com'
                    ELSE NULL END AS name,
               CASE WHEN ch % 3 = 0 THEN 't13d1812h1_85036bcba153_375ca2c5e164'
                    ELSE 't13d1516h2_8daaf6152771_02713d6af862' END AS ja4,
               CASE WHEN ch % 3 = 0 THEN 'a48c0d5f95b1ef98f560f324fd275da1'
                    ELSE 'cd08e31494f9531f560d64c695473da9' END AS ja3,
               CASE WHEN ch % 3 = 0 THEN 'python-requests/2.32.3'
                    ELSE 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0 Safari/537.36' END AS ua,
               0.05 + random() AS dur,
               CAST(300 + random() * 200 AS BIGINT) AS ob,
               CAST(500 + random() * 5000 AS BIGINT) AS rb
        FROM base
        ORDER BY ts
    """, {"rows": rows, "channels": channels, "start": DAY_START})
    paths = []
    for log, select in SELECTS.items():
        path = outdir / f"{log}.log"
        body = outdir / f".{log}.body"
        select = select.replace("$dns_every", str(int(dns_every)))  # an int of ours (COPY binds none)
        con.execute(f"COPY ({select}) TO '{body}' (FORMAT csv, DELIMITER '\t', HEADER false, QUOTE '')")
        with path.open("wb") as out:
            head = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-",
                    f"#path\t{log}", "#open\t2026-11-26-00-00-00",
                    "#fields\t" + "\t".join(n for n, _ in FIELDS[log]),
                    "#types\t" + "\t".join(t for _, t in FIELDS[log])]
            out.write(("\n".join(head) + "\n").encode())
            with body.open("rb") as b:
                shutil.copyfileobj(b, out, 1 << 22)
            out.write(b"#close\t2026-11-27-00-00-00\n")
        body.unlink()
        paths.append(path)
    con.close()
    return paths



#: DuckDB's type for each Zeek field type the logs hold (any other is read as text): the baseline's
#: typed read, and the JSON day's numbers
ZEEK_TYPES = {"time": "DOUBLE", "interval": "DOUBLE", "double": "DOUBLE", "count": "UBIGINT", "int": "BIGINT",
              "port": "UINTEGER", "bool": "BOOLEAN"}


def to_zeek_json(paths: list[Path], outdir: Path) -> list[Path]:
    """Write each Zeek TSV log as the Zeek JSON log of the same records (one object per line, Zeek's
    dotted field names, numbers as numbers, epoch ``ts``, sets and vectors as arrays). Unset fields are
    written as null, where Zeek leaves them out: a reader takes both as unset."""
    outdir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    out = []
    for path in paths:
        log = path.name.split(".")[0]
        fields = FIELDS[log]
        cols = {n: "VARCHAR" if t.startswith(("set", "vector")) else ZEEK_TYPES.get(t, "VARCHAR") for n, t in fields}
        select = []
        for n, t in fields:  # field names and types are constants of this file
            q = f'"{n}"'
            if t.startswith(("set", "vector")):
                elem = "DOUBLE" if t == "vector[interval]" else "VARCHAR"
                select.append(f"CASE WHEN {q} = '(empty)' THEN []::{elem}[] "
                              f"ELSE CAST(string_split({q}, ',') AS {elem}[]) END AS {q}")
            else:
                select.append(q)
        target = outdir / f"{log}.log"
        con.execute(f"COPY (SELECT {', '.join(select)} FROM read_csv(?, delim='\t', header=false, quote='', "
                    "escape='', skip=8, nullstr='-', columns=?, ignore_errors=true, auto_detect=false)) "
                    f"TO '{target}' (FORMAT json)", [str(path), cols])
        out.append(target)
    con.close()
    return out

BASELINE = r"""
import duckdb, gzip, json, os, sys, time
PEAK_RSS
ZEEK = ZEEK_TYPES
t, c = time.perf_counter(), cpu_s()
con = duckdb.connect()
if os.environ.get("SC2_READ_CAP"):  # step read-capped: under the scan's memory cap, spilling like it
    con.execute("SET memory_limit = ?", [os.environ["SC2_READ_CAP"]])
    con.execute("SET temp_directory = ?", [os.environ["SC2_READ_TMP"]])
for i, p in enumerate(sys.argv[1:]):
    with open(p, "rb") as fh:
        if fh.read(1) == b"{":  # a Zeek JSON log (--json): DuckDB's JSON reader, its types detected
            con.execute(f"CREATE TABLE t{i} AS SELECT * FROM read_json(?, format='newline_delimited')", [p])
            continue
    with (gzip.open(p, "rt", encoding="utf-8") if p.endswith(".gz") else open(p, encoding="utf-8")) as fh:
        head = [next(fh) for _ in range(8)]
    names = head[6].rstrip("\n").split("\t")[1:]
    types = head[7].rstrip("\n").split("\t")[1:]
    cols = {n: ZEEK.get(t, "VARCHAR") for n, t in zip(names, types)}
    # typed read of every column (recipe A); ignore_errors only drops the trailing #close line
    con.execute(f"CREATE TABLE t{i} AS SELECT * FROM read_csv(?, delim='\t', header=false, quote='', escape='',"
                " skip=8, nullstr='-', columns=?, ignore_errors=true, auto_detect=false)", [p, cols])
rows = sum(con.execute(f"SELECT count(*) FROM t{i}").fetchone()[0] for i in range(len(sys.argv) - 1))
print(json.dumps({"s": time.perf_counter() - t, "cpu_s": cpu_s() - c, "rss_mb": peak_rss_mb(), "rows": rows}))
"""

RUN_CLI = r"""
import json, sys, time
PEAK_RSS
from click.testing import CliRunner
from analyzer.cli import cli
t, c, w = time.perf_counter(), cpu_s(), written_mb()
r = CliRunner().invoke(cli, sys.argv[1:])
elapsed, cpu, spill = time.perf_counter() - t, cpu_s() - c, written_mb() - w
if r.exit_code != 0:
    print(r.output, r.stderr if hasattr(r, "stderr") else "", file=sys.stderr)
    raise SystemExit(r.exit_code)
out = r.stdout
findings = len(json.loads(out)["findings"]) if out.startswith("{") else None
print(json.dumps({"s": elapsed, "cpu_s": cpu, "rss_mb": peak_rss_mb(), "findings": findings, "spill_mb": spill}))
"""


# Peak RSS of the measuring process itself. Not ru_maxrss: Linux carries the high-water mark of the
# parent (which generated the data with DuckDB) across fork+exec; /proc VmHWM belongs to the new image.
PEAK_RSS = """
def peak_rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def cpu_s():  # CPU seconds of the process, all its threads (DuckDB's included), user + system
    import resource
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

def written_mb():  # MB the process wrote so far: for a scan of plain files, DuckDB's spill past its cap
    try:
        for line in open("/proc/self/io"):
            if line.startswith("wchar:"):
                return int(line.split()[1]) / 1e6
    except OSError:
        pass
    return 0.0
"""


def measure(code: str, args: list[str], code_dir: Path | None = None, extra_env: dict | None = None) -> dict:
    """Run ``code`` in a fresh interpreter; ``code_dir`` (a checkout holding analyzer/ and sql/) is put
    first on the import path, to time another version of the analyzer in the same run."""
    code = code.replace("PEAK_RSS", PEAK_RSS).replace("ZEEK_TYPES", repr(ZEEK_TYPES))
    env = {**os.environ, **(extra_env or {})}
    if code_dir is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code_dir), os.environ.get("PYTHONPATH")]))
    # -P: not the current directory first on the path, or a run from a checkout would import that
    # checkout's analyzer whatever code_dir says.
    proc = subprocess.run([sys.executable, "-P", "-c", code, *args], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"step failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


STEPS = ("read", "e2e", "ingest", "scan")
#: steps run only when asked for
EXTRA_STEPS = ("read-capped",)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000, help="conn rows (default 10 M)")
    ap.add_argument("--channels", type=int, default=0, help="distinct channels (default rows / 100)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dns-every", type=int, default=7, metavar="N",
                    help="a dns.log row for every N-th connection (default 7; 1: as many DNS queries as "
                         "connections, as a network that does not cache much logs)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run read and e2e this many times, alternating, and keep each one's fastest (default 1); "
                         "also the ratio of each read to the scan run after it, and their median")
    ap.add_argument("--dir", type=Path, default=None, help="where to write the logs (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the generated logs")
    ap.add_argument("--reuse", action="store_true",
                    help="with --dir: reuse logs (and bench.duckdb) already there instead of regenerating")
    ap.add_argument("--steps", default=",".join(STEPS),
                    help=f"comma-separated subset of {','.join(STEPS)} (scan needs the stored DB of ingest), "
                         "plus read-capped: the same read under the scan's memory cap (--memory-limit, else "
                         "the tool's default), spilling to a temporary folder as the scan does")
    ap.add_argument("--hourly-gz", action="store_true",
                    help="measure the day as 24 hourly .gz files per log (Zeek's archive layout) instead of 4 files")
    ap.add_argument("--json", action="store_true",
                    help="measure the day as Zeek JSON logs (written once beside the TSV ones, in json/) instead")
    ap.add_argument("--memory-limit", default=None, metavar="SIZE",
                    help="pass --memory-limit SIZE to scan (e2e and scan-only; default: the tool's own 1.6GB), "
                         "to measure what memory buys")
    ap.add_argument("--compare", type=Path, default=None, metavar="DIR",
                    help="also time e2e and scan-only with the analyzer in DIR (e.g. `git archive HEAD analyzer sql | "
                         "tar -x -C DIR`), in the same run, for a before/after ratio on a noisy machine")
    args = ap.parse_args()
    channels = args.channels or max(100, args.rows // 100)
    steps = [x.strip() for x in args.steps.split(",") if x.strip()]
    if unknown := set(steps) - set(STEPS) - set(EXTRA_STEPS):
        ap.error(f"unknown step(s): {', '.join(sorted(unknown))}")
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="sc2-bench-"))
    try:
        paths = [workdir / f"{log}.log" for log in SELECTS]
        db = workdir / "bench.duckdb"
        if args.reuse and all(p.exists() for p in paths):
            print(f"reusing the logs in {workdir}", file=sys.stderr)
        else:
            t = time.perf_counter()
            db.unlink(missing_ok=True)
            paths = generate(workdir, args.rows, channels, args.seed, args.dns_every)
            print(f"generated {args.rows:,} conn rows, {channels:,} channels in {time.perf_counter() - t:.1f} s "
                  f"-> {workdir}", file=sys.stderr)
        if args.json and args.hourly_gz:
            ap.error("--json and --hourly-gz: one layout at a time")
        if args.json:
            jdir = workdir / "json"
            if not (args.reuse and all((jdir / p.name).exists() for p in paths)):
                t = time.perf_counter()
                to_zeek_json(paths, jdir)
                print(f"wrote the day as Zeek JSON in {time.perf_counter() - t:.1f} s -> {jdir}", file=sys.stderr)
            paths = [jdir / p.name for p in paths]
            db = workdir / "bench-json.duckdb"
        if args.hourly_gz:
            hourly = workdir / "hourly"
            if not (args.reuse and hourly.is_dir() and any(hourly.glob("*.log.gz"))):
                shutil.rmtree(hourly, ignore_errors=True)
                split_hourly_gz(paths, hourly)
            paths = sorted(hourly.glob("*.log.gz"))
            db = workdir / "bench-hourly.duckdb"
        size = sum(p.stat().st_size for p in paths)
        files = [str(p) for p in paths]
        result: dict = {"rows_conn": args.rows, "channels": channels, "files": len(files),
                        "input_mib": round(size / 2**20, 1)}
        base = None
        limit = ["--memory-limit", args.memory_limit] if args.memory_limit else []
        if args.memory_limit:
            result["memory_limit"] = args.memory_limit
        # read and e2e alternate --repeat times; each keeps its fastest run (a shared machine only
        # ever makes a run slower), so the ratio compares the two at their best
        reads, e2es, capped, e2e_other = [], [], [], []
        cap = args.memory_limit or DEFAULT_MEMORY_LIMIT
        for _ in range(args.repeat):
            if "read" in steps:
                reads.append(measure(BASELINE, files))
            if "read-capped" in steps:
                with tempfile.TemporaryDirectory(prefix="sc2-read-spill-") as spill:
                    capped.append(measure(BASELINE, files, extra_env={"SC2_READ_CAP": cap, "SC2_READ_TMP": spill}))
            if "e2e" in steps:
                # with --compare, the two versions alternate (this, other; then other, this ...)
                codes = [None] if args.compare is None else [None, args.compare][::1 if len(e2es) % 2 == 0 else -1]
                for code in codes:
                    run = measure(RUN_CLI, ["scan", *files, "--format", "json", "-q", *limit], code)
                    (e2es if code is None else e2e_other).append(run)
        if reads:
            base = min(reads, key=lambda r: r["s"])
            result.update(duckdb_read_s=round(base["s"], 2), duckdb_read_rss_mb=round(base["rss_mb"]),
                          rows_read=base["rows"], duckdb_read_cpu_s=round(min(r["cpu_s"] for r in reads), 2))
            if args.repeat > 1:
                result["duckdb_read_runs_s"] = [round(r["s"], 2) for r in reads]
        if capped:
            best = min(capped, key=lambda r: r["s"])
            result.update(duckdb_read_capped_s=round(best["s"], 2), duckdb_read_capped_rss_mb=round(best["rss_mb"]),
                          read_cap=cap)
        if e2es:
            e2e = min(e2es, key=lambda r: r["s"])
            result.update(scan_end_to_end_s=round(e2e["s"], 2),
                          scan_end_to_end_cpu_s=round(min(r["cpu_s"] for r in e2es), 2),
                          scan_end_to_end_rss_mb=round(max(r["rss_mb"] for r in e2es)), findings=e2e["findings"],
                          scan_end_to_end_spill_mb=round(max(r["spill_mb"] for r in e2es)))
            if args.repeat > 1:
                result["scan_end_to_end_runs_s"] = [round(r["s"], 2) for r in e2es]
            if base:
                result["ratio_end_to_end_vs_read"] = round(e2e["s"] / base["s"], 2)
                result["ratio_cpu_end_to_end_vs_read"] = round(
                    result["scan_end_to_end_cpu_s"] / result["duckdb_read_cpu_s"], 2)
                if len(reads) == len(e2es) > 1:
                    # each read against the scan run right after it: the two saw about the same load, so
                    # the spread of these ratios says how much a single run's ratio can be trusted
                    pairs = [e["s"] / r["s"] for r, e in zip(reads, e2es)]
                    result["ratio_end_to_end_vs_read_pairs"] = [round(x, 2) for x in pairs]
                    result["ratio_end_to_end_vs_read_pairs_median"] = round(statistics.median(pairs), 2)
            if capped:
                result["ratio_end_to_end_vs_read_capped"] = round(e2e["s"] / result["duckdb_read_capped_s"], 2)
        if e2e_other:
            other_e2e = min(e2e_other, key=lambda r: r["s"])
            result.update(compare_end_to_end_s=round(other_e2e["s"], 2),
                          compare_end_to_end_cpu_s=round(min(r["cpu_s"] for r in e2e_other), 2),
                          compare_end_to_end_rss_mb=round(max(r["rss_mb"] for r in e2e_other)),
                          compare_end_to_end_spill_mb=round(max(r["spill_mb"] for r in e2e_other)),
                          compare_findings_end_to_end=other_e2e["findings"])
            if args.repeat > 1:
                result["compare_end_to_end_runs_s"] = [round(r["s"], 2) for r in e2e_other]
            if base:
                result["compare_ratio_end_to_end_vs_read"] = round(other_e2e["s"] / base["s"], 2)
        if "ingest" in steps or ("scan" in steps and not (args.reuse and db.exists())):
            db.unlink(missing_ok=True)
            ing = measure(RUN_CLI, ["ingest", *files, "--db", str(db), "-q"])
            result.update(ingest_only_s=round(ing["s"], 2), ingest_only_rss_mb=round(ing["rss_mb"]))
        if "scan" in steps:
            scan_args = ["scan", "--db", str(db), "--format", "json", "-q", *limit]
            if args.compare is None:
                scan = measure(RUN_CLI, scan_args)
            else:
                # Alternate the two versions (this, other, other, this) and keep each one's best run, so
                # that neither pays alone for a cold page cache or a burst of load from a neighbour.
                runs = [measure(RUN_CLI, scan_args, code) for code in (None, args.compare, args.compare, None)]
                scan = min(runs[0], runs[3], key=lambda r: r["s"])
                other = min(runs[1], runs[2], key=lambda r: r["s"])
            result.update(scan_only_s=round(scan["s"], 2), scan_only_rss_mb=round(scan["rss_mb"]),
                          scan_only_findings=scan["findings"])
            if base:
                result["ratio_scan_only_vs_read"] = round(scan["s"] / base["s"], 2)
            if args.compare is not None:
                result.update(compare_scan_only_s=round(other["s"], 2), compare_scan_only_rss_mb=round(other["rss_mb"]),
                              compare_findings=other["findings"])
                if base:
                    result["compare_ratio_scan_only_vs_read"] = round(other["s"] / base["s"], 2)
        print(json.dumps(result, indent=2))
    finally:
        if not args.keep and args.dir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
