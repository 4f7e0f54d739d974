"""RITA v5's beacon score, re-implemented for comparison (not used by the analyzer).

Written from the pseudo-math of RITA v5's ``analysis/beacons.go`` as documented in the project's
reference material (``beacon-scoring.md`` section 1.3, activecm/rita at v5.1.1): the timestamp score
(Bowley skew and MAD of the intervals), the data-size score (the same on originator bytes), the
duration score (coverage of the window, or the longest run of active hours) and the histogram score
(coefficient of variation of 24 hourly bins, or its jitter-tolerant "bimodal" form), each weighted
0.25. The candidate gate is RITA's: at least 4 unique one-second timestamps, fewer than 86 400
connections. Only the beacon score is computed, not RITA's final ranking modifiers (prevalence,
first seen, missing Host ...), which apply to any channel alike.

    score = rita_v5.beacon_score(timestamps, orig_bytes, window_start, window_end)  # None: not scored
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence

WEIGHT = 0.25
MIN_UNIQUE_TS = 4
STROBE = 86400
BINS = 24
MODE_SENSITIVITY = 0.05
BIMODAL_OUTLIER_REMOVAL = 1
BIMODAL_MIN_HOURS = 11
DURATION_MIN_HOURS = 6
DURATION_IDEAL_HOURS = 12


def _round3(x: float) -> float:
    return math.floor(x * 1000 + 0.5) / 1000


def _ceil3(x: float) -> float:
    return math.ceil(x * 1000 - 1e-9) / 1000


def quartiles(xs: Sequence[float]) -> tuple[float, float, float]:
    """montanaflynn/stats Quartile: the median, and the medians of the lower and upper halves (the
    middle element left out of both for an odd count)."""
    s = sorted(xs)
    n = len(s)
    half = n // 2
    lower, upper = s[:half], s[half + (n % 2):]
    return statistics.median(lower), statistics.median(s), statistics.median(upper)


def stat_score(xs: Sequence[float], default: float) -> float:
    """(Bowley skewness score + MAD score) / 2, rounded to 3 places."""
    q1, q2, q3 = quartiles(xs)
    den = q3 - q1
    skew = (q1 + q3 - 2 * q2) / den if den >= 10 and q2 != q1 and q2 != q3 else 0.0
    skew_score = 1 - abs(skew)
    med = statistics.median(xs)
    mad = statistics.median(abs(x - med) for x in xs)
    mad_score = (med - mad) / med if med >= 1 else default
    if not mad_score >= 0:  # negative or NaN
        mad_score = 0.0
    return _round3((skew_score + mad_score) / 2)


def _longest_run(active: list[bool]) -> int:
    """The longest run of active bins, wrapping around the end of the day (at most 24)."""
    if all(active):
        return len(active)
    best = run = 0
    for a in active + active:
        run = run + 1 if a else 0
        best = max(best, run)
    return min(best, len(active))


def beacon_score(timestamps: Sequence[float], orig_bytes: Sequence[float], window_start: float,
                 window_end: float) -> float | None:
    """RITA v5's beacon score in [0, 1] for one pair's connections, or None when RITA would not score
    it (fewer than 4 unique seconds, a strobe, or fewer than 3 non-zero intervals)."""
    ts = sorted(int(t) for t in timestamps if window_start <= t <= window_end)
    if len(set(ts)) < MIN_UNIQUE_TS or len(ts) >= STROBE:
        return None
    deltas = sorted(b - a for a, b in zip(ts, ts[1:]) if b - a > 0)
    if len(deltas) < 3:
        return None
    ts_score = stat_score(deltas, 1.0)
    ds_score = stat_score(list(orig_bytes), 0.0) if orig_bytes else 0.0
    span = max(window_end - window_start, 1e-9)
    hist = [0] * BINS
    for t in ts:
        hist[min(BINS - 1, int((t - window_start) / span * BINS))] += 1
    mean = sum(hist) / BINS
    cv = statistics.pstdev(hist) / mean if mean else math.inf
    cv_score = 0.0 if cv > 1 else _round3(1 - cv)
    bars = [h for h in hist if h > 0]
    bimodal = 0.0
    if len(bars) >= BIMODAL_MIN_HOURS:
        size = math.ceil(max(hist) * MODE_SENSITIVITY)
        freq = Counter((h // size) * size for h in bars)
        top = sorted(freq.values(), reverse=True)[:2]
        bimodal = min(1.0, _round3(sum(top) / max(len(bars) - BIMODAL_OUTLIER_REMOVAL, 1)))
    hist_score = max(cv_score, bimodal)
    dur_score = 0.0
    if len(bars) >= DURATION_MIN_HOURS:
        coverage = min(1.0, _ceil3((ts[-1] - ts[0]) / span))
        consistency = min(1.0, _ceil3(_longest_run([h > 0 for h in hist]) / DURATION_IDEAL_HOURS))
        dur_score = max(coverage, consistency)
    return _round3(WEIGHT * (ts_score + ds_score + dur_score + hist_score))
