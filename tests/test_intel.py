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
