"""Plots for the HTML report: matplotlib (Agg, no pyplot state) rendered to inline SVG.

Rules that keep the page light, deterministic and safe:

* text is kept as ``<text>`` (``svg.fonttype = none``) and the hash salt is fixed per figure, so
  the same data gives the same bytes and ids never collide between figures on one page;
* no attacker-controlled string is ever drawn (titles and labels live in the escaped HTML around
  the plot); mathtext parsing is off anyway;
* point-heavy series are binned into one path, so a 30 s beacon over a week is a few KB, not
  thousands of SVG elements.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from datetime import datetime, timezone

import matplotlib

matplotlib.use("Agg")  # never a GUI backend, even if the environment asks for one

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.ticker as mticker  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LinearSegmentedColormap  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from analyzer.report.health import CoverageStream  # noqa: E402
from analyzer.report.sanitize import clean  # noqa: E402

INK = "#1f2933"
MUTED = "#7b8794"
ACCENT = "#2563eb"
GAP = "#d64545"
SEVERITY_COLORS = {"high": "#c0392b", "medium": "#e67e22", "low": "#d4ac0d", "info": "#7b8794"}
MAX_TICK_POINTS = 400      # above this many connections the timeline is binned
NICE_GAPS = (1, 5, 10, 30, 60, 300, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400)

_RC = {
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 8,
    "axes.edgecolor": "#cbd2d9",
    "axes.labelcolor": INK,
    "axes.titlesize": 8,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


_GEOMETRY = re.compile(r'(\s(?:d|x|y)=")([^"]*)"')
_DECIMALS = re.compile(r"(\d\.\d\d)\d+")


def _to_svg(fig: Figure, salt: str) -> str:
    """Serialize a figure as an inline-able ``<svg>`` element (no XML prolog, responsive width)."""
    buf = io.StringIO()
    with matplotlib.rc_context({**_RC, "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None,
                                                   "Type": None}, bbox_inches="tight", pad_inches=0.05)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    # geometry at 1/100 px is plenty on screen and halves the bytes; only d/x/y attributes are
    # touched (never text, whose numbers are tick labels)
    svg = _GEOMETRY.sub(lambda m: m.group(1) + " ".join(_DECIMALS.sub(r"\1", m.group(2)).split()) + '"', svg)
    # responsive: keep the viewBox, let CSS size it
    head_end = svg.index(">")
    width = re.search(r'\swidth="([0-9.]+)pt"', svg[:head_end])
    head = re.sub(r'\s(width|height)="[^"]*"', "", svg[:head_end])
    style = f' style="max-width:{float(width.group(1)) * 1.25:.0f}px"' if width else ""
    return head + f' class="plot" role="img"{style}' + svg[head_end:]


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(_RC):
        return Figure(figsize=(width, height), dpi=100)


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


def human_seconds(seconds: float | None) -> str:
    """``90`` -> ``1m 30s``; ``7200`` -> ``2h``; ``None`` -> ``-``."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    s = int(round(seconds))
    if s < 60:
        return f"{seconds:.3g}s" if seconds < 10 else f"{s}s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if s >= size:
            parts.append(f"{s // size}{unit}")
            s %= size
    return " ".join(parts[:2])


def channel_plot(epochs: Sequence[float], period_s: float | None, salt: str,
                 window: tuple[float, float] | None = None) -> str:
    """Timeline of connection starts (left) and the histogram of gaps between them (right).

    The timeline shows *when* the channel talks (office hours, sleeps, bursts); the histogram
    shows the period as a peak and the jitter as its width. The scan's period is marked.
    """
    with matplotlib.rc_context(_RC):
        fig = _figure(8.6, 1.9)
        grid = fig.add_gridspec(1, 2, width_ratios=(2.3, 1), wspace=0.18)
        ax_t = fig.add_subplot(grid[0])
        ax_h = fig.add_subplot(grid[1])
        times = np.asarray(sorted(epochs), dtype=float)
        _timeline(ax_t, times, window)
        _gap_histogram(ax_h, np.diff(times) if len(times) > 1 else np.asarray([]), period_s)
        return _to_svg(fig, salt)


def _timeline(ax, times: np.ndarray, window: tuple[float, float] | None) -> None:
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    if len(times) == 0:
        ax.text(0.5, 0.5, "no connection times in the store", ha="center", va="center",
                transform=ax.transAxes, color=MUTED)
        ax.set_xticks([])
        return
    lo, hi = (window if window else (times[0], times[-1]))
    if hi <= lo:
        lo, hi = times[0] - 30, times[-1] + 30
    x = mdates.date2num([_dt(t) for t in (lo, hi)])
    if len(times) <= MAX_TICK_POINTS:
        ax.plot(mdates.date2num([_dt(t) for t in times]), np.zeros(len(times)), linestyle="none",
                marker="|", markersize=18, markeredgewidth=1, color=ACCENT)
        ax.set_ylim(-1, 1)
        ax.set_ylabel("conn", color=MUTED)
    else:
        bins = 240
        counts, edges = np.histogram(times, bins=bins, range=(lo, hi))
        ax.stairs(counts, mdates.date2num([_dt(e) for e in edges]), fill=True, color=ACCENT,
                  linewidth=0)
        ax.set_ylabel(f"per {max((hi - lo) / bins / 60, 1):.0f} min", color=MUTED)
        ax.set_yticks([0, int(counts.max())])
        ax.spines["left"].set_visible(True)
    ax.set_xlim(x[0], x[1])
    locator = mdates.AutoDateLocator(minticks=4, maxticks=8, tz=timezone.utc)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=timezone.utc))
    ax.set_title("connections over time (UTC)", loc="left", color=INK)


def _gap_histogram(ax, gaps: np.ndarray, period_s: float | None) -> None:
    ax.set_title("gaps between connections", loc="left", color=INK)
    gaps = gaps[np.isfinite(gaps) & (gaps > 0)]
    if len(gaps) == 0:
        ax.text(0.5, 0.5, "fewer than 2 connections", ha="center", va="center",
                transform=ax.transAxes, color=MUTED)
        ax.set_xticks([])
        ax.set_yticks([])
        return
    lo, hi = float(gaps.min()), float(gaps.max())
    if hi / max(lo, 1e-3) > 20:          # sleeps and bursts: a log axis keeps the peak readable
        edges = np.logspace(math.log10(max(lo, 1e-3)), math.log10(hi * 1.001), 40)
        ax.set_xscale("log")
        # the default log labels are mathtext ($10^{2}$), which is off: label in durations instead
        nice = [t for t in NICE_GAPS if edges[0] <= t <= edges[-1]]
        nice = nice[:: max(1, math.ceil(len(nice) / 4))]
        ax.xaxis.set_major_locator(mticker.FixedLocator(nice))
        ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _pos: human_seconds(v)))
        ax.xaxis.set_minor_formatter(mticker.NullFormatter())
    else:
        span = max(hi - lo, 0.1 * hi, 1.0)
        edges = np.linspace(max(lo - 0.05 * span, 0), hi + 0.05 * span, 30)
        ax.ticklabel_format(axis="x", useOffset=False, style="plain")
    counts, edges = np.histogram(gaps, bins=edges)
    ax.stairs(counts, edges, fill=True, color="#93b4f5", linewidth=0)
    ax.stairs(counts, edges, color=ACCENT, linewidth=0.8)
    if period_s and math.isfinite(period_s) and period_s > 0:
        ax.axvline(period_s, color=GAP, linewidth=1, linestyle="--")
    ax.set_xlabel("gap" if ax.get_xscale() == "log" else "seconds", color=MUTED)
    ax.set_yticks([0, int(counts.max())])


def coverage_heatmap(streams: Sequence[CoverageStream], salt: str = "coverage") -> str:
    """Rows per hour for each (log kind, sensor): empty hours are red, so holes jump out."""
    with matplotlib.rc_context(_RC):
        n_hours = max((len(s.hours) for s in streams), default=0)
        fig = _figure(8.6, 0.45 + 0.28 * max(len(streams), 1))
        ax = fig.add_subplot()
        if not streams or n_hours == 0:
            ax.text(0.5, 0.5, "no rows in the window", ha="center", va="center",
                    transform=ax.transAxes, color=MUTED)
            ax.set_axis_off()
            return _to_svg(fig, salt)
        data = np.zeros((len(streams), n_hours))
        for i, stream in enumerate(streams):
            data[i, : len(stream.hours)] = [n for _, n in stream.hours]
        masked = np.ma.masked_equal(data, 0)
        cmap = LinearSegmentedColormap.from_list("cov", ["#dbeafe", "#1d4ed8"]).with_extremes(bad=GAP)
        ax.imshow(np.ma.log10(masked + 1), aspect="auto", cmap=cmap, interpolation="nearest")
        labels = [clean(f"{s.kind} / {s.sensor}", 34) for s in streams]
        ax.set_yticks(range(len(streams)), labels)
        hours = streams[0].hours
        step = max(1, math.ceil(n_hours / 12))
        ticks = list(range(0, n_hours, step))
        ax.set_xticks(ticks, [hours[i][0].strftime("%d %H:00" if hours[i][0].hour == 0 or i == 0
                                                   else "%H:00") for i in ticks])
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        return _to_svg(fig, salt)


def platform_bars(rows: Sequence[tuple[str, dict[str, int]]], salt: str = "platforms") -> str:
    """Findings per platform, stacked by severity. Labels are drawn as SVG text, which matplotlib
    XML-escapes; with mathtext off, no label can change the drawing."""
    with matplotlib.rc_context(_RC):
        fig = _figure(5.0, 0.5 + 0.26 * max(len(rows), 1))
        ax = fig.add_subplot()
        y = np.arange(len(rows))
        left = np.zeros(len(rows))
        for severity, color in SEVERITY_COLORS.items():
            values = np.asarray([counts.get(severity, 0) for _, counts in rows], dtype=float)
            if values.any():
                ax.barh(y, values, left=left, color=color, height=0.7, label=severity)
            left += values
        ax.set_yticks(y, [clean(name, 34) for name, _ in rows])
        ax.invert_yaxis()
        ax.set_xlabel("findings", color=MUTED)
        ax.xaxis.get_major_locator().set_params(integer=True)
        if len(rows):
            ax.legend(frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return _to_svg(fig, salt)
