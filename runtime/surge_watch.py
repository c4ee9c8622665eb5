"""Watches every marketplace's regions for surges from the worker process (the method: domain/surges.py): each
judged region's score is a Prometheus gauge, and a region that surges is told to its marketplace as an outbound
`region.surge` event, once per region and interval however many workers judge it."""

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg
from temporalio.runtime import Runtime

from db import insight_queries as q
from db.outbound_webhooks import publish
from domain.outbound_webhooks import surge_event
from domain.surges import SurgeRule, interval_start, window
from runtime.stopping import pause_unless_stopped

log = logging.getLogger("settlement.surges")

LOOK_EVERY = timedelta(minutes=1)  # at most: an interval shorter than four of these is looked at four times


async def judge_and_tell(pool: asyncpg.Pool, interval: timedelta, rule: SurgeRule, now: datetime) -> list[tuple[str, str, float, bool]]:
    """(marketplace, region, score, surging) of every judged region; the surging ones are published."""
    first, last = window(now, interval, rule)
    since, until = interval_start(first, interval), interval_start(last + 1, interval)
    found = []
    for marketplace in await q.active_marketplaces(pool, since):
        filters = q.Filters(since, until, marketplace=marketplace)
        for region, judged in await q.judged_regions(pool, filters, interval, rule, first, last):
            found.append((marketplace, region, judged.score, judged.surging))
            if judged.surging:
                told = {"interval": interval.total_seconds(), "orders": judged.count, "baseline": round(judged.baseline.mean, 2)}
                async with pool.acquire() as conn, conn.transaction():
                    await publish(
                        conn, surge_event(marketplace, region, interval_start(last, interval), {**told, "score": round(judged.score, 2)})
                    )
    return found


def _now() -> datetime:
    return datetime.now(UTC)


async def watch_surges(
    runtime: Runtime, pool: asyncpg.Pool, interval: timedelta, rule: SurgeRule, stop: asyncio.Event, clock: Callable[[], datetime] = _now
) -> None:
    """settlement_region_surge_score{marketplace,region} and settlement_region_surging{marketplace,region} (1 or 0),
    refreshed a few times an interval, until `stop` is set."""
    scores = runtime.metric_meter.create_gauge_float("settlement_region_surge_score", "orders above the region's baseline, in deviations")
    surging = runtime.metric_meter.create_gauge("settlement_region_surging", "1 while the region surges", "regions")
    pause = min(interval / 4, LOOK_EVERY).total_seconds()
    while not stop.is_set():
        try:
            for marketplace, region, score, now_surging in await judge_and_tell(pool, interval, rule, clock()):
                labels = {"marketplace": marketplace, "region": region}
                scores.set(score, labels)
                surging.set(int(now_surging), labels)
        except Exception:  # insight must never take the worker down
            log.exception("could not judge surges")
        await pause_unless_stopped(stop, pause)
