"""Surge detection (domain/surges.py) on synthetic series: a surge is flagged in the interval it happens; steady,
noisy, slowly growing and daily-rhythmic traffic is not."""

import random

import pytest

from domain.surges import SurgeRule, baseline, judge, judge_regions

RULE = SurgeRule()
HOURLY = SurgeRule(season=24)


def flagged(series: list[int], rule: SurgeRule = RULE) -> list[int]:
    """The intervals (indexes) judged surging, each against the ones before it."""
    found = []
    for end in range(1, len(series) + 1):
        judgement = judge(series[:end], rule)
        if judgement and judgement.surging:
            found.append(end - 1)
    return found


def noisy(level: float, n: int, rng: random.Random) -> list[int]:
    """Poisson-like counts around `level` (normal approximation, never negative)."""
    return [max(0, round(rng.gauss(level, level**0.5))) for _ in range(n)]


@pytest.mark.parametrize("seed", range(20))
def test_steady_noisy_traffic_is_never_a_surge(seed):
    rng = random.Random(seed)
    assert flagged(noisy(40, 200, rng)) == []


@pytest.mark.parametrize("seed", range(10))
def test_slowly_growing_traffic_is_never_a_surge(seed):
    rng = random.Random(seed)
    series = [max(0, round(rng.gauss(level, level**0.5))) for level in (20 * 1.02**i for i in range(150))]  # x19 in 150 intervals
    assert flagged(series) == []


@pytest.mark.parametrize("seed", range(10))
def test_a_surge_is_flagged_in_the_interval_it_starts(seed):
    rng = random.Random(seed)
    series = noisy(30, 60, rng) + [90] + noisy(90, 5, rng)

    assert flagged(series)[:1] == [60]


def test_a_region_too_small_to_count_does_not_surge():
    series = [1, 0, 2, 1, 1, 0, 1, 9]  # nine times its mean, but nine orders
    judgement = judge(series, RULE)
    assert judgement is not None and judgement.score > RULE.threshold and not judgement.surging


def test_nothing_is_judged_before_there_is_history():
    assert judge([5, 500], RULE) is None
    assert judge([10] * 4 + [200], RULE) is not None


@pytest.mark.parametrize("seed", range(5))
def test_a_daily_rhythm_is_not_a_surge_when_hours_are_compared_with_the_same_hour(seed):
    rng = random.Random(seed)
    day = [10] * 7 + [60, 120, 150, 150, 120, 100, 100, 110, 120, 140, 160, 120, 80, 40, 20, 10, 10]
    series = [max(0, round(rng.gauss(level, level**0.5))) for _ in range(10) for level in day]

    assert flagged(series, RULE) != []  # against the hours just before, each morning looks like a surge
    assert flagged(series, HOURLY) == []


def test_a_surge_at_an_hour_is_flagged_against_that_hour_on_earlier_days():
    day = [10] * 8 + [100] * 16
    series = day * 6 + [10] * 8 + [100, 100, 400]

    assert flagged(series, HOURLY) == [len(series) - 1]


def test_the_baseline_is_the_weighted_mean_and_deviation():
    base = baseline([10, 20], alpha=0.5)
    assert (base.mean, base.deviation) == (15.0, 5.0)
    assert base.spread() == max(1.25 * 5.0, 15**0.5)


def test_regions_are_judged_each_against_its_own_history():
    steady = [("DE-BY", slot, 30) for slot in range(100, 110)]
    surging = [("FR-IDF", slot, 20) for slot in range(100, 109)] + [("FR-IDF", 109, 80)]
    new = [("JP-13", 108, 40), ("JP-13", 109, 60)]  # too little history to judge
    judged = dict(judge_regions(steady + surging + new + [("DE-BY", 99, 500)], first=100, last=109, rule=RULE))

    assert set(judged) == {"DE-BY", "FR-IDF"}
    assert not judged["DE-BY"].surging and judged["DE-BY"].count == 30
    assert judged["FR-IDF"].surging and judged["FR-IDF"].count == 80


def test_an_interval_without_orders_counts_as_none():
    rows = [("DE-BY", slot, 20) for slot in range(100, 110) if slot != 105] + [("DE-BY", 110, 20)]
    (region, judgement), *_ = judge_regions(rows, first=100, last=110, rule=RULE)
    assert region == "DE-BY" and judgement.baseline.mean < 20  # the quiet interval pulled the mean down
