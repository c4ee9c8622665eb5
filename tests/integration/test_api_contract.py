"""The API's contract: idempotent creation, roles and owners, problem documents, validation, listing."""

from datetime import UTC

import pytest

from tests.integration.stack import new_order, token

MARKETPLACE = token("marketplace", "market_a")


def _in_days(days: int) -> str:
    from datetime import datetime, timedelta

    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def test_identical_repeat_is_200_and_conflicting_repeat_is_409(engine):
    order = new_order()
    first = await engine.api.post("/v1/orders", json=order, headers=MARKETPLACE)
    assert first.status_code == 201
    assert first.headers["location"] == f"/v1/orders/{order['order_id']}"
    await engine.wait_for(order["order_id"], "awaiting_shipment")
    again = await engine.api.post("/v1/orders", json=order, headers=MARKETPLACE)
    assert again.status_code == 200
    assert again.json()["order_id"] == order["order_id"]
    assert again.json()["status"] == "awaiting_shipment"
    conflicting = await engine.api.post("/v1/orders", json={**order, "shipping_fee": 999}, headers=MARKETPLACE)
    assert conflicting.status_code == 409
    assert conflicting.headers["content-type"] == "application/problem+json"
    assert conflicting.json()["status"] == 409
    await engine.api.post(f"/v1/orders/{order['order_id']}/cancel", headers=token("operator", "ops"))
    await engine.wait_for(order["order_id"], "cancelled")


async def test_owners_see_their_orders_and_nobody_else_does(engine):
    created = await engine.create(buyer_id="buyer_own", seller_id="seller_own")
    order_id = created["order_id"]
    assert (await engine.get(order_id, "buyer", "buyer_own")).status_code == 200
    assert (await engine.get(order_id, "seller", "seller_own")).status_code == 200
    assert (await engine.get(order_id, "operator", "anyone")).status_code == 200
    other = await engine.get(order_id, "buyer", "buyer_other")
    assert other.status_code == 404
    assert other.json()["title"] == "Not found"
    assert (await engine.get(order_id, "seller", "seller_other")).status_code == 404
    assert (await engine.get("no-such-order")).status_code == 404
    await engine.wait_for(order_id, "awaiting_shipment")
    await engine.api.post(f"/v1/orders/{order_id}/cancel", headers=token("buyer", "buyer_own"))
    await engine.wait_for(order_id, "cancelled")


async def test_roles_are_enforced(engine):
    created = await engine.create()
    order_id = created["order_id"]
    await engine.ship_and_deliver(order_id)
    by_seller = await engine.api.post(f"/v1/orders/{order_id}/confirm-receipt", headers=token("seller", "seller_a"))
    assert by_seller.status_code == 403
    assert by_seller.headers["content-type"] == "application/problem+json"
    buyer_creates = await engine.api.post("/v1/orders", json=new_order(), headers=token("buyer", "buyer_a"))
    assert buyer_creates.status_code == 403
    no_token = await engine.api.get(f"/v1/orders/{order_id}")
    assert no_token.status_code == 401
    bad_token = await engine.api.get(f"/v1/orders/{order_id}", headers={"Authorization": "Bearer not-a-jwt"})
    assert bad_token.status_code == 401
    retry_not_stuck = await engine.api.post(f"/v1/orders/{order_id}/retry", headers=token("operator", "ops"))
    assert retry_not_stuck.status_code == 409
    ok = await engine.api.post(f"/v1/orders/{order_id}/confirm-receipt", headers=token("buyer", "buyer_a"))
    assert ok.status_code == 200
    twice = await engine.api.post(f"/v1/orders/{order_id}/confirm-receipt", headers=token("buyer", "buyer_a"))
    assert twice.status_code == 409
    await engine.wait_for(order_id, "settled")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"items": [{"sku": "a", "quantity": 0, "unit_price": 100}]}, "items.0.quantity"),
        ({"items": [{"sku": "a", "quantity": -1, "unit_price": 100}]}, "items.0.quantity"),
        ({"items": [{"sku": "a", "quantity": 1, "unit_price": 0}]}, "items.0.unit_price"),
        ({"items": [{"sku": "a", "quantity": 1, "unit_price": -5}]}, "items.0.unit_price"),
        ({"items": []}, "items"),
        ({"currency": "ABC"}, "currency"),
        ({"currency": "XAU"}, "currency"),
        ({"order_id": "has spaces"}, "order_id"),
        ({"order_id": "x" * 65}, "order_id"),
        ({"shipping_fee": -1}, "shipping_fee"),
        ({"confirmation_window": "P400D"}, ""),  # a rule between fields names the body as a whole: no field
        ({"ship_by": "2020-01-01T00:00:00Z"}, "ship_by"),
        ({"ship_by": "2030-01-01T00:00:00Z", "deliver_by": "2029-01-01T00:00:00Z"}, ""),
        ({"settlement_currency": "XAU"}, "settlement_currency"),  # not a tradeable currency
        ({"settlement_currency": "NGN"}, "settlement_currency"),  # tradeable, but not one the engine converts to
        ({"unexpected": 1}, "unexpected"),
        ({"items": [{"sku": "a", "quantity": 10_000, "unit_price": 10**12}]}, ""),  # total beyond 10**15
        ({"ship_by": _in_days(2), "deliver_by": _in_days(70)}, "deliver_by"),  # more than 60 days in transit
    ],
)
async def test_invalid_orders_are_422_naming_the_field(engine, change, field):
    response = await engine.api.post("/v1/orders", json=new_order(**change), headers=MARKETPLACE)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["status"] == 422
    assert field in [e["field"] for e in problem["errors"]]


async def test_deliver_by_before_ship_by_names_both(engine):
    response = await engine.api.post(
        "/v1/orders", json=new_order(ship_by="2030-01-01T00:00:00Z", deliver_by="2029-01-01T00:00:00Z"), headers=MARKETPLACE
    )
    assert response.status_code == 422
    assert "deliver_by" in response.json()["detail"]


async def test_malformed_json_is_a_problem_not_a_500(engine):
    response = await engine.api.post("/v1/orders", content=b"{not json", headers={**MARKETPLACE, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_listing_is_scoped_to_the_caller_and_paginates(engine):
    ids = [(await engine.create(buyer_id="buyer_list", seller_id="seller_list"))["order_id"] for _ in range(3)]
    unrelated = await engine.create(buyer_id="buyer_unrelated")
    for order_id in [*ids, unrelated["order_id"]]:  # the read model follows the workflow within moments
        await engine.wait_for(order_id, "awaiting_shipment")
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await engine.api.get("/v1/orders", params=params, headers=token("buyer", "buyer_list"))).json()
        seen += [o["order_id"] for o in page["orders"]]
        assert all(o["buyer_id"] == "buyer_list" for o in page["orders"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids)
    by_seller = (await engine.api.get("/v1/orders", params={"seller_id": "seller_list"}, headers=token("operator", "ops"))).json()
    assert sorted(o["order_id"] for o in by_seller["orders"]) == sorted(ids)
    for garbage in ("garbage", "NQ==", "WzEsMl0="):  # not base64 JSON; the JSON 5; the JSON [1,2]
        bad_cursor = await engine.api.get("/v1/orders", params={"cursor": garbage}, headers=token("operator", "ops"))
        assert bad_cursor.status_code == 422, garbage
    bad_status = await engine.api.get("/v1/orders", params={"status": "nonsense"}, headers=token("operator", "ops"))
    assert bad_status.status_code == 422
    for order_id in [*ids, unrelated["order_id"]]:
        await engine.api.post(f"/v1/orders/{order_id}/cancel", headers=token("operator", "ops"))


async def test_health_readiness_metrics_and_openapi(engine):
    assert (await engine.api.get("/healthz")).json() == {"status": "ok"}
    assert (await engine.api.get("/readyz")).json() == {"status": "ready"}
    metrics = (await engine.api.get("/metrics")).text
    assert "settlement_http_requests_total" in metrics
    spec = (await engine.api.get("/openapi.json")).json()
    assert {"/v1/orders", "/v1/orders/{order_id}", "/v1/webhooks/fulfillment", "/v1/sellers/{seller_id}/balance"} <= set(spec["paths"])


async def test_a_marketplace_creates_and_reads_only_its_own_orders(engine):
    order = new_order(marketplace="market_b")
    refused = await engine.api.post("/v1/orders", json=order, headers=MARKETPLACE)
    assert refused.status_code == 403
    created = await engine.api.post("/v1/orders", json=order, headers=token("marketplace", "market_b"))
    assert created.status_code == 201
    await engine.wait_for(order["order_id"], "awaiting_shipment")
    assert (await engine.get(order["order_id"], "marketplace", "market_a")).status_code == 404
    assert (await engine.get(order["order_id"], "marketplace", "market_b")).status_code == 200
    await engine.api.post(f"/v1/orders/{order['order_id']}/cancel", headers=token("operator", "ops"))
    await engine.wait_for(order["order_id"], "cancelled")
