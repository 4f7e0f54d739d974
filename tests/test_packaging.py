"""The package installs as a wheel (not editable) and can still find and run its SQL stages."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_install_runs_sql(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    # system site-packages: reuse the already-installed dependencies instead of downloading them;
    # the venv's own site-packages come first on sys.path, so `analyzer` is the wheel's copy.
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    pip = subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--no-deps", str(ROOT)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    if pip.returncode != 0 and "hatchling" in (pip.stderr + pip.stdout) and "connect" in (pip.stderr + pip.stdout).lower():
        pytest.skip(f"cannot fetch the build backend: {pip.stderr[-300:]}")
    assert pip.returncode == 0, pip.stderr
    probe = (
        "import analyzer, analyzer.sqlfiles as s, analyzer.store as st;"
        "print(analyzer.__file__); print(s.sql_dir());"
        "db = st.Store(); print(len(s.list_sql()));"
        "print(db.con.execute('select count(*) from conn').fetchone()[0]);"
        "import importlib.resources as r; print(all((r.files('analyzer') / p).is_file() for p in"
        " ('templates/report.html.j2', 'data/catalog.txt', 'data/clients.toml', 'data/suricata-replay.yaml')))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([str(py), "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    module_file, sql_dir, n_sql, n_rows, data_ok = out.stdout.split("\n")[:5]
    assert str(env_dir) in module_file, "imported the checkout, not the installed wheel"
    assert str(env_dir) in sql_dir and sql_dir.endswith(os.path.join("analyzer", "sql"))
    shipped = sorted(p.name for p in (ROOT / "sql").glob("*.sql"))
    assert int(n_sql) == len(shipped) > 0
    assert int(n_rows) == 0
    assert data_ok == "True", "package data (catalogue, report template) missing from the wheel"
    cli = subprocess.run([str(env_dir / "bin" / "serverless-c2"), "--version"], capture_output=True, text=True, env=env)
    assert cli.returncode == 0 and "serverless-c2" in cli.stdout


def test_python_dash_m_works() -> None:
    out = subprocess.run([sys.executable, "-m", "analyzer", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "serverless" in out.stdout.lower()
