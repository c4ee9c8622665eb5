"""The worker's surge watch (runtime/surge_watch.py) against the real rollups: a region whose last complete interval
stands well above its history is told to its marketplace once, as a `region.surge` event, and shows in the gauges;
a steady region does not surge."""

import asyncio
from datetime import UTC, datetime, timedelta

from domain.surges import SurgeRule
from runtime.settings import Settings
from runtime.surge_watch import judge_and_tell, watch_surges

MINUTE = timedelta(minutes=1)
NOW = datetime(2026, 11, 20, 12, 0, 30, tzinfo=UTC)  # the last complete minute is 11:59


def rule() -> SurgeRule:
    """The rule of the default settings at one-minute intervals."""
    defaults = {name: field.default for name, field in Settings.model_fields.items() if name.startswith("settlement_surge_")}
    return Settings.model_construct(**defaults).surge_rule(MINUTE)


async def seed(pool, marketplace: str, region: str, counts: list[int]) -> None:
    """Orders per minute, the last count in the last complete minute before NOW."""
    last = NOW.replace(second=0) - MINUTE
    for n, orders in enumerate(reversed(counts)):
        await pool.execute(
            "INSERT INTO insight_volume_minutes (at, marketplace, region, currency, orders, gross) VALUES ($1, $2, $3, 'USD', $4, $5)",
            last - n * MINUTE,
            marketplace,
            region,
            orders,
            orders * 1000,
        )
    await pool.execute(
        "INSERT INTO insight_volume_hours (at, marketplace, region, currency, orders, gross) VALUES ($1, $2, $3, 'USD', $4, 0) "
        "ON CONFLICT (at, marketplace, region, currency) DO UPDATE SET orders = insight_volume_hours.orders + EXCLUDED.orders",
        last.replace(minute=0),
        marketplace,
        region,
        sum(counts),
    )


async def surge_events(pool, marketplace: str) -> list:
    return await pool.fetch(
        "SELECT data, owners FROM webhook_events WHERE type = 'region.surge' AND data->>'marketplace' = $1", marketplace
    )


async def test_a_surging_region_is_told_to_its_marketplace_once(fresh_pool, uid):
    market = f"m-{uid}"
    await seed(fresh_pool, market, "DE-BY", [20, 22, 19, 21, 20, 18, 23, 20, 21, 80])
    await seed(fresh_pool, market, "FR-IDF", [30, 31, 29, 30, 32, 28, 30, 31, 29, 30])

    first = await judge_and_tell(fresh_pool, MINUTE, rule(), NOW)
    again = await judge_and_tell(fresh_pool, MINUTE, rule(), NOW + timedelta(seconds=20))

    assert {(m, r, surging) for m, r, _, surging in first if m == market} == {(market, "DE-BY", True), (market, "FR-IDF", False)}
    assert first == again
    (event,) = await surge_events(fresh_pool, market)
    assert event["owners"] == [f"marketplace:{market}"]
    data = event["data"]
    assert (data["region"], data["orders"], data["interval_start"]) == ("DE-BY", 80, (NOW.replace(second=0) - MINUTE).isoformat())
    assert 19 < data["baseline"] < 22 and data["score"] > 4.5


class Gauge:
    def __init__(self):
        self.values: dict[tuple, float] = {}

    def set(self, value, labels):
        self.values[tuple(sorted(labels.items()))] = value


class Meter:
    def __init__(self):
        self.gauges: dict[str, Gauge] = {}

    def create_gauge(self, name, *_):
        return self.gauges.setdefault(name, Gauge())

    create_gauge_float = create_gauge


class FakeRuntime:
    def __init__(self):
        self.metric_meter = Meter()


async def test_the_watch_sets_the_gauges_and_stops_when_asked(fresh_pool, uid):
    market = f"g-{uid}"
    await seed(fresh_pool, market, "DE-BY", [20, 21, 19, 20, 22, 90])
    runtime, stop = FakeRuntime(), asyncio.Event()

    watch = asyncio.create_task(watch_surges(runtime, fresh_pool, MINUTE, rule(), stop, clock=lambda: NOW))
    labels = (("marketplace", market), ("region", "DE-BY"))
    async with asyncio.timeout(20):
        while labels not in runtime.metric_meter.gauges.get("settlement_region_surging", Gauge()).values:
            await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(watch, 10)

    assert runtime.metric_meter.gauges["settlement_region_surging"].values[labels] == 1
    assert runtime.metric_meter.gauges["settlement_region_surge_score"].values[labels] > 4.5
