"""analyzer.catalog: the shipped catalogue loads and covers the seed rule; bad lines give file:line errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analyzer.catalog import CATEGORIES, CatalogErrors, compile_template, load_catalog

FIXTURES = Path(__file__).parent / "fixtures" / "catalog"

# The ten platforms of the Microsoft Sentinel rule the project starts from, by catalogue id.
SENTINEL_TEN = {
    "workers.dev": "cloudflare-workers",
    "pages.dev": "cloudflare-pages",
    "cloudfunctions.net": "gcp-cloud-functions",
    "lambda-url": "aws-lambda-url",
    "execute-api": "aws-api-gateway",
    "azurewebsites.net": "azure-app-service",
    "azurecontainerapps.io": "azure-container-apps",
    "netlify.app": "netlify",
    "vercel.app": "vercel",
    "script.google.com": "google-apps-script",
}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_shipped_catalogue_covers_the_sentinel_ten(catalog) -> None:
    ids = {e.id for e in catalog.entries}
    missing = {k: v for k, v in SENTINEL_TEN.items() if v not in ids}
    assert not missing
    assert "google-apps-script-content" in ids      # script.googleusercontent.com, the redirect target


def test_shipped_catalogue_covers_every_category_and_the_doc_families(catalog) -> None:
    assert {e.category for e in catalog.entries} == set(CATEGORIES)
    anchors = {e.suffix for e in catalog.entries}
    for needed in ("tencentscf.com", "fcapp.run", "baidubce.com", "trycloudflare.com", "ngrok-free.app",
                   "devtunnels.ms", "m.pipedream.net", "run.app", "deno.dev", "onrender.com"):
        assert needed in anchors, needed
    assert len(catalog.entries) >= 70


def test_every_entry_has_provenance_and_a_compiling_regex(catalog) -> None:
    for e in catalog.entries:
        assert e.references, e.id
        assert re.fullmatch(r"analyzer/data/catalog\.txt:\d+", e.source), e.source
        assert (e.regex is not None) == (e.kind == "structural"), e.id
        if e.regex:
            re.compile(e.regex)


def test_ids_are_unique(catalog) -> None:
    ids = [e.id for e in catalog.entries]
    assert len(ids) == len(set(ids))


def test_extra_file_adds_and_overrides() -> None:
    catalog = load_catalog([str(FIXTURES / "extra.txt")])
    relay = catalog.by_id("corp-relay")
    assert relay is not None and relay.source == f"{FIXTURES / 'extra.txt'}:3"
    assert relay.suffix == "relay.example.net"
    pages = catalog.by_id("cloudflare-pages")
    assert pages is not None and (pages.severity, pages.bare_severity) == ("high", "low")
    assert len([e for e in catalog.entries if e.id == "cloudflare-pages"]) == 1
    assert catalog.by_id("cloudflare-workers") is not None       # built-ins are kept


# (line number in fixtures/catalog/bad.txt, reason fragment): one bad line each.
BAD_LINES = [
    (3, "expected 10 '|'-separated fields"),
    (4, "bad category 'serverless'"),
    (5, "bad kind 'wildcard'"),
    (6, "bad confidence 'certain'"),
    (7, "bad severity 'critical'"),
    (8, "bad id 'Bad_Id'"),
    (9, "need a lower-case hostname of two labels or more"),
    (10, "need a lower-case hostname of two labels or more"),
    (11, "{nope} is not defined"),
    (12, "must end in two literal labels"),
    (13, "names no capture group"),
    (14, "duplicate id 'ok-entry' (first defined on line 2)"),
    (15, "invalid regex"),
    (16, "bad directive"),
    (17, "above the non-browser severity"),
]


@pytest.fixture(scope="module")
def bad_errors() -> list[str]:
    with pytest.raises(CatalogErrors) as info:
        load_catalog([str(FIXTURES / "bad.txt")])
    return str(info.value).splitlines()


@pytest.mark.parametrize(("line", "reason"), BAD_LINES, ids=[str(b[0]) for b in BAD_LINES])
def test_bad_line_is_reported_with_file_and_line(bad_errors: list[str], line: int, reason: str) -> None:
    prefix = f"{FIXTURES / 'bad.txt'}:{line}: "
    hits = [e for e in bad_errors if e.startswith(prefix)]
    assert len(hits) == 1, bad_errors
    assert reason in hits[0]


def test_good_lines_are_not_reported(bad_errors: list[str]) -> None:
    assert len(bad_errors) == len(BAD_LINES)
    assert not any(e.startswith(f"{FIXTURES / 'bad.txt'}:2:") for e in bad_errors)


def test_errors_carry_path_and_line_attributes() -> None:
    with pytest.raises(CatalogErrors) as info:
        load_catalog([str(FIXTURES / "bad.txt")])
    first = info.value.errors[0]
    assert (first.path, first.line) == (str(FIXTURES / "bad.txt"), 3)


def test_missing_extra_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogErrors, match="cannot read catalogue"):
        load_catalog([str(tmp_path / "nope.txt")])


@pytest.mark.parametrize(("template", "name", "ok"), [
    ("{t:d}.x.example", "abc.x.example", True),
    ("{t:d}.x.example", "a.abc.x.example", False),       # no '*.': exact structure only
    ("*.{t:d}.x.example", "a.abc.x.example", True),      # '*.': any labels in front
    ("p-{t:d}.x.example", "p-abc.x.example", True),      # literal text inside a label
    ("p-{t:d}.x.example", "q-abc.x.example", False),
])
def test_template_compiles_to_an_anchored_regex(template: str, name: str, ok: bool) -> None:
    anchor, regex, _labels, groups = compile_template(template, {"d": "[a-z]+"})
    assert anchor == "x.example" and groups == {"t"}
    assert bool(re.fullmatch(regex, name)) is ok
