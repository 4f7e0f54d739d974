"""The HTML report: one self-contained page (inline CSS and SVG, no script, nothing fetched).

``render_html(report) -> str`` is pure. The template (``analyzer/templates/report.html.j2``) runs
with autoescape on and ``StrictUndefined``; every log-derived string also goes through
:func:`analyzer.report.sanitize.clean` (controls, bidi overrides, length). A Content-Security-Policy
``default-src 'none'`` is the second wall: even a value that escaped escaping could not run script
or fetch anything.
"""

from __future__ import annotations

import functools
import math
from datetime import datetime, timezone

import jinja2

from analyzer import __version__
from analyzer.findings import SEVERITIES, Finding
from analyzer.report import plots
from analyzer.report.model import Report, _epoch
from analyzer.report.sanitize import clean


def _ts(value: datetime | None) -> str:
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%MZ")


def _num(value: float | int | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def _pct(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value * 100:.0f}%" if value >= 0.01 else f"{value * 100:.1f}%"


def _dest(f: Finding) -> str:
    if f.host:
        return f.host
    if f.dst:
        return f"{f.dst}:{f.dst_port}" if f.dst_port is not None else f.dst
    return "?"


def window_label(report: Report) -> str:
    return f"{_ts(report.window_start)} \u2013 {_ts(report.window_end)}"


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("analyzer", "templates"),
        autoescape=True,                 # explicit: the file name ends in .j2, not .html
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    env.filters.update(
        ts=_ts, num=_num, pct=_pct, dur=plots.human_seconds, dest=_dest,
        clean=lambda value, limit=None: clean(value, limit),
        sevclass=lambda s: s if s in SEVERITIES else "info",
    )
    return env


def render_plots(report: Report) -> dict:
    """The SVG plots of the page, keyed the way the template uses them."""
    start, end = _epoch(report.window_start), _epoch(report.window_end)
    window = (start, end) if start is not None and end is not None else None
    channels = {}
    for rf in report.top:
        times = rf.times.epochs if rf.times else []
        channels[rf.rank] = plots.channel_plot(times, rf.finding.period_s, salt=f"f{rf.rank}", window=window)
    return {
        "channels": channels,
        "coverage": plots.coverage_heatmap(report.health.coverage),
        "platforms": plots.platform_bars([(p.platform, p.by_severity) for p in report.platforms]),
    }


def render_html(report: Report) -> str:
    """The whole page as text."""
    template = _environment().get_template("report.html.j2")
    return template.render(
        r=report, s=report.summary, h=report.health, severities=SEVERITIES,
        plots=render_plots(report), window_label=window_label(report), version=__version__,
    )
