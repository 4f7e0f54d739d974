"""Ingest into a persistent store: idempotence, live (growing) files, kill -9, hostile input, CLI."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import blake3
import duckdb
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.cli import cli
from analyzer.ingest import ingest_paths
from analyzer.store import Store

FIX = Path(__file__).parent / "fixtures" / "ingest"
DNS = (FIX / "valid_tsv" / "dns.log").read_text()
HEADER = "".join(DNS.splitlines(keepends=True)[:8])
ROWS = DNS.splitlines(keepends=True)[8:11]


def counts(db: Path) -> tuple[int, int, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(
            "SELECT (SELECT count(*) FROM dns), (SELECT count(*) FROM ingest_files), (SELECT count(*) FROM ingest_rejects)"
        ).fetchone()
        assert row is not None
        return row
    finally:
        con.close()


def test_reingest_identical_content_adds_nothing(tmp_path):
    db = tmp_path / "s.duckdb"
    with Store(db) as s:
        first = ingest_paths(s, [FIX / "valid_tsv", FIX / "suricata_mixed"])
    before = counts(db)
    with Store(db) as s:
        again = ingest_paths(s, [FIX / "valid_tsv", FIX / "suricata_mixed"])
    assert before[0] == 3
    assert counts(db) == before
    assert [f.status for f in first.files] == ["loaded"] * 5
    assert [f.status for f in again.files] == ["unchanged"] * 5
    assert again.rows_loaded == 0
    assert not [w for f in again.files for w in f.warnings if "the same content as" in w]   # the same paths


def test_a_copy_under_another_name_adds_nothing_and_says_so(tmp_path):
    """http.log beside a byte-identical http_copy.log: the copy added nothing and was not named at all
    (an outside tester); a copy under another name is named, with the file that loaded it first."""
    first, copy = tmp_path / "dns.log", tmp_path / "dns_copy.log"
    first.write_text(DNS)
    copy.write_text(DNS)
    with Store() as s:
        report = ingest_paths(s, [first, copy])
    by_name = {Path(f.path).name: f for f in report.files}
    assert by_name["dns_copy.log"].status == "unchanged" and by_name["dns_copy.log"].rows_loaded == 0
    assert by_name["dns_copy.log"].warnings == [f"the same content as {first.resolve()}, loaded before: nothing added"]
    assert by_name["dns.log"].warnings == []


def test_growing_live_file_loads_only_new_lines(tmp_path):
    live = tmp_path / "dns.log"
    live.write_text(HEADER + ROWS[0])
    db = tmp_path / "s.duckdb"
    with Store(db) as s:
        r1 = ingest_paths(s, [live]).files[0]
        with live.open("a") as fh:
            fh.write(ROWS[1] + ROWS[2][:20])            # a row, and half of the next one
        r2 = ingest_paths(s, [live]).files[0]
        with live.open("a") as fh:
            fh.write(ROWS[2][20:] + "#close\t2026-11-27-10-00-00\n")
        pending = s.con.execute("SELECT file_id, data_lines, lines_rejected FROM ingest_files "
                                "WHERE status = 'appended'").fetchall()
        r3 = ingest_paths(s, [live]).files[0]
        r4 = ingest_paths(s, [live]).files[0]
        got = s.con.execute("SELECT uid, line FROM dns ORDER BY line").fetchall()
        # the half line r2 left pending was read whole by r3: no longer rejected in r2's record, and
        # counted once in the lines of the file (a live log's health stayed red after every pass)
        settled = s.con.execute("SELECT file_id, data_lines, lines_rejected FROM ingest_files "
                                "WHERE file_id = $id", {"id": pending[0][0]}).fetchall()
        left = s.con.execute("SELECT count(*) FROM ingest_rejects").fetchone()[0]
        lines = s.con.execute("SELECT sum(data_lines), sum(lines_rejected) FROM ingest_files").fetchone()
    assert pending == [(pending[0][0], 2, 1)] and settled == [(pending[0][0], 1, 0)] and left == 0
    assert lines == (3, 0)
    assert (r1.status, r1.rows_loaded) == ("loaded", 1)
    assert (r2.status, r2.rows_loaded, r2.first_line, r2.lines_rejected) == ("appended", 1, 10, 1)
    assert "incomplete last line" in r2.rejects[0].reason and r2.rejects[0].line == 11
    assert (r3.status, r3.rows_loaded, r3.first_line, r3.meta_lines) == ("appended", 1, 11, 1)
    assert r4.status == "unchanged"
    assert got == [("CdnsA1", 9), ("CdnsA2", 10), ("CdnsA3", 11)]
    for r in (r1, r2, r3, r4):
        assert r.accounted


def _fingerprints(con) -> list[str]:
    return [r[0] for r in con.execute("SELECT head_sha256 FROM ingest_files ORDER BY file_id").fetchall()]


def test_fingerprints_are_blake3_and_a_store_of_sha256_ones_keeps_recognising_its_files(tmp_path):
    """A new store fingerprints with BLAKE3 ('blake3:' + hex). A store written before that holds bare
    SHA-256 hex: its files are still recognised as unchanged or grown (not loaded again), and the
    files it records next are fingerprinted the same way."""
    live = tmp_path / "dns.log"
    live.write_text(HEADER + ROWS[0])
    with Store(tmp_path / "new.duckdb") as s:
        assert ingest_paths(s, [live]).files[0].status == "loaded"
        assert _fingerprints(s.con) == ["blake3:" + blake3.blake3(live.read_bytes()).hexdigest()]
        assert ingest_paths(s, [live]).files[0].status == "unchanged"
    with Store(tmp_path / "old.duckdb") as s:
        ingest_paths(s, [live])
        # as a store written before BLAKE3 holds it
        s.con.execute("UPDATE ingest_files SET head_sha256 = ?", [hashlib.sha256(live.read_bytes()).hexdigest()])
        again = ingest_paths(s, [live]).files[0]
        with live.open("a") as fh:
            fh.write(ROWS[1])
        grown = ingest_paths(s, [live]).files[0]
        other = tmp_path / "other.log"
        other.write_text(HEADER + ROWS[2])
        ingest_paths(s, [other])
        rows = s.con.execute("SELECT count(*) FROM dns").fetchone()
        prints = _fingerprints(s.con)
    assert again.status == "unchanged"
    assert (grown.status, grown.rows_loaded, grown.first_line) == ("appended", 1, 10)
    assert rows == (2 + 1,)   # each row once: nothing loaded twice
    assert prints[1:] == [hashlib.sha256(live.read_bytes()).hexdigest(),
                          hashlib.sha256(other.read_bytes()).hexdigest()]


def test_rotated_copy_of_a_loaded_live_file_adds_only_the_rest(tmp_path):
    live = tmp_path / "dns.log"
    live.write_text(HEADER + ROWS[0])
    with Store() as s:
        ingest_paths(s, [live])
        rotated = tmp_path / "dns.2026-11-27-09-00-00.log"
        rotated.write_text(HEADER + "".join(ROWS) + "#close\t2026-11-27-10-00-00\n")
        r = ingest_paths(s, [rotated]).files[0]
        assert (r.status, r.rows_loaded) == ("appended", 2)
        assert s.con.execute("SELECT count(DISTINCT uid), count(*) FROM dns").fetchone() == (3, 3)


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from analyzer.ingest import common, ingest_paths, pipeline
    from analyzer.store import Store
    def then_die(original):
        def load_then_die(*a, **k):
            original(*a, **k)                     # rows are in the table, the transaction is open
            os.kill(os.getpid(), signal.SIGKILL)
        return load_then_die
    with Store(sys.argv[1]) as s:
        ingest_paths(s, [sys.argv[2]])
        print("first done", flush=True)
        # both ways a Zeek file is loaded: line by line, and the typed fast path
        common.Tally.move_stage = then_die(common.Tally.move_stage)
        pipeline.account_fast = then_die(pipeline.account_fast)
        ingest_paths(s, [sys.argv[3]])
    """
)


def test_kill_9_mid_file_leaves_store_as_before_that_file(tmp_path):
    db = tmp_path / "s.duckdb"
    big = tmp_path / "big" / "dns.log"
    big.parent.mkdir()
    # the rows of the first file, each in 20,000 other connections (other uids: not repeats of it)
    big.write_text(HEADER + "".join(r.replace("CdnsA", f"Cbig{i}x") for i in range(20000) for r in ROWS))
    proc = subprocess.run(
        [sys.executable, "-c", KILLER, str(db), str(FIX / "valid_tsv" / "dns.log"), str(big)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == -9, proc.stderr
    assert "first done" in proc.stdout
    assert counts(db) == (3, 1, 0)               # only the first file
    with Store(db) as s:                          # a re-run completes and loads the big file once
        r = ingest_paths(s, [big, FIX / "valid_tsv" / "dns.log"])
    assert [f.status for f in r.files] == ["loaded", "unchanged"]
    assert counts(db) == (3 + 60000, 2, 0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.lists(st.text(min_size=0, max_size=300), min_size=1, max_size=8), as_json=st.booleans())
def test_hostile_lines_never_crash_and_always_add_up(tmp_path_factory, junk, as_json):
    d = tmp_path_factory.mktemp("hostile")
    if as_json:
        body = "".join(json.dumps({"_path": "http", "ts": 1795770000 + i, "uri": j, "host": j}) + "\n"
                       for i, j in enumerate(junk))
        body += "".join(j.replace("\n", " ") + "\n" for j in junk)
        p = d / "http.log"
    else:
        body = HEADER + "".join(ROWS) + "".join(j + "\n" for j in junk) + ROWS[0]
        p = d / "dns.log"
    p.write_bytes(body.encode("utf-8", "surrogatepass"))  # lone surrogates become invalid UTF-8 bytes
    with Store() as s:
        f = ingest_paths(s, [p]).files[0]
        assert f.status in ("loaded", "skipped"), f
        assert f.accounted, f
        tables = s.con.execute("SELECT count(*) FROM http").fetchone()[0] + s.con.execute("SELECT count(*) FROM dns").fetchone()[0]
        assert tables == f.rows_loaded


@pytest.mark.parametrize("size", [5_000_000, 9_000_000])  # 9 MB is past DuckDB's default line limit
def test_huge_line_is_loaded_whole(tmp_path, size):
    p = tmp_path / "http.log"
    src = (FIX / "valid_tsv" / "http.log").read_text()
    p.write_text(src.replace("/poll?id=42", "/" + "A" * size))
    with Store() as s:
        f = ingest_paths(s, [p]).files[0]
        assert (f.status, f.rows_loaded, f.lines_rejected) == ("loaded", 2, 0)
        assert s.con.execute("SELECT max(length(uri)) FROM http").fetchone() == (1 + size + len("#frag"),)


# ---------------------------------------------------------------- CLI


def test_cli_summary_table_and_strict_exit(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(cli, ["ingest", str(FIX / "valid_tsv"), "--db", str(tmp_path / "a.duckdb")])
    assert ok.exit_code == 0, ok.output
    assert "kind" in ok.stdout and "rows" in ok.stdout
    assert [line.split()[:3] for line in ok.stdout.splitlines() if line.startswith("dns")] == [["dns", "1", "3"]]
    bad = runner.invoke(cli, ["ingest", str(FIX / "bad_lines"), "--strict", "-q"])
    assert bad.exit_code == 1
    assert "bad_lines/dns.log:10: expected 24 fields, found 21" not in bad.stdout
    # -q: no counts, but the lines lost, with where (a nightly job's mail had only "N line(s) rejected")
    assert bad.stdout == "" and "bad_lines/dns.log:10: expected 24 fields, found 21" in bad.stderr
    lenient = runner.invoke(cli, ["ingest", str(FIX / "bad_lines")])
    assert lenient.exit_code == 0
    assert "dns.log:10: expected 24 fields, found 21" in lenient.stderr
    missing = runner.invoke(cli, ["ingest", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such file" in missing.stderr



def test_cli_escapes_terminal_control_characters(tmp_path):
    p = tmp_path / "dns.log"
    p.write_text(HEADER + "XXXX\t\x1b[31mred\x07\n")
    res = CliRunner().invoke(cli, ["ingest", str(p)])
    assert res.exit_code == 0
    assert "\x1b" not in res.stderr and "\x07" not in res.stderr
    assert "\\x1b[31mred" in res.stderr


def test_header_only_live_file_then_grows(tmp_path):
    live = tmp_path / "dns.log"
    live.write_text(HEADER)
    with Store(tmp_path / "s.duckdb") as s:
        r1 = ingest_paths(s, [live]).files[0]
        r2 = ingest_paths(s, [live]).files[0]
        live.write_text(HEADER + ROWS[0])
        r3 = ingest_paths(s, [live]).files[0]
        n_files = s.con.execute("SELECT count(*) FROM ingest_files").fetchone()
    assert (r1.status, r2.status) == ("skipped", "unchanged")
    assert (r3.status, r3.rows_loaded, r3.first_line) == ("appended", 1, 9)
    assert n_files == (2,)


def _gz(path: Path, text: str) -> Path:
    import gzip

    with gzip.open(path, "wt") as fh:
        fh.write(text)
    return path


def _loaded(report, con):
    files = [(Path(f.path).name, f.status, f.rows_loaded, f.first_line, f.lines_rejected) for f in report.files]
    rows = con.execute("SELECT f.path, d.uid, d.line FROM dns d JOIN ingest_files f USING (file_id) "
                       "ORDER BY f.path, d.line").fetchall()
    return files, [(Path(p).name, uid, line) for p, uid, line in rows]


def test_gzip_files_scanned_ahead_load_as_one_by_one(tmp_path, monkeypatch):
    """In a folder of .gz logs the next file is scanned while the one before loads (_LookAhead). What
    is loaded is exactly what ingesting the files one call at a time loads, including a later .gz
    that repeats an earlier one's lines and more (an archive snapshot taken twice): only the rest."""
    from analyzer.ingest import pipeline

    folder = tmp_path / "logs"
    folder.mkdir()
    _gz(folder / "dns.09.log.gz", HEADER + ROWS[0])
    _gz(folder / "dns.10.log.gz", HEADER + "".join(ROWS) + "#close\t2026-11-27-10-00-00\n")  # grown copy of 09
    _gz(folder / "dns.11.log.gz", HEADER + ROWS[1] + "not\ta\trow\n")
    (folder / "dns.12.log").write_text(HEADER + ROWS[2])
    _gz(folder / "dns.13.log.gz", HEADER + ROWS[0] + ROWS[2])
    _gz(folder / "weird.14.log.gz", "#path\tweird\n#fields\tts\tname\n1\tx\n")           # skipped from its head

    scanned_ahead: list[str] = []
    real = pipeline._pre_scan

    def spy(path, sizes, sha256):
        scanned_ahead.append(path.name)
        return real(path, sizes, sha256)

    monkeypatch.setattr(pipeline, "_pre_scan", spy)
    with Store() as s:
        together = _loaded(ingest_paths(s, [folder]), s.con)
    monkeypatch.setattr(pipeline, "_pre_scan", real)
    with Store() as s:
        report = pipeline.IngestReport()
        for p in sorted(folder.iterdir()):
            report.files.extend(ingest_paths(s, [p]).files)
        one_by_one = _loaded(report, s.con)

    assert scanned_ahead == ["dns.10.log.gz", "dns.11.log.gz", "dns.13.log.gz", "weird.14.log.gz"]
    assert together == one_by_one
    files = {name: (status, rows, first) for name, status, rows, first, _ in together[0]}
    assert files["dns.10.log.gz"] == ("appended", 2, 10)
    assert files["weird.14.log.gz"][0] == "skipped"
    assert [r for _, _, _, _, r in together[0]] == [0, 0, 1, 0, 0, 0]


def test_the_ingest_ledger_answers_as_the_store_would(tmp_path):
    """ingest_paths reads ingest_files once and extends its copy (pipeline._Ledger) with each file it
    records, instead of asking the store for every file. Ingesting a folder in one call, twice, must
    record exactly what one call per file records, where each call reads the store afresh: the same
    file_ids, statuses, sizes and fingerprints, the second pass unchanged or skipped again under the
    first pass's ids, and a grown copy appended after its prefix."""
    folder = tmp_path / "logs"
    folder.mkdir()
    _gz(folder / "dns.09.log.gz", HEADER + ROWS[0])
    _gz(folder / "dns.10.log.gz", HEADER + "".join(ROWS) + "#close\t2026-11-27-10-00-00\n")
    (folder / "dns.11.log").write_text(HEADER + ROWS[0])                                # same content as 09
    (folder / "dns.12.log").write_text(HEADER)                                          # header only: skipped
    _gz(folder / "weird.14.log.gz", "#path\tweird\n#fields\tts\tname\n1\tx\n")          # skipped from its head
    files = sorted(folder.iterdir())
    query = ("SELECT file_id, path, kind, format, size_bytes, head_sha256, data_lines, rows_loaded, "
             "lines_rejected, status, reason FROM ingest_files ORDER BY file_id")
    got = {}
    for together in (True, False):
        with Store() as s:
            statuses = []
            for _ in range(2):
                calls = [files] if together else [[p] for p in files]
                statuses.append([(Path(f.path).name, f.status, f.file_id)
                                 for c in calls for f in ingest_paths(s, c).files])
            got[together] = (statuses, s.con.execute(query).fetchall(),
                             s.con.execute("SELECT file_id, uid FROM dns ORDER BY ALL").fetchall())
    assert got[True] == got[False]
    (first, second), rows, dns = got[True]
    assert [st for _n, st, _i in first] == ["loaded", "appended", "unchanged", "skipped", "skipped"]
    assert [st for _n, st, _i in second] == ["unchanged"] * 4 + ["skipped"]   # a skip from the head repeats
    assert [i for *_x, i in second] == [i for *_x, i in first] and len(rows) == 4 and len(dns) == 3


def test_a_scan_ahead_never_taken_leaves_no_temporary_copy(tmp_path, monkeypatch):
    """--strict stops at a rejected line; the next file, already scanned (decompressed to a temporary
    copy), is never ingested, and its copy is removed."""
    import tempfile

    from analyzer.errors import InputError

    spill = tmp_path / "tmp"
    spill.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spill))
    folder = tmp_path / "logs"
    folder.mkdir()
    _gz(folder / "dns.1.log.gz", HEADER + ROWS[0] + "not\ta\trow\n")
    _gz(folder / "dns.2.log.gz", HEADER + ROWS[1])
    with Store() as s:
        with pytest.raises(InputError, match="rejected"):
            ingest_paths(s, [folder], strict=True)
        assert s.con.execute("SELECT count(*) FROM dns").fetchone() == (0,)
    assert list(spill.iterdir()) == []


def test_strict_does_not_fail_on_a_live_logs_last_line_still_being_written(tmp_path):
    """`current/conn.log` as Zeek writes it ends mid-line: that line is left for the next run (it is read
    again when the file grows), not lost, so --strict does not exit 1 for it; a bad line still does,
    and so does a compressed file cut mid-line (it will not grow)."""
    import gzip

    runner = CliRunner()
    text = (FIX / "valid_tsv" / "dns.log").read_text().split("#close")[0]
    live = tmp_path / "current"
    live.mkdir()
    (live / "dns.log").write_text(text + "1700000000.5\tCpartial\t10.0")                # no newline yet
    res = runner.invoke(cli, ["ingest", str(live), "--db", str(tmp_path / "a.duckdb"), "--strict", "-q"])
    assert res.exit_code == 0, res.stderr
    (live / "dns.log").write_text(text + "1700000000.5\tCbroken\n" + "1700000000.5\tCpartial\t10.0")
    res = runner.invoke(cli, ["ingest", str(live), "--db", str(tmp_path / "b.duckdb"), "--strict", "-q"])
    assert res.exit_code == 1 and "1 line(s) rejected (--strict)" in res.stderr, res.stderr
    cut = tmp_path / "cut"
    cut.mkdir()
    (cut / "dns.log.gz").write_bytes(gzip.compress((text + "1700000000.5\tCpartial\t10.0").encode()))
    res = runner.invoke(cli, ["ingest", str(cut), "--db", str(tmp_path / "c.duckdb"), "--strict", "-q"])
    assert res.exit_code == 1, res.stderr
