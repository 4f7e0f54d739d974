"""Scenario tests of the scan: detection AND ranking AND what is not found.

Scenarios come from ``analyzer.simulate`` (seeded) and are inserted straight into the store
(``load_into_store``), so these tests exercise scoring, not parsing; ``test_scan_cli.py`` covers the
full path through files and ingest. The real matcher and catalogue name the platforms.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.errors import InputError
from analyzer.findings import SEVERITIES, Finding, ScanResult
from analyzer.scan import ScanOptions, ScanParams, why_not_beacon, cs_jitter, human_duration, parse_window, run_scan
from analyzer.ingest import ingest_paths
from analyzer.simulate import HOUR, build_scenario, load_into_store, write_logs
from analyzer.store import Store

C2_LABELS = ["cs-60s-j0", "cs-60s-j50", "cs-300s-j30-office", "cs-120s-j40-gaps", "cs-60s-j30-tasking",
             "cs-1800s-j30", "cs-3600s-j50", "appscript-redirect", "spoofed-ua", "rotating-workers", "dns-cached",
             "nonserverless-beacon", "dns-tunnel", "http-keepalive", "rotating-tenants"]


def _scan(name: str, seed: int = 7, hours: float = 24.0, **kw) -> tuple[ScanResult, object]:
    scen = build_scenario(name, seed=seed, hours=hours)
    store = Store()
    load_into_store(scen, store.con)
    return run_scan(store, ScanOptions(**kw)), scen


@pytest.fixture(scope="module")
def mixed() -> tuple[ScanResult, object]:
    return _scan("mixed", min_score=0.0)


@pytest.fixture(scope="module")
def mixed_seed2() -> tuple[ScanResult, object]:
    return _scan("mixed", seed=2, min_score=0.0)


def _find(result: ScanResult, src: str, kind: str | None = None) -> list[Finding]:
    return [f for f in result.findings if f.src == src and (kind is None or f.kind == kind)]


def _truth(scen, label: str):
    return next(t for t in scen.truth if t.label == label)


@pytest.mark.parametrize("fixture", ["mixed", "mixed_seed2"])
@pytest.mark.parametrize("label", C2_LABELS)
def test_every_c2_scenario_is_a_beacon_finding(request, fixture: str, label: str) -> None:
    result, scen = request.getfixturevalue(fixture)
    t = _truth(scen, label)
    found = _find(result, t.src, "beacon")
    if label == "rotating-tenants":
        # the rotation channel; a tenant's share of the check-ins can be weakly periodic on its own too
        found = [f for f in found if f.rotation]
    assert len(found) == 1, f"{label}: {[(f.host, f.kind, f.score) for f in _find(result, t.src)]}"
    f = found[0]
    assert f.score >= 0.75, (label, f.score, f.reasons)
    assert f.severity in ("high", "medium")
    assert f.reasons and f.reasons[0]


@pytest.mark.parametrize("fixture", ["mixed", "mixed_seed2"])
def test_c2_ranks_above_every_benign_finding(request, fixture: str) -> None:
    result, scen = request.getfixturevalue(fixture)
    c2_src = {_truth(scen, label).src for label in C2_LABELS}
    benign_src = {t.src for t in scen.truth if not t.malicious}
    # each implant's best beacon (a rotating implant's tenants can be weak beacons of their own too)
    c2_scores = [max(f.score for f in _find(result, src, "beacon")) for src in c2_src]
    benign = [f for f in result.findings if f.src in benign_src]
    assert benign, "the heartbeats and CI runners should still be visible (below the C2)"
    assert min(c2_scores) > max(f.score for f in benign)
    # and the order of the result itself is by severity, then score
    order = [(SEVERITIES.index(f.severity), -f.score) for f in result.findings]
    assert order == sorted(order)


def test_findings_are_ordered_by_severity_then_score() -> None:
    """A lone CI runner polling an API every minute is a steadier timer than a 50 %-jitter implant on a
    Worker, and scores higher, but a non-serverless beacon is medium at most: ranked by score alone it
    came first. The scan lists the high implant first, as the report does."""
    from analyzer.simulate import GO, PYTHON, Builder

    b = Builder("rank", 3)
    b.beacon("implant", "10.1.10.30", ["x.relay-ops.workers.dev"], PYTHON, sleep=600, jitter=0.5, style="sym",
             office_hours=True)
    b.periodic("ci", ["10.0.3.5"], "api.github.com", GO, sleep=60.0, jitter=0.02)
    store = Store()
    load_into_store(b.finish(), store.con)
    implant, runner = run_scan(store, ScanOptions()).findings
    assert (implant.host, implant.severity, runner.host, runner.severity) == \
        ("x.relay-ops.workers.dev", "high", "api.github.com", "medium")
    assert runner.score > implant.score


def _interactive(b, src: str, host: str, client, start_h: float, minutes: float, gap_s: float) -> None:
    """An operator working through a beacon: check-ins every gap_s (+-30 %) for so many minutes."""
    t = b.scen.start + start_h * HOUR
    while t < b.scen.start + start_h * HOUR + minutes * 60:
        b.flow(t, src, host, client, out=b.sizes(900), inn=b.sizes(4000))
        t += gap_s * (1 + 0.3 * (2 * b.rng.random() - 1))


def test_an_interactive_session_does_not_take_over_the_beacons_period() -> None:
    """Cobalt Strike's "sleep 0": half an hour of check-ins every ~2 s in a day of a 10-minute beacon is
    900 short gaps against 144 long ones. Counted one per gap, they set the burst gap and the median:
    the finding said "every ~2.1 s ... 168 sleep gaps skipped (23.4 h without check-ins)". The rhythm
    that holds the channel's time is the 10-minute one (stage 35), and the session is folded into
    bursts, with a reason that says so. Not re-timed: a fast beacon whose long gaps are a few sleeps
    (a laptop's lid), nor the same 2 s session on a channel with no slower rhythm beside it."""
    from analyzer.simulate import PYTHON, Builder

    b = Builder("interactive", 3)
    b.beacon("implant", "10.1.10.31", ["sync.relay-ops.workers.dev"], PYTHON, sleep=600, jitter=0.3)
    _interactive(b, "10.1.10.31", "sync.relay-ops.workers.dev", PYTHON, 13, 30, 2.0)
    b.beacon("fast", "10.1.10.32", ["poll.relay-ops.workers.dev"], PYTHON, sleep=4, jitter=0.3, gaps=3)
    store = Store()
    load_into_store(b.finish(), store.con)
    result = run_scan(store, ScanOptions())
    (implant,) = _find(result, "10.1.10.31", "beacon")
    # CS jitter 30 % on 600 s: sleeps U[420, 600], median 510 s
    assert implant.severity == "high" and 450 <= implant.period_s <= 570, (implant.period_s, implant.reasons)
    assert not any("sleep gaps skipped" in r for r in implant.reasons), implant.reasons
    (folded,) = [r for r in implant.reasons if "faster stretch" in r]
    assert "of ~2" in folded and "interactively" in folded, folded
    (fast,) = _find(result, "10.1.10.32", "beacon")
    assert 2.5 <= fast.period_s <= 4.0 and any("sleep gaps skipped" in r for r in fast.reasons), fast.reasons
    assert not any("faster stretch" in r for r in fast.reasons)
    # the session alone, on a host with no beacon: still timed at its own ~2 s
    b = Builder("interactive-alone", 3)
    _interactive(b, "10.1.10.33", "ops.relay-ops.workers.dev", PYTHON, 13, 30, 2.0)
    store = Store()
    load_into_store(b.finish(), store.con)
    (alone,) = _find(run_scan(store, ScanOptions()), "10.1.10.33")
    assert alone.period_s is not None and alone.period_s < 3 and not any("faster stretch" in r for r in alone.reasons)


def test_a_malformed_host_keeps_its_tenant_and_says_it_is_malformed() -> None:
    """An implant that writes its own Host header can add one character no name may carry
    (``=1+2.relay-ops.workers.dev``). Keyed by the whole name it was "non-serverless", with no tenant,
    and a Worker left the category with one byte. Matched by its valid last labels it is the tenant's
    channel, with a reason that says the name is malformed; a valid name beside it is not called so,
    and a bad label in the tenant's own place (``bad!.workers.dev``) names no tenant."""
    from analyzer.simulate import PYTHON, Builder

    b = Builder("malformed", 3)
    b.beacon("implant", "10.1.10.41", ["=1+2.relay-ops.workers.dev"], PYTHON, sleep=300, jitter=0.2, https=False)
    b.beacon("valid", "10.1.10.42", ["sync.relay-ops.workers.dev"], PYTHON, sleep=300, jitter=0.2, https=False)
    b.beacon("apex", "10.1.10.43", ["bad!.workers.dev"], PYTHON, sleep=300, jitter=0.2, https=False)
    store = Store()
    load_into_store(b.finish(), store.con)
    result = run_scan(store, ScanOptions())
    (implant,) = _find(result, "10.1.10.41", "beacon")
    assert (implant.platform, implant.tenant, implant.category) == ("Cloudflare Workers", "relay-ops", "faas-edge")
    assert implant.severity == "high", implant.reasons
    (why,) = [r for r in implant.reasons if r.startswith("malformed name")]
    assert "'=1+2'" in why and "tenant relay-ops" in why, why
    (valid,) = _find(result, "10.1.10.42", "beacon")
    assert valid.tenant == "relay-ops" and not any("malformed" in r for r in valid.reasons)
    (apex,) = _find(result, "10.1.10.43", "beacon")
    assert apex.platform is None and apex.category == "non-serverless"
    assert any(r.startswith("malformed name (bad label 'bad!')") for r in apex.reasons), apex.reasons


def test_a_sleep_changed_mid_day_is_not_called_hours_without_check_ins() -> None:
    """60 s for 6 h, then 15 min for 8 h: the 15-minute intervals are left out of the 60 s timing, and the
    reason called them "32 sleep gaps skipped (8.0 h without check-ins)" though each ended in a check-in.
    A laptop's few hours asleep still read as sleep gaps."""
    from analyzer.simulate import GO, Builder

    b = Builder("cadence", 3, hours=24.0)
    t = b.scen.start + 10
    while t < b.scen.start + 14 * HOUR:
        b.flow(t, "10.9.2.1", "c2.sleep-acct.workers.dev", GO, out=b.sizes(400), inn=b.sizes(300))
        t += (60 if t < b.scen.start + 6 * HOUR else 900) * (1 - 0.1 * b.rng.random())
    b.beacon("laptop", "10.9.2.2", ["c2.lid-acct.workers.dev"], GO, sleep=60, jitter=0.1, gaps=2)
    store = Store()
    load_into_store(b.finish(), store.con)
    found = {f.src: f for f in run_scan(store, ScanOptions()).findings if f.kind == "beacon"}
    first = found["10.9.2.1"].reasons[1]
    assert "33 longer intervals left out of the timing (averaging 14 min" in first and "slower cadence" in first, first
    assert "without check-ins" not in first
    assert "sleep gaps skipped" in found["10.9.2.2"].reasons[1], found["10.9.2.2"].reasons


def test_browsing_and_poisson_are_not_beacons(mixed) -> None:
    result, scen = mixed
    for t in scen.truth:
        if t.note in ("browsing", "poisson"):
            assert not _find(result, t.src, "beacon"), (t.label, [f.reasons for f in _find(result, t.src)])
    # browsers visiting legitimate serverless sites are not even contacts
    browsing_src = {t.src for t in scen.truth if t.note == "browsing"}
    assert not [f for f in result.findings if f.src in browsing_src]


def test_serverless_poller_by_a_script_is_a_contact_not_a_beacon(mixed) -> None:
    result, scen = mixed
    f = _find(result, _truth(scen, "poisson-serverless").src)
    assert [x.kind for x in f] == ["contact"]
    assert f[0].severity in ("low", "info") and f[0].platform == "Vercel"
    assert any("not periodic: its timing is what random traffic gives" in r for r in f[0].reasons)


def test_timing_facts_of_a_jittery_beacon(mixed) -> None:
    result, scen = mixed
    (f,) = _find(result, _truth(scen, "cs-60s-j50").src, "beacon")
    # CS jitter 50 % on 60 s: sleeps U[30, 60] -> median 45 s; jitter recovered from the quartiles
    assert 40 <= f.period_s <= 50
    assert 0.4 <= f.jitter <= 0.6
    assert f.platform == "AWS Lambda Function URL"
    assert "beacons every" in f.reasons[1] and "jitter" in f.reasons[1]


def test_office_hours_and_sleep_gaps_are_skipped_not_penalized(mixed) -> None:
    result, scen = mixed
    (office,) = _find(result, _truth(scen, "cs-300s-j30-office").src, "beacon")
    assert office.severity == "high"
    (gaps,) = _find(result, _truth(scen, "cs-120s-j40-gaps").src, "beacon")
    assert any("sleep gap" in r for r in gaps.reasons)


def test_tasking_bursts_and_redirect_pairs_are_folded(mixed) -> None:
    result, scen = mixed
    (task,) = _find(result, _truth(scen, "cs-60s-j30-tasking").src, "beacon")
    assert any("bursts folded" in r for r in task.reasons)
    assert 40 <= task.period_s <= 65
    (apps,) = _find(result, _truth(scen, "appscript-redirect").src, "beacon")
    assert apps.host == "script.google.com" and apps.platform == "Google Apps Script"
    assert 100 <= apps.period_s <= 200  # the pair is one check-in, not a 0.4 s period


def test_rotating_workers_are_one_channel(mixed) -> None:
    result, scen = mixed
    found = _find(result, _truth(scen, "rotating-workers").src)
    assert len(found) == 1
    assert found[0].tenant == "orbit-relay" and found[0].host.endswith(".orbit-relay.workers.dev")
    assert any("5 different names" in r for r in found[0].reasons)


def test_a_client_rotating_among_tenants_is_timed_across_them_and_each_tenant_stays_a_contact(mixed) -> None:
    """Three Lambda function URLs picked at random per check-in: no tenant's channel is regular on its
    own (each was a low contact, no beacon); timed across the three as one client, a high beacon."""
    result, scen = mixed
    t = _truth(scen, "rotating-tenants")
    found = _find(result, t.src)
    (beacon,) = [f for f in found if f.kind == "beacon"]
    assert beacon.severity == "high" and beacon.score >= 0.9 and 100 <= beacon.period_s <= 125
    assert beacon.tenant is None and beacon.platform == "AWS Lambda Function URL"
    assert len(beacon.rotation) == 3 and all(n.endswith(".lambda-url.us-west-2.on.aws") for n in beacon.rotation)
    assert beacon.host == beacon.rotation[0] and "|rotation:3:" in beacon.channel_key
    assert beacon.reasons[0].startswith("serverless destinations: 3 tenants of AWS Lambda Function URL")
    # each tenant keeps its own channel, listed as a non-browser contact (and as a beacon when its share
    # of the check-ins is regular enough on its own: the rotation channel is the stronger)
    tenants = [f for f in found if f.rotation is None]
    assert sorted(f.host for f in tenants if f.kind == "contact") == sorted(beacon.rotation)
    assert beacon.connections == sum(f.connections for f in tenants if f.kind == "contact")
    assert all(f.tenant and f.score < beacon.score for f in tenants)
    assert all(any(r.startswith("one of the 3 names this client rotates among") and beacon.host in r for r in f.reasons)
               for f in tenants)
    # browsing users reach several serverless sites too (Pages, Vercel, Netlify, Apps Script): timed
    # across them, as irregular as browsing is, never a finding
    users = {f"10.1.20.{i}" for i in range(10, 18)}
    assert not [f for f in result.findings if f.rotation and f.src in users]
    assert all(f.src == t.src for f in result.findings if f.rotation)


def test_a_browser_handshake_rotating_among_tenants_of_its_own_is_a_beacon_and_a_tab_among_shared_ones_is_not() -> None:
    """An implant copying Chrome's handshake (uTLS), each check-in to one of six Worker accounts of its
    own at random: a browser's rotation was never listed (a page polling one site, timed with the user's
    visits to others, made one), so it had no finding at all. When no other host reaches any of the
    tenants, it is listed. So is a client with a hello built in a browser's shape but no browser's cipher
    list, which is no longer taken for a browser, with a reason that says so. A browser whose dashboard
    tab polls a tenant two other hosts use, and which visits sites of its own, is still no rotation."""
    from analyzer.simulate import CHROME, Builder, Client

    shaped = Client(None, "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "t13d1414h2_0f1e2d3c4b5a_00aa11bb22cc")
    b = Builder("browser-rotation", 3, hours=24.0)
    own = [f"cdn{i}.media-hub{i}.workers.dev" for i in range(6)]
    for src, client in (("10.5.0.1", CHROME), ("10.5.0.2", shaped)):
        hosts = own if client is CHROME else [h.replace("media-hub", "pix-hub") for h in own[:5]]
        b.beacon("implant", src, hosts, client, sleep=240, jitter=0.3, style="sym")
    # the dashboard tab: 10.5.0.3 polls status.team-dash.workers.dev every 5 min; two colleagues glance at it
    b.periodic("tab", ["10.5.0.3"], "status.team-dash.workers.dev", CHROME, sleep=300.0)
    for src in ("10.5.0.4", "10.5.0.5"):
        b.contact("colleague", src, "status.team-dash.workers.dev", CHROME, times=3)
    rng = random.Random(4)
    for _ in range(200):   # and the tab's user browses sites of their own, as people do
        site = rng.choice(["app.my-notes.vercel.app", "blog.my-site.netlify.app", "x.my-tools.workers.dev"])
        b.flow(b.scen.start + rng.uniform(8 * HOUR, 18 * HOUR), "10.5.0.3", site, CHROME, out=900, inn=40000)
    store = Store()
    load_into_store(b.finish(), store.con)
    result = run_scan(store, ScanOptions())
    for src, count in (("10.5.0.1", 6), ("10.5.0.2", 5)):
        (rot,) = [f for f in _find(result, src, "beacon") if f.rotation]
        assert len(rot.rotation) == count and rot.severity in ("high", "medium") and 180 <= rot.period_s <= 300, \
            (src, rot.severity, rot.score, rot.period_s, rot.reasons)
    (shaped_rot,) = [f for f in _find(result, "10.5.0.2", "beacon") if f.rotation]
    assert any(r.startswith("an unknown TLS client (JA4 t13d1414h2_0f1e2d3c4b5a") for r in shaped_rot.reasons)
    assert not any(r.startswith("a browser's TLS client") for r in shaped_rot.reasons)
    (chrome_rot,) = [f for f in _find(result, "10.5.0.1", "beacon") if f.rotation]
    assert any(r.startswith("a browser's TLS client") and "uTLS" in r for r in chrome_rot.reasons)
    assert not [f for f in result.findings if f.src == "10.5.0.3" and f.rotation]


def test_users_opening_apps_script_are_no_fleet_for_an_implant_with_a_browsers_handshake() -> None:
    """An Apps Script implant copying Chrome's handshake checks in every 10 min (30 % jitter) in office
    hours; 60 users open script.google.com a few times a day, in bursts hours apart, with Chrome. The
    users were counted as its fleet, "60 of them at this cadence", and the implant fell under the default
    --min-score. On a front door that names no tenant, a browser's handshake says no more about the
    software than no client at all: only hosts that beacon there at the implant's cadence count."""
    from analyzer.simulate import CHROME, Builder

    b = Builder("apps-script-utls", 3, hours=24.0)
    b.beacon("implant", "10.6.0.1", ["script.google.com"], CHROME, sleep=600, jitter=0.3, office_hours=True,
             redirect_to="script.googleusercontent.com")
    rng = random.Random(8)
    users = [f"10.6.1.{i}" for i in range(1, 61)]
    for src in users:
        for _ in range(rng.randint(2, 5)):   # a burst of 2-4 connections, hours apart
            t = b.scen.start + rng.uniform(7 * HOUR, 18 * HOUR)
            for k in range(rng.randint(2, 4)):
                b.flow(t + k * rng.uniform(0.05, 2.0), src, "script.google.com", CHROME, out=1500, inn=60000)
    store = Store()
    load_into_store(b.finish(), store.con)
    result = run_scan(store, ScanOptions())
    (implant,) = _find(result, "10.6.0.1", "beacon")
    assert implant.score >= ScanOptions().min_score and 420 <= implant.period_s <= 660, (implant.score, implant.reasons)
    assert not any("at this cadence" in r or "fleet-wide" in r for r in implant.reasons), implant.reasons
    assert any(r.startswith("61 internal hosts talk to it with this client, but only 1 count toward a fleet")
               for r in implant.reasons), implant.reasons
    assert not [f for f in result.findings if f.src in users and f.kind == "beacon"]


def test_a_rotation_whose_every_name_beacons_on_its_own_says_so() -> None:
    """An uptime probe polls 6 apps of its own every 60 s, one after the other (curl). Each app's channel
    is a beacon; timed across the six as a "rotation", "every ~10 s", with nothing to say that each name
    keeps its own 60 s timer, as a probe's do (and a round-robin implant's: timing cannot tell them
    apart). Its reasons now say so; a client rotating at random, none of whose names beacons alone,
    does not get that reason."""
    from analyzer.simulate import CURL, GO, Builder

    b = Builder("probe", 3, hours=24.0)
    apps = [f"acme-svc{i}-prod.azurewebsites.net" for i in range(6)]
    t = b.scen.start + 5
    while t < b.scen.end:
        for i, app in enumerate(apps):
            b.flow(t + 10 * i + b.rng.uniform(0, 0.2), "10.7.0.5", app, CURL, out=300, inn=900)
        t += 60
    b.beacon("implant", "10.7.0.6", [f"f{i}.relay{i}.workers.dev" for i in range(3)], GO, sleep=120, jitter=0.3)
    store = Store()
    load_into_store(b.finish(), store.con)
    result = run_scan(store, ScanOptions())
    probe = _find(result, "10.7.0.5")
    assert sorted(f.host for f in probe if f.kind == "beacon" and not f.rotation) == sorted(apps)
    (parallel,) = [f for f in probe if f.rotation]
    assert parallel.reasons[1].startswith("each of its 6 names is a beacon on its own too (every ~60 s)"), \
        parallel.reasons
    (rot,) = [f for f in _find(result, "10.7.0.6") if f.rotation]
    assert rot.kind == "beacon" and len(rot.rotation) == 3
    assert not any(r.startswith("each of its") for r in rot.reasons)


def test_a_channel_that_sends_data_in_volume_says_so_first() -> None:
    """A 30 min beacon that uploads 120 MB six times: high, but no reason said that 720 MB left the host.
    Said second, after what the destination is (no weight: a backup client does the same); not said of a
    beacon that only polls, nor of a download."""
    from analyzer.simulate import GO, Builder

    b = Builder("exfil", 3, hours=24.0)
    for src in ("10.8.0.1", "10.8.0.2", "10.8.0.3"):
        b.beacon("implant", src, [f"upload.kite{src[-1]}.workers.dev"], GO, sleep=1800, jitter=0.2)
    for k in range(6):
        t = b.scen.start + (3 + 3 * k) * HOUR + 77
        b.flow(t, "10.8.0.1", "upload.kite1.workers.dev", GO, out=120_000_000, inn=5000, duration=300)
        b.flow(t, "10.8.0.3", "upload.kite3.workers.dev", GO, out=5000, inn=120_000_000, duration=300)
    store = Store()
    load_into_store(b.finish(), store.con)
    found = {f.src: f for f in run_scan(store, ScanOptions()).findings}
    up = found["10.8.0.1"]
    assert up.reasons[1].startswith("sent 720 MB and received ") and "data leaving in volume over" in up.reasons[1], \
        up.reasons
    for quiet in ("10.8.0.2", "10.8.0.3"):
        assert not any("data leaving" in r for r in found[quiet].reasons)


def test_the_hosts_seen_are_the_internal_ones_not_the_internet_clients_of_a_dmz_server() -> None:
    from analyzer.simulate import CHROME, GO, Builder

    b = Builder("dmz", 3, hours=6.0)
    for i in range(3):
        b.beacon("agent", f"10.9.0.{i + 1}", ["api.example-vendor.com"], GO, sleep=300, jitter=0.1)
    for i in range(40):   # Internet clients of the DMZ web server
        b.flow(b.scen.start + 60 * i, f"198.51.{i // 200}.{i % 200 + 1}", "www.site.example", CHROME, out=900, inn=9000)
    store = Store()
    load_into_store(b.finish(), store.con)
    assert run_scan(store, ScanOptions()).hosts == 3
    # a network numbered in public space: every source counts
    b = Builder("public", 3, hours=6.0)
    for i in range(4):
        b.beacon("agent", f"203.0.113.{i + 1}", ["api.example-vendor.com"], GO, sleep=300, jitter=0.1)
    store = Store()
    load_into_store(b.finish(), store.con)
    assert run_scan(store, ScanOptions()).hosts == 4


def test_spoofed_browser_ua_is_called_out(mixed) -> None:
    result, scen = mixed
    (f,) = _find(result, _truth(scen, "spoofed-ua").src, "beacon")
    assert f.user_agent.startswith("Mozilla/5.0") and f.ja4.startswith("t12d")
    assert any("browser User-Agent" in r and "non-browser TLS" in r for r in f.reasons)
    assert set(f.sources) >= {"conn", "ssl", "http"}


def test_a_plain_http_beacon_claiming_a_browser_or_headless_ua_says_what_that_is_worth() -> None:
    """Plain HTTP: a beacon sending Chrome's User-Agent had no client reason at all (nothing tells the
    analyst the UA is only claimed), and HeadlessChrome passed for a browser."""
    from analyzer.simulate import CHROME, Builder, Client

    headless = Client(CHROME.ua.replace("Chrome/", "HeadlessChrome/"), "", "")
    b = Builder("http-ua", 3, hours=12.0)
    b.beacon("claims-chrome", "10.9.1.1", ["poll.ua-acct.workers.dev"], CHROME, sleep=120, jitter=0.2, https=False)
    b.beacon("headless", "10.9.1.2", ["poll.hl-acct.workers.dev"], headless, sleep=120, jitter=0.2, https=False)
    store = Store()
    load_into_store(b.finish(), store.con)
    found = {f.src: f for f in run_scan(store, ScanOptions()).findings if f.kind == "beacon"}
    assert any(r.startswith("a browser's User-Agent with no TLS handshake to check it against") for r in
               found["10.9.1.1"].reasons), found["10.9.1.1"].reasons
    assert any("headless browser (automation" in r for r in found["10.9.1.2"].reasons), found["10.9.1.2"].reasons
    assert not any("no TLS handshake to check" in r for r in found["10.9.1.2"].reasons)


def test_dns_cached_beacon_times_connections_not_queries(mixed) -> None:
    result, scen = mixed
    (f,) = _find(result, _truth(scen, "dns-cached").src, "beacon")
    assert f.connections > 1000
    assert any("cached resolution" in r for r in f.reasons)
    assert "dns" in f.sources and "conn" in f.sources


def test_dns_only_tunnel(mixed) -> None:
    result, scen = mixed
    (f,) = _find(result, _truth(scen, "dns-tunnel").src)
    assert f.kind == "beacon" and f.host == "t.exfil-dns.net" and f.sources == ["dns"]
    assert any("TXT" in r for r in f.reasons) and any("high-entropy" in r for r in f.reasons)


def test_a_dns_tunnel_through_a_serverless_tenant_names_its_zone() -> None:
    """TXT queries for a new label per query under a Worker's name: one channel of the tenant, whose
    host is one of those names (a real name, to pivot on). Its reason named the names as being "under"
    that first name; they are under the zone every name ends with."""
    from analyzer.simulate import Builder

    b = Builder("tunnel", 3)
    b.dns_only("tunnel", "10.1.10.34", "ns1.dnsrelay-c2.workers.dev", sleep=30, jitter=0.2)
    store = Store()
    load_into_store(b.finish(), store.con)
    (f,) = _find(run_scan(store, ScanOptions()), "10.1.10.34")
    assert f.kind == "beacon" and f.tenant == "dnsrelay-c2" and f.host.endswith(".ns1.dnsrelay-c2.workers.dev")
    (under,) = [r for r in f.reasons if "different names under" in r]
    assert f"{f.connections} different names under ns1.dnsrelay-c2.workers.dev (" in under, under


def test_lambda_url_id_is_not_called_high_entropy(mixed) -> None:
    result, scen = mixed
    (f,) = _find(result, _truth(scen, "cs-60s-j50").src)
    assert not any("entropy" in r for r in f.reasons)


def test_keepalive_channel_and_stager_are_contacts(mixed) -> None:
    result, scen = mixed
    (keep,) = _find(result, _truth(scen, "keepalive").src)
    assert keep.kind == "contact" and any("long-lived" in r for r in keep.reasons)
    # a non-browser client holding a serverless connection for hours, alone: an HTTP/2 implant's shape
    assert keep.severity == "medium" and keep.score < 0.8
    (stager,) = _find(result, _truth(scen, "stager-download").src)
    assert stager.kind == "contact" and stager.platform == "Cloudflare Pages"
    assert any("too few check-ins to time" in r for r in stager.reasons)
    assert not any("periodic" in r for r in stager.reasons)  # two downloads say nothing about timing
    assert keep.score > stager.score  # a 9 h quiet connection says more than two downloads


def test_requests_inside_kept_alive_http_connections_are_timed_one_by_one(mixed) -> None:
    """A Go implant over plain HTTP reuses its connection between check-ins: a few connections, hours
    long, carrying ~1600 requests. Timed by connection starts it was a contact; by request, a beacon
    with the implant's sleep (45 s, jitter 30 %: median ~38 s), and the finding says how it was timed."""
    result, scen = mixed
    (f,) = _find(result, _truth(scen, "http-keepalive").src)
    assert f.kind == "beacon" and f.host == "edge-telemetry.azurewebsites.net" and f.user_agent == "Go-http-client/1.1"
    assert 33 <= f.period_s <= 42 and 0.15 <= f.jitter <= 0.45
    conns = [fl for fl in scen.flows if fl.src == f.src]
    requests = sum(1 + len(fl.more_http) for fl in conns)
    assert f.connections == len(conns) and len(conns) <= 6 and requests > 1000 and f.http_requests == requests
    assert any(f"{requests} HTTP requests on {len(conns)} connections" in r for r in f.reasons)
    assert any("reuse a connection kept alive" in r for r in f.reasons)
    assert f.sources[:2] == ["conn", "http"]


def test_non_serverless_beacon_is_reported_in_its_category(mixed) -> None:
    result, scen = mixed
    (f,) = _find(result, _truth(scen, "nonserverless-beacon").src, "beacon")
    assert f.category == "non-serverless" and f.platform is None
    assert f.severity == "medium"  # serverless weighs more: capped one level lower


def test_finding_json_has_the_documented_fields(mixed) -> None:
    result, _ = mixed
    d = result.findings[0].to_dict()
    for key in ("src", "host", "platform", "tenant", "category", "score", "severity", "connections", "period_s",
                "jitter", "first_seen", "last_seen", "user_agent", "ja3", "ja4", "bytes_out", "bytes_in",
                "reasons", "sources"):
        assert key in d
    assert 0.0 <= d["score"] <= 1.0 and d["first_seen"].endswith("Z")
    # every check-in of these findings is a connection (or a DNS query): no per-request count
    assert all(f.http_requests is None for f in result.findings if f.src != "10.1.10.26")


def test_min_score_and_contacts_filter(mixed) -> None:
    result, scen = _scan("mixed", hours=8, min_score=0.8, include_contacts=False)
    assert result.findings and all(f.kind == "beacon" and f.score >= 0.8 for f in result.findings)
    hb = {t.src for t in scen.truth if t.label == "monitoring-heartbeat"}
    assert not [f for f in result.findings if f.src in hb]


def test_allowlist_suppresses_and_counts(tmp_path: Path) -> None:
    al = tmp_path / "allow.txt"
    al.write_text('tenant=acme-uptime reason="our uptime monitor" owner=noc\n'
                  'host=gitlab.acme-corp.com reason="CI runners"\n'
                  'tenant=nobody reason="old" expires=2001-01-01\n', encoding="utf-8")
    result, scen = _scan("benign", hours=6, min_score=0.0, allowlist=str(al))
    hb_ci = {t.src for t in scen.truth if t.label in ("monitoring-heartbeat", "ci-runner")}
    assert not [f for f in result.findings if f.src in hb_ci]
    counts = sorted(result.suppressed.values())
    assert counts == [3, 6]  # 3 CI runners, 6 heartbeat hosts
    assert any("our uptime monitor" in k for k in result.suppressed)
    assert len(result.expired_allowlist) == 1


def test_window_is_relative_to_latest_data_not_wall_clock() -> None:
    result, scen = _scan("c2", hours=12, window="6h", min_score=0.0)
    assert result.window_end is not None
    assert abs(result.window_end.timestamp() - scen.end) < 120  # the data's end, years from "now"
    assert (result.window_end - result.window_start) == timedelta(hours=6)
    assert all(f.first_seen >= result.window_start for f in result.findings)


def test_since_until_override_window() -> None:
    scen = build_scenario("c2", seed=7, hours=8)
    store = Store()
    load_into_store(scen, store.con)
    since = datetime.fromtimestamp(scen.start + 2 * HOUR, timezone.utc)
    until = datetime.fromtimestamp(scen.start + 5 * HOUR, timezone.utc)
    result = run_scan(store, ScanOptions(since=since, until=until, min_score=0.0))
    assert result.window_start == since and result.window_end == until
    assert all(since <= f.first_seen and f.last_seen < until for f in result.findings)
    with pytest.raises(InputError):
        run_scan(store, ScanOptions(since=until, until=since))
    # a window wholly before the logs is as empty as one after them: both are errors, not a quiet nothing
    with pytest.raises(InputError, match="before the oldest log line"):
        run_scan(store, ScanOptions(until=datetime(1990, 1, 1, tzinfo=timezone.utc)))
    with pytest.raises(InputError, match="after the newest log line"):
        run_scan(store, ScanOptions(since=datetime(2090, 1, 1, tzinfo=timezone.utc)))
    edge = datetime.fromtimestamp(scen.start + 60, timezone.utc)   # ends a minute into the logs: not empty
    assert run_scan(store, ScanOptions(until=edge)).window_end == edge
    # a window in a gap inside the logs is a warning that gives their span (a night the sensor missed)
    from analyzer.simulate import GO, Builder
    b = Builder("gap", 3, hours=24.0)
    for k in range(40):
        b.flow(b.scen.start + 60 * k, "10.0.0.9", "api.example.com", GO, out=500, inn=900)
        b.flow(b.scen.start + 20 * HOUR + 60 * k, "10.0.0.9", "api.example.com", GO, out=500, inn=900)
    gap = Store()
    load_into_store(b.finish(), gap.con)
    inside = run_scan(gap, ScanOptions(since=datetime.fromtimestamp(b.scen.start + 8 * HOUR, timezone.utc),
                                       until=datetime.fromtimestamp(b.scen.start + 12 * HOUR, timezone.utc)))
    assert not inside.findings and [w for w in inside.warnings if w.startswith("nothing to score in the window: the logs span")]


def test_a_stray_latest_timestamp_is_warned_about_not_silently_scanned() -> None:
    """One row three years after the rest moves "the last 24 h" there, where nothing is: the scan says
    so and names the --until that scans the day that was meant; the day itself, or an explicit
    --until, gives no warning, and the beacons are found there."""
    scen = build_scenario("c2", seed=7, hours=8)
    store = Store()
    load_into_store(scen, store.con)
    plain = run_scan(store, ScanOptions())
    assert plain.warnings == [] and plain.window_at_latest and plain.findings
    last = store.con.execute("SELECT max(e) FROM (SELECT max(epoch) AS e FROM conn UNION ALL SELECT max(epoch) FROM tls "
                             "UNION ALL SELECT max(epoch) FROM http UNION ALL SELECT max(epoch) FROM dns)").fetchone()[0]
    later = last + 3 * 365 * 86400.0
    store.con.execute("INSERT INTO dns (ts, epoch, src, query, sensor) VALUES (NULL, ?, '10.9.9.9', 'x.example', 'zeek')",
                      [later])
    # scanned after that time (the clock of a machine that reads an old capture's logs): a stray
    # timestamp of the past, which only a person can tell apart from a sensor that was off for years
    import analyzer.scan as scan_module
    real_now = scan_module._now
    scan_module._now = lambda: later + 86400.0
    try:
        stray = run_scan(store, ScanOptions())
    finally:
        scan_module._now = real_now
    assert stray.findings == [] and len(stray.warnings) == 1
    until = datetime.fromtimestamp(last + 1, timezone.utc)
    assert f"--until {until:%Y-%m-%dT%H:%M:%SZ}" in stray.warnings[0] and "holds 1 of " in stray.warnings[0]
    meant = run_scan(store, ScanOptions(until=until))
    assert meant.warnings == [] and not meant.window_at_latest
    assert sorted(f.src for f in meant.findings) == sorted(f.src for f in plain.findings)


def test_rows_from_the_future_do_not_move_the_default_window(monkeypatch) -> None:
    """A sensor clock that jumps ahead for one row (a month past this machine's clock) moved "the last
    24 h" of every later nightly report of a --db store into an empty future, with exit 0: the window
    now ends at the last row before such rows, and says so. Nearly all rows in the future (synthetic
    logs, a machine whose clock is behind) leave the window where it was."""
    import analyzer.scan as scan_module

    scen = build_scenario("c2", seed=7, hours=8)
    store = Store()
    load_into_store(scen, store.con)
    last = store.con.execute("SELECT max(epoch) FROM conn").fetchone()[0]
    plain = run_scan(store, ScanOptions())
    monkeypatch.setattr(scan_module, "_now", lambda: last + 600.0)
    assert run_scan(store, ScanOptions()).warnings == []       # the logs end just before "now"
    store.con.execute("INSERT INTO conn (ts, epoch, uid, src, dst, dst_port, proto, sensor) VALUES "
                      "(NULL, ?, 'Cjump', '10.1.10.11', '1.2.3.4', 443, 'tcp', 'zeek')", [last + 30 * 86400.0])
    jumped = run_scan(store, ScanOptions())
    assert sorted((f.src, f.host, f.score) for f in jumped.findings) == sorted((f.src, f.host, f.score) for f in plain.findings)
    assert jumped.window_end == plain.window_end
    (w,) = jumped.warnings
    assert "1 of " in w and "after this machine's clock" in w and "jumped ahead" in w
    # this machine's clock behind the logs (every row in its future): the window ends at the latest row
    monkeypatch.setattr(scan_module, "_now", lambda: last - 86400.0 * 365)
    behind = run_scan(store, ScanOptions())
    assert behind.findings == [] and behind.window_end > plain.window_end + timedelta(days=29)
    # an explicit --until is taken as it is
    monkeypatch.setattr(scan_module, "_now", lambda: last + 600.0)
    until = datetime.fromtimestamp(last + 30 * 86400.0 + 1, timezone.utc)
    assert run_scan(store, ScanOptions(until=until)).findings == []


@pytest.mark.parametrize("kept", [(), ("dns",), ("tls",), ("http",)])
def test_a_window_without_any_naming_record_is_warned_about(kept: tuple[str, ...]) -> None:
    """Connections with no DNS, TLS or HTTP record in the window cannot be named: the scan warns. One
    naming log of the three is enough to keep quiet (a kept store: conn and tls read as tables)."""
    scen = build_scenario("c2", seed=7, hours=8)
    store = Store()
    load_into_store(scen, store.con)
    for table in ("dns", "tls", "http"):
        if table not in kept:
            store.con.execute(f"DELETE FROM {table}")
    result = run_scan(store, ScanOptions())
    nameless = [w for w in result.warnings if "no DNS, TLS or HTTP record" in w]
    assert len(nameless) == (0 if kept else 1), result.warnings
    assert result.findings, "beacons are found either way"
    if not kept:
        assert all(f.platform is None and f.category == "non-serverless" for f in result.findings)


@pytest.mark.parametrize("fingerprints", ["both", "ja3", "ja4", "none"])
def test_tls_without_any_client_fingerprint_is_warned_about(fingerprints: str) -> None:
    """Stock Zeek logs no JA3/JA4: the scan says that HTTPS clients cannot be told from browsers;
    either fingerprint anywhere keeps it quiet."""
    scen = build_scenario("c2", seed=7, hours=8)
    store = Store()
    load_into_store(scen, store.con)
    drop = {"both": (), "ja3": ("ja4",), "ja4": ("ja3",), "none": ("ja3", "ja4")}[fingerprints]
    for column in drop:
        store.con.execute(f"UPDATE tls SET {column} = NULL")
    result = run_scan(store, ScanOptions())
    warned = [w for w in result.warnings if "no client fingerprint (JA3/JA4)" in w]
    assert len(warned) == (1 if fingerprints == "none" else 0), result.warnings
    assert [f for f in result.findings if f.kind == "beacon"], "beacons are found either way"
    if fingerprints == "none":
        assert not [f for f in result.findings if f.ja3 or f.ja4]


def test_slow_beacon_is_weak_in_a_day_and_certain_over_the_week() -> None:
    day, scen = _scan("slow", hours=7 * 24, min_score=0.0)
    beacon_src = _truth(scen, "cs-4h-j30").src
    # 6 check-ins a day: the narrow-window test (stage 44) sees a timer, but with partial credit only
    in_day = _find(day, beacon_src, "beacon")
    assert len(in_day) == 1 and in_day[0].scores["periodicity"] < 0.8
    week, _ = _scan("slow", hours=7 * 24, min_score=0.0, window="7d")
    found = _find(week, beacon_src, "beacon")
    assert len(found) == 1 and 3 * HOUR <= found[0].period_s <= 4.2 * HOUR
    assert found[0].scores["periodicity"] == 1.0 and found[0].score > in_day[0].score
    for result in (day, week):  # a random poller at the same mean rate is no beacon in either window
        assert not _find(result, _truth(scen, "poisson-4h").src, "beacon")


def test_empty_store_gives_no_findings() -> None:
    result = run_scan(Store(), ScanOptions())
    assert result.findings == [] and result.window_start is None


@pytest.mark.parametrize("text,seconds", [("24h", 86400), ("7d", 604800), ("90m", 5400), ("1w", 604800)])
def test_parse_window(text: str, seconds: float) -> None:
    assert parse_window(text) == seconds


@pytest.mark.parametrize("text", ["", "24", "h", "-1h", "0h", "1y", "24h; DROP TABLE conn"])
def test_parse_window_rejects(text: str) -> None:
    with pytest.raises(InputError):
        parse_window(text)


def test_cs_jitter_inverts_a_uniform_sleep() -> None:
    # U[S(1-j), S] with S = 100, j = 0.4: quartiles at 70 and 90
    assert cs_jitter(70, 90) == pytest.approx(0.4)
    assert cs_jitter(60, 60) == 0.0


def test_a_score_under_the_threshold_never_reads_as_the_threshold() -> None:
    from analyzer.scan import _below

    assert [_below(x, 0.5) for x in (0.497, 0.4999, 0.42, 0.0)] == ["0.49", "0.49", "0.42", "0.00"]
    assert _below(0.795, 0.8) == "0.79" and _below(0.5, 0.6) == "0.50"


def test_human_duration() -> None:
    assert human_duration(61.2) == "~61 s" and human_duration(300) == "~5 min" and human_duration(5400) == "~1.5 h"
    assert human_duration(0.5) == "~0.5 s" and human_duration(3.5) == "~3.5 s" and human_duration(9.97) == "~10 s"


def test_intel_listed_name_is_reported_even_from_a_browser(tmp_path: Path) -> None:
    intel = tmp_path / "intel.txt"
    intel.write_text("status-page.vercel.app\n", encoding="utf-8")
    result, scen = _scan("benign", hours=12, min_score=0.5, intel_files=(str(intel),))
    hits = [f for f in result.findings if f.host == "status-page.vercel.app"]
    assert hits and all(f.kind == "contact" for f in hits)
    assert all(f.reasons[0].startswith("name on a threat-intel list") for f in hits)
    assert all(f.severity == "medium" for f in hits)      # a listed name reached at all: not a low contact
    plain, _ = _scan("benign", hours=12, min_score=0.5)
    assert not [f for f in plain.findings if f.host == "status-page.vercel.app"]


def test_an_intel_only_name_is_not_called_a_serverless_destination(tmp_path: Path) -> None:
    """A name on the intel list that no catalogue entry knows is "Threat intel" for its platform: its
    reason said "serverless destination: Threat intel, tenant gitlab.acme-corp.com"."""
    intel = tmp_path / "intel.txt"
    intel.write_text("gitlab.acme-corp.com\n", encoding="utf-8")
    result, _ = _scan("demo", intel_files=(str(intel),))
    hits = [f for f in result.findings if f.host == "gitlab.acme-corp.com"]
    assert hits and all(f.platform == "Threat intel" and f.kind == "beacon" and f.severity == "high" for f in hits)
    for f in hits:
        assert f.reasons[0] == f"name on a threat-intel list: gitlab.acme-corp.com ({intel}:1)"
        assert not [r for r in f.reasons if r.startswith("serverless destination")]


@settings(max_examples=15, deadline=None)
@given(name=st.text(max_size=80), ua=st.one_of(st.none(), st.text(max_size=80)),
       ja4=st.one_of(st.none(), st.text(max_size=40)))
def test_any_log_strings_scan_and_render(name: str, ua: str | None, ja4: str | None) -> None:
    """Whatever a log says (quotes, control characters, SQL, non-ASCII), scan and every format survive."""
    from analyzer.render import FORMATS, render

    store = Store()
    con = store.con
    for i in range(30):
        t = 1_800_000_000.0 + 60 * i
        uid = f"C{i}"
        con.execute("INSERT INTO conn (epoch, uid, src, dst, dst_port, proto, orig_bytes, resp_bytes, sensor) "
                    "VALUES (?, ?, '10.0.0.1', '1.2.3.4', 80, 'tcp', 300, 300, 'zeek')", [t, uid])
        con.execute("INSERT INTO http (epoch, uid, src, dst, dst_port, host, user_agent, sensor) "
                    "VALUES (?, ?, '10.0.0.1', '1.2.3.4', 80, ?, ?, 'zeek')", [t, uid, name, ua])
        con.execute("INSERT INTO tls (epoch, uid, src, dst, dst_port, server_name, ja4, sensor) "
                    "VALUES (?, ?, '10.0.0.1', '1.2.3.4', 80, ?, ?, 'zeek')", [t, uid, name, ja4])
    result = run_scan(store, ScanOptions(min_score=0.0))
    for fmt in FORMATS:
        out = render(result, fmt)
        if fmt == "table":
            assert "\x1b" not in out
    assert con.execute("SELECT count(*) FROM conn").fetchone()[0] == 30


def test_a_beacon_under_min_score_is_still_listed_as_its_contact() -> None:
    """--min-score hides weak beacons, but a non-browser client to a serverless endpoint is a contact
    whatever its timing: the beacon comes back as that contact, with its period, not silently gone."""
    full, scen = _scan("c2", min_score=0.0)
    def non_browser(f: Finding) -> bool:
        return any("non-browser" in r or "client by User-Agent" in r for r in f.reasons)

    serverless = [f for f in full.findings if f.kind == "beacon" and f.platform and non_browser(f) and not f.rotation]
    rotations = [f for f in full.findings if f.rotation]
    assert serverless and rotations
    above = max(f.score for f in serverless) + 1e-6  # every beacon of this day is under the threshold
    store = Store()
    load_into_store(scen, store.con)
    cut = run_scan(store, ScanOptions(min_score=above))
    assert not [f for f in cut.findings if f.kind == "beacon"]
    for b in serverless:
        again = [f for f in _find(cut, b.src) if f.host == b.host]
        assert len(again) == 1 and again[0].kind == "contact", (b.src, b.host)
        assert again[0].period_s == b.period_s and again[0].score <= 0.6  # contact_cap
        # "periodic" for a steady timer under --min-score for its evidence, "weakly periodic" for a weak one
        steady = "weakly periodic" if b.scores["beacon"] < ScanParams().steady_timing else ", periodic"
        assert any(steady in r and "--min-score" in r for r in again[0].reasons), (b.scores, again[0].reasons)
    for b in rotations:  # a rotation is a beacon or nothing: each of its tenants is still a contact
        assert not [f for f in cut.findings if f.rotation]
        assert {f.host for f in _find(cut, b.src, "contact")} >= set(b.rotation)
    order = [(SEVERITIES.index(f.severity), -f.score) for f in cut.findings]
    assert order == sorted(order)
    none = run_scan(store, ScanOptions(min_score=above, include_contacts=False))
    assert none.findings == []


def test_a_contact_says_why_its_timing_did_not_make_a_beacon() -> None:
    p = ScanParams()
    row = {"beacon": None, "z": None, "r_score": None, "n": None}
    assert "too few check-ins" in why_not_beacon(row, p)
    row = {"beacon": 0.0, "z": 1.2, "r_score": 0.1, "n": 200}
    assert why_not_beacon(row, p).startswith("not periodic")
    few = {"beacon": 0.29, "z": 4.1, "r_score": 0.9, "n": 8}  # an hourly timer over one office day
    assert "8 intervals are too few for their spread to rule out chance" in why_not_beacon(few, p)
    assert why_not_beacon(few, p, 3491.2).startswith("regular (every ~58 min), but 8 intervals")
    jittery = {"beacon": 0.2, "z": 9.0, "r_score": 0.2, "n": 500}
    assert why_not_beacon(jittery, p).startswith("irregular timing")
    assert "every" not in why_not_beacon(jittery, p, 60.0)  # no period named for an irregular channel
    gated = {"beacon": 0.8, "z": 9.0, "r_score": 0.9, "n": 50}  # the span or fast-cadence gate of stage 49
    assert "too briefly" in why_not_beacon(gated, p)


def test_with_conn_and_dns_logs_only_beacons_keep_their_serverless_names(tmp_path: Path) -> None:
    """No ssl.log or http.log (a sensor logging connections and DNS only): the day's beacons are still
    found under the names their hosts resolved, not as anonymous anycast addresses."""
    scen = build_scenario("demo", seed=7)
    paths = [p for p in write_logs(scen, tmp_path, fmt="zeek-tsv") if p.name in ("conn.log", "dns.log")]
    assert len(paths) == 2
    store = Store()
    ingest_paths(store, paths)
    result = run_scan(store, ScanOptions())
    beacons = [f for f in result.findings if f.kind == "beacon"]
    worker = [f for f in beacons if f.src == "10.1.10.12"]
    assert len(worker) == 1 and worker[0].platform == "Cloudflare Workers" and worker[0].tenant == "orbit-relay"
    assert 45 <= worker[0].period_s <= 55 and "dns" in worker[0].sources
    assert any("DNS answers" in r for r in worker[0].reasons)
    assert not [f for f in beacons if f.host is None]  # no beacon left keyed by a bare address
    # an encrypted client hello is TLS: not offered as the reason a port-80 connection had no name
    from analyzer.simulate import PYTHON, Builder
    b = Builder("plain-http", 3, hours=12.0)
    b.beacon("http", "10.1.10.90", ["feed.http-acct.workers.dev"], PYTHON, sleep=120, jitter=0.2, https=False)
    plain = [p for p in write_logs(b.finish(), tmp_path / "plain", fmt="zeek-tsv") if p.name in ("conn.log", "dns.log")]
    store = Store()
    ingest_paths(store, plain)
    found = [*result.findings, *run_scan(store, ScanOptions()).findings]
    named = [(f.dst_port, r) for f in found for r in f.reasons if r.startswith("name taken from")]
    assert {port for port, _ in named} == {80, 443}, named
    assert all(("encrypted client hello" in r) == (port != 80) for port, r in named), named
    browsing = {t.src for t in scen.truth if t.note == "browsing"}
    assert browsing and not [f for f in result.findings if f.src in browsing]


def test_strings_whose_keys_collide_are_numbered_apart(mixed, monkeypatch) -> None:
    """Addresses, names and TLS clients are numbered by a hash (sql/03_duckdb_keys.sql); when two share
    a key, the later ones get numbers of their own below zero (sql/05_narrow_3_dicts.sql), so no two
    hosts, names or clients merge. Forced here with keys that collide for every two strings of the
    same length: the findings are exactly those of the real keys."""
    import analyzer.scan as scan_mod
    import analyzer.sqlfiles as sqlfiles_mod

    real = sqlfiles_mod.read_sql

    def colliding(name: str) -> str:
        if name.startswith("03_duckdb_keys"):  # the file's macros, then the three keys replaced
            return real(name) + "\n" + ("CREATE OR REPLACE TEMP MACRO addr_key(a) AS CAST(length(a) AS BIGINT);"
                    "CREATE OR REPLACE TEMP MACRO name_key(n) AS "
                    "CASE WHEN n IS NOT NULL AND n <> '' THEN CAST(length(n) AS BIGINT) END;"
                    "CREATE OR REPLACE TEMP MACRO client_key(ja3, ja4) AS "
                    "CAST(length(coalesce(ja3, '')) + length(coalesce(ja4, '')) AS BIGINT);")
        return real(name)

    monkeypatch.setattr(sqlfiles_mod, "read_sql", colliding)  # the SQL files run_sql runs
    scen = build_scenario("mixed", seed=7, hours=24.0)
    store = Store()
    load_into_store(scen, store.con)
    prepare = ScanOptions(min_score=0.0)
    scan_mod.prepare_inputs(store.con, prepare)
    lo, hi = store.con.execute("SELECT min(epoch), max(epoch) FROM conn").fetchone()
    scan_mod.score_channels(store.con, lo, hi + 1, prepare.params, stop_after="20")
    for table, id_, value in (("scan_addrs", "addr_id", "addr"), ("scan_raw_names", "raw_id", "raw_name"),
                              ("scan_clients", "client_id", "ja3 || '/' || ja4")):
        apart, rows, ids, values = store.con.execute(
            f"SELECT count(*) FILTER (WHERE {id_} < 0), count(*), count(DISTINCT {id_}), count(DISTINCT {value}) "
            f"FROM {table}").fetchone()
        assert apart > 0 and rows == ids, table  # collisions happened, and every string has its own number
        assert values == rows or table == "scan_clients", table  # (a client may lack a fingerprint)

    result = run_scan(store, prepare)
    got, want = [f.to_dict() for f in result.findings], [f.to_dict() for f in mixed[0].findings]
    assert got == want and len(got) > 10


@pytest.mark.parametrize("fmt", ["zeek-tsv", "zeek-json", "eve"])
def test_a_scratch_store_scans_exactly_as_a_full_store(tmp_path, fmt) -> None:
    """scan and report without --db load into a scratch store (store.SCRATCH_OMITS: no column that no
    stage reads): the same logs give the same findings, field for field, as in a full store."""
    scen = build_scenario("mixed", seed=7, hours=24.0)
    paths = [str(p) for p in write_logs(scen, tmp_path, fmt=fmt)]
    got, left = {}, {}
    for scratch in (False, True):
        with Store(scratch=scratch) as s:
            ingest_paths(s, paths)
            # as the CLI does: a scratch store's log tables are dropped once read (release_logs)
            got[scratch] = [f.to_dict() for f in run_scan(s, ScanOptions(min_score=0.0, release_logs=scratch)).findings]
            left[scratch] = {r[0] for r in s.con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()} & {"conn", "dns", "tls", "http"}
    assert got[True] == got[False]
    assert sum(f["kind"] == "beacon" for f in got[True]) > 10
    assert left == {False: {"conn", "dns", "tls", "http"}, True: set()}


def test_each_log_is_released_right_after_the_last_stage_file_that_reads_it(tmp_path, monkeypatch) -> None:
    """A scan-owned store narrows conn and tls during the ingest and empties them (analyzer.narrow);
    release_logs drops
    http after its own file of stage 21, conn and tls, narrowed or not, after the file that joins
    them, and dns after 47 (scan._RELEASE_AFTER): every later file runs without the table, so one
    that still read it would fail the scan. The join file runs with the written join sides (scan._STAGE_SETTINGS), and the
    setting is back to what it was after it."""
    import analyzer.narrow as narrow_mod
    import analyzer.scan as scan_mod

    assert set(scan_mod._RELEASE_AFTER) <= set(scan_mod.scoring_stages())
    assert set(scan_mod._STAGE_SETTINGS) <= set(scan_mod.scoring_stages())
    scen = build_scenario("mixed", seed=7, hours=24.0)
    paths = [str(p) for p in write_logs(scen, tmp_path, fmt="zeek-tsv")]
    seen: list[tuple[str, frozenset[str], str]] = []
    real = scan_mod.run_stage

    def spy(con, name, values):
        logs = frozenset(r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()) & {
            "conn", "dns", "tls", "http", "conn_moved", "tls_moved"}
        seen.append((name, logs, con.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0]))
        if name.startswith("20_"):  # narrowed, and emptied as they were (analyzer.narrow)
            assert con.execute("SELECT (SELECT count(*) FROM conn) + (SELECT count(*) FROM tls)").fetchone()[0] == 0
            assert con.execute("SELECT count(*) FROM conn_n").fetchone()[0] > 0
        real(con, name, values)

    monkeypatch.setattr(scan_mod, "run_stage", spy)
    monkeypatch.setattr(narrow_mod, "BATCH_ROWS", 1)  # narrowed during the ingest, as the CLI does
    with Store(scratch=True) as s:
        ingest_paths(s, paths, after_file=lambda: narrow_mod.narrow_when_big(s.con))
        findings = run_scan(s, ScanOptions(min_score=0.0, release_logs=True)).findings
        assert s.con.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0] == ""
    assert sum(f.kind == "beacon" for f in findings) > 10
    logs = {name: tables for name, tables, _opt in seen}
    # conn_n and tls_n are views of the rows the batches kept (conn_moved, tls_moved), dropped with them
    assert logs["21_events_1_http.sql"] == {"conn", "dns", "tls", "http", "conn_moved", "tls_moved"}
    assert logs["21_events_2_conn.sql"] == {"conn", "dns", "tls", "conn_moved", "tls_moved"}
    assert logs["23_dns_events.sql"] == logs["47_dns_evidence.sql"] == {"dns"}
    assert logs["48_duckdb_label_entropy.sql"] == set()
    assert {name: opt for name, _t, opt in seen if opt} == {"21_events_2_conn.sql": "build_side_probe_side"}


def test_a_regular_contact_with_too_few_check_ins_reports_its_period() -> None:
    """An hourly timer over one office day (about 10 check-ins) is too short a series for a beacon
    score, so it stays a contact; its finding still says how often it calls (period_s, jitter and the
    reason), which is what an analyst needs to decide to widen the window. A Poisson poller's contact at
    the same rate gets no period: its timing is random, not too short."""
    from analyzer.simulate import GO, PYTHON, Builder, load_into_store

    b = Builder("hourly-office", 12, hours=24.0)  # a seed whose timer stays a contact (most become beacons)
    b.beacon("hourly", "10.1.10.40", ["hourly-sync.relay-ops.workers.dev"], PYTHON, sleep=3600, jitter=0.2,
             style="sym", office_hours=True)
    b.poisson("poller", "10.1.30.40", "poll-feed.relay-ops.workers.dev", GO, rate_s=3600)
    scen = b.finish()
    store = Store()
    load_into_store(scen, store.con)
    result = run_scan(store, ScanOptions(min_score=0.0))
    hourly = [f for f in result.findings if f.src == "10.1.10.40"]
    assert [f.kind for f in hourly] == ["contact"]
    f = hourly[0]
    assert f.period_s is not None and 3600 * 0.8 <= f.period_s <= 3600 * 1.2
    assert f.jitter is not None and f.jitter <= 0.6
    assert any(r.startswith(f"{f.connections} connections from a non-browser client, regular (every ~")
               and "too few for their spread to rule out chance" in r for r in f.reasons), f.reasons
    polled = [f for f in result.findings if f.src == "10.1.30.40"]
    assert all(p.kind == "contact" and p.period_s is None and p.jitter is None for p in polled)
    assert not any("regular" in r for p in polled for r in p.reasons)


def test_an_unfingerprinted_regular_timer_is_listed_for_its_timing_alone() -> None:
    """Stock Zeek logs no JA3/JA4, and an implant can claim Chrome's User-Agent: its client then gives
    it away no more than a browser's would. An hourly timer over one office day (8 intervals, a few
    outside +-20 % of the median: z = 3.4, too weak for a beacon score) is still listed as a contact,
    for its regular timing to a serverless endpoint only its host calls, over HTTPS or plain HTTP, and
    the reason says so; so is a jittery 15-minute timer whose beacon score (0.42) is under the default
    --min-score, which would otherwise hide it. Not listed, with the very same check-in times: two
    hosts calling one endpoint (not one host alone), a client whose JA4 is a browser's (there was a
    fingerprint to judge it by), and a destination outside the catalogue; nor the bare client polling
    at random."""
    from analyzer.simulate import CHROME, Builder, Client, load_into_store

    bare = Client(CHROME.ua, "", "")  # what stock Zeek's ssl.log says of any client
    b = Builder("hourly-bare", 12, hours=24.0)
    checkins = [b.scen.start + 8 * 3600.0]
    for gap in (3600, 2700, 4400, 3500, 3700, 2800, 4300, 3600):
        checkins.append(checkins[-1] + gap)

    def timer(src: str, host: str, client: Client, https: bool = True) -> None:
        for t in checkins:
            b.flow(t, src, host, client, out=b.sizes(900), inn=b.sizes(2400), https=https)

    weak, t = random.Random(39), b.scen.start + 8 * 3600.0  # a 15-minute timer at +-60 %: 30 check-ins
    for _ in range(30):
        b.flow(t, "10.1.20.40", "weak-sync.weak-ops.workers.dev", bare, out=900, inn=2400)
        t += 900 * weak.uniform(0.4, 1.6)
    timer("10.1.10.40", "hourly-sync.relay-ops.workers.dev", bare)
    timer("10.1.10.41", "hourly-feed.azurewebsites.net", bare, https=False)
    timer("10.1.40.41", "shared-sync.fleet-ops.workers.dev", bare)
    timer("10.1.40.42", "shared-sync.fleet-ops.workers.dev", bare)
    timer("10.1.50.40", "tab-sync.tab-ops.workers.dev", CHROME)
    timer("10.1.60.40", "updates.example.com", bare)
    b.poisson("poller", "10.1.30.40", "poll-feed.feed-ops.workers.dev", bare, rate_s=3600)
    store = Store()
    load_into_store(b.finish(), store.con)
    result = run_scan(store, ScanOptions(min_score=0.0))
    listed = sorted((f.src, f.host, f.kind) for f in result.findings)
    assert listed == [("10.1.10.40", "hourly-sync.relay-ops.workers.dev", "contact"),
                      ("10.1.10.41", "hourly-feed.azurewebsites.net", "contact"),
                      ("10.1.20.40", "weak-sync.weak-ops.workers.dev", "beacon")], listed
    assert 0.3 <= result.findings[0].score < ScanOptions().min_score  # the weak timer, first by score
    alone = "listed for its regular timing alone: no JA4 was logged to tell its client from a browser"
    for f in result.findings:
        if f.kind == "beacon":
            assert alone not in f.reasons  # a beacon is listed for being one
            continue
        https = f.src == "10.1.10.40"  # the User-Agent is seen on plain HTTP only
        assert f.ja4 is None and f.user_agent == (None if https else CHROME.ua)
        assert f.period_s is not None and 3600 * 0.9 <= f.period_s <= 3600 * 1.1
        assert f.severity == "info" and f.score < ScanOptions().min_score
        assert any("regular (every ~" in r and "8 intervals are too few for their spread to rule out chance" in r
                   for r in f.reasons), f.reasons
        assert (alone if https else alone + " (and a User-Agent can be claimed)") in f.reasons, f.reasons
    # at the default --min-score the weak timer is not hidden: it is listed as a contact, for its timing
    default = {f.src: f for f in run_scan(store, ScanOptions()).findings}
    assert sorted(default) == ["10.1.10.40", "10.1.10.41", "10.1.20.40"]
    weak_f = default["10.1.20.40"]
    assert weak_f.kind == "contact" and weak_f.severity == "info" and weak_f.period_s is not None
    assert any("weakly periodic" in r and "under --min-score 0.50" in r for r in weak_f.reasons), weak_f.reasons
    assert alone in weak_f.reasons

def test_out_of_memory_while_gathering_names_says_what_to_do(monkeypatch) -> None:
    """The matcher words its own failures ("gathering names failed: ..."); when DuckDB ran out of
    memory there, the scan says so and what to do, as for any other step (found when a smaller ingest
    moved a 12 MB cap's failure from a scoring stage to the names)."""
    import duckdb

    import analyzer.scan as scan_mod
    from analyzer.errors import StoreError

    def out_of_memory(con, options):
        try:
            raise duckdb.OutOfMemoryException("failed to pin block")
        except duckdb.OutOfMemoryException as exc:
            raise StoreError(f"gathering names failed: {exc}") from exc

    def other_failure(con, options):
        raise StoreError("gathering names failed: something else")

    store = Store()
    load_into_store(build_scenario("mixed", seed=7, hours=2.0), store.con)
    monkeypatch.setattr(scan_mod, "build_name_matches", out_of_memory)
    with pytest.raises(StoreError, match=r"out of memory in the scan \(gathering names failed\).*--memory-limit.*--since/--until"):
        run_scan(store)
    monkeypatch.setattr(scan_mod, "build_name_matches", other_failure)
    with pytest.raises(StoreError, match="^gathering names failed: something else$"):
        run_scan(store)


def test_one_implant_on_three_hosts_is_listed_and_a_deployed_agent_still_ranks_as_a_fleet() -> None:
    """Three hosts running one implant (one Worker, one Go client, Cobalt-Strike-style jitter of 20 % on
    15 min, check-ins of varying size) beacon in step like a fleet agent, and nothing on the wire tells
    the two apart. The full fleet discount, meant for an agent IT deployed, put each at 0.44-0.49: under
    the default --min-score, nothing listed. A small fleet (3-4 hosts) is discounted less: the three
    are beacons, and each one's reason says what they may be and names the other two. Six hosts on one
    heartbeat still take the full discount and say "fleet-wide". Not found: the browsing user and the
    Poisson poller of the same day."""
    from analyzer.simulate import CHROME, GO, Builder

    b = Builder("campaign", 5, hours=24.0)
    rng = random.Random(5)
    campaign = [f"10.1.10.{i}" for i in (61, 62, 63)]
    for src in campaign:
        t = b.scen.start + rng.uniform(0, 900)
        while t < b.scen.end:
            b.flow(t, src, "sync.ops-relay.workers.dev", GO, out=rng.randint(300, 900), inn=rng.randint(500, 4000))
            t += 900 * (1 - 0.2 * rng.random())
    b.periodic("heartbeat", [f"10.1.40.{i}" for i in range(1, 7)], "acme-uptime.azurewebsites.net", GO, sleep=60.0)
    b.browsing("browsing", "10.1.20.10", ["www.google.com", "github.com", "docs.python.org"], CHROME,
               sessions_per_hour=4)
    b.poisson("poller", "10.1.30.5", "pricing-feed.vercel.app", GO, rate_s=300)
    scen = b.finish()
    store = Store()
    load_into_store(scen, store.con)
    result = run_scan(store, ScanOptions())  # the default --min-score
    p = ScanParams()
    for src in campaign:
        (f,) = _find(result, src)
        assert f.kind == "beacon" and f.score >= ScanOptions().min_score, (src, f.score, f.reasons)
        assert f.platform == "Cloudflare Workers" and 700 <= f.period_s <= 900
        others = ", ".join(sorted(set(campaign) - {src}))
        assert any(r.startswith("3 internal hosts talk to it with this client: a small fleet, or one implant")
                   and r.endswith(f"; the others: {others}") for r in f.reasons), f.reasons
        assert not any("fleet-wide" in r for r in f.reasons)
    heartbeat = [f for f in result.findings if f.src.startswith("10.1.40.")]
    assert len(heartbeat) == 6 and all(f.kind == "beacon" for f in heartbeat)
    assert all(any(r.startswith("6 internal hosts talk to it with this client (fleet-wide") for r in f.reasons)
               for f in heartbeat)
    # the full discount: a perfect 60 s timer with a non-browser client, 1.0 + 0.1 - 0.4
    assert {round(f.score, 2) for f in heartbeat} == {round(1.0 + p.w_nonbrowser - p.w_common, 2)}
    assert not _find(result, "10.1.20.10")
    assert not [f for f in _find(result, "10.1.30.5") if f.kind == "beacon"]


def test_an_agent_on_every_host_since_the_window_began_is_discounted_most_and_a_fleet_that_began_late_is_not() -> None:
    """A vendor agent on all 25 hosts of a site, polling a Worker every 5 min since before the window, was
    a medium beacon (0.80) on each host every night, above a worm on as many hosts that began in the
    morning. A fleet of fleet_wide hosts or more that is neither new nor late-started is discounted
    w_fleet_wide: listed as the info contacts of a non-browser client, under the default --min-score as
    beacons. The same agent starting on 25 other hosts six hours into the day keeps the small discount
    (late_start) and stays a high beacon on each. The same 25 among 110 hosts keep the usual discount."""
    from analyzer.simulate import GO, Builder

    b = Builder("fleet-wide", 5, hours=24.0)
    agent = [f"10.2.{i // 200}.{i % 200 + 1}" for i in range(25)]
    late = [f"10.3.0.{i + 1}" for i in range(25)]
    b.periodic("agent", agent, "metrics.vendor-agent.workers.dev", GO, sleep=300.0, jitter=0.05)
    rng = random.Random(9)
    for src in [*agent, *late]:   # every host's own first traffic at the window's start
        b.flow(b.scen.start + rng.uniform(0, 60), src, "www.example.com", GO, out=500, inn=900)
    for src in late:
        t = b.scen.start + 6 * HOUR + rng.uniform(0, 300)
        while t < b.scen.end:
            b.flow(t, src, "sync.worm-relay.workers.dev", GO, out=b.sizes(400), inn=b.sizes(300))
            t += 300 * (1 - 0.1 * rng.random())
    store = Store()
    load_into_store(b.finish(), store.con)
    result = run_scan(store, ScanOptions())
    p = ScanParams()
    on_agent = [f for f in result.findings if f.host == "metrics.vendor-agent.workers.dev"]
    assert len(on_agent) == 25 and all(f.kind == "contact" and f.severity == "info" for f in on_agent), \
        {(f.kind, f.severity, f.score) for f in on_agent}
    assert all(any(r.startswith("25 internal hosts talk to it with this client") and "deployed across the site" in r
                   for r in f.reasons) for f in on_agent)
    everything = run_scan(store, ScanOptions(min_score=0.0)).findings
    timed = [f for f in everything if f.host == "metrics.vendor-agent.workers.dev" and f.kind == "beacon"]
    assert len(timed) == 25 and max(f.score for f in timed) <= 1.0 + p.w_nonbrowser + p.w_tool - p.w_fleet_wide + 1e-9
    worm = [f for f in result.findings if f.host == "sync.worm-relay.workers.dev"]
    assert len(worm) == 25 and all(f.kind == "beacon" and f.severity == "high" for f in worm), \
        {(f.kind, f.severity, f.score) for f in worm}
    assert all(any("a fleet that began today" in r for r in f.reasons) for f in worm)
    # the same 25 among 110 hosts (a campaign on a quarter of the site, running since before the window):
    # the usual fleet discount, a beacon on each host, not the site-wide one
    for i in range(60):
        b.flow(b.scen.start + 100 * i, f"10.4.0.{i + 1}", "www.example.com", GO, out=500, inn=900)
    store = Store()
    load_into_store(b.finish(), store.con)
    fewer = [f for f in run_scan(store, ScanOptions()).findings if f.host == "metrics.vendor-agent.workers.dev"]
    assert len(fewer) == 25 and all(f.kind == "beacon" and f.scores["fleet_discount"] == p.w_common for f in fewer)
    assert all(any("(fleet-wide: less suspicious)" in r for r in f.reasons) for f in fewer)


def test_a_source_that_makes_every_handshake_with_one_non_browser_client_is_named_in_a_warning(mixed) -> None:
    """Logs taken outside a TLS-intercepting proxy: one address makes every handshake, to many names,
    with the proxy's own (non-browser) JA4, and every site anyone visits would read as its non-browser
    contact. The scan says so, once, naming the address. Not warned: a host whose one Go program talks
    to fewer names, a browser that visits as many, and the mixed day (pollers, implants, browsing)."""
    from analyzer.scan import GATEWAY_MIN_NAMES
    from analyzer.simulate import CHROME, CURL, GO, Builder

    b = Builder("gateway", 3, hours=24.0)
    names = [f"www.site{i}.example.com" for i in range(GATEWAY_MIN_NAMES + 5)]
    for i in range(500):
        b.flow(b.scen.start + 150 * i, "10.0.0.8", names[i % len(names)], CURL, out=800, inn=3000)
    few = names[:GATEWAY_MIN_NAMES - 1]
    for i in range(300):
        b.flow(b.scen.start + 250 * i + 7, "10.1.0.5", few[i % len(few)], GO, out=800, inn=3000)
        b.flow(b.scen.start + 250 * i + 11, "10.1.0.6", names[i % len(names)], CHROME, out=800, inn=3000)
    store = Store()
    load_into_store(b.finish(), store.con)
    result = run_scan(store, ScanOptions())
    warned = [w for w in result.warnings if "made every TLS handshake" in w]
    assert len(warned) == 1, result.warnings
    assert warned[0].startswith(f"10.0.0.8 made every TLS handshake (500 connections to {len(names)} names) "
                                f"with one non-browser client (JA4 {CURL.ja4})")
    assert "take the logs on the clients' side of it" in warned[0]
    mixed_result, _ = mixed
    assert not [w for w in mixed_result.warnings if "made every TLS handshake" in w]


def test_a_fleet_new_to_a_nightly_store_is_discounted_less_than_one_it_has_seen_before() -> None:
    """A store scanned nightly holds yesterday: six hosts that began calling a Worker today, in step,
    are a new rollout or one implant spreading, and take only the small-fleet discount, naming the
    other five; six hosts on a heartbeat the store saw yesterday keep the full one. The same day with
    no history before it cannot tell: both are fleets, fully discounted."""
    from analyzer.simulate import GO, Builder

    def day(hours: float) -> tuple[ScanResult, list[str]]:
        b = Builder("rollout", 9, hours=hours)
        rng = random.Random(9)
        spreading = [f"10.1.10.{i}" for i in range(71, 77)]
        for src in spreading:  # from the last 24 h on only
            t = b.scen.end - 24 * HOUR + rng.uniform(0, 900)
            while t < b.scen.end:
                b.flow(t, src, "sync.new-relay.workers.dev", GO, out=rng.randint(300, 900), inn=rng.randint(500, 4000))
                t += 900 * (1 - 0.2 * rng.random())
        b.periodic("heartbeat", [f"10.1.40.{i}" for i in range(1, 7)], "acme-uptime.azurewebsites.net", GO,
                   sleep=60.0)
        store = Store()
        load_into_store(b.finish(), store.con)
        return run_scan(store, ScanOptions(min_score=0.0)), spreading

    p = ScanParams()
    nightly, spreading = day(48.0)
    for src in spreading:
        (f,) = _find(nightly, src)
        others = ", ".join(sorted(set(spreading) - {src}))
        assert any(r.startswith("6 internal hosts talk to it with this client: a fleet new to the store")
                   and r.endswith(f"(a smaller discount); the others: {others}") for r in f.reasons), f.reasons
    heartbeat = [f for f in nightly.findings if f.src.startswith("10.1.40.")]
    assert len(heartbeat) == 6
    assert all(any("(fleet-wide: less suspicious)" in r for r in f.reasons) for f in heartbeat)
    assert all(not any("first seen in the store" in r for r in f.reasons) for f in heartbeat)
    one_day, _ = day(24.0)
    for src in spreading:
        (f,) = _find(one_day, src)
        assert any("(fleet-wide: less suspicious)" in r for r in f.reasons), f.reasons
        assert f.score == pytest.approx(next(g for g in nightly.findings if g.src == src).score
                                        - (p.w_common - p.w_small_fleet) - p.w_new, abs=2e-3)


def test_a_fleet_that_began_hours_after_its_hosts_did_is_discounted_less_on_a_one_day_scan() -> None:
    """One day, no history: an implant that reached 40 of an outside tester's hosts in the morning took
    the full fleet discount (0.71-0.74) and ranked under a benign agent every host had run since midnight
    (0.80). A channel that began hours after its host's first traffic of the window is a fleet that
    began today (a rollout, or one implant spreading), when its whole fleet began that late: the
    small-fleet discount, and a reason that says so. Six hosts whose agent runs from their first traffic
    keep the full discount, and so does a laptop of theirs whose agent began hours after its first
    traffic (a lookup before it slept): its fleet ran from midnight (a conn-and-dns day had made 47
    laptops of a 150-host agent "a fleet that began today")."""
    from analyzer.simulate import CHROME, GO, Builder

    b = Builder("spread", 9, hours=24.0)
    rng = random.Random(9)
    hosts = [f"10.1.10.{i}" for i in range(71, 77)]
    agents = [f"10.1.40.{i}" for i in range(1, 7)]
    for src in hosts + agents:  # every host's own traffic from midnight on
        for k in range(6):
            b.flow(b.scen.start + 600 + k * 4 * HOUR + rng.uniform(0, 60), src, "www.wikipedia.org", CHROME,
                   out=800, inn=40_000)
    for src in hosts:  # the implant arrives between 08:00 and 10:00
        t = b.scen.start + 8 * HOUR + rng.uniform(0, 2 * HOUR)
        while t < b.scen.end:
            b.flow(t, src, "sync.new-relay.workers.dev", GO, out=rng.randint(400, 440), inn=rng.randint(500, 4000))
            t += 300 * (1 - 0.2 * rng.random())
    b.periodic("agent", agents, "acme-uptime.azurewebsites.net", GO, sleep=600.0)
    # a laptop of the agent's fleet: a lookup or two at 00:10, asleep until 08:00, its agent from then
    # on; the fleet as a whole ran from midnight, so this is no fleet that began today
    laptop = "10.1.40.9"
    b.flow(b.scen.start + 600, laptop, "www.wikipedia.org", CHROME, out=800, inn=40_000)
    t = b.scen.start + 8 * HOUR + 30
    while t < b.scen.end:
        b.flow(t, laptop, "acme-uptime.azurewebsites.net", GO, out=350, inn=250)
        t += 600.0
    agents.append(laptop)
    store = Store()
    load_into_store(b.finish(), store.con)
    result = run_scan(store, ScanOptions(min_score=0.0))
    spread = [f for f in result.findings if f.src in hosts]
    agent = [f for f in result.findings if f.src in agents]
    assert len(spread) == 6 and len(agent) == 7
    for f in spread:
        assert f.kind == "beacon" and f.severity in ("high", "medium"), (f.score, f.reasons)
        assert any("6 internal hosts talk to it with this client: a fleet that began today (this host's channel "
                   in r and "a smaller discount" in r for r in f.reasons), f.reasons
    for f in agent:
        assert f.severity != "high" and any("(fleet-wide: less suspicious)" in r for r in f.reasons), f.reasons
    assert min(f.score for f in spread) > max(f.score for f in agent)


@pytest.mark.parametrize(("ja4", "browser"), [
    # TLS over TCP: the structure of a browser's hello, or a known family / tool
    ("t13d1516h2_8daaf6152771_02713d6af862", True),          # Chromium
    ("t13d1715h2_5b57614c22b0_3d5424432f57", True),          # Firefox
    ("t13d1812h1_85036bcba153_375ca2c5e164", False),         # python-requests shape
    # a browser's shape with no browser's cipher list: neither (no browser's exemptions, no tool's weight)
    ("t13d1414h2_0f1e2d3c4b5a_00aa11bb22cc", None),
    ("t13d1516h2_000000000000_02713d6af862", None),
    ("t13d190900_9dc949149365_97f8aa674fd9", False),         # Go (a known tool)
    # QUIC, as Suricata 7 fingerprints the hellos of Zeek's QUIC traces: every client offers TLS 1.3's
    # three suites (one cipher hash for all), so the SNI flag, the ALPN and the extensions decide
    ("q13d0311h3_55b375c5d22e_3512bcbbc9ec", True),          # Chromium 115
    ("q13d0314h3_55b375c5d22e_2d2a40a25571", True),          # Firefox 102
    ("q13d0308h3_55b375c5d22e_f0736a66fa6b", False),         # curl 8.1 over HTTP/3
    ("q13d0311hp_55b375c5d22e_df5b9e597968", False),         # quic-go's interop client (hq-interop)
    ("q13i0311h3_55b375c5d22e_c183556c78e2", False),         # the Merlin C2 agent: no SNI
    ("q13d0311h3_55b375c5d22e_f2a83c8e78ae", True),          # Apple's stack (an iOS app, published)
    ("q13d0307h3_55b375c5d22e_1cecd519fee8", False),         # Python's aioquic 1.3 (published)
    (None, None), ("garbage", None),
])
def test_a_ja4_is_judged_browser_like_by_its_structure_and_quic_by_its_own(ja4, browser) -> None:
    from analyzer.scan import ja4_browser_like

    assert ja4_browser_like(ja4) is browser


def test_a_steady_timer_under_min_score_is_not_called_weakly_periodic() -> None:
    """--min-score 1 lists the demo's uptime fleet (a 60 s timer with no jitter, 0.70 for the fleet
    discount) as its contacts: the reason called a perfect timer "weakly periodic"."""
    result, _ = _scan("demo", min_score=1.0)
    fleet = [f for f in result.findings if f.host == "acme-uptime.azurewebsites.net"]
    assert fleet and all(f.kind == "contact" for f in fleet)
    for f in fleet:
        said = [r for r in f.reasons if "under --min-score 1.00" in r]
        assert said and said[0].split(": about every")[0].endswith(", periodic"), said
        assert "(jitter 0%), beacon score 0.70" in said[0]
