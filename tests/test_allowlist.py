"""analyzer.allowlist: suppress by tenant/host/src/ua/ja3/ja4 with a reason; expired entries are reported."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from analyzer.allowlist import load_allowlist, parse_allowlist
from analyzer.catalog import CatalogErrors
from analyzer.findings import Finding

TODAY = date(2026, 11, 28)
GO_JA4 = "t13d190900_9dc949149365_97f8aa674fd9"


def finding(**kw) -> Finding:
    base = dict(src="10.1.2.3", host="api.acme.workers.dev", platform="Cloudflare Workers", tenant="acme",
                category="faas-edge", score=0.9, severity="high", connections=10, period_s=60.0, jitter=0.1,
                first_seen=None, last_seen=None, user_agent="curl/8.4.0", ja3="eb88d0b3e1961a0562f006e5ce2a0b87",
                ja4=GO_JA4, bytes_out=1, bytes_in=1)
    base.update(kw)
    return Finding(**base)


# (entry line, finding changes, suppressed?): one condition each, with a hit and a miss.
CASES = [
    ("tenant=acme reason=ours", {}, True),
    ("tenant=ACME reason=ours", {}, True),                                        # case-insensitive
    ("tenant=acme reason=ours", {"tenant": "acme2"}, False),
    ('platform="Cloudflare Workers" tenant=acme reason=ours', {}, True),
    ('platform="Cloudflare Pages" tenant=acme reason=ours', {}, False),           # every condition must hold
    ("host=api.acme.workers.dev reason=x", {}, True),
    ("host=API.acme.workers.dev. reason=x", {}, True),                            # host pattern normalized
    ("host=acme.workers.dev reason=x", {}, False),                                # exact, not a suffix
    ("host=*.acme.workers.dev reason=x", {}, True),
    ("host=*.acme.workers.dev reason=x", {"host": "acme.workers.dev"}, False),    # *. is below only
    ("host=*.acme.workers.dev reason=x", {"host": "evilacme.workers.dev"}, False),  # label boundary
    ("host=*.acme.workers.dev reason=x", {"host": "shop.example.com", "cname_of": "x.acme.workers.dev"}, True),
    ("src=10.1.2.3 reason=x", {}, True),
    ("src=10.1.0.0/16 reason=x", {}, True),
    ("src=10.2.0.0/16 reason=x", {}, False),
    ("src=2001:db8::/32 reason=x", {"src": "2001:db8::7"}, True),
    ("src=10.0.0.0/8 reason=x", {"src": "not-an-ip"}, False),
    ('ua="^curl/" reason=x', {}, True),
    ('ua="^curl/" reason=x', {"user_agent": None}, False),
    ("ja3=EB88D0B3E1961A0562F006E5CE2A0B87 reason=x", {}, True),
    ("ja3=00000000000000000000000000000000 reason=x", {}, False),
    (f"ja4={GO_JA4} reason=x", {}, True),
    (f"ja4={GO_JA4} src=10.9.9.9 reason=x", {}, False),
    # a client rotating among tenants (host: its busiest name): a host entry must cover every name it used
    ("host=api.acme.workers.dev reason=x",
     {"tenant": None, "rotation": ["api.acme.workers.dev", "c2.evil.workers.dev"]}, False),
    ("host=*.workers.dev reason=x", {"tenant": None, "rotation": ["api.acme.workers.dev", "c2.evil.workers.dev"]}, True),
    ("tenant=acme reason=x", {"tenant": None, "rotation": ["api.acme.workers.dev", "c2.evil.workers.dev"]}, False),
]


@pytest.mark.parametrize(("line", "changes", "suppressed"), CASES, ids=[f"{i}:{c[0][:30]}" for i, c in enumerate(CASES)])
def test_entry_matching(line: str, changes: dict, suppressed: bool) -> None:
    allow = parse_allowlist(line, "allow.txt", today=TODAY)
    f = replace(finding(), **changes)
    hit = allow.match(f)
    assert (hit is not None) is suppressed
    if hit is not None:
        assert hit.source == "allow.txt:1"


def test_expired_entries_are_reported_not_applied() -> None:
    text = "tenant=acme reason=old owner=web expires=2026-11-27\ntenant=acme reason=current expires=2026-11-28\n"
    allow = parse_allowlist(text, "allow.txt", today=TODAY)
    assert [e.source for e in allow.expired] == ["allow.txt:1"]
    hit = allow.match(finding())
    assert hit is not None and hit.reason == "current"        # the last day still applies
    later = parse_allowlist(text, "allow.txt", today=date(2026, 11, 29))
    assert later.match(finding()) is None and len(later.expired) == 2


def test_describe_is_short_and_names_the_entry() -> None:
    entry = parse_allowlist('tenant=acme reason="our edge" owner=web', "allow.txt", today=TODAY).entries[0]
    assert entry.describe() == "allow.txt:1 tenant=acme (our edge, owner web)"


# (bad line, reason fragment)
BAD = [
    ("tenant=acme", "reason is required"),
    ("reason=why", "no condition"),
    ("colour=red reason=x", "unknown key 'colour'"),
    ("tenant=a tenant=b reason=x", "tenant given twice"),
    ("src=10.0.0.300 reason=x", "bad src"),
    ('ua="(" reason=x', "bad ua regex"),
    ("ja3=xyz reason=x", "bad ja3"),
    ("tenant=a reason=x expires=tomorrow", "bad expires"),
    ("host=bad/host reason=x", "bad host"),
    ('tenant="unclosed reason=x', "cannot split"),
    ("justaword", "expected key=value"),
]


@pytest.mark.parametrize(("line", "reason"), BAD, ids=[b[1] for b in BAD])
def test_bad_lines_report_file_and_line(tmp_path: Path, line: str, reason: str) -> None:
    path = tmp_path / "allow.txt"
    path.write_text(f"# header\ntenant=ok reason=fine\n{line}\n")
    with pytest.raises(CatalogErrors) as info:
        load_allowlist(path, today=TODAY)
    assert str(info.value).startswith(f"{path}:3: ") and reason in str(info.value)
    assert len(info.value.errors) == 1


def test_comments_and_blank_lines_are_ignored() -> None:
    allow = parse_allowlist("# c\n\n   \ntenant=a reason=x # trailing comment\n", today=TODAY)
    assert len(allow.entries) == 1 and allow.entries[0].reason == "x"
