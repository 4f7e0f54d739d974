"""Tuning suggestions: findings that look like CI runners or monitoring, with an allowlist entry.

Benign automation is the main source of noise for a beacon detector: CI runners and uptime probes
call serverless endpoints on a fixed schedule with non-browser clients, exactly like an implant.
This module spots them by evidence an analyst can check in seconds:

* a User-Agent naming a CI system or a monitoring product;
* a *probe host*: one source polling several destinations with one client, each with near-zero
  jitter on a round period (30 s, 1 min, 5 min ...), which is what monitoring does and implants
  avoid; destinations that several hosts poll alike are a fleet's, not a probe's;
* a *fleet*: one tenant reached by several sources with the same client fingerprint and period
  (a pool of runners or agents).

A suggestion is a prompt for a human, never an automatic suppression, and never made for a
high-severity finding (a User-Agent is trivial to spoof). Each carries a ready-to-paste line in
the allowlist format of ``analyzer/allowlist.py``, as narrow as the evidence allows (the client
fingerprint and the destination, not just the source), with a reason and a 90-day expiry, so that
forgotten entries expire instead of rotting.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from analyzer.findings import Finding
from analyzer.report.sanitize import INVISIBLE, clean
from analyzer.scan import ScanParams, ja4_browser_like

CI_UA = re.compile(
    r"github[- ]?actions|actions[- ]runner|gitlab[- ]runner|jenkins|buildkite|circleci|travis|drone"
    r"|teamcity|bamboo|azure[- ]?pipelines|vsts|terraform|ansible|argo(cd|-workflows)?/|spinnaker"
    r"|tekton|bitbucket[- ]pipelines|codebuild",
    re.IGNORECASE,
)
MONITORING_UA = re.compile(
    r"prometheus|blackbox[-_ ]exporter|kube-probe|pingdom|uptimerobot|statuscake|site24x7|datadog"
    r"|newrelic|new relic|zabbix|nagios|check_http|icinga|prtg|paessler|grafana|checkly|betteruptime"
    r"|uptime[- ]kuma|healthcheck|heartbeat|synthetics|monit/|sensu|catchpoint|thousandeyes",
    re.IGNORECASE,
)
ROUND_PERIODS = (30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0)
STEADY_JITTER = 0.02          # relative dispersion: clocks, not people or implants
PROBE_MIN_DESTINATIONS = 3    # a host polling this many steady destinations is a probe
FLEET_MIN_SOURCES = 3         # a tenant reached alike from this many hosts is a fleet
ENTRY_LIFETIME = timedelta(days=90)


@dataclass(frozen=True)
class Suggestion:
    kind: str                 # ci-runner | monitoring | probe-host | fleet
    title: str                # one line, plain text (rendered escaped)
    evidence: list[str]       # why it looks benign
    ranks: list[int]          # the findings (1-based rank in the report) it would cover
    entry: str                # ready-to-paste allowlist line

    @property
    def ranks_text(self) -> str:
        """The ranks as runs: "#21-#170, #175" (a fleet of 150 hosts is 150 findings in a row)."""
        runs: list[list[int]] = []
        for n in sorted(self.ranks):
            if runs and n == runs[-1][-1] + 1:
                runs[-1].append(n)
            else:
                runs.append([n])
        return ", ".join(f"#{r[0]}" if len(r) == 1 else f"#{r[0]}-#{r[-1]}" for r in runs)


def allowlist_entry(conditions: dict[str, str], reason: str, expires: datetime) -> str:
    """One line of the allowlist format (``analyzer/allowlist.py``): ``key=value`` pairs, values
    quoted by shell rules, every condition must hold, ``reason`` required, ``expires`` YYYY-MM-DD.

    Values are quoted with :func:`shlex.quote` and stripped of control characters, so a hostile
    User-Agent stays one value: it cannot add a condition, end the line, or widen the entry.
    """
    parts = [f"{key}={_quote(value)}" for key, value in conditions.items()]
    parts.append(f"reason={_quote(reason)}")
    parts.append(f"expires={expires:%Y-%m-%d}")
    return " ".join(parts)


def _quote(value: str) -> str:
    # the same cleaning as the page shows, so the line pasted from the page is this line
    return shlex.quote(clean(value))


def _exact(text: str) -> str:
    """A ``ua=`` regex that matches exactly this User-Agent (control and invisible characters as
    ``\\uNNNN`` escapes, so the line stays one visible line and still matches the raw value)."""
    escaped = "".join(f"\\u{ord(ch):04x}" if INVISIBLE.fullmatch(ch) else re.escape(ch) for ch in text)
    return "^" + escaped + "$"


def _shared(items: list[tuple[int, Finding]], attr: str) -> str | None:
    values = {getattr(f, attr) for _, f in items}
    return values.pop() if len(values) == 1 and None not in values else None


def _scope(items: list[tuple[int, Finding]]) -> dict[str, str]:
    """The narrowest destination all ``items`` share: platform + tenant, else the host."""
    platform, tenant, host = _shared(items, "platform"), _shared(items, "tenant"), _shared(items, "host")
    if platform and tenant:
        return {"platform": platform, "tenant": tenant}
    if host:
        return {"host": host}
    return {}


def _client(items: list[tuple[int, Finding]]) -> dict[str, str]:
    """The client fingerprint all ``items`` share (JA4 > JA3 > exact User-Agent), if any."""
    for attr, key in (("ja4", "ja4"), ("ja3", "ja3")):
        value = _shared(items, attr)
        if value:
            return {key: value}
    ua = _shared(items, "user_agent")
    return {"ua": _exact(ua)} if ua else {}


def _host_cidr(src: str) -> str:
    try:
        addr = ipaddress.ip_address(src)
    except ValueError:
        return src
    return f"{addr}/{addr.max_prefixlen}"


def _round_period(period: float | None) -> bool:
    return period is not None and any(abs(period - p) <= 0.01 * p for p in ROUND_PERIODS)


def _steady(f: Finding) -> bool:
    return f.jitter is not None and f.jitter <= STEADY_JITTER and _round_period(f.period_s)


def suggest(findings: list[Finding], generated_at: datetime) -> list[Suggestion]:
    """Suggestions for the ranked ``findings`` (pure; ranks are 1-based positions in the list)."""
    expires = generated_at + ENTRY_LIFETIME
    eligible = [(rank, f) for rank, f in enumerate(findings, 1) if f.severity != "high"]
    out: list[Suggestion] = []
    covered: set[int] = set()

    # 1. User-Agents that name CI or monitoring software: allowlist that exact UA.
    by_ua: dict[tuple[str, str], list[tuple[int, Finding]]] = defaultdict(list)
    for rank, f in eligible:
        ua = f.user_agent or ""
        kind = "ci-runner" if CI_UA.search(ua) else "monitoring" if MONITORING_UA.search(ua) else ""
        if kind:
            by_ua[(kind, ua)].append((rank, f))
    for (kind, ua), items in sorted(by_ua.items(), key=lambda kv: kv[1][0][0]):
        ranks = [r for r, _ in items]
        srcs = sorted({f.src for _, f in items})
        label = "CI runner" if kind == "ci-runner" else "monitoring"
        out.append(Suggestion(
            kind,
            f"{label} User-Agent on {len(items)} channel(s) from {len(srcs)} host(s)",
            [f"User-Agent names {label} software: {ua}", f"sources: {', '.join(srcs[:5])}"],
            ranks,
            allowlist_entry({"ua": _exact(ua), **_scope(items)},
                            f"{label} ({len(srcs)} host(s)), suggested by report", expires),
        ))
        covered.update(ranks)

    # 2. Probe hosts: one source, several steady round-period destinations, polled with one client.
    # Not a destination many hosts poll alike with that client: that is an agent every host runs (a
    # fleet, step 3). An independent tester's 150 hosts each ran three such agents, and every host was
    # offered as a "monitoring probe": pasting the 149 src= lines suppressed every implant. Nor a host
    # with a high finding, nor several clients (the entry would then name the source alone, and
    # suppress everything it does).
    def _dest_client(f: Finding) -> tuple[str, str]:
        return (f.host or f.dst or "", f.ja4 or f.ja3 or f.user_agent or "")

    reached: dict[tuple[str, str], set[str]] = defaultdict(set)
    for f in findings:
        reached[_dest_client(f)].add(f.src)
    high_srcs = {f.src for f in findings if f.severity == "high"}
    by_src: dict[str, list[tuple[int, Finding]]] = defaultdict(list)
    for rank, f in eligible:
        if (rank not in covered and _steady(f) and f.src not in high_srcs
                and len(reached[_dest_client(f)]) < FLEET_MIN_SOURCES):
            by_src[f.src].append((rank, f))
    for src, items in sorted(by_src.items(), key=lambda kv: kv[1][0][0]):
        dests = {f.host or f.dst for _, f in items}
        if len(dests) < PROBE_MIN_DESTINATIONS or not _client(items):
            continue
        ranks = [r for r, _ in items]
        periods = sorted({round(f.period_s or 0) for _, f in items})
        out.append(Suggestion(
            "probe-host",
            f"{src} polls {len(dests)} destinations like a monitoring probe",
            [f"{len(items)} channels with jitter <= {STEADY_JITTER:.0%} on round periods "
             f"({', '.join(f'{p}s' for p in periods)})"],
            ranks,
            allowlist_entry({"src": _host_cidr(src), **_client(items)},
                            "monitoring probe host, suggested by report", expires),
        ))
        covered.update(ranks)

    # 3. Fleets: one tenant reached alike (same fingerprint, similar period) by several sources. Only
    # a fleet the scan gave its full discount (scores["fleet_discount"]): one it discounted less is
    # new to the store, began hours into the window, or is 3-4 hosts on a serverless tenant, which
    # is what one implant spreading looks like. An outside tester's three phished hosts, new to the
    # store, were offered as a fleet line that suppressed the campaign.
    full_discount = ScanParams().w_common   # what the scan takes off a fleet's score (stage 49)
    by_tenant: dict[tuple[str, str, str], list[tuple[int, Finding]]] = defaultdict(list)
    for rank, f in eligible:
        if rank in covered or not f.tenant or f.scores.get("fleet_discount", 0.0) < full_discount:
            continue
        if ja4_browser_like(f.ja4):
            # every browser on the site has that JA4, and an implant copying it (uTLS) too: an entry
            # keyed on it and the tenant would hide the next host that beacons there with it
            continue
        client = f.ja4 or f.ja3 or f.user_agent or ""
        by_tenant[(f.platform or "", f.tenant, client)].append((rank, f))
    for (platform, tenant, _fingerprint), items in sorted(by_tenant.items(), key=lambda kv: kv[1][0][0]):
        srcs = sorted({f.src for _, f in items})
        periods = [f.period_s for _, f in items if f.period_s]
        if len(srcs) < FLEET_MIN_SOURCES or not periods:
            continue
        if max(periods) > 1.1 * min(periods):
            continue
        ranks = [r for r, _ in items]
        out.append(Suggestion(
            "fleet",
            f"{len(srcs)} hosts reach {platform} tenant {tenant} alike (runner pool or agent fleet)",
            [f"same client fingerprint and period (~{round(min(periods))}s) from {len(srcs)} hosts",
             f"sources: {', '.join(srcs[:5])}{' ...' if len(srcs) > 5 else ''}"],
            ranks,
            allowlist_entry({**({"platform": platform} if platform else {}), "tenant": tenant,
                             **_client(items)},
                            f"fleet of {len(srcs)} hosts, suggested by report", expires),
        ))
    return out
