"""The report model, history, tuning and renderers (analyzer.report) on a seeded store."""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from analyzer.allowlist import parse_allowlist
from analyzer.findings import Finding, ScanResult
from analyzer.report import build_report, channel_key, record_run, render, write_atomic
from analyzer.report.health import CoverageStream, find_gaps
from analyzer.report.model import rank_findings
from analyzer.report.plots import human_seconds
from analyzer.report.tuning import suggest
from analyzer.store import Store
from test_report_sql import (
    BEACON_HOST, DAY, QUIET_AT, scenario_findings, scenario_result, seed_store,
)


@pytest.fixture
def seeded():
    with Store() as store:
        seed_store(store)
        yield store


def test_summary_ranking_and_platforms(seeded):
    rep = build_report(seeded, scenario_result(), top_n=2)
    assert rep.summary.findings == 3
    assert rep.summary.by_severity == {"high": 1, "medium": 1, "low": 1, "info": 0}
    assert rep.summary.hosts_with_findings == 3 and rep.summary.hosts_seen == 12
    assert rep.summary.platforms == 2                       # the IP-only channel has no platform
    assert [rf.finding.severity for rf in rep.findings] == ["high", "medium", "low"]
    assert [rf.times is not None for rf in rep.findings] == [True, True, False]   # top 2 only
    assert [p.platform for p in rep.platforms] == ["Cloudflare Workers", "Azure Functions", "(not serverless)"]


def test_rank_puts_severity_before_score():
    f = scenario_findings()[0]
    low_high_score = replace(f, severity="low", score=0.99)
    high_low_score = replace(f, severity="high", score=0.81)
    assert rank_findings([low_high_score, high_low_score]) == [high_low_score, low_high_score]


def test_history_new_recurring_gone(tmp_path):
    db = tmp_path / "s.duckdb"
    findings = scenario_findings()
    with Store(db) as store:
        seed_store(store)
        first = build_report(store, scenario_result())
        assert first.summary.new == 3 and first.history.previous_report is None
        record_run(store.con, findings, first.generated_at, first.window_start, first.window_end)
    # next night: the beacon recurs, the DNS channel is gone, a new one appears
    newcomer = replace(findings[0], src="10.9.9.9", channel_key=None)
    tonight = ScanResult(findings=[findings[0], findings[2], newcomer], window_start=DAY, window_end=DAY)
    with Store(db) as store:
        rep = build_report(store, tonight, generated_at=datetime(2026, 11, 29, tzinfo=timezone.utc))
    status = {rf.finding.src: rf.history.status for rf in rep.findings}
    assert status == {findings[0].src: "recurring", findings[2].src: "recurring", "10.9.9.9": "new"}
    assert rep.summary.new == 1 and rep.summary.recurring == 2
    assert [g.src for g in rep.history.gone] == [findings[1].src]
    assert rep.history.earlier_reports == 1 and rep.history.previous_report is not None
    recurring = next(rf for rf in rep.findings if rf.finding.src == findings[0].src)
    assert recurring.history.runs_seen == 1 and recurring.history.in_previous
    page = render(rep, "html")
    section = page[page.index('<section id="history">'):page.index('<section id="health">')]
    assert "New since the previous report" in section and "10.9.9.9" in section
    assert "Gone since the previous report" in section and findings[1].src in section
    md = render(rep, "md")
    assert "## New since the previous report" in md and "`10.9.9.9`" in md
    assert "## Gone since the previous report" in md and f"`{findings[1].src}`" in md


def test_channel_key_is_stable_and_separates_fingerprints():
    f = scenario_findings()[0]
    assert channel_key(f) == channel_key(replace(f, score=0.1, connections=5))
    assert channel_key(f) != channel_key(replace(f, ja4="other"))
    assert channel_key(replace(f, channel_key="scan-key")) == "scan-key"


def test_find_gaps_leading_inner_trailing():
    hours = [DAY + timedelta(hours=h) for h in range(6)]
    stream = CoverageStream("conn", "zeek", list(zip(hours, [0, 5, 0, 0, 7, 0])))
    gaps = find_gaps([stream])
    assert [(g.start.hour, g.hours, g.to_window_end) for g in sorted(gaps, key=lambda g: g.start)] == [
        (0, 1, False), (2, 2, False), (5, 1, True)]
    assert find_gaps([CoverageStream("dns", "zeek", list(zip(hours, [1] * 6)))]) == []


def _entry_covers(entry: str, findings: list[Finding]) -> list[bool]:
    """Parse ``entry`` with the real allowlist parser; which of ``findings`` it suppresses."""
    allow = parse_allowlist(entry, "pasted", today=DAY.date())
    assert len(allow.entries) == 1 and not allow.expired
    return [allow.match(f) is not None for f in findings]


def test_tuning_flags_ci_and_probe_hosts_but_never_high():
    base = scenario_findings()[0]
    ci = replace(base, severity="low", user_agent="gitlab-runner 17.5.0 (linux/amd64)", ja4=None)
    probes = [replace(base, src="10.5.5.5", host=f"svc{i}.example.workers.dev", tenant=f"t{i}", severity="info",
                      jitter=0.0, period_s=60.0, user_agent="python-requests/2.32") for i in range(3)]
    implant = replace(base, user_agent="Jenkins/2.4")        # high severity: never suggested
    ranked = [implant, ci, *probes]
    out = suggest(ranked, DAY)
    kinds = {s.kind: s for s in out}
    assert set(kinds) == {"ci-runner", "probe-host"}
    assert kinds["ci-runner"].ranks == [2]
    assert "expires=2027-02-25" in kinds["ci-runner"].entry
    # the pasted entries suppress exactly what they were suggested for
    assert _entry_covers(kinds["ci-runner"].entry, ranked) == [False, True, False, False, False]
    assert kinds["probe-host"].ranks == [3, 4, 5] and kinds["probe-host"].ranks_text == "#3-#5"
    assert replace(kinds["probe-host"], ranks=[9, 2, 3, 4, 7]).ranks_text == "#2-#4, #7, #9"
    assert _entry_covers(kinds["probe-host"].entry, ranked) == [False, False, True, True, True]
    # a different client from the probe host is not covered
    assert _entry_covers(kinds["probe-host"].entry, [replace(probes[0], ja4="t13d0000h2_000000000000_000000000000")]) \
        == [False]
    # two steady destinations are not a probe; a jittery one is not steady
    assert suggest([*probes[:2]], DAY) == []
    assert suggest([replace(p, jitter=0.3) for p in probes], DAY) == []


def test_tuning_never_offers_a_host_for_the_agents_every_host_runs():
    """An independent tester's 150 hosts each ran three agents (an antivirus poller, an EDR agent, a
    vendor agent: steady, round periods, each its own client). Every host then "polled 3 destinations
    like a monitoring probe", and pasting the 149 suggested src= lines suppressed every implant, since
    with three clients the line named the source alone. Those destinations are fleets (step 3); a
    probe polls with one client; a host with a high finding is never offered."""
    base = replace(scenario_findings()[0], severity="low", jitter=0.0, period_s=300.0, user_agent=None, ja3=None,
                   scores={"fleet_discount": 0.4})
    agents = [("av.example.workers.dev", "t13d1111h2_aaaaaaaaaaaa_aaaaaaaaaaaa"),
              ("edr.example.workers.dev", "t13d2222h2_bbbbbbbbbbbb_bbbbbbbbbbbb"),
              ("vendor.example.workers.dev", "t13d3333h2_cccccccccccc_cccccccccccc")]
    hosts = [f"10.10.1.{i}" for i in range(1, 6)]
    fleet = [replace(base, src=h, host=name, tenant=name.split(".")[0], ja4=ja4) for h in hosts for name, ja4 in agents]
    implant = replace(base, src=hosts[0], host="x.relay.workers.dev", tenant="relay", severity="high", jitter=0.3,
                      ja4="t13d9999h2_dddddddddddd_dddddddddddd")
    out = suggest([implant, *fleet], DAY)
    assert {s.kind for s in out} == {"fleet"} and len(out) == 3, [s.title for s in out]
    for s in out:
        assert _entry_covers(s.entry, [implant]) == [False]
    # one host alone polling three destinations with three clients: no src= line either
    assert suggest([f for f in fleet if f.src == hosts[1]], DAY) == []
    # ... and with one client it is a probe, unless the host has a high finding
    probe = [replace(f, ja4=agents[0][1]) for f in fleet if f.src == hosts[1]]
    assert [s.kind for s in suggest(probe, DAY)] == ["probe-host"]
    assert suggest([replace(implant, src=hosts[1]), *probe], DAY) == []


def test_tuning_fleet_by_tenant():
    base = replace(scenario_findings()[0], severity="low", jitter=0.2, scores={"fleet_discount": 0.4},
                   ja4="t13d1311h2_f57a46bbacb6_e7c285222651")   # a Go agent's
    fleet = [replace(base, src=f"10.7.0.{i}", period_s=300.0 + i) for i in range(4)]
    out = suggest(fleet, DAY)
    assert [s.kind for s in out] == ["fleet"]
    # a fleet the scan discounted less (new to the store, begun hours into the window, or 3-4 hosts on a
    # serverless tenant: what one implant spreading looks like) is never offered: an outside tester's
    # three phished hosts were, and the pasted line suppressed the campaign
    assert suggest([replace(f, scores={"fleet_discount": 0.2}) for f in fleet], DAY) == []
    assert suggest([replace(f, scores={}) for f in fleet], DAY) == []
    assert [s.kind for s in suggest([replace(f, scores={"fleet_discount": 0.7}) for f in fleet], DAY)] == ["fleet"]
    # kiosks on a status page with Chrome's handshake: every browser has that JA4, and so does a uTLS
    # implant; an entry keyed on it would hide the next host beaconing there with it
    chrome = "t13d1516h2_8daaf6152771_02713d6af862"
    assert suggest([replace(f, ja4=chrome, ja3=None, user_agent=None) for f in fleet], DAY) == []
    other_tenant = replace(fleet[0], tenant="evil-ops")
    other_client = replace(fleet[0], ja4="t13d0000h2_000000000000_000000000000")
    assert _entry_covers(out[0].entry, [*fleet, other_tenant, other_client]) == [True] * 4 + [False, False]
    assert suggest(fleet[:2], DAY) == []                       # two hosts are not a fleet
    spread = [replace(f, period_s=60.0 * (i + 1)) for i, f in enumerate(fleet)]
    assert suggest(spread, DAY) == []                          # different periods: not alike


def test_tuning_entry_cannot_be_widened_by_a_hostile_user_agent():
    ua = "Jenkins' src=0.0.0.0/0 reason=x\nua=.* \"; echo"
    base = replace(scenario_findings()[0], severity="low", ja4=None, user_agent=ua)
    (suggestion,) = suggest([base], DAY)
    assert "\n" not in suggestion.entry
    other = replace(base, src="192.0.2.1", user_agent="curl/8.5.0")
    assert _entry_covers(suggestion.entry, [base, other]) == [True, False]


def test_html_has_every_section_plots_and_stays_light(seeded):
    rep = build_report(seeded, scenario_result())
    html = render(rep, "html")
    for anchor in ("summary", "findings", "top", "platforms", "history", "health", "tuning"):
        assert f'<section id="{anchor}">' in html
    assert html.count('<svg') == 3 + 2                        # 3 channel plots, coverage, platforms
    assert 'id="findings-table"' in html and html.count("<tr>") >= 3
    assert BEACON_HOST in html
    assert f"2026-11-27 {QUIET_AT:02d}:00Z" in html and "silent until the end of the window" in html
    assert "<script" not in html.lower()
    assert 20_000 < len(html.encode()) < 400_000
    assert '<?xml' not in html                               # SVG prolog stripped for inlining


def test_html_is_deterministic_for_the_same_input(seeded):
    rep = build_report(seeded, scenario_result(), generated_at=DAY)
    assert render(rep, "html") == render(rep, "html")


def test_big_channel_is_binned_not_thousands_of_marks():
    with Store() as store:
        f = scenario_findings()[2]           # IP-only channel: conn rows only
        epochs = [DAY.timestamp() + 30 * i for i in range(2880)]
        store.con.executemany(
            "INSERT INTO conn (ts, epoch, uid, src, dst, dst_port, sensor) VALUES (?, ?, ?, ?, ?, ?, 'zeek')",
            [(datetime.fromtimestamp(e, timezone.utc).replace(tzinfo=None), e, f"C{i}", f.src, f.dst, f.dst_port)
             for i, e in enumerate(epochs)])
        rep = build_report(store, ScanResult(findings=[f], window_start=DAY, window_end=DAY + timedelta(days=1)))
        assert len(rep.findings[0].times.epochs) == 2880
        html = render(rep, "html")
    assert len(html.encode()) < 150_000
    assert html.count("<use ") < 100


def test_empty_store_and_no_findings_render():
    with Store() as store:
        rep = build_report(store, ScanResult())
        for fmt in ("html", "md", "json", "csv"):
            assert render(rep, fmt)
        assert "No findings in this window." in render(rep, "html")
        assert json.loads(render(rep, "json"))["findings"] == []


def test_markdown_and_json_carry_the_same_facts(seeded):
    rep = build_report(seeded, scenario_result())
    md = render(rep, "md")
    assert md.startswith("# serverless-c2 nightly report")
    assert "`upd.acme-ops.workers.dev`" in md and "| 1 | high | 0.91 |" in md
    assert re.search(r"conn / suricata \| 2026-11-27 03:00Z", md.replace("\\/", "/"))
    doc = json.loads(render(rep, "json"))
    assert [f["rank"] for f in doc["findings"]] == [1, 2, 3]
    assert doc["findings"][0]["status"] == "new" and len(doc["findings"][0]["timeline"]["epochs"]) > 250
    assert doc["health"]["gaps"][0]["sensor"] == "suricata"
    assert doc["window_start"] == "2026-11-27T00:00:00Z"


def test_unknown_format_is_an_error(seeded):
    with pytest.raises(ValueError):
        render(build_report(seeded, ScanResult()), "pdf")


def test_write_atomic_replaces_whole_or_not_at_all(tmp_path, monkeypatch):
    target = tmp_path / "report.html"
    target.write_text("old")
    os.chmod(target, 0o640)
    write_atomic("new", target)
    assert target.read_text() == "new" and (target.stat().st_mode & 0o777) == 0o640

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_atomic("newer", target)
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]   # no temp file left


def test_human_seconds():
    assert [human_seconds(x) for x in (None, 2.5, 45, 90, 300, 3600, 90061)] == [
        "-", "2.5s", "45s", "1m 30s", "5m", "1h", "1d 1h"]


def test_dns_only_finding_gets_its_dns_timeline(seeded):
    rep = build_report(seeded, scenario_result())
    dns = next(rf for rf in rep.findings if rf.finding.sources == ["dns"])
    assert dns.times is not None and dns.times.origin == "dns" and len(dns.times.epochs) == 144


def test_non_finite_numbers_do_not_break_json_or_pages(seeded):
    odd = replace(scenario_findings()[0], jitter=float("nan"), period_s=float("inf"), score=0.5)
    rep = build_report(seeded, ScanResult(findings=[odd], window_start=DAY, window_end=DAY + timedelta(days=1)))
    doc = json.loads(render(rep, "json"))
    assert doc["findings"][0]["jitter"] is None and doc["findings"][0]["period_s"] is None
    assert "| 288 | - | - |" in render(rep, "md")        # period and jitter shown as unknown
    assert render(rep, "html") and render(rep, "csv")


def test_a_fleet_is_plotted_once_and_its_other_hosts_named(seeded):
    """Six hosts running one monitoring agent (findings alike but for their source) take one of the
    top N plots, under their best-ranked member, which names the others; every one of them is still a
    row of the findings table, marked as the same finding. A different cadence is not the fleet."""
    base = scenario_findings()
    agent = replace(base[1], host="uptime.example-fn.azurewebsites.net", severity="high", score=0.85,
                    period_s=60.0, ja4="t13d1311h2_f57a46bbacb6_e7c285222651")
    fleet = [replace(agent, src=f"10.1.40.{i}", period_s=60.0 + i / 10) for i in range(1, 7)]
    other = replace(agent, src="10.1.40.99", period_s=300.0)
    result = replace(scenario_result(), findings=[*base, *fleet, other])
    rep = build_report(seeded, result, top_n=4)
    top = [(rf.finding.src, rf.finding.host) for rf in rep.top]
    assert len(top) == 4 and top.count(("10.1.40.1", agent.host)) == 1
    assert not any(src in {f"10.1.40.{i}" for i in range(2, 7)} for src, _ in top)
    lead = next(rf for rf in rep.findings if rf.finding.src == "10.1.40.1")
    assert lead.fleet == [f"10.1.40.{i}" for i in range(2, 7)] and lead.same_as is None
    members = [rf for rf in rep.findings if rf.finding.src in {f"10.1.40.{i}" for i in range(2, 7)}]
    assert len(members) == 5 and {rf.same_as for rf in members} == {lead.rank}
    assert all(rf.times is None and not rf.top for rf in members)
    assert next(rf for rf in rep.findings if rf.finding.src == "10.1.40.99").same_as is None
    html = render(rep, "html")
    assert "from 5 more host(s), not plotted again" in html and f"the same finding as #{lead.rank}" in html
    doc = json.loads(render(rep, "json"))
    assert sum(1 for f in doc["findings"] if f["same_as"] == lead.rank) == 5
    assert f"the same finding as #{lead.rank}" in render(rep, "md")


def test_the_timeline_of_two_sensors_whose_clocks_differ_counts_each_check_in_once(tmp_path):
    """Zeek and a Suricata 5 s ahead of it on one link: the scan matches them on one clock (stage 21
    measures the offset), and so does the report's timeline, which had every check-in twice, 5 s apart."""
    from analyzer.ingest import ingest_paths
    from analyzer.scan import ScanOptions, run_scan
    from analyzer.simulate import DEFAULT_START, build_scenario, write_logs

    zeek = write_logs(build_scenario("demo", seed=7, hours=6.0), tmp_path / "zeek", fmt="zeek-tsv")
    eve = write_logs(build_scenario("demo", seed=7, hours=6.0, start=DEFAULT_START + 5.0), tmp_path / "eve", fmt="eve")
    with Store() as store:
        ingest_paths(store, [str(p) for p in zeek + eve])
        result = run_scan(store, ScanOptions())
        rep = build_report(store, result)
    worker = next(i for i in rep.findings if i.finding.host == "cdn-sync.orbit-relay.workers.dev")
    assert worker.finding.connections > 100
    assert len(worker.times.epochs) == worker.finding.connections
