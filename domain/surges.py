"""Surge detection: is a region's order rate well above its own recent baseline?

Per region, orders are counted per interval (an hour by default). The baseline of an interval is an exponentially
weighted mean of the intervals before it, and of how far each strayed from the mean then (the mean absolute
deviation, weighted the same way). With `season` set (24 for hourly intervals), an interval is compared with the
same slot of earlier seasons only (the same hour on earlier days), so a daily rhythm is not a surge.

An interval surges when its count is at least `min_orders`, at least `min_rise` above the mean (50% more orders than
usual), and more than `threshold` deviations above it, the deviation being at least the square root of the mean
(the noise of counting rare events: a region with 4 orders an hour may well have 8). The rise keeps traffic that
grows steadily, which the mean follows a little late, from looking like a surge. Only complete intervals are
judged, so a surge shows within one interval.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import sqrt

# A normal distribution's standard deviation is about 1.25 times its mean absolute deviation.
MAD_TO_SD = 1.25


@dataclass(frozen=True)
class SurgeRule:
    alpha: float = 0.3  # weight of the newest interval in the mean and the deviation (0 < alpha <= 1)
    threshold: float = 4.5  # how many deviations above the mean is a surge
    min_orders: int = 10  # fewer orders in the interval is never a surge
    min_rise: float = 0.5  # a surge has at least this share more orders than the mean
    min_history: int = 4  # intervals (or seasons) of history needed before anything is judged
    history: int = 48  # intervals (or seasons) of history read at most
    season: int = 0  # intervals in one season; 0: compare with the intervals just before

    def intervals_needed(self) -> int:
        """How many intervals to read, the judged one included."""
        return self.history * max(self.season, 1) + 1


@dataclass(frozen=True)
class Baseline:
    mean: float
    deviation: float

    def spread(self) -> float:
        """The deviation (as a standard deviation), or the counting noise where that is larger."""
        return max(MAD_TO_SD * self.deviation, sqrt(self.mean), 1.0)

    def score(self, count: int) -> float:
        """How many spreads `count` stands above the mean."""
        return (count - self.mean) / self.spread()


def baseline(history: list[int], alpha: float) -> Baseline:
    """The weighted mean and mean absolute deviation of `history` (oldest first; not empty)."""
    mean, deviation = float(history[0]), 0.0
    for count in history[1:]:
        deviation = alpha * abs(count - mean) + (1 - alpha) * deviation
        mean = alpha * count + (1 - alpha) * mean
    return Baseline(mean, deviation)


@dataclass(frozen=True)
class Judgement:
    count: int
    baseline: Baseline
    score: float
    surging: bool


def judge(counts: list[int], rule: SurgeRule) -> Judgement | None:
    """The last of `counts` (complete intervals, oldest first) judged against the ones before it; None while the
    history is too short."""
    *before, current = counts
    # With seasons: the same slot in each earlier season (the current interval is at index len(before)).
    history = before[len(before) - rule.season :: -rule.season][::-1] if rule.season else before
    if len(history) < rule.min_history:
        return None
    base = baseline(history, rule.alpha)
    score = base.score(current)
    surging = current >= rule.min_orders and current >= base.mean * (1 + rule.min_rise) and score > rule.threshold
    return Judgement(current, base, score, surging)


def judge_regions(rows: list[tuple[str, int, int]], first: int, last: int, rule: SurgeRule) -> list[tuple[str, Judgement]]:
    """Each region's interval `last` judged against its intervals from `first` (or from its first order, if later),
    given as (region, interval, orders) rows (an interval without a row had no orders); regions without enough
    history are left out."""
    series: dict[str, list[int]] = {}
    for region, slot, orders in rows:
        if first <= slot <= last:
            series.setdefault(region, [0] * (last - first + 1))[slot - first] = orders
    # A region's history starts at its first order: before that it was not quiet, it was not there.
    started = {region: next(n for n, orders in enumerate(counts) if orders) for region, counts in series.items()}
    judged = [(region, judge(counts[started[region] :], rule)) for region, counts in sorted(series.items())]
    return [(region, judgement) for region, judgement in judged if judgement is not None]


def window(now: datetime, interval: timedelta, rule: SurgeRule) -> tuple[int, int]:
    """The first and last interval to read (numbered from the Unix epoch): the last is the last complete one."""
    last = int(now.timestamp()) // int(interval.total_seconds()) - 1
    return last - rule.intervals_needed() + 1, last


def interval_start(slot: int, interval: timedelta) -> datetime:
    return datetime.fromtimestamp(slot * int(interval.total_seconds()), UTC)
