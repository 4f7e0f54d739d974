"""Hostile input in every field that reaches the report renders as text (HTML), is neutralized
(Markdown, CSV), and survives unchanged where machines read it (JSON).

The payloads go into every Finding string field, the allowlist counters, the previous report's
history, and the store's ingest bookkeeping (file paths, reasons, rejected line text, sensor
names). Each output is then *parsed* (html.parser, a CommonMark/GFM parser, the csv module) and
checked for the structure an attacker would need: a tag, an event handler, a link, a formula.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from dataclasses import replace
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from analyzer.findings import ScanResult
from analyzer.report import build_report, record_run, render
from analyzer.report.sanitize import clean, csv_safe, md_code, md_text
from analyzer.store import Store
from test_report_sql import DAY, scenario_findings, seed_store

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
TEMPLATE = "{{ 7*7 }}{% if 1 %}x{% endif %}"
MD = "| pwn | [x](javascript:alert(3)) ![i](https://evil.example/i.png) <b>bold</b> `tick`"
FORMULA = "=cmd|' /C calc'!A0"
CONTROL = "\x1b[31mred\u202egnp.exe\x00"
PAYLOADS = [SCRIPT, IMG, TEMPLATE, MD, FORMULA, CONTROL]
HOSTILE = SCRIPT + IMG + TEMPLATE + MD + CONTROL


def _hostile_findings():
    """Every string field of a finding carries every payload (the formula leads, for CSV)."""
    out = []
    for i, f in enumerate(scenario_findings()):
        h = f"{FORMULA}{HOSTILE}{i}"
        out.append(replace(
            f, src=h, host=h + ".workers.dev", platform=h, tenant=h, category=h, user_agent="Jenkins " + h,
            ja3=h, ja4=h, reasons=[h, FORMULA], sources=[h], kind=h, dst=h, cname_of=h, channel_key=h,
            severity="low" if i else "medium",
        ))
    return out


@pytest.fixture(scope="module")
def hostile_report():
    with Store() as store:
        seed_store(store, hostile={"path": FORMULA + HOSTILE, "reason": HOSTILE, "text": HOSTILE,
                                   "reject_reason": FORMULA + HOSTILE})
        store.con.execute("UPDATE conn SET sensor = ? WHERE sensor = 'suricata'", [HOSTILE])
        # a previous report listed a hostile channel that is now gone
        gone = replace(_hostile_findings()[0], channel_key="gone" + HOSTILE)
        record_run(store.con, [gone], DAY - timedelta(days=1), DAY - timedelta(days=1), DAY)
        result = ScanResult(findings=_hostile_findings(), window_start=DAY, window_end=DAY + timedelta(days=1),
                            suppressed={HOSTILE: 3}, expired_allowlist=[FORMULA + HOSTILE])
        yield build_report(store, result)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)


def _parse(html: str) -> _Collector:
    p = _Collector()
    p.feed(html)
    p.close()
    return p


def _assert_inert(html: str, allowed_tags: set[str]) -> _Collector:
    """No tag outside ``allowed_tags``, no event handler, no script URL, no external reference."""
    parsed = _parse(html)
    tags = {t for t, _ in parsed.tags}
    assert tags <= allowed_tags, tags - allowed_tags
    for tag, attrs in parsed.tags:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            if name in ("href", "src", "xlink:href", "action"):
                ok = value is not None and (value.startswith("#") or (
                    tag == "image" and value.startswith("data:image/png;base64,")))  # matplotlib's raster
                assert ok, (tag, name, value)
    return parsed


HTML_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "div", "nav", "a", "main",
    "section", "span", "p", "code", "table", "thead", "tbody", "tr", "th", "td", "ul", "li", "br", "b", "pre",
    "footer",
    # matplotlib's SVG vocabulary
    "svg", "defs", "g", "path", "text", "clippath", "rect", "use", "style", "metadata", "tspan", "image",
}


def test_html_shows_hostile_strings_as_text(hostile_report):
    html = render(hostile_report, "html")
    parsed = _assert_inert(html, HTML_TAGS)
    text = "".join(parsed.text)
    for payload in (SCRIPT, IMG, TEMPLATE, FORMULA, "[x](javascript:alert(3))"):
        assert payload in text, payload          # visible, literally, as text
    assert "\x1b" not in html and "\u202e" not in html and "\x00" not in html
    assert "gnp.exe" in text                     # the text around the control characters is kept
    assert html.lower().count("<script") == 0
    # every kind of field made it onto the page: paths, rejected text, sensor, gone, allowlist, UA
    for marker in ("Jenkins " + FORMULA, FORMULA + SCRIPT):
        assert marker in text


def test_html_has_a_content_security_policy_that_forbids_scripts_and_fetches(hostile_report):
    html = render(hostile_report, "html")
    head = html[: html.index("</head>")]
    assert "default-src 'none'" in head and "script-src" not in head
    # no attribute points anywhere but the page itself (SVG namespace declarations aside)
    for tag, attrs in _parse(html).tags:
        for name, value in attrs:
            if value and "://" in value:
                assert name.startswith("xmlns") and value.startswith("http://www.w3.org/"), (tag, name, value)
    assert "@import" not in html
    assert set(re.findall(r"url\(([^)]*)\)", html)) <= {m for m in re.findall(r"url\((#[\w-]+)\)", html)}


def test_markdown_is_inert_when_rendered(hostile_report):
    markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py is in the test extras")
    md = render(hostile_report, "md")
    assert "\x1b" not in md and "\u202e" not in md and "\x00" not in md
    html = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(md)
    parsed = _assert_inert(html, {"h1", "h2", "p", "ul", "li", "strong", "table", "thead", "tbody", "tr",
                                  "th", "td", "code", "em"})
    text = "".join(parsed.text)
    assert SCRIPT in text and "[x](javascript:alert(3))" in text and TEMPLATE in text
    # tables keep their shape: the hostile '|' did not add cells
    for table in html.split("<table>")[1:]:
        body = table.split("</table>")[0]
        rows = body.split("<tr>")[1:]
        widths = {row.count("<td") + row.count("<th") for row in rows}
        assert len(widths) == 1, widths


def test_csv_cells_never_start_a_formula(hostile_report):
    rows = list(csv.reader(io.StringIO(render(hostile_report, "csv"))))
    header, body = rows[0], rows[1:]
    assert len(body) == 3 and all(len(r) == len(header) for r in body)
    numeric = {"rank", "score", "connections", "period_s", "jitter", "dst_port", "bytes_out", "bytes_in"}
    for row in body:
        for col, cell in zip(header, row):
            if col not in numeric:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (col, cell)
        assert row[header.index("src")].startswith("'=cmd")


def test_json_keeps_the_exact_values(hostile_report):
    doc = json.loads(render(hostile_report, "json"))
    assert doc["findings"][0]["user_agent"] == hostile_report.findings[0].finding.user_agent
    assert doc["health"]["rejects"][0]["text"] == HOSTILE


@pytest.mark.parametrize("payload", PAYLOADS)
def test_sanitizers_one_payload_at_a_time(payload):
    assert "\x1b" not in clean(payload) and "\n" not in clean(payload + "\nx")
    assert not csv_safe(payload).startswith(("=", "+", "-", "@"))
    markdown_it = pytest.importorskip("markdown_it")
    for rendered in (md_text(payload), f"| {md_code(payload)} |\n| --- |\n| {md_text(payload)} |"):
        html = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(rendered)
        _assert_inert(html, {"p", "code", "table", "thead", "tbody", "tr", "th", "td"})


def test_pasted_tuning_entries_are_exactly_what_the_report_shows(hostile_report):
    """The allowlist line copied from the HTML page or the rendered Markdown parses to the entry
    the report built, even when the User-Agent in it carries quotes, pipes and backticks."""
    from analyzer.allowlist import parse_allowlist

    markdown_it = pytest.importorskip("markdown_it")
    entries = [t.entry for t in hostile_report.tuning]
    assert entries, "the hostile Jenkins User-Agent should have produced a suggestion"
    html_pre = re.findall(r'<pre class="entry">(.*?)</pre>', render(hostile_report, "html"), re.S)
    md_html = markdown_it.MarkdownIt("commonmark").render(render(hostile_report, "md"))
    md_code_spans = re.findall(r"<code>(.*?)</code>", md_html, re.S)
    for entry in entries:
        assert html.unescape(html_pre[entries.index(entry)]) == entry
        assert entry in [html.unescape(c) for c in md_code_spans]
        allow = parse_allowlist(entry, "pasted", today=DAY.date())
        assert len(allow.entries) == 1


from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _one_cell(markdown: str) -> tuple[str, set[str]]:
    """Render a one-column GFM table; return its only body cell's text and every tag used."""
    markdown_it = pytest.importorskip("markdown_it")
    out = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(
        f"| h |\n| --- |\n| {markdown} |\n")
    parsed = _parse(out)
    cells = re.findall(r"<td>(.*?)</td>", out, re.S)
    assert len(cells) == 1, out
    return html.unescape(re.sub(r"<[^>]+>", "", cells[0])), {t for t, _ in parsed.tags}


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
@example("`")
@example("a|b\\|c")
@example("\\")
@example("&amp;")
@example("<b>x</b>")
@example("[x](y)")
@example("*a* _b_ ~~c~~ $d$")
@example("``a` b``")
@example("&#60;")
@example("\\`x")
def test_markdown_cells_show_any_text_literally(text):
    """Property: whatever the value, md_text and md_code keep it in one cell, as text."""
    expected = " ".join(clean(text).split())
    shown, tags = _one_cell(md_text(text))
    assert " ".join(shown.split()) == expected
    assert tags <= {"table", "thead", "tbody", "tr", "th", "td"}
    shown, tags = _one_cell(md_code(text))
    assert " ".join(shown.split()) == expected
    assert tags <= {"table", "thead", "tbody", "tr", "th", "td", "code"}
