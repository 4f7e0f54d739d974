"""The typed fast path for Zeek TSV (zeek_tsv.fast_read): whenever it is taken, the store and the
report are exactly what the line-by-line path gives; whenever the file holds anything that path
would reject or account differently, the fast read is refused and that path runs instead."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from analyzer.ingest import IngestReport, ingest_paths, pipeline
from analyzer.sqlfiles import read_sql
from analyzer.store import SCRATCH_DERIVED, Store

FIX = Path(__file__).parent / "fixtures" / "ingest"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TABLES = ("conn", "dns", "tls", "http", "ingest_rejects")

HEADER = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
    "#open\t2026-11-26-00-00-00\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\t"
    "service\tduration\torig_bytes\tresp_bytes\tconn_state\thistory\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tstring\n"
)
FIRST = 9  # the first data line after HEADER
CLOSE = "#close\t2026-11-27-00-00-00\n"


def row(i: int, **over: str) -> str:
    f = {"ts": f"{1795651200 + i}.250000", "uid": f"L{FIRST + i}", "orig_bytes": str(i), "service": "ssl"}
    f.update(over)
    return "\t".join([f["ts"], f["uid"], "10.0.0.5", "50000", "104.21.1.1", "443", "tcp", f["service"],
                      "0.5", f["orig_bytes"], "900", "SF", "ShADadFf"]) + "\n"


def run(paths: list[Path], fast: bool, monkeypatch: pytest.MonkeyPatch, *, scratch: bool = False,
        columns: dict[str, list[str]] | None = None) -> tuple[IngestReport, dict, int]:
    """Ingest ``paths`` into a new store with or without the fast path; (report, table rows, fast loads).
    ``scratch``: a scratch store. ``columns``: per table, the columns to fetch (default all but file_id)."""
    taken = []
    with monkeypatch.context() as m:
        if fast:
            m.setattr(pipeline, "FAST_MIN_BYTES", 0)  # small test files take it too
            m.setattr(pipeline, "FAST_MIN_GZ_BYTES", 0)
            real = pipeline.account_fast
            m.setattr(pipeline, "account_fast", lambda *a: (taken.append(a[2].path), real(*a))[1])
            # eve.parse_fast is taken when its parse is kept: the file's lines are then never read
            real_eve, real_lines, parsed = pipeline.eve.parse_fast, pipeline.read_lines, []

            def parse_fast(con, path):
                n = real_eve(con, path)
                if n is not None:
                    parsed.append(str(path))
                return n

            def read_lines(con, path, size):
                if str(path) in parsed:
                    parsed.remove(str(path))
                return real_lines(con, path, size)

            m.setattr(pipeline.eve, "parse_fast", parse_fast)
            m.setattr(pipeline, "read_lines", read_lines)
        else:
            m.setattr(pipeline, "_fast_plan", lambda *a: None)
            m.setattr(pipeline.eve, "parse_fast", lambda *a: None)  # eve.json line by line too
        with Store(scratch=scratch) as s:
            report = ingest_paths(s, [str(p) for p in paths])
            if fast:
                taken += parsed
            s.con.execute(read_sql("03_duckdb_keys"))  # the key macros, for the full store's columns
            tables = {t: s.con.execute(
                f"SELECT {', '.join(columns[t]) if columns else '* EXCLUDE (file_id)'} FROM {t} ORDER BY ALL"
            ).fetchall() for t in TABLES}
    return report, tables, len(taken)


class _Names(dict):
    """str.format_map mapping: each field to its own name (a column of the full store)."""

    def __missing__(self, key: str) -> str:
        return key


def scratch_columns() -> dict[str, list[str]]:
    with Store(scratch=True) as s:
        return {t: [r[0] for r in s.con.execute(f"DESCRIBE {t}").fetchall() if r[0] != "file_id"] for t in TABLES}


def same_in_a_scratch_store(paths: list[Path], monkeypatch: pytest.MonkeyPatch, *, fast: bool = True) -> dict:
    """A scratch store loads the same rows (in the columns it keeps) with the same reports as a full one."""
    cols = scratch_columns()
    # a scratch store keeps a uid's key (store.SCRATCH_KEYS): the full store's uid, keyed, must equal it
    # and the keys it numbers conn and tls rows by (store.SCRATCH_DERIVED), made from the full store's strings
    derived = {t: {c: f"{e.format_map(_Names())} AS {c}" for c, e in SCRATCH_DERIVED.get(t, {}).items()} for t in cols}
    keyed = {t: ["ingest_uid_key(uid) AS uid" if c == "uid" else derived[t].get(c, c) for c in cs]
             for t, cs in cols.items()}
    full, full_tables, full_taken = run(paths, fast, monkeypatch, columns=keyed)
    scratch, scratch_tables, scratch_taken = run(paths, fast, monkeypatch, scratch=True, columns=cols)
    for t in TABLES:
        assert scratch_tables[t] == full_tables[t], t
    # the same reports, listed as the files were given; a scratch store loads TLS and conn logs first
    # (pipeline.scratch_order), so its files are numbered in another order
    assert [{**vars(f), "file_id": None} for f in scratch.files] == [{**vars(f), "file_id": None} for f in full.files]
    assert scratch_taken == full_taken
    return scratch_tables


def same_both_ways(paths: list[Path], monkeypatch: pytest.MonkeyPatch) -> tuple[IngestReport, dict, int]:
    fast, fast_tables, taken = run(paths, True, monkeypatch)
    slow, slow_tables, _ = run(paths, False, monkeypatch)
    for t in TABLES:
        assert fast_tables[t] == slow_tables[t], t
    assert [vars(f) for f in fast.files] == [vars(f) for f in slow.files]
    for f in fast.files:
        assert f.accounted, f
    return fast, fast_tables, taken


def test_well_formed_file_takes_the_fast_path_with_true_line_numbers(tmp_path, monkeypatch):
    p = tmp_path / "conn.log"
    p.write_text(HEADER + "".join(row(i) for i in range(500)) + CLOSE)
    report, tables, taken = same_both_ways([p], monkeypatch)
    assert taken == 1
    f = report.files[0]
    assert (f.rows_loaded, f.lines_rejected, f.meta_lines, f.blank_lines) == (500, 0, 9, 0)
    uid_line = {(r[2], r[-1]) for r in tables["conn"]}
    assert uid_line == {(f"L{FIRST + i}", FIRST + i) for i in range(500)}


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda rows: rows[:7] + [row(7, orig_bytes="many")] + rows[8:], "bad int value in field orig_bytes"),
        (lambda rows: rows[:7] + ["\n"] + rows[7:], None),                                   # a blank line
        (lambda rows: rows[:7] + [row(7).replace("\n", "\textra\n")] + rows[8:], "expected 13 fields, found 14"),
        (lambda rows: rows[:7] + [row(7, ts="XXXXXXXXXX.XXXXXX")] + rows[8:], "unparseable ts"),
        (lambda rows: rows[:7] + [row(7, ts="-")] + rows[8:], "missing ts"),
        (lambda rows: rows[:7] + [row(7, ts="4200000000.0")] + rows[8:], "unparseable ts"),  # year 2103
        (lambda rows: rows[:7] + ["# a comment\n"] + rows[7:], None),
        (lambda rows: rows + [HEADER.replace("conn\n#open", "conn\n#open")] + rows[:3], None),  # 2nd block
        (lambda rows: rows[:-1] + [row(len(rows) - 1).rstrip("\n")], "incomplete last line"),
        # NaN and the infinities are no duration (ingest_double: no sensor writes them, and 'inf' would read
        # as a connection open forever)
        (lambda rows: rows[:7] + [row(7).replace("\t0.5\t", "\tinf\t")] + rows[8:], "bad double value in field duration"),
        (lambda rows: rows[:7] + [row(7).replace("\t0.5\t", "\tnan\t")] + rows[8:], "bad double value in field duration"),
        (lambda rows: rows[:7] + [row(7).replace("\t0.5\t", "\t-Infinity\t")] + rows[8:],
         "bad double value in field duration"),
        # a count is unsigned (ingest_count): below zero it is no count
        (lambda rows: rows[:7] + [row(7, orig_bytes="-5")] + rows[8:], "bad int value in field orig_bytes"),
        # a port is 0 to 65535 (ingest_port)
        (lambda rows: rows[:7] + [row(7).replace("\t443\t", "\t70000\t")] + rows[8:], "bad port value in field id.resp_p"),
        (lambda rows: rows[:7] + [row(7).replace("\t50000\t", "\t-1\t")] + rows[8:], "bad port value in field id.orig_p"),
    ],
    ids=["bad-count", "blank-line", "extra-field", "masked-ts", "unset-ts", "ts-out-of-range", "comment",
         "second-block", "partial-tail", "inf-duration", "nan-duration", "minus-infinity-duration", "negative-count",
         "port-70000", "port-minus-1"],
)
def test_anything_the_line_path_treats_differently_is_refused(tmp_path, monkeypatch, damage, reason):
    rows = damage([row(i) for i in range(40)])
    p = tmp_path / "conn.log"
    tail = "" if not rows[-1].endswith("\n") else CLOSE
    p.write_text(HEADER + "".join(rows) + tail)
    report, _tables, taken = same_both_ways([p], monkeypatch)
    assert taken == 0
    f = report.files[0]
    if reason:
        assert f.lines_rejected == 1 and f.rejects[0].reason.startswith(reason)
        assert f.rejects[0].line == FIRST + (len(rows) - 1 if reason.startswith("incomplete") else 7)
    else:
        assert f.lines_rejected == 0


def test_gzip_takes_the_fast_path_on_its_decompressed_copy(tmp_path, monkeypatch):
    import gzip

    p = tmp_path / "conn.log.gz"
    p.write_bytes(gzip.compress((HEADER + "".join(row(i) for i in range(200)) + CLOSE).encode()))
    report, tables, taken = same_both_ways([p], monkeypatch)
    assert taken == 1 and report.files[0].rows_loaded == 200
    assert {(r[2], r[-1]) for r in tables["conn"]} == {(f"L{FIRST + i}", FIRST + i) for i in range(200)}


def test_a_trailing_separator_and_escapes_load_as_on_the_line_path(tmp_path, monkeypatch):
    rows = [row(i) for i in range(20)]
    rows[3] = row(3, uid="C\\x09tab\\\\x")
    rows[4] = row(4, service="(empty)")
    rows[5] = row(5, service="-")
    rows[6] = row(6).replace("\n", "\t\n")  # one trailing separator: tolerated by the line path
    p = tmp_path / "conn.log"
    p.write_text(HEADER + "".join(rows) + CLOSE)
    report, tables, taken = same_both_ways([p], monkeypatch)
    assert report.files[0].rows_loaded == 20
    services = {r[-1]: r[8] for r in tables["conn"]}
    assert (services[FIRST + 4], services[FIRST + 5]) == ("", None)
    assert any(r[2] == "C\ttab\\x" for r in tables["conn"])
    assert taken == 0  # the trailing separator is a field count DuckDB refuses


def test_grown_file_loads_only_its_new_lines_on_the_fast_path(tmp_path, monkeypatch):
    p = tmp_path / "conn.log"
    p.write_text(HEADER + "".join(row(i) for i in range(30)))
    with monkeypatch.context() as m:
        m.setattr(pipeline, "FAST_MIN_BYTES", 0)
        m.setattr(pipeline, "FAST_MIN_GZ_BYTES", 0)
        with Store() as s:
            first = ingest_paths(s, [p]).files[0]
            with p.open("a") as fh:
                fh.write("".join(row(i) for i in range(30, 50)) + CLOSE)
            second = ingest_paths(s, [p]).files[0]
            got = s.con.execute("SELECT uid, line FROM conn ORDER BY line").fetchall()
    assert (first.status, first.rows_loaded, second.status, second.rows_loaded) == ("loaded", 30, "appended", 20)
    assert second.accounted and second.meta_lines == 1
    assert got == [(f"L{FIRST + i}", FIRST + i) for i in range(50)]


def test_rows_keep_file_order_when_duckdb_reads_in_parallel(tmp_path, monkeypatch):
    # ~40 MB: more than one of DuckDB's CSV buffers, so several threads read parts of the file
    p = tmp_path / "conn.log"
    n = 300_000
    with p.open("w") as fh:
        fh.write(HEADER)
        fh.write("".join(row(i, service="x" * 60) for i in range(n)))
        fh.write(CLOSE)
    with monkeypatch.context() as m:
        taken = []
        real = pipeline.account_fast
        m.setattr(pipeline, "account_fast", lambda *a: (taken.append(1), real(*a))[1])
        with Store() as s:
            f = ingest_paths(s, [p]).files[0]
            bad = s.con.execute("SELECT count(*) FROM conn WHERE uid <> 'L' || line").fetchone()[0]
    assert taken and f.rows_loaded == n and f.accounted
    assert bad == 0


def test_a_scratch_store_numbers_rejected_lines_right_when_duckdb_reads_in_parallel(tmp_path):
    """A scratch store's ingest lets rows land in any order, but not the line table of the line
    path: three bad lines in a 40 MB file (read by several threads) are reported where they are."""
    p = tmp_path / "conn.log"
    n, bad = 300_000, (1_000, 150_000, 299_000)
    with p.open("w") as fh:
        fh.write(HEADER)
        fh.write("".join(row(i, service="x" * 60, **({"orig_bytes": "bad"} if i in bad else {})) for i in range(n)))
        fh.write(CLOSE)
    with Store(scratch=True) as s:
        f = ingest_paths(s, [p]).files[0]
        lines = [r[0] for r in s.con.execute("SELECT line FROM ingest_rejects ORDER BY line").fetchall()]
        uids = s.con.execute("SELECT count(*), count(DISTINCT uid) FROM conn").fetchone()
    assert lines == [FIRST + i for i in bad]
    assert [r.line for r in f.rejects] == lines and f.rows_loaded == n - 3 and f.accounted
    assert uids == (n - 3, n - 3)


def test_fixtures_and_shared_logs_load_the_same_both_ways(monkeypatch):
    paths = [FIX]
    if SHARED.is_dir():
        # real sensor logs (Zeek's own btest baselines mask their times: the line path is tested on them)
        paths += [SHARED / "zed-sample-data", SHARED / "rita", SHARED / "slips", SHARED / "zat" / "data"]
    _report, tables, taken = same_both_ways(paths, monkeypatch)
    assert tables["conn"] and tables["dns"]
    assert taken >= (15 if SHARED.is_dir() else 2)


@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "line-path"])
def test_a_scratch_store_loads_what_a_full_store_loads(monkeypatch, fast):
    paths = [FIX]
    if SHARED.is_dir():
        paths += [SHARED / "zed-sample-data", SHARED / "slips", SHARED / "suricata-verify", SHARED / "corelight-asyncrat"]
    tables = same_in_a_scratch_store(paths, monkeypatch, fast=fast)
    assert tables["conn"] and tables["dns"] and tables["tls"] and tables["http"] and tables["ingest_rejects"]
    cols = scratch_columns()
    assert "line" not in cols["conn"] and "orig_pkts" not in cols["conn"] and "ts" not in cols["tls"]
    assert {"epoch", "uid", "src", "dst", "dst_port", "orig_bytes", "sensor"} <= set(cols["conn"])
    assert "uid" not in cols["dns"]


@pytest.mark.parametrize("as_json", [False, True], ids=["tsv", "json"])
@pytest.mark.parametrize("field, bad, reason", [
    ("id.orig_p", "5x", "bad port value in field id.orig_p"),      # not kept by a scratch store
    ("orig_bytes", "lots", "bad int value in field orig_bytes"),   # kept
])
def test_a_bad_value_is_rejected_whether_or_not_a_scratch_store_keeps_its_column(
        tmp_path, monkeypatch, as_json, field, bad, reason):
    """DuckDB's reader skips a column no query uses: a scratch store must still type the fields it
    does not keep, so that it rejects exactly the lines a full store rejects."""
    if as_json:
        rows = [jrow(i) for i in range(40)]
        rows[7] = jrow(7, **{field: bad})
    else:
        rows = [row(i) for i in range(40)]
        parts = rows[7].rstrip("\n").split("\t")
        parts[{"id.orig_p": 3, "orig_bytes": 9}[field]] = bad
        rows[7] = "\t".join(parts) + "\n"
    p = tmp_path / "conn.log"
    p.write_text(("" if as_json else HEADER) + "".join(rows) + ("" if as_json else CLOSE))
    tables = same_in_a_scratch_store([p], monkeypatch)
    assert len(tables["conn"]) == 39
    monkeypatch.setattr(pipeline, "FAST_MIN_BYTES", 0)  # the fast read is tried, and refused
    with Store(scratch=True) as s:
        f = ingest_paths(s, [str(p)]).files[0]
        # a scratch store's ingest lets rows land in any order, and puts the setting back after
        assert s.con.execute("SELECT current_setting('preserve_insertion_order')").fetchone() == (True,)
    assert f.lines_rejected == 1 and f.rejects[0].reason.startswith(reason)
    assert f.rejects[0].line == (8 if as_json else FIRST + 7)


def jrow(i: int, **over: object) -> str:
    import json

    f: dict[str, object] = {"ts": 1795651200 + i + 0.25, "uid": f"J{i + 1}", "id.orig_h": "10.0.0.5",
                            "id.orig_p": 50000, "id.resp_h": "104.21.1.1", "id.resp_p": 443, "proto": "tcp",
                            "service": "ssl", "orig_bytes": i, "resp_bytes": 900, "conn_state": "SF"}
    f.update(over)
    return json.dumps({k: v for k, v in f.items() if v is not None}) + "\n"


def test_zeek_json_takes_the_fast_path_with_true_line_numbers(tmp_path, monkeypatch):
    p = tmp_path / "conn.log"
    p.write_text("".join(jrow(i, ts=(f"2026-11-26T00:00:{i % 60:02d}.5Z" if i % 3 == 0 else 1795651200 + i))
                         for i in range(300)))
    report, tables, taken = same_both_ways([p], monkeypatch)
    assert taken == 1
    f = report.files[0]
    assert (f.rows_loaded, f.lines_rejected, f.meta_lines, f.blank_lines) == (300, 0, 0, 0)
    assert {(r[2], r[-1]) for r in tables["conn"]} == {(f"J{i + 1}", i + 1) for i in range(300)}


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda rows: rows[:7] + ['{"ts": 1795651207.0, "uid": \n'] + rows[8:], "malformed JSON"),
        (lambda rows: rows[:7] + ["[1, 2]\n"] + rows[8:], "not a JSON object"),
        (lambda rows: rows[:7] + ["\n"] + rows[7:], None),
        (lambda rows: rows[:7] + [jrow(7, orig_bytes="many")] + rows[8:], "bad int value in field orig_bytes"),
        (lambda rows: rows[:7] + [jrow(7, ts=None)] + rows[8:], "missing ts"),
        (lambda rows: rows[:7] + [jrow(7, _path="dns")] + rows[8:], None),
        (lambda rows: rows[:7] + [jrow(7, _path="x509")] + rows[8:], None),
        (lambda rows: rows[:7] + [jrow(7, orig_bytes=-5)] + rows[8:], "bad int value in field orig_bytes"),
        (lambda rows: rows[:7] + [jrow(7, **{"id.resp_p": 70000})] + rows[8:], "bad port value in field id.resp_p"),
    ],
    ids=["malformed", "array", "blank-line", "bad-count", "no-ts", "other-kind", "unknown-kind", "negative-count",
         "port-70000"],
)
def test_json_the_line_path_treats_differently_is_refused(tmp_path, monkeypatch, damage, reason):
    rows = damage([jrow(i) for i in range(40)])
    p = tmp_path / "conn.log"
    p.write_text("".join(rows))
    report, _tables, taken = same_both_ways([p], monkeypatch)
    assert taken == 0
    f = report.files[0]
    if reason:
        assert f.lines_rejected == 1 and f.rejects[0].reason.startswith(reason) and f.rejects[0].line == 8
    else:
        assert f.lines_rejected == 0


# Every form a JSON value can take where a number belongs. The fast path reads counts, ports and
# doubles as numbers (zeek_json._NUMBER_READ), the line path casts their text: each value must load
# the same both ways, or make the fast path refuse the file.
NUMBER_FORMS = ['0', '7', '-0', '-0.0', '0.0', '7.0', '7.5', '0.5', '2.5', '-0.5', '-0.4', '-7', '1e3', '1E+3', '1.5e3',
                '1e-7', '65535', '65535.5', '65536', '70000', '9007199254740991', '9007199254740993',
                '123456789012345678.5', '9223372036854775807', '18446744073709551615', '1e400', 'true', 'false',
                'null', '"7"', '"7.5"', '"0x50"', '" 7"', '"1_000"', '"1e3"', '"true"', '"abc"', '""', '[7]', '{"a": 7}']


@pytest.mark.parametrize("field", ["orig_bytes", "id.resp_p", "duration", "ts"])
@pytest.mark.parametrize("form", NUMBER_FORMS)
def test_json_any_number_form_loads_the_same_both_ways(tmp_path, monkeypatch, field, form):
    """A JSON true/false where a count, port or double belongs reads as 1/0 both ways (as DuckDB's JSON
    reader reads it), and is no time; whatever else such a field holds loads as the line path's cast of
    its text makes it, or is rejected with its line, on both paths. The first line's ts is a number,
    so the fast path reads every ts as one (detect.Detection.epoch_ts)."""
    import json

    rows = [jrow(i) for i in range(40)]
    event = json.loads(rows[7])
    rows[7] = json.dumps({k: (None if k == field else v) for k, v in event.items()}).replace(
        f'"{field}": null', f'"{field}": {form}') if field in event else json.dumps(event)[:-1] + f', "{field}": {form}}}'
    rows[7] += "\n"
    p = tmp_path / "conn.log"
    p.write_text("".join(rows))
    report, tables, taken = same_both_ways([p], monkeypatch)
    f = report.files[0]
    number = ("7", "7.0", "1e3", '"7"') + (() if field == "ts" else ("true", "false", "-0"))
    if form in number:                                            # a number both ways: read whole
        assert f.lines_rejected == 0 and taken == 1
    if form in ("7.5", "-0.0", "9007199254740993") and field != "ts":  # no whole count or port below 2^53:
        assert taken == (0 if field in ("orig_bytes", "id.resp_p") else 1)  # the lines decide
    if field == "ts" and form in ("-0", "-0.0", "false", "true"):  # 0 or 1 may have been false or true
        assert taken == 0
    if form in ('"abc"', "[7]", '{"a": 7}') or (field == "ts" and form in ("true", "false", "null")):
        assert f.lines_rejected == 1 and f.rejects[0].line == 8 and taken == 0   # no number either way


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=12)
    | st.sampled_from(["7", "7.5", "-0", "0x50", "1e3", " 7", "2026-11-26T00:00:07Z", "true"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(st.tuples(st.integers(0, 39), st.sampled_from(
           ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_p", "orig_bytes", "resp_bytes", "duration", "service",
            "orig_pkts", "missed_bytes"]), _JSON_VALUES), min_size=1, max_size=4))
def test_json_any_value_in_any_field_loads_the_same_both_ways(tmp_path_factory, changes):
    """Whatever JSON value a field of a Zeek JSON conn.log holds (numbers of any size and form, booleans,
    null, text, arrays, objects), the fast path, which reads numbers as numbers, either gives exactly
    the line path's rows and rejects or refuses the file. Except the difference docs/inputs.md states:
    a JSON double where Zeek writes text (a uid of 1e16) is kept as DuckDB writes it (1e+16)."""
    import json

    def has_double(v: object) -> bool:
        if isinstance(v, float):
            return True
        return any(has_double(x) for x in (v.values() if isinstance(v, dict) else v if isinstance(v, list) else ()))

    assume(not any(f in ("uid", "id.orig_h", "service") and has_double(v) for _at, f, v in changes))
    rows = [json.loads(jrow(i)) for i in range(40)]
    for at, field, value in changes:
        rows[at][field] = value
    p = tmp_path_factory.mktemp("jvalues") / "conn.log"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.MonkeyPatch.context() as mp:
        same_both_ways([p], mp)
        same_in_a_scratch_store([p], mp)


def test_json_a_number_duckdb_quotes_cut_inside_a_character_is_refused_not_failed(tmp_path, monkeypatch):
    """DuckDB's reader, failing to read a value as a number, quotes it in its error cut at a byte count;
    a cut through a UTF-8 character made the Python binding raise UnicodeDecodeError instead of
    duckdb.Error, and the whole file failed. The fast path refuses, and the lines load (found by
    test_json_any_value_in_any_field_loads_the_same_both_ways)."""
    import json

    rows = [json.loads(jrow(i)) for i in range(40)]
    rows[1]["ts"] = [{"\x81": False, "\x80": [None, -1e16], "\r\x80": None}]
    p = tmp_path / "conn.log"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report, tables, taken = same_both_ways([p], monkeypatch)
    f = report.files[0]
    assert taken == 0 and f.status == "loaded" and f.rows_loaded == 39
    assert f.lines_rejected == 1 and f.rejects[0].line == 2 and f.rejects[0].reason == "unparseable ts"


def test_json_a_file_of_iso_times_after_epoch_ones_takes_the_line_path(tmp_path, monkeypatch):
    """The fast path reads ts as a number when the first line has one; a later ISO-8601 ts fails that
    read, and the file loads line by line, every line kept."""
    rows = [jrow(i) for i in range(40)]
    rows[20] = jrow(20, ts="2026-11-26T00:00:20.25Z")
    p = tmp_path / "conn.log"
    p.write_text("".join(rows))
    report, tables, taken = same_both_ways([p], monkeypatch)
    assert taken == 0 and report.files[0].rows_loaded == 40 and report.files[0].lines_rejected == 0
    assert sorted(r[1] for r in tables["conn"]) == [1795651200 + i + 0.25 for i in range(40)]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.lists(st.tuples(st.integers(0, 39), st.text(min_size=0, max_size=120)), max_size=4),
       as_json=st.booleans())
def test_any_junk_anywhere_loads_the_same_both_ways(tmp_path_factory, junk, as_json):
    """Whatever lines are slipped into a clean log (text with tabs, '#', quotes, braces, control
    characters, other encodings...), the fast path either gives exactly the line path's result or
    refuses."""
    rows = [jrow(i) for i in range(40)] if as_json else [row(i) for i in range(40)]
    for at, text in sorted(junk, reverse=True):
        rows.insert(at, text.replace("\r", "").replace("\n", " ") + "\n")
    d = tmp_path_factory.mktemp("junk")
    p = d / "conn.log"
    p.write_text(("" if as_json else HEADER) + "".join(rows) + ("" if as_json else CLOSE), encoding="utf-8",
                 errors="surrogatepass")
    with pytest.MonkeyPatch.context() as mp:
        same_both_ways([p], mp)
        same_in_a_scratch_store([p], mp)


@pytest.mark.parametrize("as_json", [False, True])
def test_rotated_copy_of_a_loaded_live_file_adds_only_the_rest(tmp_path, monkeypatch, as_json):
    # the rotated copy is new at its path, so it is read ahead; then its first lines turn out to be
    # the live file's, already loaded: only the rest is loaded (JSON: line by line, it cannot skip)
    make = jrow if as_json else row
    head = "" if as_json else HEADER
    live, rotated = tmp_path / "conn.log", tmp_path / "conn.2026-11-27-10-00-00.log"
    live.write_text(head + "".join(make(i) for i in range(30)))
    rotated.write_text(head + "".join(make(i) for i in range(50)))
    monkeypatch.setattr(pipeline, "FAST_MIN_BYTES", 0)
    monkeypatch.setattr(pipeline, "FAST_MIN_GZ_BYTES", 0)
    with Store() as s:
        first = ingest_paths(s, [live]).files[0]
        second = ingest_paths(s, [rotated]).files[0]
        uids = s.con.execute("SELECT count(*), count(DISTINCT uid) FROM conn").fetchone()
    assert (first.status, first.rows_loaded) == ("loaded", 30)
    assert (second.status, second.rows_loaded, second.lines_rejected) == ("appended", 20, 0), second.reason
    assert uids == (50, 50)


@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "line-path"])
def test_no_temporary_table_is_left_after_a_file(monkeypatch, fast):
    """drop_temps drops the line-by-line path's tables only when that path ran: whichever path each
    file took (the fixtures hold Zeek TSV and JSON, eve.json, bad lines, gzip), nothing is left."""
    from analyzer.ingest import common

    left = []
    real = common.drop_temps

    def check(con):
        real(con)
        left.extend(r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary UNION ALL "
            "SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal").fetchall())

    monkeypatch.setattr(pipeline, "drop_temps", check)
    report, tables, taken = run([FIX], fast, monkeypatch, scratch=True)
    assert len(report.files) > 10 and tables["conn"] and tables["ingest_rejects"]
    assert (taken > 0) == fast
    assert left == []


# --- eve.json: DuckDB's JSON reader instead of the lines (eve.parse_fast) ----------------------------

def erow(i: int, kind: str = "", **over: object) -> str:
    """One eve.json event: i cycles through flow, tls, http, a DNS query and its answer (v2)."""
    import json

    kind = kind or ("flow", "tls", "http", "dns-q", "dns-a")[i % 5]
    ts = f"2026-11-26T00:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000:03d}000+0000"
    f: dict[str, object] = {"timestamp": ts, "flow_id": 1000 + i // 5, "src_ip": "10.0.0.5",
                            "src_port": 50000 + i // 5, "dest_ip": "104.21.1.1", "dest_port": 443, "proto": "TCP"}
    if kind == "flow":
        f.update(event_type="flow", app_proto="tls", flow={
            "pkts_toserver": 4, "pkts_toclient": 5, "bytes_toserver": 500 + i, "bytes_toclient": 900,
            "start": ts, "end": ts.replace("000+0000", "900+0000"), "state": "closed"})
    elif kind == "tls":
        f.update(event_type="tls", tls={"sni": f"w{i % 7}.example.workers.dev", "version": "TLS 1.3",
                                        "ja3": {"hash": "e35df3e00ca4ef31d42b34bebaf2d8b8", "string": ""},
                                        "ja4": "t13d1311h2_f57a46bbacb6_d41ae481755e"})
    elif kind == "http":
        f.update(event_type="http", dest_port=80, http={"hostname": "x.example.com", "url": "/p", "status": 200,
                                                        "http_user_agent": "curl/8.0", "http_method": "GET",
                                                        "length": 12})
    else:
        answer = kind == "dns-a"
        f.update(event_type="dns", proto="UDP", dest_ip="10.0.0.53", dest_port=53, dns={
            "version": 2, "type": "answer" if answer else "query", "id": i // 5, "rrname": "w.example.com",
            "rrtype": "A", **({"rcode": "NOERROR", "answers": [
                {"rrname": "w.example.com", "rrtype": "A", "ttl": 60, "rdata": "104.21.1.1"}]} if answer else {})})
    f.update(over)
    return json.dumps({k: v for k, v in f.items() if v is not None}) + "\n"


def test_eve_takes_the_fast_path_with_true_line_numbers(tmp_path, monkeypatch):
    p = tmp_path / "eve.json"
    p.write_text("".join(erow(i) for i in range(500)))
    report, tables, taken = same_both_ways([p], monkeypatch)
    assert taken == 1
    f = report.files[0]
    assert (f.lines_loaded, f.lines_rejected, f.meta_lines, f.blank_lines, f.data_lines) == (500, 0, 0, 0, 500)
    # every table's rows, with the line each came from (the DNS query and its answer: one row)
    assert [len(tables[t]) for t in ("conn", "tls", "http", "dns")] == [100, 100, 100, 100]
    assert sorted(r[-1] for r in tables["tls"]) == [i + 1 for i in range(1, 500, 5)]
    assert sorted(r[-1] for r in tables["dns"]) == [i + 1 for i in range(3, 500, 5)]
    same_in_a_scratch_store([p], monkeypatch)


@pytest.mark.parametrize(
    "damage, reason, kept",
    [
        (lambda rows: rows[:7] + ["\n"] + rows[7:], None, False),                          # a blank line
        (lambda rows: rows[:7] + ["[1, 2]\n"] + rows[8:], "not a JSON object", False),
        (lambda rows: rows[:7] + ['{"event_type": "flow", "flow": \n'] + rows[8:], "malformed JSON", False),
        # a duplicate key: the line path takes the first ("x": an event of no modelled type, skipped)
        (lambda rows: rows[:7] + [erow(7).replace('{"timestamp"', '{"event_type": "x", "timestamp"')] + rows[8:],
         None, False),
        # a lone surrogate: DuckDB's reader refuses the file; the line path reads it with U+FFFD in its place
        (lambda rows: rows[:7] + [erow(7, src_ip="\ud800")] + rows[8:], None, False),
        (lambda rows: rows[:7] + [erow(7, timestamp="yesterday")] + rows[8:], "unparseable timestamp", False),
        (lambda rows: rows[:7] + [erow(7, event_type=None)] + rows[8:], "no event_type", False),
        (lambda rows: rows[:7] + ["# a comment\n"] + rows[7:], None, False),
        (lambda rows: rows[:-1] + [rows[-1][:30]], "incomplete last line", False),
        # a whole object without a newline at the end is a line (detect.json_line_complete): kept
        (lambda rows: rows[:-1] + [rows[-1].rstrip("\n")], None, True),
    ],
    ids=["blank-line", "array", "malformed", "duplicate-key", "lone-surrogate", "bad-timestamp", "no-event-type",
         "comment", "partial-tail", "no-newline-at-end"],
)
def test_eve_the_line_path_treats_differently_is_refused(tmp_path, monkeypatch, damage, reason, kept):
    rows = damage([erow(i) for i in range(40)])
    p = tmp_path / "eve.json"
    p.write_text("".join(rows), encoding="utf-8", errors="surrogatepass")
    report, _tables, taken = same_both_ways([p], monkeypatch)
    f = report.files[0]
    assert taken == int(kept)
    if reason:
        assert f.lines_rejected == 1 and f.rejects[0].reason.startswith(reason), f.rejects
        assert f.rejects[0].line == (40 if reason.startswith("incomplete") else 8)
    else:
        assert f.lines_rejected == 0


def test_eve_values_the_reader_types_differently_load_as_on_the_line_path(tmp_path, monkeypatch):
    """Numbers, objects and strings where the model expects others, keys in another case, objects that
    are not objects: the reader, asked for text and JSON, gives what json_extract_string gives."""
    rows = [erow(i) for i in range(30)]
    rows[0] = erow(0, flow_id="12345678901234567890123", src_port="50000", dest_port=443.0)
    rows[1] = erow(1, tls={"sni": {"nested": [1, 2.50, "é"]}, "ja3": "not-an-object", "ja4": {"hash": "t13x"}})
    rows[2] = erow(2, http="a string", proto={"x": 1})
    rows[3] = erow(3, Event_Type="dns", dns={"RRNAME": "upper.example", "rrname": "lower.example",
                                             "type": "query", "version": 2, "id": 3, "rrtype": 1})
    rows[5] = erow(5, flow=None, timestamp=1795651205.5)
    rows[6] = erow(6, tls={"sni": "q\"\\z\u0000\u00e9", "ja4": "t13d_x", "version": "TLS 1.2"})
    rows[8] = erow(8, dns={"version": 2, "type": "answer", "id": 1, "rcode": "NXDOMAIN", "grouped": {"A": ["1.2.3.4"]}})
    # a key twice inside an object (DuckDB refuses a duplicate only at the top): the first one, both ways
    rows[10] = rows[10].replace('"start":', '"start": "2026-11-26T05:00:00.000000+0000", "start":')
    rows[11] = rows[11].replace('"sni":', '"sni": "first.example", "sni":')
    p = tmp_path / "eve.json"
    p.write_text("".join(rows))
    report, tables, taken = same_both_ways([p], monkeypatch)
    assert taken == 1
    assert {r[-1] for r in tables["tls"]} >= {2, 7, 12}
    assert [r[7] for r in tables["tls"] if r[-1] == 12] == ["first.example"]
    assert [r[0].hour for r in tables["conn"] if r[-1] == 11] == [5]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.lists(st.tuples(st.integers(0, 39), st.text(min_size=0, max_size=120)), max_size=4),
       values=st.lists(st.tuples(st.integers(0, 39), st.sampled_from(
           ["timestamp", "src_port", "flow_id", "event_type", "tls", "dns", "flow", "http", "proto", "quic"]),
           st.one_of(st.none(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20), st.just("quic"),
                     st.dictionaries(st.sampled_from(["sni", "start", "rrname", "type", "hash", "ja3", "ja4"]),
                                     st.one_of(st.text(max_size=10), st.integers()), max_size=3),
                     st.lists(st.integers(), max_size=2))), max_size=4))
def test_eve_any_junk_or_odd_value_loads_the_same_both_ways(tmp_path_factory, junk, values):
    """Whatever lines are slipped into a clean eve.json, and whatever a field holds, the fast path
    either gives exactly the line path's result or refuses."""
    rows = [erow(i) for i in range(40)]
    for at, key, value in values:
        rows[at] = erow(at, **{key: value})
    for at, text in sorted(junk, reverse=True):
        rows.insert(at, text.replace("\r", "").replace("\n", " ") + "\n")
    p = tmp_path_factory.mktemp("evejunk") / "eve.json"
    p.write_text("".join(rows), encoding="utf-8", errors="surrogatepass")
    with pytest.MonkeyPatch.context() as mp:
        same_both_ways([p], mp)
        same_in_a_scratch_store([p], mp)


def test_eve_gzip_takes_the_fast_path_and_a_grown_file_its_new_lines_line_by_line(tmp_path, monkeypatch):
    import gzip

    gz = tmp_path / "eve.json.gz"
    gz.write_bytes(gzip.compress("".join(erow(i) for i in range(100)).encode()))
    report, _tables, taken = same_both_ways([gz], monkeypatch)
    assert taken == 1 and report.files[0].lines_loaded == 100
    live = tmp_path / "live" / "eve.json"
    live.parent.mkdir()
    live.write_text("".join(erow(i) for i in range(50)))
    monkeypatch.setattr(pipeline, "FAST_MIN_BYTES", 0)
    with Store() as s:
        first = ingest_paths(s, [live]).files[0]
        with live.open("a") as fh:
            fh.write("".join(erow(i) for i in range(50, 80)))
        second = ingest_paths(s, [live]).files[0]
        lines = [r[0] for r in s.con.execute("SELECT line FROM tls ORDER BY line").fetchall()]
    assert (first.status, first.lines_loaded, second.status, second.lines_loaded) == ("loaded", 50, "appended", 30)
    assert lines == [i + 1 for i in range(1, 80, 5)]


@pytest.mark.parametrize("fmt", ["tsv", "json", "eve"])
def test_a_count_past_2_63_keeps_its_line_held_at_the_largest_bigint(tmp_path, monkeypatch, fmt):
    """Zeek's counts and Suricata's counters are unsigned 64-bit. One past 2^63 - 1 (a wrapped or corrupt
    counter) keeps its connection, the count held at 2^63 - 1, where it was rejected with the whole
    line; 2^63 - 1 itself loads as it is. eve.json keeps a flow whose counter is below zero, without
    that counter (in Zeek logs it is a bad value: the "negative-count" cases above). Text that is no
    number is still rejected (test_a_bad_value_is_rejected_whether_or_not_a_scratch_store_keeps_its_column)."""
    import json

    top, huge = 2**63 - 1, 2**64 - 1
    if fmt == "tsv":
        rows = [row(i) for i in range(40)]
        rows[7], rows[8] = row(7, orig_bytes=str(huge)), row(8, orig_bytes=str(top))
        text, col, lines = HEADER + "".join(rows) + CLOSE, "orig_bytes", (FIRST + 7, FIRST + 8)
    elif fmt == "json":
        rows = [jrow(i) for i in range(40)]
        rows[7], rows[8] = jrow(7, orig_bytes=huge), jrow(8, orig_bytes=top)
        text, col, lines = "".join(rows), "orig_bytes", (8, 9)
    else:
        rows = [erow(i) for i in range(40)]
        for i, n in ((5, huge), (10, top), (15, -5)):  # flows
            event = json.loads(rows[i])
            event["flow"]["bytes_toserver"] = n
            rows[i] = json.dumps(event) + "\n"
        text, col, lines = "".join(rows), "orig_ip_bytes", (6, 11)
    p = tmp_path / ("eve.json" if fmt == "eve" else "conn.log")
    p.write_text(text)
    report, _tables, _taken = same_both_ways([p], monkeypatch)
    assert report.files[0].lines_rejected == 0
    with Store() as s:
        ingest_paths(s, [str(p)])
        got = s.con.execute(f"SELECT line, {col} FROM conn WHERE line IN (?, ?) ORDER BY line", list(lines)).fetchall()
        assert got == [(lines[0], top), (lines[1], top)]
        assert s.con.execute(f"SELECT count(*) FROM conn WHERE {col} = ?", [top]).fetchone() == (2,)
        if fmt == "eve":  # eve.json keeps the flow of a counter below zero, without that counter
            assert s.con.execute("SELECT orig_ip_bytes FROM conn WHERE line = 16").fetchall() == [(None,)]
    same_in_a_scratch_store([p], monkeypatch)


@pytest.mark.parametrize("ttls, kept", [("300.000000,inf", False), ("nan", False), ("300.000000,60.5", True),
                                        ("(empty)", True), ("-", True)])
def test_a_ttl_that_is_nan_or_infinite_is_a_bad_value_both_ways(tmp_path, monkeypatch, ttls, kept):
    """A vector of intervals (dns.log TTLs) with an element that is NaN or infinite is a bad value, on the
    fast path (which leaves the row out, so the file takes the line path) as on the line path; finite,
    empty and unset vectors load."""
    text = (FIX / "valid_tsv" / "dns.log").read_text()
    lines = text.splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    fields = lines[first].rstrip("\n").split("\t")
    fields[22] = ttls  # TTLs
    lines[first] = "\t".join(fields) + "\n"
    p = tmp_path / "dns.log"
    p.write_text("".join(lines))
    report, tables, _taken = same_both_ways([p], monkeypatch)
    f = report.files[0]
    assert (f.rows_loaded, f.lines_rejected) == ((3, 0) if kept else (2, 1))
    if not kept:
        assert f.rejects[0].line == first + 1 and f.rejects[0].reason.startswith("bad list_double value in field TTLs")


def test_an_eve_ttl_that_is_not_finite_is_no_ttl(tmp_path, monkeypatch):
    """eve.json's answers keep a TTL that is no number as no TTL (an event is not rejected for it): "inf"
    is no number either (ingest_double), where it read as an answer cached forever."""
    import json

    rows = [erow(i) for i in range(10)]
    for i, ttl in ((4, "inf"), (9, 60)):  # the two answers (dns-a)
        event = json.loads(rows[i])
        event["dns"]["answers"][0]["ttl"] = ttl
        rows[i] = json.dumps(event) + "\n"
    p = tmp_path / "eve.json"
    p.write_text("".join(rows))
    report, _tables, _taken = same_both_ways([p], monkeypatch)
    assert report.files[0].lines_rejected == 0
    with Store() as s:
        ingest_paths(s, [str(p)])
        got = s.con.execute("SELECT line, ttls FROM dns ORDER BY line").fetchall()
    assert got == [(4, [None]), (9, [60.0])]


def qrow(i: int, flow: int, **quic: object) -> str:
    """A Suricata 7 ``quic`` event of flow ``flow`` (its keys as Suricata writes them)."""
    import json

    return json.dumps({"timestamp": f"2026-11-26T01:00:{i % 60:02d}.000000+0000", "flow_id": flow,
                       "event_type": "quic", "src_ip": "10.0.0.5", "src_port": 51000 + flow % 1000,
                       "dest_ip": "104.21.1.1", "dest_port": 443, "proto": "UDP", "quic": quic}) + "\n"


def test_eve_quic_hellos_are_tls_handshakes_once_per_flow_both_ways(tmp_path, monkeypatch):
    """A QUIC connection's handshake is in its ``quic`` events (Zeek logs it in ssl.log): the first
    event of a flow that carries the client's SNI or fingerprint becomes a tls row, version 'QUIC 1';
    the server's hello, a hello resent after a Retry and packets with neither are skipped, counted."""
    rows = [erow(i) for i in range(40)]
    rows += [
        qrow(0, 7001, version="1", sni="cdn-sync.acct.workers.dev",
             ja3={"hash": "203c2306834e5bf5ace01fb74ad1badf", "string": "771,4865-4866-4867,..."}),
        qrow(1, 7001, version="1", ja3s={"hash": "f4febc55ea12b31ae17cfb7e614afda8"}),          # the server's
        qrow(2, 7001, version="1", sni="cdn-sync.acct.workers.dev",
             ja3={"hash": "203c2306834e5bf5ace01fb74ad1badf"}),                                  # resent: skipped
        qrow(3, 7002, version="1", ja3={"hash": "203c2306834e5bf5ace01fb74ad1badf"}),            # no SNI: kept
        qrow(4, 7003, version="1"),                                                              # neither
        qrow(5, 7004, version="Q050", sni="www.google.com", ua="Chrome/120", ja4="q13d0312h3_55b375c5d22e_x"),
    ]
    p = tmp_path / "eve.json"
    p.write_text("".join(rows))
    report, tables, taken = same_both_ways([p], monkeypatch)
    assert taken == 1
    f = report.files[0]
    assert (f.lines_loaded, f.skipped_events, f.lines_rejected) == (40 + 3, 3, 0)
    quic = sorted((r[2], r[7], r[8], r[9], r[10], r[-1]) for r in tables["tls"] if r[2] in ("7001", "7002", "7003", "7004"))
    assert quic == [
        ("7001", "cdn-sync.acct.workers.dev", "203c2306834e5bf5ace01fb74ad1badf", None, "QUIC 1", 41),
        ("7002", None, "203c2306834e5bf5ace01fb74ad1badf", None, "QUIC 1", 44),
        ("7004", "www.google.com", None, "q13d0312h3_55b375c5d22e_x", "QUIC Q050", 46),
    ]
    assert len(tables["tls"]) == 8 + 3                       # the TLS events are as they were
    same_in_a_scratch_store([p], monkeypatch)


def test_eve_a_quic_hello_without_a_time_is_rejected_and_other_quic_events_are_not(tmp_path, monkeypatch):
    rows = [erow(i) for i in range(20)]
    rows.append(qrow(0, 7001, version="1", sni="a.example").replace('"2026-11-26T01:00:00.000000+0000"', '"soon"'))
    rows.append(qrow(1, 7001, version="1", ja3s={"hash": "x"}).replace('"2026-11-26T01:00:01.000000+0000"', '"soon"'))
    p = tmp_path / "eve.json"
    p.write_text("".join(rows))
    report, tables, _taken = same_both_ways([p], monkeypatch)
    f = report.files[0]
    assert [(r.line, r.reason) for r in f.rejects] == [(21, "unparseable timestamp")]
    assert (f.lines_loaded, f.skipped_events) == (20, 1)
    assert not [r for r in tables["tls"] if r[2] == "7001"]


def test_eve_quic_events_of_odd_shapes_load_the_same_both_ways(tmp_path, monkeypatch):
    """Whatever a quic event's values are (an object for the SNI, a string for ja3, ja4 as an object,
    quic itself as a string or a list), both paths give the same rows and every line is accounted for."""
    rows = [erow(i) for i in range(20)]
    rows += [qrow(0, 8001, sni={"x": [1, 2]}), qrow(1, 8002, sni=42, ja3="not-an-object"),
             qrow(2, 8003, ja4={"hash": "q13d0311h3_55b375c5d22e_3512bcbbc9ec"}),
             qrow(3, 8004, sni="a\u0000b\"c.workers.dev"),
             qrow(4, 8005).replace('"quic": {}', '"quic": "a string"'),
             qrow(5, 8006).replace('"quic": {}', '"quic": [1, {"sni": "x"}]'),
             qrow(6, 8007, sni=None, ja3=None)]
    p = tmp_path / "eve.json"
    p.write_text("".join(rows))
    report, tables, taken = same_both_ways([p], monkeypatch)
    assert taken == 1
    f = report.files[0]
    quic = sorted((r[2], r[7], r[8], r[9]) for r in tables["tls"] if r[2].startswith("800"))
    assert quic == [("8001", '{"x":[1,2]}', None, None), ("8002", "42", None, None),
                    ("8003", None, None, "q13d0311h3_55b375c5d22e_3512bcbbc9ec"),
                    ("8004", 'a\x00b"c.workers.dev', None, None)]
    assert (f.lines_loaded, f.skipped_events, f.lines_rejected) == (20 + 4, 3, 0)
