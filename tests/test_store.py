"""The store: a throwaway one for a scan stays in memory when the logs fit, goes to a temporary
file when they do not, and leaves nothing behind."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from analyzer.errors import StoreError
from analyzer.ingest import ingest_paths
from analyzer import store as store_mod
from analyzer.store import GZIP_EXPANSION, LOADED_PER_LOG_BYTE, Store, _loaded_estimate


def _log(path: Path, rows: int) -> Path:
    head = ("#separator \\x09\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\n"
            "#types\ttime\tstring\taddr\tport\taddr\tport\n")
    body = "".join(f"{1795651200 + i}.5\tC{i:017d}\t10.0.0.{i % 200}\t5{i % 9999:04d}\t104.21.0.1\t443\n"
                   for i in range(rows))
    path.write_text(head + body)
    return path


def test_small_logs_scan_in_memory(tmp_path):
    log = _log(tmp_path / "conn.log", 100)
    with Store.scratch([log]) as s:
        assert s.path is None
        assert ingest_paths(s, [log]).rows_loaded == 100


def test_logs_too_big_for_the_memory_limit_go_to_a_temporary_file_removed_on_close(tmp_path, monkeypatch):
    logs = tmp_path / "logs"
    logs.mkdir()
    _log(logs / "conn.log", 250_000)  # ~15 MB of text, ~26 MB loaded
    with Store.scratch([logs], memory_limit="48MB") as s:
        assert s.path is None                    # fits: memory
    monkeypatch.setattr(store_mod, "SCRATCH_MEMORY_FACTOR", 0.5)
    s = Store.scratch([logs], memory_limit="48MB")  # more than half of the limit: a file
    try:
        assert s.path is not None and Path(s.path).exists()
        folder = Path(s.path).parent
        assert ingest_paths(s, [logs]).rows_loaded == 250_000
        assert s.con.execute("SELECT count(DISTINCT uid) FROM conn").fetchone() == (250_000,)
    finally:
        s.close()
    assert not folder.exists()


def test_gzip_and_globs_count_at_their_loaded_size(tmp_path):
    gz = tmp_path / "a" / "conn.log.gz"
    gz.parent.mkdir()
    gz.write_bytes(gzip.compress(_log(tmp_path / "x.log", 1000).read_bytes()))
    plain = tmp_path / "x.log"
    expected = (gz.stat().st_size * GZIP_EXPANSION + plain.stat().st_size) * LOADED_PER_LOG_BYTE
    assert _loaded_estimate([str(tmp_path / "*" / "*.gz"), plain]) == pytest.approx(expected)
    assert _loaded_estimate([tmp_path]) == pytest.approx(expected)   # folders are walked
    assert _loaded_estimate([str(tmp_path / "nothing*")]) == 0


def test_bad_memory_limit_is_a_store_error():
    with pytest.raises(StoreError, match="memory limit"):
        Store.scratch([], memory_limit="lots")
