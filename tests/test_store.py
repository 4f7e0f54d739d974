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


def test_bad_memory_limit_is_a_store_error():
    with pytest.raises(StoreError, match="memory limit"):
        Store(memory_limit="lots")


def test_a_scratch_store_leaves_out_the_columns_no_stage_reads():
    from analyzer.store import SCRATCH_OMITS

    with Store() as full, Store(scratch=True) as scratch:
        for table, omitted in SCRATCH_OMITS.items():
            have_full = [r[0] for r in full.con.execute(f"DESCRIBE {table}").fetchall()]
            have = [r[0] for r in scratch.con.execute(f"DESCRIBE {table}").fetchall()]
            assert set(omitted) <= set(have_full)            # the names are real columns
            assert have == [c for c in have_full if c not in omitted]
        assert [r[0] for r in scratch.con.execute("DESCRIBE ingest_files").fetchall()] == \
            [r[0] for r in full.con.execute("DESCRIBE ingest_files").fetchall()]


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
