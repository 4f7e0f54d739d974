"""analyzer.intel: plain lists of known-bad names; bad lines are reported as file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.catalog import CatalogErrors
from analyzer.intel import load_intel, parse_intel_line, read_intel

FIXTURES = Path(__file__).parent / "fixtures" / "catalog"


@pytest.mark.parametrize(("line", "expected"), [
    ("evil.example", ("evil.example", False)),
    ("Evil.Example.", ("evil.example", False)),                       # normalized like log names
    ("*.evil.example", ("evil.example", True)),
    (".evil.example", ("evil.example", True)),
    ("https://gate.evil.example:8443/x.php", ("gate.evil.example", False)),   # URL -> host
    ('"csv.example",2026-01-01,cs', ("csv.example", False)),          # first CSV field
    ("bücher.example", ("xn--bcher-kva.example", False)),             # IDNA
    ("evil[.]example", ("evil.example", False)),                      # defanged, as reports write them
    ("hxxps://gate(.)evil[.]example/x.php", ("gate.evil.example", False)),
    ("hXXp[:]//c2{.}evil[dot]example", ("c2.evil.example", False)),
    ("*.evil[.]example", ("evil.example", True)),
])
def test_good_lines(line: str, expected: tuple[str, bool]) -> None:
    assert parse_intel_line(line) == expected


@pytest.mark.parametrize(("line", "reason"), [
    ("203.0.113.9", "IP address"),
    ("com", "single label"),
    ("bad host.example", "not a hostname"),
    ("*.*.evil.example", "wildcards"),
    ("evil.*.example", "wildcards"),
])
def test_bad_lines(line: str, reason: str) -> None:
    result = parse_intel_line(line)
    assert isinstance(result, str) and reason in result


def test_file_rejects_carry_file_and_line() -> None:
    path = FIXTURES / "intel_bad.txt"
    result = read_intel([path])
    assert sorted((r.path, r.line) for r in result.rejects) == [(str(path), n) for n in (7, 8, 9, 11)]
    assert [p.pattern for p in result.patterns] == [
        "evil.example", "cdn-evil.example", "dot-evil.example", "gate.evil.example", "csv-evil.example",
        "ok.example"]                                                  # the duplicate on line 10 is dropped
    assert result.patterns[0].source == f"{path}:2" and result.patterns[1].subdomains_only


def test_strict_load_raises_with_every_bad_line() -> None:
    path = FIXTURES / "intel_bad.txt"
    with pytest.raises(CatalogErrors) as info:
        load_intel([path])
    lines = str(info.value).splitlines()
    assert [line.split(": ")[0] for line in lines] == [f"{path}:{n}" for n in (7, 8, 9, 11)]


def test_lenient_load_logs_and_skips(caplog: pytest.LogCaptureFixture) -> None:
    patterns = load_intel([FIXTURES / "intel_bad.txt"], strict=False)
    assert len(patterns) == 6
    assert sum("intel_bad.txt:" in r.getMessage() for r in caplog.records) == 4


def test_unreadable_file_is_a_reject(tmp_path: Path) -> None:
    result = read_intel([tmp_path / "missing.txt"])
    assert not result.patterns and len(result.rejects) == 1 and result.rejects[0].line is None


def test_large_generated_list_loads(tmp_path: Path) -> None:
    path = tmp_path / "feed.txt"
    path.write_text("".join(f"c2-{i}.bad{i % 97}.example\n" for i in range(20000)))
    assert len(load_intel([path])) == 20000


def test_a_csv_header_is_skipped_and_a_scan_skips_bad_lines_with_a_warning(tmp_path: Path) -> None:
    """A feed exported as CSV starts with its header; one junk line in thousands stopped the nightly
    scan (exit 2). The header is no entry and no reject; bad lines are skipped, counted and named in a
    warning; a file that cannot be read is still an error."""
    from analyzer.errors import CatalogError
    from analyzer.scan import _intel_warning

    feed = tmp_path / "feed.csv"
    feed.write_text("domain,first_seen,family\nevil[.]example,2026-01-01,cs\n203.0.113.9,2026-01-02,x\n"
                    "host,2026-01-03,y\n", encoding="utf-8")
    got = read_intel([feed])
    assert [p.pattern for p in got.patterns] == ["evil.example"]
    assert [(r.line, "IP address" in r.message or "single label" in r.message) for r in got.rejects] == \
        [(3, True), (4, True)]                               # a header word later on is a bad line
    warning = _intel_warning(got.rejects)
    assert warning.startswith("intel: 2 line(s) skipped") and f"{feed}:3: IP address" in warning
    clean = tmp_path / "feed-ok.txt"
    clean.write_text("evil.example\n", encoding="utf-8")
    assert _intel_warning(read_intel([clean]).rejects) is None
    with pytest.raises(CatalogError, match="cannot read intel file"):
        _intel_warning(read_intel([tmp_path / "gone.txt"]).rejects)
