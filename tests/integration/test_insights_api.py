"""The insights API end to end: orders placed and moved through the HTTP API show in the running totals at once,
each caller sees what is theirs, and bad periods and intervals are refused."""

import asyncio
import uuid

import pytest

from domain.fx import convert
from tests.integration.stack import token

BAVARIA = {"country": "DE", "subdivision": "DE-BY"}
PARIS = {"country": "FR", "subdivision": "FR-75C"}


@pytest.fixture(scope="module")
async def market(engine):
    """A marketplace of its own: three orders (two to Bavaria, one to Paris), one settled, one disputed."""
    name = f"mk_{uuid.uuid4().hex[:8]}"
    seller = f"seller_{name}"
    settled = await engine.create(marketplace=name, seller_id=seller, ship_to=BAVARIA)
    disputed = await engine.create(marketplace=name, seller_id=seller, ship_to=BAVARIA)
    waiting = await engine.create(marketplace=name, seller_id=seller, ship_to=PARIS)
    for order in (settled, disputed):
        await engine.ship_and_deliver(order["order_id"])
    confirmed = await engine.api.post(f"/v1/orders/{settled['order_id']}/confirm-receipt", headers=token("buyer", "buyer_a"))
    assert confirmed.status_code == 200, confirmed.text
    dispute = {"reason": "not_as_described", "description": "blue, not red"}
    opened = await engine.api.post(f"/v1/orders/{disputed['order_id']}/disputes", json=dispute, headers=token("buyer", "buyer_a"))
    assert opened.status_code == 201, opened.text
    await engine.wait_for(settled["order_id"], "settled")
    await engine.wait_for(waiting["order_id"], "awaiting_shipment")
    return {"name": name, "seller": seller, "gross": settled["amounts"]["total"]}


async def insight(engine, what: str, role: str = "operator", sub: str = "ops", **params):
    return await engine.api.get(f"/v1/insights/{what}", params=params, headers=token(role, sub))


async def test_volume_per_region_and_currency(engine, market):
    answer = await insight(engine, "volume", marketplace=market["name"], step="day")

    assert answer.status_code == 200, answer.text
    points = {(p["region"], p["currency"]): (p["orders"], p["gross"]) for p in answer.json()["points"]}
    assert points == {("DE-BY", "USD"): (2, 2 * market["gross"]), ("FR-75C", "USD"): (1, market["gross"])}


async def test_a_marketplace_sees_its_own_figures_whatever_it_asks(engine, market):
    own = await insight(engine, "volume", "marketplace", market["name"], marketplace="someone_else", step="day")

    assert own.status_code == 200, own.text
    assert sum(p["orders"] for p in own.json()["points"]) == 3


async def test_pages_of_volume_follow_each_other(engine, market):
    first = (await insight(engine, "volume", marketplace=market["name"], step="day", limit=1)).json()
    second = (await insight(engine, "volume", marketplace=market["name"], step="day", limit=1, after=first["next_cursor"])).json()

    assert [p["region"] for p in first["points"] + second["points"]] == ["DE-BY", "FR-75C"]
    assert second["next_cursor"] is None


async def test_the_funnel_counts_statuses_and_times_stages(engine, market):
    answer = await insight(engine, "funnel", marketplace=market["name"])

    assert answer.status_code == 200, answer.text
    funnel = answer.json()
    assert funnel["statuses"] == {"settled": 1, "disputed": 1, "awaiting_shipment": 1}
    stages = {s["stage"]: s for s in funnel["stages"]}
    assert stages["placed_to_shipped"]["orders"] == 2 and stages["placed_to_shipped"]["p50_seconds"] > 0
    assert stages["placed_to_payout"]["orders"] == 1


async def test_disputes_by_reason_and_by_seller(engine, market):
    by_reason = (await insight(engine, "disputes", marketplace=market["name"], group_by="reason")).json()
    by_seller = await insight(engine, "disputes", "seller", market["seller"], group_by="seller")

    assert [(g["key"], g["counts"]) for g in by_reason["groups"]] == [("not_as_described", {"disputed": 1})]
    assert by_seller.status_code == 200, by_seller.text
    (mine,) = by_seller.json()["groups"]
    assert mine["key"] == market["seller"]
    assert mine["counts"] == {"placed": 3, "shipped": 2, "delivered": 2, "disputed": 1}
    assert mine["dispute_rate"] == 0.5


async def test_surges_answer_per_region(engine, market):
    answer = await insight(engine, "surges", marketplace=market["name"], interval="PT1M")

    assert answer.status_code == 200, answer.text
    assert answer.json()["interval"] == "PT1M"
    assert all(not r["surging"] for r in answer.json()["regions"])  # three orders are no surge


@pytest.mark.parametrize(
    "what, params, status",
    [
        ("volume", {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, 422),
        ("volume", {"since": "2024-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, 422),
        ("volume", {"region": "Bavaria"}, 422),
        ("volume", {"reporting_currency": "XAU"}, 422),
        ("surges", {"interval": "PT30S"}, 422),
        ("surges", {"interval": "P2D"}, 422),
        ("disputes", {"group_by": "buyer"}, 422),
        ("volume", {"after": "999999999999~TC~WPP"}, 422),  # a cursor past the year 9999
    ],
)
async def test_bad_periods_filters_and_intervals_are_refused(engine, what, params, status):
    answer = await insight(engine, what, **params)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("what, role", [("volume", "buyer"), ("funnel", "seller"), ("surges", "seller"), ("disputes", "buyer")])
async def test_who_may_not_look(engine, what, role):
    assert (await insight(engine, what, role, "someone")).status_code == 403


async def test_volume_adds_up_in_the_reporting_currency_at_reference_rates(engine, pool):
    name = f"mk_{uuid.uuid4().hex[:8]}"
    euros = await engine.create(marketplace=name, currency="EUR", ship_to=BAVARIA)
    dollars = await engine.create(marketplace=name, currency="USD", ship_to=BAVARIA)
    for order in (euros, dollars):  # recorded by the workflow, a moment after the API placed it
        await engine.wait_for(order["order_id"], "awaiting_shipment")
    rate = None
    for _ in range(60):  # the worker keeps the rates from its start, once the FX source answers
        if rate := await pool.fetchval("SELECT mid_rate FROM reference_rates WHERE currency = 'EUR' AND reporting = 'USD'"):
            break
        await asyncio.sleep(0.5)
    assert rate is not None

    answer = (await insight(engine, "volume", marketplace=name, step="day")).json()

    assert answer["reporting_currency"] == "USD" and answer["rates_as_of"] is not None, answer["points"]
    points = {p["currency"]: p for p in answer["points"]}
    assert points["USD"]["gross_reporting"] == dollars["amounts"]["total"]
    assert points["EUR"]["gross_reporting"] == convert(euros["amounts"]["total"], "EUR", "USD", rate)
    in_pounds = (await insight(engine, "volume", marketplace=name, step="day", reporting_currency="GBP")).json()
    assert in_pounds["reporting_currency"] == "GBP" and all(p["gross_reporting"] for p in in_pounds["points"])
