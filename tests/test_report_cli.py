"""``serverless-c2 report``: outputs, exit codes for cron, quiet mode, atomic writes, history.

The scan is replaced by a fixed result here (its own tests cover scoring); the end-to-end test at
the bottom runs the real ingest + scan on the generated demo dataset.
"""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

import analyzer.scan
from analyzer.cli import cli
from analyzer.store import Store
from test_report_sql import scenario_result, seed_store


class _Db(str):
    """The store path (as a str), plus the ScanOptions the fake scan received."""

    def __new__(cls, path, seen):
        obj = super().__new__(cls, str(path))
        obj.seen = seen
        return obj


@pytest.fixture(scope="module")
def seeded_file(tmp_path_factory):
    """One seeded store file per module (seeding row by row is the slow part); tests copy it."""
    path = tmp_path_factory.mktemp("seed") / "store.duckdb"
    with Store(path) as store:
        seed_store(store)
    return path


@pytest.fixture
def db(tmp_path, monkeypatch, seeded_file):
    path = tmp_path / "store.duckdb"
    shutil.copyfile(seeded_file, path)
    seen = []

    def fake_scan(store, options=None):
        seen.append(options)
        return scenario_result()

    monkeypatch.setattr(analyzer.scan, "run_scan", fake_scan)
    return _Db(path, seen)


def run(*args: str):
    return CliRunner().invoke(cli, ["report", *args], catch_exceptions=False)


def test_html_to_file_quiet_prints_nothing(db, tmp_path):
    out = tmp_path / "r.html"
    res = run("--db", str(db), "--out", str(out), "-q")
    assert res.exit_code == 0, res.output
    assert res.stdout == "" and res.stderr == ""
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and 'id="findings-table"' in html


def test_summary_goes_to_stderr_not_stdout(db, tmp_path):
    res = run("--db", str(db), "--out", str(tmp_path / "r.html"))
    assert res.exit_code == 0
    assert res.stdout == ""
    assert "3 finding(s) (1 high, 1 medium, 1 low, 0 info)" in res.stderr


@pytest.mark.parametrize("threshold, code", [("high", 1), ("medium", 1), ("low", 1), ("info", 1)])
def test_fail_on_reached_exits_1_and_still_writes(db, tmp_path, threshold, code):
    out = tmp_path / "r.json"
    res = run("--db", str(db), "--out", str(out), "--format", "json", "--fail-on", threshold, "-q")
    assert res.exit_code == code and out.exists()


def test_fail_on_not_reached_exits_0(db, tmp_path, monkeypatch):
    only_low = scenario_result()
    only_low.findings = [f for f in only_low.findings if f.severity == "low"]
    monkeypatch.setattr(analyzer.scan, "run_scan", lambda store, options=None: only_low)
    res = run("--db", str(db), "--format", "csv", "--fail-on", "medium", "-q")
    assert res.exit_code == 0 and res.stdout.startswith("rank,severity")
    res = run("--db", str(db), "--format", "csv", "--fail-on", "low", "-q")
    assert res.exit_code == 1


def test_markdown_and_json_default_to_stdout(db):
    res = run("--db", str(db), "--format", "md", "-q")
    assert res.exit_code == 0 and res.stdout.startswith("# serverless-c2 nightly report")
    res = run("--db", str(db), "--format", "json", "-q", "--no-history")
    assert json.loads(res.stdout)["summary"]["findings"] == 3


def test_window_options_reach_the_scan(db, tmp_path):
    res = run("--db", str(db), "--out", str(tmp_path / "r.md"), "-f", "md", "--window", "7d", "--until",
              "2026-11-28T00:00Z", "--allowlist", str(db), "-q")
    assert res.exit_code == 0
    options = db.seen[-1]
    assert options.window == "7d" and options.until.isoformat() == "2026-11-28T00:00:00+00:00"
    assert options.allowlist == str(db)


def test_errors_exit_2(db, tmp_path):
    res = run("-q")
    assert res.exit_code == 2 and "nothing to report on" in res.stderr
    res = run("--db", str(db), "--until", "yesterday")
    assert res.exit_code == 2
    res = run("--db", str(db), "--out", str(tmp_path / "missing-dir" / "r.html"), "-q")
    assert res.exit_code == 2 and "cannot write the report" in res.stderr
    assert not (tmp_path / "missing-dir").exists()


def test_failed_write_leaves_the_old_report(db, tmp_path, monkeypatch):
    out = tmp_path / "r.html"
    out.write_text("yesterday's report")
    import analyzer.report

    def broken_render(report, fmt):
        raise analyzer.errors.AnalyzerError("render failed")

    monkeypatch.setattr(analyzer.report, "render", broken_render)
    res = run("--db", str(db), "--out", str(out), "-q")
    assert res.exit_code == 2 and out.read_text() == "yesterday's report"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".r.html")] == []


def test_history_is_recorded_per_store_unless_disabled(db, tmp_path, monkeypatch):
    """A report of another window sees the earlier one; a report of the same window again (a cron
    retry) is a re-run: tonight's new channels stay new, and it replaces the earlier report of that
    window (an outside tester's retry had turned a new C2 channel into "recurring")."""
    from dataclasses import replace
    from datetime import timedelta

    out = tmp_path / "r.json"
    assert run("--db", str(db), "--format", "json", "--out", str(out), "-q", "--no-history").exit_code == 0
    assert json.loads(out.read_text())["history"]["earlier_reports"] == 0
    assert run("--db", str(db), "--format", "json", "--out", str(out), "-q").exit_code == 0
    assert json.loads(out.read_text())["history"]["earlier_reports"] == 0
    retry = run("--db", str(db), "--format", "json", "--out", str(out), "-q")
    assert retry.exit_code == 0
    doc = json.loads(out.read_text())
    assert doc["history"]["earlier_reports"] == 0 and {f["status"] for f in doc["findings"]} == {"new"}
    night = scenario_result()
    later = replace(night, window_start=night.window_start + timedelta(days=1),
                    window_end=night.window_end + timedelta(days=1))
    monkeypatch.setattr(analyzer.scan, "run_scan", lambda store, options=None: later)
    assert run("--db", str(db), "--format", "json", "--out", str(out), "-q").exit_code == 0
    doc = json.loads(out.read_text())
    assert doc["history"]["earlier_reports"] == 1
    assert {f["status"] for f in doc["findings"]} == {"recurring"}
    assert {f["earlier_reports"] for f in doc["findings"]} == {1}   # the retry replaced the first report


def test_end_to_end_demo_tuning_loop_and_history(tmp_path, monkeypatch):
    """Real ingest + scan on the generated demo day: the worker beacon leads; the uptime fleet is
    suggested for tuning; pasting that entry into an allowlist suppresses exactly that fleet on the
    next run of that day (a re-run of its window: no earlier report to compare with)."""
    monkeypatch.undo()  # the real scan
    db, first, second = tmp_path / "demo.duckdb", tmp_path / "1.json", tmp_path / "2.json"
    res = run("--demo", "--db", str(db), "-f", "json", "-o", str(first), "-q", "--top", "2")
    assert res.exit_code == 0, res.stderr
    assert res.stdout == "" and res.stderr == ""          # -q: nothing but errors, and there were none
    doc = json.loads(first.read_text())
    top = doc["findings"][0]
    assert top["severity"] == "high" and top["host"] == "cdn-sync.orbit-relay.workers.dev"
    assert len(top["timeline"]["epochs"]) == top["connections"]
    fleet = [t for t in doc["tuning"] if t["kind"] == "fleet"]
    assert len(fleet) == 1
    covered = {doc["findings"][r - 1]["src"] for r in fleet[0]["ranks"]}
    assert all(doc["findings"][r - 1]["severity"] != "high" for r in fleet[0]["ranks"])

    allow = tmp_path / "allow.txt"
    allow.write_text(fleet[0]["entry"] + "\n")
    res = run("--demo", "--db", str(db), "-f", "json", "-o", str(second), "-q", "--top", "0",
              "--allowlist", str(allow), "--fail-on", "high")
    assert res.exit_code == 1, res.stderr          # the beacon is still high
    doc2 = json.loads(second.read_text())
    assert sum(doc2["suppressed"].values()) == len(covered)
    assert {f["src"] for f in doc2["findings"]} == {f["src"] for f in doc["findings"]} - covered
    # the same window again: a re-run, compared with no earlier report (it replaces the first)
    assert doc2["findings"][0]["status"] == "new" and doc2["history"]["earlier_reports"] == 0
    assert doc2["history"]["gone"] == []


def test_an_unexpected_crash_exits_2_not_1(db, tmp_path, monkeypatch):
    def crash(store, options=None):
        raise RuntimeError("boom\x1b[2J")

    monkeypatch.setattr(analyzer.scan, "run_scan", crash)
    res = run("--db", str(db), "--out", str(tmp_path / "r.html"), "--fail-on", "high")
    assert res.exit_code == 2 and "unexpected RuntimeError: boom" in res.stderr
    assert "\x1b" not in res.stderr and not (tmp_path / "r.html").exists()


def test_the_scans_warnings_reach_every_report_format_and_stderr(db, tmp_path, monkeypatch):
    """A scan warning (a stray latest timestamp: analyzer.scan._stray_end) is in the JSON, the Markdown,
    the HTML (escaped) and on stderr, not only in `scan`'s output."""
    warned = scenario_result()
    warned.warnings = ["the window holds 1 of 6049 rows <b>\x1b[2J"]
    monkeypatch.setattr(analyzer.scan, "run_scan", lambda store, options=None: warned)
    res = run("--db", str(db), "--format", "json", "-q", "--no-history")
    assert json.loads(res.stdout)["warnings"] == warned.warnings
    res = run("--db", str(db), "--format", "md", "-q", "--no-history")
    assert "**Warning:** the window holds 1 of 6049 rows" in res.stdout and "\x1b" not in res.stdout
    out = tmp_path / "r.html"
    res = run("--db", str(db), "--out", str(out), "--no-history")
    html = out.read_text()
    assert "Warning: the window holds 1 of 6049 rows &lt;b&gt;" in html and "<b>" not in html.split("Warning:")[1][:80]
    assert "warning: the window holds 1 of 6049 rows" in res.stderr and "\x1b" not in res.stderr


def test_logs_that_start_after_the_window_are_said_to_and_not_called_full_coverage(tmp_path):
    """Hours before the store's first row are no stream's gap (the store starts there), but a report
    on logs that begin 6 h into its 24 h window said "Every stream has rows in every hour of the
    window". It says when the logs start, in every format, and full coverage only from then on."""
    from pathlib import Path

    from analyzer.simulate import build_scenario, write_logs

    full, cut = tmp_path / "full", tmp_path / "cut"
    cut.mkdir()
    for f in write_logs(build_scenario("demo", seed=7), full, fmt="zeek-tsv", skip_empty=True):
        lines = Path(f).read_text().splitlines(True)
        t0 = min(float(x.split("\t")[0]) for x in lines if not x.startswith("#"))
        (cut / Path(f).name).write_text("".join(x for x in lines
                                                if x.startswith("#") or float(x.split("\t")[0]) >= t0 + 6 * 3600))
    md = run(str(cut), "-f", "md", "-o", "-", "-q")
    assert md.exit_code == 0, md.stderr
    assert "6 h after the window does: nothing earlier was loaded" in md.stdout
    assert "From then on, every stream has rows in every hour." in md.stdout
    assert "Every stream has rows in every hour of the window." not in md.stdout
    doc = json.loads(run(str(cut), "-f", "json", "-o", "-", "-q").stdout)
    from datetime import datetime

    start = datetime.fromisoformat(doc["window_start"].replace("Z", "+00:00"))
    logs = datetime.fromisoformat(doc["health"]["logs_start"].replace("Z", "+00:00"))
    assert 6 * 3600 <= (logs - start).total_seconds() < 7 * 3600
    html = run(str(cut), "-f", "html", "-o", "-", "-q").stdout
    assert "6 h after the window does" in html
    whole = run(str(full), "-f", "md", "-o", "-", "-q").stdout
    assert "Every stream has rows in every hour of the window." in whole and "after the window does" not in whole
    assert json.loads(run(str(full), "-f", "json", "-o", "-", "-q").stdout)["health"]["logs_start"] is None


def test_the_report_json_names_its_schema_as_the_scan_json_does(tmp_path):
    doc = json.loads(run("--demo", "-f", "json", "-o", "-", "-q").stdout)
    assert (doc["schema"], doc["schema_version"]) == ("serverless-c2/report", 1)
    assert list(doc)[:2] == ["schema", "schema_version"]


def test_a_nightly_store_warns_when_the_window_is_not_the_night_given(tmp_path):
    """The README's cron line, before it named the night with --since: the default window ends at the
    store's latest row. A night whose sensor stopped at 03:00 was reported as the 24 h before 03:00
    (mostly the night before, no silent hours shown), and a missed night loaded later was not scored at
    all; neither said so. Both warn now, under -q too, and name the --since that reports the night
    given; with it, no warning, and the silent hours show."""
    from pathlib import Path

    from analyzer.simulate import DEFAULT_START, build_scenario, write_logs

    def night(day: int, hours: float) -> Path:
        folder = tmp_path / f"night{day}"
        write_logs(build_scenario("demo", seed=day, start=DEFAULT_START + day * 86400, hours=hours), folder,
                   fmt="zeek-tsv", skip_empty=True)
        return folder

    db = str(tmp_path / "sensor.duckdb")
    first = run(str(night(1, 24)), "--db", db, "-f", "md", "-o", "-", "-q")
    assert first.exit_code in (0, 1) and "warning:" not in first.stderr, first.stderr
    short = night(2, 3)
    cut = run(str(short), "--db", db, "-f", "md", "-o", "-", "-q")
    assert "warning: the window starts ~21" in cut.stderr and "did the sensor stop?" in cut.stderr, cut.stderr
    assert "--since 2026-11-28 --window 24h" in cut.stderr and "did the sensor stop?" in cut.stdout
    named = run(str(short), "--db", db, "--since", "2026-11-28", "--window", "24h", "-f", "md", "-o", "-", "-q")
    assert "warning:" not in named.stderr and "silent until the end of the window" in named.stdout
    backfill = run(str(night(0, 24)), "--db", db, "-f", "md", "-o", "-", "-q")
    assert "lie outside the window scored" in backfill.stderr and "--since 2026-11-26 --window 24h" in backfill.stderr
