"""Reads of the business's running totals (db/insights.py writes them). Each reads rollup rows only, within the
period and filters asked, through their primary keys: its cost grows with the period and the number of regions,
never with the number of orders."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from domain.surges import Judgement, SurgeRule, judge_regions

_INSTANT = timedelta(microseconds=1)


@dataclass(frozen=True)
class Filters:
    since: datetime
    until: datetime
    marketplace: str | None = None
    region: str | None = None
    currency: str | None = None
    seller_id: str | None = None

    def where(self, period: str | None = "at", days: bool = False) -> tuple[str, list]:
        """SQL conditions on a rollup's columns, and their values: the period [since, until) on the column `period`
        (with `days`, every UTC day it touches; None: no period), and every filter given."""
        wanted: list[tuple[str, object]] = []
        if period and days:  # every day the period touches
            wanted = [(f"{period} >=", self.since.astimezone(UTC).date()), (f"{period} <=", (self.until - _INSTANT).astimezone(UTC).date())]
        elif period:
            wanted = [(f"{period} >=", self.since), (f"{period} <", self.until)]
        wanted += [(f"{column} =", getattr(self, column)) for column in ("marketplace", "region", "currency", "seller_id")]
        given = [(condition, value) for condition, value in wanted if value is not None]
        sql = " AND ".join(f"{condition} ${n}" for n, (condition, _) in enumerate(given, start=1))
        return sql or "true", [value for _, value in given]


async def volume(pool: asyncpg.Pool, filters: Filters, step: str, limit: int, after: tuple | None) -> list[asyncpg.Record]:
    """Orders and gross value per `step` ('minute', 'hour' or 'day'), region and currency, in order; `after` (at,
    region, currency) continues a page."""
    table = "insight_volume_minutes" if step == "minute" else "insight_volume_hours"
    conditions, values = filters.where("at")
    paging = ""
    if after is not None:
        paging = (
            f" HAVING (date_trunc('{step}', at, 'UTC'), region, currency) > (${len(values) + 1}, ${len(values) + 2}, ${len(values) + 3})"
        )
        values += list(after)
    return await pool.fetch(
        f"""SELECT date_trunc('{step}', at, 'UTC') AS at, region, currency, sum(orders)::bigint AS orders, sum(gross)::bigint AS gross
            FROM {table} WHERE {conditions}
            GROUP BY 1, 2, 3{paging} ORDER BY 1, 2, 3 LIMIT {int(limit)}""",
        *values,
    )


async def volume_per_interval(pool: asyncpg.Pool, filters: Filters, seconds: int) -> list[asyncpg.Record]:
    """Orders per interval of `seconds` (from the Unix epoch) and region: minutes when the interval is shorter
    than an hour, hours otherwise."""
    table = "insight_volume_minutes" if seconds < 3600 else "insight_volume_hours"
    conditions, values = filters.where("at")
    return await pool.fetch(
        f"""SELECT floor(extract(epoch FROM at) / {int(seconds)})::bigint AS slot, region, sum(orders)::bigint AS orders
            FROM {table} WHERE {conditions} GROUP BY 1, 2 ORDER BY 2, 1""",
        *values,
    )


async def statuses(pool: asyncpg.Pool, filters: Filters) -> list[asyncpg.Record]:
    """How many orders stand in each status now (the period does not apply)."""
    conditions, values = filters.where(period=None)
    return await pool.fetch(
        f"SELECT status, sum(orders)::bigint AS orders FROM insight_statuses WHERE {conditions} GROUP BY 1 HAVING sum(orders) > 0 ORDER BY 1",
        *values,
    )


async def stage_times(pool: asyncpg.Pool, filters: Filters) -> list[asyncpg.Record]:
    """Orders per stage and bucket of seconds, for stages completed within the period (whole days)."""
    conditions, values = filters.where("day", days=True)
    return await pool.fetch(
        f"SELECT stage, bucket, sum(orders)::bigint AS orders FROM insight_stage_times WHERE {conditions} GROUP BY 1, 2 ORDER BY 1, 2",
        *values,
    )


GROUPINGS = {"seller": "seller_id", "region": "region", "fulfillment_center": "fulfillment_center", "reason": "reason"}


async def outcomes(pool: asyncpg.Pool, filters: Filters, group_by: str, limit: int, after: str | None) -> list[asyncpg.Record]:
    """Counts of each outcome per group (a seller, region, fulfillment centre, or dispute reason), for outcomes within
    the period (whole days; the currency filter does not apply); `after` continues a page."""
    column = GROUPINGS[group_by]
    conditions, values = filters.where("day", days=True)
    if group_by == "reason":
        conditions += " AND outcome = 'disputed'"
    if after is not None:
        conditions += f" AND {column} > ${len(values) + 1}"
        values.append(after)
    return await pool.fetch(
        f"""WITH groups AS (
                SELECT DISTINCT {column} AS key FROM insight_outcomes WHERE {conditions} ORDER BY 1 LIMIT {int(limit)}
            )
            SELECT {column} AS key, outcome, sum(orders)::bigint AS orders FROM insight_outcomes
            WHERE {conditions} AND {column} IN (SELECT key FROM groups) GROUP BY 1, 2 ORDER BY 1, 2""",
        *values,
    )


async def judged_regions(
    pool: asyncpg.Pool, filters: Filters, interval: timedelta, rule: SurgeRule, first: int, last: int
) -> list[tuple[str, Judgement]]:
    """Each region's interval `last` judged against its history from `first` (domain/surges.py)."""
    rows = await volume_per_interval(pool, filters, int(interval.total_seconds()))
    return judge_regions([(r["region"], r["slot"], r["orders"]) for r in rows], first, last, rule)


async def active_marketplaces(pool: asyncpg.Pool, since: datetime) -> list[str]:
    """The marketplaces with orders placed since then."""
    rows = await pool.fetch(
        "SELECT DISTINCT marketplace FROM insight_volume_hours WHERE at >= date_trunc('hour', $1::timestamptz, 'UTC') ORDER BY 1", since
    )
    return [r["marketplace"] for r in rows]
