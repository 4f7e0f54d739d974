"""The Markdown report (``--format md``): for chat and ticket systems.

Same sections as the HTML page, without plots. Identifiers (addresses, names, User-Agents,
fingerprints, paths, rejected lines) are code spans (:func:`md_code`), prose from logs is fully
backslash-escaped (:func:`md_text`): no value can open a link, inject HTML, or break a table.
"""

from __future__ import annotations

from analyzer.findings import SEVERITIES
from analyzer.report.html import _dest, _num, _pct, _ts, window_label
from analyzer.report.model import Report
from analyzer.report.plots import human_seconds
from analyzer.report.sanitize import md_code, md_text


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(c if c else " " for c in cells) + " |"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows), ""]


def render_markdown(report: Report, max_findings: int = 50) -> str:
    """The report as GitHub-flavoured Markdown (pure)."""
    s, h = report.summary, report.health
    out: list[str] = [
        "# serverless-c2 nightly report",
        "",
        f"Window {window_label(report)}, generated {_ts(report.generated_at)}"
        + (f", store {md_code(report.store, 200)}" if report.store else "") + ".",
        "",
        "## Summary",
        "",
        f"- Findings: **{s.findings}** (" + ", ".join(f"{s.by_severity[x]} {x}" for x in SEVERITIES) + ")",
        f"- New since last report: **{s.new}**, recurring: {s.recurring}, gone: {len(report.history.gone)}",
        f"- Hosts with findings: {s.hosts_with_findings}" + (f" of {s.hosts_seen} seen" if s.hosts_seen else "")
        + f"; channels scored: {s.channels_scored}; serverless platforms: {s.platforms}",
        f"- Ingest: {h.total_files} file(s), {_num(h.total_rows)} rows, {_num(h.total_rejected)} rejected line(s), "
        f"{len(h.gaps)} coverage gap(s)",
        "",
        "## Findings",
        "",
    ]
    if report.findings:
        rows = []
        for rf in report.findings[:max_findings]:
            f = rf.finding
            rows.append([
                str(rf.rank), md_text(f.severity, 10), f"{f.score:.2f}", md_code(f.src, 64),
                md_code(_dest(f), 120),
                md_text(f.platform or "-", 60) + (" " + md_code(f.tenant, 80) if f.tenant else ""),
                _num(f.connections) + (f" ({_num(f.http_requests)} req)" if f.http_requests else ""),
                human_seconds(f.period_s), _pct(f.jitter),
                md_code(f.ja4 or f.ja3 or f.user_agent or "", 90),
                (f"the same finding as #{rf.same_as}, from another host of its fleet; " if rf.same_as else "")
                + "; ".join(md_text(r, 200) for r in f.reasons[:3])
                + (f" (+{len(f.reasons) - 3} more)" if len(f.reasons) > 3 else ""),
                "new" if rf.history.status == "new" else f"seen {rf.history.runs_seen}x",
            ])
        out += _table(["#", "severity", "score", "source", "destination", "platform / tenant", "conns",
                       "period", "jitter", "client", "reasons", "history"], rows)
        if len(report.findings) > max_findings:
            out += [f"... and {len(report.findings) - max_findings} more (see the HTML or JSON report).", ""]
    else:
        out += ["No findings in this window.", ""]
    for warning in report.warnings:
        out += [f"**Warning:** {md_text(warning, 600)}", ""]
    if report.suppressed or report.expired_allowlist:
        out += ["Allowlist: " + "; ".join(f"{md_code(k, 200)} suppressed {n}" for k, n in report.suppressed.items())
                + "".join(f"; {md_code(k, 200)} expired, not applied" for k in report.expired_allowlist), ""]

    if report.platforms:
        out += ["## By platform", ""]
        out += _table(["platform", "category", "findings", *SEVERITIES, "hosts", "tenants"], [
            [md_text(p.platform, 60), md_text(p.category, 30), str(p.findings),
             *(str(p.by_severity[x]) for x in SEVERITIES), str(p.hosts), str(p.tenants)]
            for p in report.platforms
        ])

    fresh = [rf for rf in report.findings if rf.history.status == "new"]
    if report.history.previous_report is not None and fresh:
        out += [f"## New since the previous report ({_ts(report.history.previous_report)})", ""]
        out += [f"- #{rf.rank} {md_text(rf.finding.severity, 10)} {md_code(rf.finding.src, 64)} \u2192 "
                f"{md_code(_dest(rf.finding), 120)} ({md_text(rf.finding.platform or rf.finding.category, 60)})"
                for rf in fresh[:20]]
        out += [""]

    if report.history.gone:
        out += ["## Gone since the previous report", ""]
        out += _table(["source", "destination", "platform", "severity then"], [
            [md_code(g.src, 64), md_code(g.host, 120), md_text(g.platform or "-", 60), md_text(g.severity, 10)]
            for g in report.history.gone
        ])

    out += ["## Ingest health", ""]
    if h.kinds:
        out += _table(["kind", "files", "rows", "rejected", "first", "last"], [
            [md_text(k.kind, 20), str(k.files), _num(k.rows_loaded), _num(k.lines_rejected), _ts(k.first_ts),
             _ts(k.last_ts)] for k in h.kinds
        ])
    if h.logs_start is not None:
        out += [md_text(f"The logs start at {_ts(h.logs_start)}, {h.late_hours} h after the window does: nothing "
                        f"earlier was loaded into the store, so those hours are not covered.", 300), ""]
    if h.gaps:
        out += _table(["stream", "quiet from", "until", "hours", "note"], [
            [md_text(f"{g.kind} / {g.sensor}", 60), _ts(g.start), _ts(g.end), str(g.hours),
             "silent until the end of the window" if g.to_window_end else ""] for g in h.gaps
        ])
    else:
        out += ["Every stream has rows in every hour of the window." if h.logs_start is None
                else "From then on, every stream has rows in every hour.", ""]
    if h.rejects:
        out += _table(["file:line", "why", "line"], [
            [md_code(f"{x.path}:{x.line if x.line is not None else '?'}", 160), md_text(x.reason, 200),
             md_code(x.text, 240)] for x in h.rejects
        ])

    out += ["## Tuning suggestions", ""]
    if report.tuning:
        for t in report.tuning:
            out += [f"- {md_text(t.title, 200)} (findings {t.ranks_text})", ""]
            out += ["  " + md_code(t.entry, 4000, table=False), ""]
    else:
        out += ["Nothing looks like CI or monitoring traffic.", ""]
    return "\n".join(out).rstrip() + "\n"
