"""The API under attack, end to end: unstorable text, finished orders, repeated requests, oversized bodies,
absurd ids, signatures and event times (issue 8, items 1, 5, 6 and 10, API side)."""

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

from tests.integration.stack import new_order, signed, token

BUYER, SELLER, OPERATOR, MARKETPLACE = (
    token("buyer", "buyer_a"),
    token("seller", "seller_a"),
    token("operator", "ops"),
    token("marketplace", "market_a"),
)
JSON = {"Content-Type": "application/json"}


def _fields(response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [e["field"] for e in response.json()["errors"]]


async def _delivered_order(engine) -> str:
    order_id = (await engine.create())["order_id"]
    await engine.ship_and_deliver(order_id)
    return order_id


async def test_unstorable_text_is_422_naming_the_field_and_the_order_still_resolves(engine):
    order_id = await _delivered_order(engine)
    disputes = f"/v1/orders/{order_id}/disputes"
    nul = await engine.api.post(disputes, json={"reason": "damaged", "description": "mug broken\u0000"}, headers=BUYER)
    assert _fields(nul) == ["description"]
    surrogate = await engine.api.post(disputes, content=b'{"reason": "damaged", "description": "mug \\udc00"}', headers={**BUYER, **JSON})
    assert _fields(surrogate) == ["description"]
    assert (await engine.get(order_id)).json()["status"] == "awaiting_confirmation"

    opened = await engine.api.post(disputes, json={"reason": "damaged", "description": "mug broken\r\n\tlid missing"}, headers=BUYER)
    assert opened.status_code == 201, opened.text
    evidence = await engine.api.post(f"{disputes}/response", json={"evidence": "packed\u0007well"}, headers=SELLER)
    assert _fields(evidence) == ["evidence"]
    note = await engine.api.post(f"{disputes}/resolution", json={"outcome": "refund", "note": "\u0000"}, headers=OPERATOR)
    assert _fields(note) == ["note"]
    resolved = await engine.api.post(f"{disputes}/resolution", json={"outcome": "refund", "note": "reviewed"}, headers=OPERATOR)
    assert resolved.status_code == 200, resolved.text
    refunded = await engine.wait_for(order_id, "refunded")
    assert refunded["dispute"]["description"] == "mug broken\r\n\tlid missing"

    again = await engine.api.post(f"{disputes}/resolution", json={"outcome": "release", "note": "second thoughts"}, headers=OPERATOR)
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/invalid-transition"
    assert "refunded" in again.json()["detail"]  # the workflow's answer while it closes, the read model's after


async def test_a_cancel_reason_that_cannot_be_stored_is_422(engine):
    order_id = (await engine.create())["order_id"]
    await engine.wait_for(order_id, "awaiting_shipment")
    refused = await engine.api.post(f"/v1/orders/{order_id}/cancel", json={"reason": "oops\u0000"}, headers=OPERATOR)
    assert _fields(refused) == ["reason"]
    assert (await engine.api.post(f"/v1/orders/{order_id}/cancel", json={"reason": "oops"}, headers=OPERATOR)).status_code == 200
    await engine.wait_for(order_id, "cancelled")


async def test_actions_on_a_finished_order_are_409_naming_its_status(engine):
    order_id = await _delivered_order(engine)
    assert (await engine.api.post(f"/v1/orders/{order_id}/confirm-receipt", headers=BUYER)).status_code == 200
    await engine.wait_for(order_id, "settled")
    for path, headers, body in [
        ("confirm-receipt", BUYER, None),
        ("retry", OPERATOR, None),
        ("cancel", OPERATOR, None),
        ("disputes", BUYER, {"reason": "damaged", "description": "too late"}),
    ]:
        response = await engine.api.post(f"/v1/orders/{order_id}/{path}", json=body, headers=headers)
        assert response.status_code == 409, (path, response.text)
        assert response.json()["detail"].startswith(f"order {order_id} is settled:"), path
    assert (await engine.get(order_id)).json()["status"] == "settled"


async def test_an_idempotency_key_gets_the_first_answer_and_another_body_is_409(engine):
    order = new_order()
    keyed = {**MARKETPLACE, "Idempotency-Key": f"create-{order['order_id']}"}
    created = await engine.api.post("/v1/orders", json=order, headers=keyed)
    assert created.status_code == 201, created.text
    engine.created.append(order["order_id"])
    repeat = await engine.api.post("/v1/orders", json=order, headers=keyed)
    assert repeat.status_code == 201 and repeat.json() == created.json()
    assert repeat.headers["idempotent-replayed"] == "true" and repeat.headers["location"] == created.headers["location"]
    other = await engine.api.post("/v1/orders", json={**order, "shipping_fee": 999}, headers=keyed)
    assert other.status_code == 409 and other.json()["type"] == "/problems/idempotency-key-reused"

    order_id = order["order_id"]
    await engine.ship_and_deliver(order_id)
    confirm = {**BUYER, "Idempotency-Key": "confirm-1"}
    first = await engine.api.post(f"/v1/orders/{order_id}/confirm-receipt", headers=confirm)
    assert first.status_code == 200, first.text
    retried = await engine.api.post(f"/v1/orders/{order_id}/confirm-receipt", headers=confirm)  # the client timed out and retries
    assert retried.status_code == 200 and retried.json() == first.json() and retried.headers["idempotent-replayed"] == "true"
    unkeyed = await engine.api.post(f"/v1/orders/{order_id}/confirm-receipt", headers=BUYER)
    assert unkeyed.status_code == 409
    await engine.wait_for(order_id, "settled")


async def test_oversized_bodies_are_413_problems(engine):
    big_order = await engine.api.post("/v1/orders", json=new_order(payment_method="pm_" + "x" * 70_000), headers=MARKETPLACE)
    assert big_order.status_code == 413
    assert big_order.headers["content-type"] == "application/problem+json" and big_order.json()["status"] == 413

    async def chunks():
        for _ in range(100):
            yield b" " * 1024

    streamed = await engine.api.post("/v1/webhooks/fulfillment", content=chunks(), headers={**JSON, "X-Signature": "t=1,v1=" + "0" * 64})
    assert streamed.status_code == 413
    assert streamed.headers["content-type"] == "application/problem+json"


async def test_absurd_ids_and_signature_timestamps_are_refused_never_500(engine):
    for path in ["/v1/orders/a%00b", "/v1/orders/" + "x" * 300, "/v1/sellers/s%00/balance"]:
        assert (await engine.api.get(path, headers=OPERATOR)).status_code == 422, path
    assert (await engine.api.get("/v1/orders", params={"buyer_id": "b\x00"}, headers=OPERATOR)).status_code == 422
    assert (await engine.api.post("/v1/orders/a%00b/retry", headers=OPERATOR)).status_code == 422
    event = {
        "event_id": f"evt-{uuid.uuid4().hex}",
        "order_id": "no-such-order",
        "type": "shipped",
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    body = json.dumps(event).encode()
    for timestamp in ["9" * 5000, "9" * 40, "-1", "1e9"]:
        response = await engine.api.post(
            "/v1/webhooks/fulfillment", content=body, headers={**JSON, "X-Signature": f"t={timestamp},v1={'0' * 64}"}
        )
        assert response.status_code == 401, timestamp


async def test_a_delivery_in_the_future_or_before_the_order_is_422_and_changes_nothing(engine):
    order_id = (await engine.create())["order_id"]
    await engine.wait_for(order_id, "awaiting_shipment")
    assert (await engine.webhook(order_id, "shipped")).status_code == 202
    await engine.wait_for(order_id, "in_transit")
    now = datetime.now(UTC)
    for occurred_at in [now - timedelta(days=3), now + timedelta(hours=1)]:
        event = {"event_id": f"evt-{uuid.uuid4().hex}", "order_id": order_id, "type": "delivered", "occurred_at": occurred_at.isoformat()}
        body, headers = signed(event)
        assert _fields(await engine.api.post("/v1/webhooks/fulfillment", content=body, headers=headers)) == ["occurred_at"]
    await asyncio.sleep(0.5)
    assert (await engine.get(order_id)).json()["status"] == "in_transit"
    assert (await engine.webhook(order_id, "delivered")).status_code == 202
    delivered = await engine.wait_for(order_id, "awaiting_confirmation")
    confirm_by = datetime.fromisoformat(delivered["deadlines"]["confirm_by"])
    assert confirm_by > now + timedelta(days=7) - timedelta(minutes=1)
    await engine.api.post(f"/v1/orders/{order_id}/confirm-receipt", headers=BUYER)
    await engine.wait_for(order_id, "settled")
