"""The store: memory stores spill to a private folder that never outlives them, and a bad memory
limit is a clear error that leaves nothing open."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from analyzer.errors import StoreError
from analyzer.sqlfiles import read_sql
from analyzer.store import Store


def test_spill_folder_is_removed_on_close():
    s = Store()
    folder = Path(s._spill or "")
    assert folder.is_dir()
    s.close()
    assert not folder.exists()


def test_spill_folder_of_a_store_never_closed_is_removed_too():
    s = Store()
    folder = Path(s._spill or "")
    assert folder.is_dir()
    del s
    gc.collect()
    assert not folder.exists()
    # and at interpreter exit, for a store still referenced then
    code = "from analyzer.store import Store; s = Store(); print(s._spill)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out and not Path(out).exists()


def test_file_store_spills_beside_its_file_and_keeps_no_private_folder(tmp_path):
    with Store(tmp_path / "s.duckdb") as s:
        assert s._spill is None
        assert s.con.execute("SELECT count(*) FROM conn").fetchone() == (0,)


@pytest.mark.parametrize("limit", ["lots", "-1GB", "0", "1KB", "9MB", "1.6 GBs"])
def test_bad_memory_limit_is_a_store_error(limit):
    """DuckDB takes '-1GB' for no limit at all, and a cap of a few KB fails later with its own
    out-of-memory error: refused up front, saying what to give."""
    with pytest.raises(StoreError, match="memory limit .*at least 10MB"):
        Store(memory_limit=limit)


@pytest.mark.parametrize("limit,shown", [("1.6GB", "1.4 GiB"), ("2 GiB", "2.0 GiB"), ("64mb", "61.0 MiB"),
                                         ("10MB", "9.5 MiB")])
def test_a_memory_limit_is_taken_in_decimal_or_binary_units(limit, shown):
    with Store(memory_limit=limit) as s:
        assert s.con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == shown


def test_a_scratch_store_leaves_out_the_columns_no_stage_reads():
    from analyzer.store import SCRATCH_DERIVED, SCRATCH_OMITS

    with Store() as full, Store(scratch=True) as scratch:
        for table, omitted in SCRATCH_OMITS.items():
            have_full = [r[0] for r in full.con.execute(f"DESCRIBE {table}").fetchall()]
            have = [r[0] for r in scratch.con.execute(f"DESCRIBE {table}").fetchall()]
            assert set(omitted) <= set(have_full)            # the names are real columns
            # ... and the keys it numbers conn and tls rows by as it reads them, at the end
            assert have == [c for c in have_full if c not in omitted] + list(SCRATCH_DERIVED.get(table, {}))
        assert [r[0] for r in scratch.con.execute("DESCRIBE ingest_files").fetchall()] == \
            [r[0] for r in full.con.execute("DESCRIBE ingest_files").fetchall()]


def test_a_scratch_store_keeps_uids_as_keys_and_the_sensor_as_an_enum():
    """store.SCRATCH_KEYS: equal uids get equal keys, distinct ones distinct keys, NULL stays NULL,
    through every ingest path (insert_head wraps the value in the key macro)."""
    from analyzer.ingest.common import insert_head, row_values

    with Store(scratch=True) as s, Store() as full:
        types = {r[0]: r[1] for r in s.con.execute("DESCRIBE conn").fetchall()}
        assert types["uid"] == "UBIGINT" and types["sensor"].startswith("ENUM")
        assert {r[0]: r[1] for r in full.con.execute("DESCRIBE conn").fetchall()}["uid"] == "VARCHAR"
        s.con.execute(read_sql("01_ingest_macros"))
        head, _have = insert_head(s.con, "conn", row_values("conn", "'suricata'", "7", "NULL"))
        s.con.execute("CREATE TEMP TABLE src AS SELECT * FROM (VALUES ('Ca1', 1.0), ('Ca1', 2.0), ('Cb2', 3.0),"
                      " (NULL, 4.0)) v(uid, epoch)")
        cols = ", ".join(f"NULL AS {c}" for c in types if c not in ("uid", "epoch", "sensor", "file_id"))
        s.con.execute(f"{head} FROM (SELECT uid, epoch, {cols} FROM src)")
        rows = s.con.execute("SELECT epoch, uid, sensor, file_id FROM conn ORDER BY epoch").fetchall()
        assert rows[0][1] == rows[1][1] != rows[2][1] and rows[3][1] is None
        assert {r[2] for r in rows} == {"suricata"} and {r[3] for r in rows} == {7}
        with pytest.raises(duckdb.Error):   # the enum holds the two sensors only
            s.con.execute("INSERT INTO conn (sensor) VALUES ('other')")


@pytest.mark.parametrize("fmt", ["zeek-tsv", "zeek-json", "eve"])
def test_a_scratch_store_numbers_conn_and_tls_rows_as_it_reads_them(tmp_path, fmt):
    """store.SCRATCH_DERIVED: every ingest path fills the keys of conn and tls (the macros of
    sql/03_duckdb_keys.sql over the row's strings), which a scan-owned store keeps in place of the
    strings (analyzer.narrow)."""
    from analyzer.ingest import ingest_paths
    from analyzer.simulate import build_scenario, write_logs

    scen = build_scenario("mixed", seed=3, hours=2.0)
    with Store(scratch=True) as s:
        ingest_paths(s, [str(p) for p in write_logs(scen, tmp_path, fmt=fmt)])
        conn = s.con.execute("SELECT count(*), count(*) FILTER (WHERE src_id = addr_key(src) AND dst_id = addr_key(dst)) "
                             "FROM conn").fetchone()
        tls = s.con.execute(
            "SELECT count(*), count(*) FILTER (WHERE src_id = addr_key(src) AND dst_id = addr_key(dst) "
            "AND raw_id IS NOT DISTINCT FROM name_key(server_name) AND client_id = client_key(ja3, ja4)), "
            "count(raw_id) FROM tls").fetchone()
    assert conn[0] > 1000 and conn[1] == conn[0]
    assert tls[0] > 500 and tls[1] == tls[0] and tls[2] > 0


def test_a_scratch_store_lives_in_memory(tmp_path):
    with pytest.raises(ValueError, match="memory"):
        Store(tmp_path / "s.duckdb", scratch=True)
    assert not (tmp_path / "s.duckdb").exists()


def test_a_memory_store_is_never_checkpointed_and_a_file_store_is(tmp_path):
    """Checkpointing a memory store rewrites what was loaded for nothing (it made the last commit of a
    1M-row day take 0.34 s); a file store keeps DuckDB's default, which is what makes it durable."""
    threshold = "SELECT current_setting('checkpoint_threshold')"
    with Store() as mem, Store(tmp_path / "s.duckdb") as disk:
        assert mem.con.execute(threshold).fetchone()[0].endswith("TiB")
        assert disk.con.execute(threshold).fetchone()[0] == duckdb.connect().execute(threshold).fetchone()[0]


def test_settings_are_restored_after_the_block_even_on_error():
    from analyzer.store import settings

    with Store() as s:
        get = lambda n: s.con.execute(f"SELECT current_setting('{n}')").fetchone()[0]  # noqa: E731
        with pytest.raises(RuntimeError):
            with settings(s.con, {"preserve_insertion_order": False, "disabled_optimizers": "build_side_probe_side"}):
                assert get("preserve_insertion_order") is False
                assert get("disabled_optimizers") == "build_side_probe_side"
                raise RuntimeError("stage failed")
        assert get("preserve_insertion_order") is True and get("disabled_optimizers") == ""


def test_drop_takes_a_table_or_a_view_by_name() -> None:
    from analyzer.store import drop, kind_of

    with Store() as s:
        s.con.execute("CREATE TEMP TABLE t1 AS SELECT 1 AS a")
        s.con.execute("CREATE TEMP VIEW v1 AS SELECT * FROM t1")
        assert (kind_of(s.con, "t1"), kind_of(s.con, "v1"), kind_of(s.con, "none")) == ("TABLE", "VIEW", None)
        drop(s.con, "v1")
        drop(s.con, "t1")
        drop(s.con, "none")  # nothing there: nothing done
        assert (kind_of(s.con, "t1"), kind_of(s.con, "v1")) == (None, None)


def test_a_database_file_that_is_not_ours_is_refused_with_a_message(tmp_path: Path) -> None:
    """Another tool's DuckDB file with tables of our names (or a hand-made tls table) is refused when
    opened, naming the file and what is wrong, instead of every later statement failing with a
    BinderException traceback. A store of ours reopens, and the CLI exits 2 with the message."""
    from click.testing import CliRunner

    from analyzer.cli import cli

    foreign = tmp_path / "foreign.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE tls (a INTEGER)")
    con.close()
    with pytest.raises(StoreError, match=r"foreign\.duckdb is not a serverless-c2 store: its table tls lacks "):
        Store(foreign)
    r = CliRunner().invoke(cli, ["scan", "--db", str(foreign)])
    assert r.exit_code == 2 and "is not a serverless-c2 store" in r.stderr and "Traceback" not in r.output
    ours = tmp_path / "ours.duckdb"
    Store(ours).close()
    with Store(ours) as s:  # reopened: the same tables
        assert s.con.execute("SELECT count(*) FROM tls").fetchone() == (0,)
