"""The business at a glance: volume, the status funnel, dispute and loss rates, and surges, read from the running
totals the read model keeps (db/insights.py). Operators see every marketplace; a marketplace sees its own (its
filter is set to itself); a seller sees the dispute figures of their own orders; buyers see none."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from api.auth import Principal, require
from api.openapi import problems
from api.params import QueryId
from api.problems import field_error
from db import insight_queries as q
from db.reference_rates import kept_rates
from domain.currency import CONVERTIBLE
from domain.fx import convert, crossed_rates
from domain.insights import Outcome, Stage, percentile, rate
from domain.order_actions import Role
from domain.order_request import Duration, Timestamp
from domain.surges import interval_start, window

router = APIRouter(prefix="/v1/insights", tags=["insights"])

DEFAULT_PERIOD = timedelta(days=7)
LONGEST_PERIOD = timedelta(days=400)
REGION_PATTERN = r"^(unknown|[A-Z]{2}(-[A-Z0-9]{1,3})?)$"

Since = Annotated[Timestamp | None, Query(description="start of the period (default: 7 days before `until`)")]
Until = Annotated[Timestamp | None, Query(description="end of the period, excluded (default: now); at most 400 days after `since`")]
Region = Annotated[str | None, Query(pattern=REGION_PATTERN, description="an ISO 3166-2 subdivision, a country, or `unknown`")]
Currency = Annotated[str | None, Query(pattern=r"^[A-Z]{3}$", description="an ISO 4217 code")]


def _filters(principal: Principal, since: datetime | None, until: datetime | None, **given: str | None) -> q.Filters:
    """The period and filters asked, narrowed to what the caller may see."""
    until = until or datetime.now(UTC)
    since = since or until - DEFAULT_PERIOD
    if since >= until:
        raise field_error("since", "must be before until")
    if until - since > LONGEST_PERIOD:
        raise field_error("until", f"must be at most {LONGEST_PERIOD.days} days after since")
    if principal.role == Role.MARKETPLACE:
        given["marketplace"] = principal.sub
    if principal.role == Role.SELLER:
        given["seller_id"] = principal.sub
    return q.Filters(since, until, **given)


# ---- volume ----------------------------------------------------------------------------------------------


class VolumePoint(BaseModel):
    at: datetime = Field(description="start of the minute, hour or day (UTC)")
    region: str
    currency: str
    orders: int
    gross: int = Field(description="the orders' totals, in minor units of `currency`")
    gross_reporting: int | None = Field(description="`gross` in the reporting currency at its reference rate; null without one")


Step = Literal["minute", "hour", "day"]
LONGEST_BY_MINUTE = timedelta(days=2)


class Volume(BaseModel):
    step: Step
    since: datetime
    until: datetime
    reporting_currency: str
    rates_as_of: datetime | None = Field(description="when the oldest reference rate used was quoted")
    points: list[VolumePoint]
    next_cursor: str | None = Field(description="pass as `after` for the next page; null on the last")


VOLUME_CURSOR = r"^[0-9]{1,11}~(unknown|[A-Z]{2}(-[A-Z0-9]{1,3})?)~[A-Z]{3}$"


@router.get("/volume", response_model=Volume, operation_id="insightVolume", responses=problems(403, 422))
async def volume(
    request: Request,
    since: Since = None,
    until: Until = None,
    step: Annotated[Step, Query(description="minutes for periods of at most 2 days")] = "hour",
    marketplace: QueryId = None,
    region: Region = None,
    currency: Currency = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    after: Annotated[str | None, Query(pattern=VOLUME_CURSOR, description="`next_cursor` of the previous page")] = None,
    reporting_currency: Annotated[
        str | None, Query(json_schema_extra={"enum": sorted(CONVERTIBLE)}, description="default SETTLEMENT_REPORTING_CURRENCY (USD)")
    ] = None,
    principal: Principal = Depends(require(Role.OPERATOR, Role.MARKETPLACE)),
) -> Volume:
    """Orders placed and their gross value per minute, hour or day, region and currency (UTC), each also in the
    reporting currency at the FX source's latest reference rate."""
    filters = _filters(principal, since, until, marketplace=marketplace, region=region, currency=currency)
    if step == "minute" and filters.until - filters.since > LONGEST_BY_MINUTE:
        raise field_error("step", f"minutes are given for periods of at most {LONGEST_BY_MINUTE.days} days")
    position = None
    if after is not None:
        seconds, region_after, currency_after = after.split("~")
        try:
            position = (datetime.fromtimestamp(int(seconds), UTC), region_after, currency_after)
        except (OverflowError, ValueError, OSError) as err:
            raise field_error("after", "is not a cursor this API gave") from err
    if reporting_currency is not None and reporting_currency not in CONVERTIBLE:
        raise field_error("reporting_currency", "must be a currency the FX source quotes")
    kept_in = request.app.state.settings.settlement_reporting_currency
    reporting = reporting_currency or kept_in
    pool = request.app.state.pool
    rows, kept = await q.volume(pool, filters, step, limit + 1, position), await kept_rates(pool, kept_in)
    rates = crossed_rates(kept, kept_in, reporting)
    used: list[datetime] = []

    def in_reporting(gross: int, currency: str) -> int | None:
        if currency == reporting:
            return gross
        if currency not in rates:
            return None
        rate, as_of = rates[currency]
        used.append(as_of)
        return convert(gross, currency, reporting, rate)

    points = [
        VolumePoint(
            at=r["at"],
            region=r["region"],
            currency=r["currency"].strip(),
            orders=r["orders"],
            gross=r["gross"],
            gross_reporting=in_reporting(r["gross"], r["currency"].strip()),
        )
        for r in rows
    ]
    more = len(points) > limit
    points = points[:limit]
    last = points[-1] if points else None
    cursor = f"{int(last.at.timestamp())}~{last.region}~{last.currency}" if more and last else None
    return Volume(
        step=step,
        since=filters.since,
        until=filters.until,
        reporting_currency=reporting,
        rates_as_of=min(used, default=None),
        points=points,
        next_cursor=cursor,
    )


# ---- funnel ----------------------------------------------------------------------------------------------


class StageTimes(BaseModel):
    stage: Stage
    orders: int = Field(description="orders that completed the stage within the period")
    p50_seconds: float | None
    p90_seconds: float | None
    p99_seconds: float | None


class Funnel(BaseModel):
    statuses: dict[str, int] = Field(description="orders in each status now (the period does not apply)")
    stages: list[StageTimes] = Field(description="percentiles to within a factor of about 1.4 (power-of-two buckets)")


@router.get("/funnel", response_model=Funnel, operation_id="insightFunnel", responses=problems(403, 422))
async def funnel(
    request: Request,
    since: Since = None,
    until: Until = None,
    marketplace: QueryId = None,
    region: Region = None,
    currency: Currency = None,
    principal: Principal = Depends(require(Role.OPERATOR, Role.MARKETPLACE)),
) -> Funnel:
    """How many orders stand in each status, and how long each stage took (placement to shipment, shipment to
    delivery, delivery to payout, placement to payout, placement to refund)."""
    filters = _filters(principal, since, until, marketplace=marketplace, region=region, currency=currency)
    pool = request.app.state.pool
    statuses = {r["status"]: r["orders"] for r in await q.statuses(pool, filters)}
    buckets: dict[str, dict[int, int]] = {}
    for r in await q.stage_times(pool, q.Filters(filters.since, filters.until, filters.marketplace, filters.region)):
        buckets.setdefault(r["stage"], {})[r["bucket"]] = r["orders"]
    stages = [
        StageTimes(
            stage=stage,
            orders=sum(buckets.get(stage.value, {}).values()),
            p50_seconds=percentile(buckets.get(stage.value, {}), 0.5),
            p90_seconds=percentile(buckets.get(stage.value, {}), 0.9),
            p99_seconds=percentile(buckets.get(stage.value, {}), 0.99),
        )
        for stage in Stage
    ]
    return Funnel(statuses=statuses, stages=stages)


# ---- disputes and losses ---------------------------------------------------------------------------------


class OutcomeRates(BaseModel):
    key: str = Field(description="the seller, region, fulfillment centre or dispute reason")
    counts: dict[Outcome, int]
    dispute_rate: float | None = Field(description="disputed / delivered")
    refund_rate: float | None = Field(description="refunded / placed")
    chargeback_rate: float | None = Field(description="chargebacks / shipped")
    late_rate: float | None = Field(description="delivered late / delivered")
    lost_rate: float | None = Field(description="lost / shipped")
    damaged_rate: float | None = Field(description="damaged / shipped")


class Outcomes(BaseModel):
    group_by: Literal["seller", "region", "fulfillment_center", "reason"]
    since: datetime
    until: datetime
    groups: list[OutcomeRates]
    next_cursor: str | None


@router.get("/disputes", response_model=Outcomes, operation_id="insightDisputes", responses=problems(403, 422))
async def disputes(
    request: Request,
    since: Since = None,
    until: Until = None,
    group_by: Literal["seller", "region", "fulfillment_center", "reason"] = "seller",
    marketplace: QueryId = None,
    region: Region = None,
    seller_id: QueryId = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    after: Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:~-]+$")] = None,
    principal: Principal = Depends(require(Role.OPERATOR, Role.MARKETPLACE, Role.SELLER)),
) -> Outcomes:
    """Dispute, refund and chargeback rates, and late, lost and damaged parcels, per seller, region, fulfillment
    centre or dispute reason, for what happened within the period (whole UTC days). Grouped by reason, only the
    disputes are counted."""
    filters = _filters(principal, since, until, marketplace=marketplace, region=region, seller_id=seller_id)
    rows = await q.outcomes(request.app.state.pool, filters, group_by, limit + 1, after)
    counts: dict[str, dict[Outcome, int]] = {}
    for r in rows:
        counts.setdefault(r["key"], {})[Outcome(r["outcome"])] = r["orders"]
    keys = sorted(counts)[:limit]
    groups = [_rates(key, counts[key]) for key in keys]
    return Outcomes(
        group_by=group_by, since=filters.since, until=filters.until, groups=groups, next_cursor=keys[-1] if len(counts) > limit else None
    )


def _rates(key: str, counts: dict[Outcome, int]) -> OutcomeRates:
    n = {outcome: counts.get(outcome, 0) for outcome in Outcome}
    return OutcomeRates(
        key=key,
        counts={outcome: count for outcome, count in n.items() if count},
        dispute_rate=rate(n[Outcome.DISPUTED], n[Outcome.DELIVERED]),
        refund_rate=rate(n[Outcome.REFUNDED], n[Outcome.PLACED]),
        chargeback_rate=rate(n[Outcome.CHARGEBACK], n[Outcome.SHIPPED]),
        late_rate=rate(n[Outcome.LATE], n[Outcome.DELIVERED]),
        lost_rate=rate(n[Outcome.LOST], n[Outcome.SHIPPED]),
        damaged_rate=rate(n[Outcome.DAMAGED], n[Outcome.SHIPPED]),
    )


# ---- surges ----------------------------------------------------------------------------------------------


class RegionSurge(BaseModel):
    region: str
    orders: int = Field(description="orders in the last complete interval")
    baseline: float = Field(description="the weighted mean it is compared with")
    spread: float = Field(description="the weighted deviation, at least the counting noise")
    score: float = Field(description="(orders - baseline) / spread")
    surging: bool


class Surges(BaseModel):
    interval: timedelta
    interval_start: datetime = Field(description="the last complete interval, judged")
    regions: list[RegionSurge] = Field(description="surging regions first, then by score; regions without enough history are left out")


@router.get("/surges", response_model=Surges, operation_id="insightSurges", responses=problems(403, 422))
async def surges(
    request: Request,
    interval: Annotated[Duration | None, Query(description="default SETTLEMENT_SURGE_INTERVAL (PT1H); from PT1M to P1D")] = None,
    marketplace: QueryId = None,
    region: Region = None,
    principal: Principal = Depends(require(Role.OPERATOR, Role.MARKETPLACE)),
) -> Surges:
    """Regions whose orders in the last complete interval stand well above their own recent baseline (README:
    Surges, for the method and its settings)."""
    settings = request.app.state.settings
    interval = interval or settings.settlement_surge_interval
    if not timedelta(minutes=1) <= interval <= timedelta(days=1) or interval.total_seconds() % 60:
        raise field_error("interval", "must be whole minutes, from PT1M to P1D")
    rule = settings.surge_rule(interval)
    first, last = window(datetime.now(UTC), interval, rule)
    filters = _filters(
        principal, interval_start(first, interval), interval_start(last + 1, interval), marketplace=marketplace, region=region
    )
    judged = await q.judged_regions(request.app.state.pool, filters, interval, rule, first, last)
    regions = [
        RegionSurge(
            region=name, orders=j.count, baseline=j.baseline.mean, spread=j.baseline.spread(), score=round(j.score, 2), surging=j.surging
        )
        for name, j in judged
    ]
    regions.sort(key=lambda r: (not r.surging, -r.score))
    return Surges(interval=interval, interval_start=interval_start(last, interval), regions=regions)
