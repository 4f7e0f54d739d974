"""Hostile strings written into real Zeek logs go through ingest, scan and report as data.

The other security tests build findings by hand; this one writes the strings where an attacker
would put them (SNI, Host, User-Agent, URI) and runs the commands a user runs.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from click.testing import CliRunner

from analyzer.cli import cli

T0 = 1_800_000_000.0
HOSTILE_UA = "=HYPERLINK(\"http://x\")\x1b[2J<script>alert(1)</script>'; DROP TABLE conn; --"
HOSTILE_HOST = "CDN.Evil-Acct.workers.dev:8080"   # valid, but cased and with a port
HOSTILE_URI = "/a#frag\"\x1b]0;pwn\x07"
HOSTILE_SNI = "<img src=x onerror=alert(1)>.evil-acct.workers.dev"


def _zeek(path: Path, kind: str, fields: list[str], types: list[str], rows: list[list[str]]) -> None:
    head = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-",
            f"#path\t{kind}", "#fields\t" + "\t".join(fields), "#types\t" + "\t".join(types)]
    path.write_text("\n".join(head + ["\t".join(r) for r in rows]) + "\n", encoding="utf-8")


def _esc(s: str) -> str:
    """Zeek's TSV escaping of non-printable bytes."""
    return "".join(f"\\x{ord(c):02x}" if ord(c) < 0x20 or c == "\\" else c for c in s)


def _write_day(d: Path) -> None:
    ids = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p"]
    idt = ["time", "string", "addr", "port", "addr", "port"]
    conn, ssl, http = [], [], []
    for i in range(40):
        t = T0 + 60 * i + (i * 7919 % 17)
        for uid, port in ((f"CT{i}", "443"), (f"CH{i}", "80")):
            conn.append([f"{t:.6f}", uid, "10.9.9.9", str(40000 + i), "104.21.9.9", port, "tcp", "-", "0.2",
                         "300", "900", "SF"])
        ssl.append([f"{t + 0.01:.6f}", f"CT{i}", "10.9.9.9", str(40000 + i), "104.21.9.9", "443",
                    _esc(HOSTILE_SNI), "t13d1812h1_85036bcba153_375ca2c5e164"])
        http.append([f"{t + 0.01:.6f}", f"CH{i}", "10.9.9.9", str(40000 + i), "104.21.9.9", "80", "GET",
                     _esc(HOSTILE_HOST), _esc(HOSTILE_URI), _esc(HOSTILE_UA)])
    _zeek(d / "conn.log", "conn", ids + ["proto", "service", "duration", "orig_bytes", "resp_bytes", "conn_state"],
          idt + ["enum", "string", "interval", "count", "count", "string"], conn)
    _zeek(d / "ssl.log", "ssl", ids + ["server_name", "ja4"], idt + ["string", "string"], ssl)
    _zeek(d / "http.log", "http", ids + ["method", "host", "uri", "user_agent"],
          idt + ["string", "string", "string", "string"], http)


def test_hostile_log_strings_stay_data_in_every_output(tmp_path: Path) -> None:
    _write_day(tmp_path)
    runner = CliRunner()
    db = str(tmp_path / "s.duckdb")
    res = runner.invoke(cli, ["ingest", str(tmp_path), "--db", db, "-q", "--strict"])
    assert res.exit_code == 0, res.output

    table = runner.invoke(cli, ["scan", "--db", db, "--format", "table", "--min-score", "0"])
    assert table.exit_code == 0, table.output
    assert "\x1b" not in table.output and "\x07" not in table.output
    assert "cdn.evil-acct.workers.dev" in table.output       # found, normalized ...
    assert "Cloudflare Workers" in table.output              # ... as what it is
    assert "onerror=alert(1)>.evil-acct.workers.dev" in table.output  # the garbage SNI: found, as text

    out = runner.invoke(cli, ["scan", "--db", db, "--format", "csv", "--min-score", "0"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert rows, "the hostile channels must still be found"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    uas = [r["user_agent"] for r in rows if r["user_agent"]]
    assert any("HYPERLINK" in ua and ua.startswith("'") for ua in uas)

    html_path = tmp_path / "r.html"
    rep = runner.invoke(cli, ["report", "--db", db, "--out", str(html_path), "-q", "--no-history"])
    assert rep.exit_code == 0, rep.output
    page = html_path.read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page or "&lt;script&gt;" in page

    # the SQL-looking User-Agent was stored as data: the tables are intact
    again = runner.invoke(cli, ["ingest", str(tmp_path), "--db", db, "-q"])
    assert again.exit_code == 0, again.output
