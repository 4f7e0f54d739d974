"""Output formats: nothing an attacker controls reaches a terminal or a spreadsheet raw."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analyzer.findings import Finding, ScanResult
from analyzer.render import (CSV_COLUMNS, SCHEMA_VERSION, csv_safe, render, render_csv, render_json, render_ndjson,
                             render_table, strip_control)

EVIL_UA = "curl/8\x1b[2J\x1b]0;pwned\x07\u202eexe.txt"


def _finding(**kw) -> Finding:
    base = dict(src="10.1.2.3", host="c2.acct.workers.dev", platform="Cloudflare Workers", tenant="acct",
                category="faas-edge", score=0.91, severity="high", connections=412, period_s=61.2, jitter=0.28,
                first_seen=datetime(2026, 11, 26, 8, tzinfo=timezone.utc),
                last_seen=datetime(2026, 11, 26, 17, 30, tzinfo=timezone.utc), user_agent=EVIL_UA, ja3=None,
                ja4="t13d1812h1_85036bcba153_375ca2c5e164", bytes_out=1000, bytes_in=2000,
                reasons=["beacons every ~60 s", "=HYPERLINK(\"http://x\")"], sources=["conn", "ssl"])
    base.update(kw)
    return Finding(**base)


def _result(*findings: Finding) -> ScanResult:
    return ScanResult(findings=list(findings), suppressed={"allow.txt:1 tenant=acme (uptime)": 3},
                      window_start=datetime(2026, 11, 26, tzinfo=timezone.utc),
                      window_end=datetime(2026, 11, 27, tzinfo=timezone.utc), channels_scored=10, hosts=4)


@pytest.mark.parametrize("text,expected", [
    ("plain.example.com", "plain.example.com"),
    ("a\x1b[31mred\x1b[0m", "a[31mred[0m"),
    ("bell\x07tab\tnl\ncr\r", "belltabnlcr"),
    ("c1\x9bcsi", "c1csi"),
    ("rtl\u202eoverride\u2066iso\u2069", "rtloverrideiso"),
    ("zero\u200bwidth\ufeff", "zerowidth"),
    ("line\u2028para\u2029sep", "lineparasep"),     # line breaks to str.splitlines() and many viewers
    (None, ""),
])
def test_strip_control(text, expected) -> None:
    assert strip_control(text) == expected


@given(st.text())
def test_strip_control_leaves_no_control_characters(text: str) -> None:
    out = strip_control(text)
    assert not any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f for c in out)
    assert "\u202e" not in out


@pytest.mark.parametrize("text,expected", [
    ("=1+2", "'=1+2"), ("+cmd", "'+cmd"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=x", "'=x"), ("\r=x", "'=x"), ("safe", "safe"), ("a=b", "a=b"), ("\x1b=x", "'=x"), ("", ""),
    # spreadsheets skip leading spaces, and some fold full-width forms to ASCII (NFKC)
    (" =1+1.workers.dev", "' =1+1.workers.dev"), ("  -3", "'  -3"), ("\uff1dcmd.workers.dev", "'\uff1dcmd.workers.dev"),
    ("\uff20x", "'\uff20x"), ("\ufe66x", "'\ufe66x"), (" safe", " safe"),
])
def test_csv_safe(text: str, expected: str) -> None:
    assert csv_safe(text) == expected


@given(st.text())
def test_csv_safe_never_starts_with_a_formula(text: str) -> None:
    out = csv_safe(text)
    assert not out.startswith(("=", "+", "-", "@", "\t", "\r"))
    # nor after the spaces a spreadsheet skips, nor once full-width forms are folded
    assert not unicodedata.normalize("NFKC", out.lstrip(" ")).startswith(("=", "+", "-", "@", "\t", "\r"))


def test_table_strips_every_attacker_string() -> None:
    f = _finding(host="evil\x1b[2J.workers.dev", src="10.0.0.1\x07")
    out = render_table(_result(f))
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "evil[2J.workers.dev" in out and "beacons every ~60 s" in out
    assert "3 suppressed by the allowlist" in out


def test_table_cuts_a_huge_name_in_its_cell_and_a_huge_reason_in_its_line() -> None:
    """One 100 kB SNI made every row of the table 100 kB wide (a 7 MB table for 68 findings in a cron
    mail). A cell is cut in its middle, keeping the name's end (its platform and tenant); a reason
    line at its end. JSON and CSV keep the whole value."""
    huge = "a" * 100_000 + ".tenant.workers.dev"
    f = _finding(host=huge, reasons=["only this host: " + "b" * 100_000])
    small = _finding(src="10.0.0.9")
    out = render_table(_result(f, small))
    assert max(len(line) for line in out.splitlines()) <= 500
    assert "…" in out and "a.tenant.workers.dev" in out and "c2.acct.workers.dev" in out
    assert max(len(line) for line in out.split("\n\n")[0].splitlines()) < 200


def test_table_names_the_port_only_where_one_host_has_two() -> None:
    ddns = [_finding(host="cam.ddns.example", dst="122.248.1.1", dst_port=p, platform=None, tenant=None)
            for p in (8760, 9765)]
    other = _finding(dst="104.21.1.1", dst_port=443)
    out = render_table(_result(*ddns, other)).split("\n\n")[0]
    assert "cam.ddns.example:8760" in out and "cam.ddns.example:9765" in out
    assert "c2.acct.workers.dev " in out and "c2.acct.workers.dev:443" not in out


def test_table_shows_a_fleet_once_and_names_every_member() -> None:
    """Findings that differ only by source are one row (the best member's, '+N'), their sources listed
    under it; a different score, client or period is a finding of its own. JSON keeps them all."""
    fleet = [_finding(src=f"10.1.40.{i}\x1b[1m", host="uptime.azurewebsites.net", score=0.7, severity="medium",
                      period_s=60.0 + i / 10, connections=1400 + i) for i in range(1, 26)]
    implant = _finding(src="10.1.40.99", host="uptime.azurewebsites.net", score=0.7, severity="medium",
                       period_s=75.0)   # same destination and client, another cadence
    other_client = _finding(src="10.1.40.98", host="uptime.azurewebsites.net", score=0.7, severity="medium",
                            period_s=60.0, ja4="t13d1516h2_8daaf6152771_02713d6af862")
    result = _result(_finding(), *fleet, implant, other_client)
    table, details = render_table(result).split("\n\n")[:2]
    rows = table.splitlines()[2:]
    assert len(rows) == 4
    assert "10.1.40.1[1m +24" in rows[1] and "1401" in rows[1]
    assert "10.1.40.99" in rows[2] and "10.1.40.98" in rows[3]
    assert "[2] 10.1.40.1[1m and 24 more hosts -> uptime.azurewebsites.net" in details
    listed = next(line for line in details.splitlines() if "the same finding" in line)
    assert "10.1.40.2[1m, 10.1.40.3[1m" in listed and "10.1.40.21[1m and 4 more" in listed
    assert "10.1.40.22" not in listed and "\x1b" not in details
    assert "[3] 10.1.40.99 -> " in details and "[4] 10.1.40.98 -> " in details
    assert len(json.loads(render_json(result))["findings"]) == 28
    assert "period within 5%" in listed  # the members' periods differ a little: said so, not "the same"
    summary = render_table(result).rstrip("\n").splitlines()[-1]
    assert "28 beacon(s)" in summary and "shown in 4 row(s)" in summary
    # with a warning, the rows count stays on the counts' line and the warning comes after it
    result.warnings.append("a warning")
    counts, warning = render_table(result).rstrip("\n").splitlines()[-2:]
    assert "28 beacon(s)" in counts and "shown in 4 row(s)" in counts
    assert warning == "warning: a warning"


def test_a_fleets_scores_a_little_apart_are_one_row_and_further_apart_are_not() -> None:
    """A 12-host agent scored 0.56, 0.57 and 0.58 (each host's day differs a little): three rows of
    one finding. Scores within 0.05 of the group's first are one row; 0.10 apart is another finding."""
    hosts = [_finding(src=f"10.0.4.{i}", host="corp-inventory.azurewebsites.net", score=s, severity="low",
                      period_s=300.0) for i, s in enumerate((0.58, 0.57, 0.56, 0.58, 0.47), start=20)]
    table, details = render_table(_result(*hosts)).split("\n\n")[:2]
    rows = table.splitlines()[2:]
    assert len(rows) == 2 and "10.0.4.20 +3" in rows[0] and "10.0.4.24" in rows[1]
    assert "score within 0.05" in details


def test_table_counts_kept_alive_requests_beside_connections() -> None:
    kept = _finding(src="10.1.10.26", connections=3, http_requests=1628)
    rows = render_table(_result(kept, _finding(host="other.acct.workers.dev"))).split("\n\n")[0].splitlines()[2:]
    assert "3 (1628 req)" in rows[0] and " 412 " in rows[1] and "req" not in rows[1]
    row = dict(zip(CSV_COLUMNS, next(csv.reader(io.StringIO(render_csv([kept]).splitlines()[1])))))
    assert row["connections"] == "3" and row["http_requests"] == "1628"


def test_a_rotation_shows_its_busiest_name_and_how_many_more_and_lists_them_in_csv() -> None:
    names = ["a.one.workers.dev", "=b.two.workers.dev", "c\x1b[2J.three.workers.dev"]
    rot = _finding(host=names[0], tenant=None, rotation=names)
    table = render_table(_result(rot, _finding()))
    rows = table.split("\n\n")[0].splitlines()[2:]
    assert "a.one.workers.dev +2 " in rows[0] and "+" not in rows[1].split()[4]
    assert "\x1b" not in table
    row = dict(zip(CSV_COLUMNS, next(csv.reader(io.StringIO(render_csv([rot]).splitlines()[1])))))
    # the first cell neutralized as any other (a list cell: as joined); no control character in it
    assert row["rotation"].split(" | ") == [names[0], names[1], "c[2J.three.workers.dev"]
    assert json.loads(render_json(_result(rot)))["findings"][0]["rotation"] == names


def test_table_without_findings_says_so() -> None:
    assert render_table(_result()).startswith("no findings")


def test_csv_neutralizes_formulas_and_round_trips() -> None:
    out = render_csv([_finding(host="=cmd|' /C calc'!A0", tenant="@evil")])
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == list(CSV_COLUMNS)
    row = dict(zip(rows[0], rows[1]))
    assert row["host"] == "'=cmd|' /C calc'!A0" and row["tenant"] == "'@evil"
    assert "\x1b" not in out
    assert row["reasons"].startswith("beacons every")  # a list cell starting safe stays as it is
    for cell in rows[1]:
        assert not cell.startswith(("=", "+", "-", "@"))


def test_json_envelope_is_the_documented_schema() -> None:
    doc = json.loads(render_json(_result(_finding(), _finding(kind="contact", score=0.4, severity="low"))))
    assert doc["schema"] == "serverless-c2/scan" and doc["schema_version"] == SCHEMA_VERSION
    assert doc["window"] == {"start": "2026-11-26T00:00:00Z", "end": "2026-11-27T00:00:00Z"}
    assert doc["summary"]["beacons"] == 1 and doc["summary"]["contacts"] == 1
    assert doc["summary"]["suppressed"] == {"allow.txt:1 tenant=acme (uptime)": 3}
    f = doc["findings"][0]
    assert f["user_agent"] == EVIL_UA  # JSON escapes, it does not alter
    assert f["first_seen"] == "2026-11-26T08:00:00Z"


def test_ndjson_one_finding_per_line() -> None:
    out = render_ndjson([_finding(), _finding(src="10.9.9.9")])
    lines = out.splitlines()
    assert len(lines) == 2 and [json.loads(x)["src"] for x in lines] == ["10.1.2.3", "10.9.9.9"]
    assert "\x1b" not in out  # json.dumps escapes control characters


def test_render_dispatch() -> None:
    r = _result(_finding())
    assert render(r, "json").startswith("{") and render(r, "csv").startswith("severity,")
    with pytest.raises(ValueError):
        render(r, "xml")


def test_warnings_follow_the_summary_one_per_line_and_go_into_the_json() -> None:
    result = _result(_finding())
    result.warnings = ["the window holds 1 of 6049 rows\x1b[2J"]
    table = render_table(result).rstrip("\n").splitlines()
    assert table[-1] == "warning: the window holds 1 of 6049 rows[2J"
    assert "(window ends at the latest log timestamp)" in table[-2]
    assert json.loads(render_json(result))["summary"]["warnings"] == result.warnings
    result.warnings, result.window_at_latest = [], False
    assert "latest log timestamp" not in render_table(result) and "warning:" not in render_table(result)
