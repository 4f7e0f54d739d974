"""The report's data: everything a renderer needs, gathered once from the store and a scan result.

Renderers (``html``, ``markdown``, ``csv``/``json`` in ``__init__``) are pure functions of a
:class:`Report`; only :func:`build_report` reads the store. Strings copied from findings are left
raw here (they are data); each renderer neutralizes them for its medium.
"""

from __future__ import annotations

from collections.abc import Sequence

import math
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from analyzer.findings import SEVERITIES, Finding, ScanResult
from analyzer.render import fleet_groups
from analyzer.report.health import Health, collect_health
from analyzer.report.history import ChannelHistory, History, channel_key, load_history
from analyzer.report.tuning import Suggestion, suggest
from analyzer.scan import ScanParams
from analyzer.sqlfiles import read_sql
from analyzer.store import Store

SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}   # high=0 ... info=3


#: the version of the report's JSON document; raised when a field changes meaning or goes
REPORT_SCHEMA_VERSION = 1

@dataclass
class ChannelTimes:
    """Connection start times (epoch seconds, sorted) of one top finding's channel."""

    epochs: list[float]
    origin: str            # which log timed most of it: conn | tls | http | dns | none
    by_log: tuple[tuple[str, int], ...] = ()   # how many times each log gave, most first

    @property
    def described(self) -> str:
        """"conn" when one log timed it all; "conn 1083, tls 362" when another filled in (conn.log
        hours missing, and the handshakes timed those): an analyst checking the raw logs must know."""
        if len(self.by_log) <= 1:
            return self.origin
        return ", ".join(f"{log} {count}" for log, count in self.by_log)


@dataclass
class RankedFinding:
    rank: int
    key: str
    finding: Finding
    history: ChannelHistory
    times: ChannelTimes | None = None      # only for the top N
    top: bool = False                      # one of the top N plotted (a fleet counts once)
    same_as: int | None = None             # rank of the fleet member shown for this one (render.fleet_groups)
    fleet: list[str] = field(default_factory=list)   # on that member: the other sources of its fleet


@dataclass
class PlatformRow:
    platform: str
    category: str
    findings: int
    by_severity: dict[str, int]
    hosts: int
    tenants: int
    top_score: float


@dataclass
class Summary:
    findings: int
    by_severity: dict[str, int]
    hosts_with_findings: int
    hosts_seen: int
    channels_scored: int
    platforms: int
    new: int
    recurring: int


@dataclass
class Report:
    generated_at: datetime
    window_start: datetime | None
    window_end: datetime | None
    store: str | None
    inputs: list[str]
    summary: Summary
    findings: list[RankedFinding]
    top_n: int
    platforms: list[PlatformRow]
    history: History
    health: Health
    tuning: list[Suggestion]
    suppressed: dict[str, int] = field(default_factory=dict)
    expired_allowlist: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)   # the scan's own (ScanResult.warnings)

    @property
    def top(self) -> list[RankedFinding]:
        """The findings plotted: the best top_n, a fleet (findings alike but for their source) once."""
        return [rf for rf in self.findings if rf.top]

    def to_dict(self) -> dict:
        """The JSON document (``--format json``): plain types, ISO-8601 UTC times."""

        def conv(value: object) -> object:
            if isinstance(value, datetime):
                if value.tzinfo is None:
                    value = value.replace(tzinfo=timezone.utc)
                return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
            if isinstance(value, float) and not math.isfinite(value):
                return None            # JSON has no NaN/Infinity; a consumer must not choke on one
            if isinstance(value, dict):
                return {str(k): conv(v) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return [conv(v) for v in value]
            return value

        findings = []
        for rf in self.findings:
            item = rf.finding.to_dict()
            item.update(rank=rf.rank, channel_key=rf.key, status=rf.history.status,
                        earlier_reports=rf.history.runs_seen,
                        first_reported=rf.history.first_reported,
                        same_as=rf.same_as, fleet=rf.fleet)
            if rf.times is not None:
                item["timeline"] = {"origin": rf.times.origin, "by_log": dict(rf.times.by_log),
                                    "epochs": rf.times.epochs}
            findings.append(item)
        doc = {
            # as scan's JSON names itself (analyzer.render): a consumer can tell the two apart and
            # check the version it was written for
            "schema": "serverless-c2/report",
            "schema_version": REPORT_SCHEMA_VERSION,
            "generated_at": self.generated_at,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "store": self.store,
            "inputs": self.inputs,
            "summary": asdict(self.summary),
            "findings": findings,
            "platforms": [asdict(p) for p in self.platforms],
            "history": {
                "previous_report": self.history.previous_report,
                "earlier_reports": self.history.earlier_reports,
                "gone": [asdict(g) for g in self.history.gone],
            },
            "health": {
                "kinds": [asdict(k) for k in self.health.kinds],
                "files": [asdict(f) for f in self.health.files],
                "rejects": [asdict(r) for r in self.health.rejects],
                "gaps": [asdict(g) for g in self.health.gaps],
                "logs_start": self.health.logs_start,     # set when the logs begin after the window does
                "coverage": [
                    {"kind": s.kind, "sensor": s.sensor, "hours": [[h, n] for h, n in s.hours]}
                    for s in self.health.coverage
                ],
            },
            "tuning": [asdict(s) for s in self.tuning],
            "suppressed": self.suppressed,
            "expired_allowlist": self.expired_allowlist,
            "warnings": self.warnings,
        }
        return conv(doc)  # type: ignore[return-value]


def _epoch(ts: datetime | None) -> float | None:
    if ts is None:
        return None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return ts.timestamp()


def _norm(name: str) -> str:
    return name.strip().lower().rstrip(".")


def channel_names(store: Store, finding: Finding, limit: int = 1000) -> list[str]:
    """Every destination name of ``finding``'s channel, as the scan groups them.

    The finding names one host, but the scan keys a channel by tenant when the matcher found one
    (workers of one account rotating), by redirect pair (script.google.com and
    script.googleusercontent.com), by client across tenants when it rotates among them (the finding
    lists those names), and matches CNAME targets through the name queried. The other
    names come from the scan's ``name_matches`` table and ``analyzer.scan.NAME_GROUPS`` when those
    exist; without them the timeline covers the finding's own host, which is still correct, just
    narrower.
    """
    if not finding.host:
        return []
    names = {_norm(finding.host)}
    # a client rotating among several tenants (the scan's stage 25): every name it used
    names.update(_norm(n) for n in (finding.rotation or ()))
    if finding.cname_of:
        names.add(_norm(finding.cname_of))
    try:
        from analyzer.scan import NAME_GROUPS
    except ImportError:  # pragma: no cover - the scan module defines it
        NAME_GROUPS = {}
    group = NAME_GROUPS.get(_norm(finding.host))
    names.update(n for n, g in NAME_GROUPS.items() if group is not None and g == group)
    if finding.platform and finding.tenant and _has_table(store, "name_matches"):
        rows = store.con.execute(
            "SELECT DISTINCT raw_name FROM name_matches WHERE platform = ? AND tenant = ? AND raw_name IS NOT NULL "
            "LIMIT ?", [finding.platform, finding.tenant, limit]).fetchall()
        names.update(_norm(r[0]) for r in rows)
    return sorted(names)


def _has_table(store: Store, name: str) -> bool:
    row = store.con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()
    return bool(row and row[0])


def channel_times(store: Store, finding: Finding, since: datetime | None, until: datetime | None) -> ChannelTimes:
    """The check-in times of ``finding``'s channel (``sql/50_report_channel_times.sql``): connection
    starts, and the later requests of kept-alive HTTP connections the scan times too."""
    fingerprint_ua = finding.user_agent if not (finding.ja4 or finding.ja3) else None
    rows = store.con.execute(
        read_sql("50_report_channel_times"),
        {
            "src": finding.src,
            "names": channel_names(store, finding),
            "dst": finding.dst,
            "dst_port": finding.dst_port,
            "ja4": finding.ja4 or None,
            "ja3": finding.ja3 or None,
            "ua": fingerprint_ua,
            "since": _epoch(since),
            "until": _epoch(until),
            "request_gap_s": ScanParams().request_gap_s,
            "sensor_match_s": ScanParams().sensor_match_s,
            "sensor_skew_s": _sensor_skew(store),
        },
    ).fetchall()
    origins = Counter(origin for _, origin in rows)
    ranked = sorted(origins.items(), key=lambda kv: (-kv[1], kv[0]))
    return ChannelTimes([float(e) for e, _ in rows if e is not None], ranked[0][0] if ranked else "none",
                        tuple(ranked))


def _sensor_skew(store: Store) -> float:
    """Suricata's clock less Zeek's, as the scan measured it where it matched the two sensors' records
    of one link (its table scan_sensor_merge: sql/21_events_0_sensors.sql); 0 otherwise."""
    if not _has_table(store, "scan_sensor_merge"):
        return 0.0
    row = store.con.execute("SELECT flows, flows_skew_s FROM scan_sensor_merge").fetchone()
    return float(row[1] or 0.0) if row and row[0] else 0.0


def platform_breakdown(findings: list[Finding]) -> list[PlatformRow]:
    """Findings per platform (non-serverless channels grouped under their category)."""
    groups: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in findings:
        groups[(f.platform or "(not serverless)", f.category)].append(f)
    rows = [
        PlatformRow(
            platform, category, len(items),
            {s: sum(1 for f in items if f.severity == s) for s in SEVERITIES},
            len({f.src for f in items}), len({f.tenant for f in items if f.tenant}),
            max(f.score for f in items),
        )
        for (platform, category), items in groups.items()
    ]
    rows.sort(key=lambda r: (-r.top_score, -r.findings, r.platform))
    return rows


def rank_findings(findings: list[Finding]) -> list[Finding]:
    """Severity first, then score: the order an analyst works through them."""
    return sorted(findings, key=lambda f: (SEVERITY_RANK.get(f.severity, len(SEVERITIES)), -f.score,
                                           f.src, f.host or ""))


def build_report(
    store: Store,
    result: ScanResult,
    *,
    top_n: int = 10,
    generated_at: datetime | None = None,
    inputs: list[str] | tuple[str, ...] = (),
    max_files: int = 50,
    max_rejects: int = 20,
    failed: Sequence[tuple[str, str]] = (),
) -> Report:
    """Gather the report for ``result`` from ``store`` (read-only: history is recorded separately
    by :func:`analyzer.report.history.record_run`, after the report was written)."""
    generated_at = generated_at or datetime.now(timezone.utc)
    ranked = rank_findings(result.findings)
    keys = [channel_key(f) for f in ranked]
    history = load_history(store.con, keys, result.window_start, result.window_end)
    items = [RankedFinding(rank, key, f, history.channels.get(key, ChannelHistory("new", 0, None, False)))
             for rank, (f, key) in enumerate(zip(ranked, keys), 1)]
    # a fleet (a monitoring agent on 40 hosts) is plotted once, under its best-ranked member
    for group in fleet_groups(ranked):
        lead = items[group[0]]
        lead.fleet = [items[i].finding.src for i in group[1:]]
        for i in group[1:]:
            items[i].same_as = lead.rank
    for item in [i for i in items if i.same_as is None][:top_n]:
        item.top = True
        item.times = channel_times(store, item.finding, result.window_start, result.window_end)
    by_sev = Counter(f.severity for f in ranked)
    summary = Summary(
        findings=len(ranked),
        by_severity={s: by_sev.get(s, 0) for s in SEVERITIES},
        hosts_with_findings=len({f.src for f in ranked}),
        hosts_seen=result.hosts,
        channels_scored=result.channels_scored,
        platforms=len({f.platform for f in ranked if f.platform}),
        new=sum(1 for i in items if i.history.status == "new"),
        recurring=sum(1 for i in items if i.history.status == "recurring"),
    )
    return Report(
        generated_at=generated_at,
        window_start=result.window_start,
        window_end=result.window_end,
        store=store.path,
        inputs=list(inputs),
        summary=summary,
        findings=items,
        top_n=top_n,
        platforms=platform_breakdown(ranked),
        history=history,
        health=collect_health(store.con, result.window_start, result.window_end, max_files, max_rejects, failed),
        tuning=suggest(ranked, generated_at),
        suppressed=dict(result.suppressed),
        expired_allowlist=list(result.expired_allowlist),
        warnings=list(result.warnings),
    )
