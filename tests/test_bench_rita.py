"""bench/rita_v5.py, the RITA v5 beacon score the detection benchmark compares against, reproduces the
figures published for RITA's formula (beacon-scoring.md section 7.4: 24 h traces, 40 seeds, constant
request size), so the comparison is with RITA and not with a straw man."""

from __future__ import annotations

import random
import statistics
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import rita_v5  # noqa: E402

T0 = 1_795_651_200.0
DAY = 86400.0


def _cs(sleep: float, jitter: float, office: bool = False):
    def gen(rng: random.Random) -> list[float]:
        t, out = T0 + rng.uniform(0, sleep), []
        while t < T0 + DAY:
            if not office or 8 <= (t - T0) / 3600 < 18:
                out.append(t)
            t += sleep * (1 - jitter * rng.random())
        return out
    return gen


def _poisson(mean: float):
    def gen(rng: random.Random) -> list[float]:
        t, out = T0, []
        while (t := t + rng.expovariate(1 / mean)) < T0 + DAY:
            out.append(t)
        return out
    return gen


def _mean_score(gen, seeds: int = 40) -> float:
    scores = []
    for seed in range(seeds):
        ts = gen(random.Random(seed))
        scores.append(rita_v5.beacon_score(ts, [500] * len(ts), T0, T0 + DAY) or 0.0)
    return statistics.mean(scores)


@pytest.mark.parametrize("name,gen,published", [
    ("B01 CS 60 s, j=0", _cs(60, 0.0), 0.999),
    ("B02 CS 60 s, j=20%", _cs(60, 0.2), 0.992),
    ("B03 CS 60 s, j=50%", _cs(60, 0.5), 0.973),
    ("B06 CS 60 s j=30%, 08-18 h only", _cs(60, 0.3, office=True), 0.696),
    ("B10 CS 3600 s j=50%", _cs(3600, 0.5), 0.956),
    ("N01 Poisson 1/60 s", _poisson(60), 0.847),
    ("N02 Poisson 1/300 s", _poisson(300), 0.804),
    ("N06 Poisson 1/900 s", _poisson(900), 0.760),
])
def test_reproduces_the_published_rita_figures(name: str, gen, published: float) -> None:
    assert _mean_score(gen) == pytest.approx(published, abs=0.01), name


def test_gates_and_quartiles() -> None:
    assert rita_v5.beacon_score([T0, T0 + 60, T0 + 120], [1, 1, 1], T0, T0 + DAY) is None      # < 4 unique s
    assert rita_v5.beacon_score([T0 + 0.1, T0 + 0.2, T0 + 0.3, T0 + 0.4, T0 + 60], [1] * 5, T0, T0 + DAY) is None
    assert rita_v5.quartiles([1, 2, 3, 4, 5, 6, 7]) == (2, 4, 6)    # odd: the middle element in neither half
    assert rita_v5.quartiles([1, 2, 3, 4]) == (1.5, 2.5, 3.5)
    assert rita_v5.stat_score([60.0] * 10, 1.0) == 1.0
