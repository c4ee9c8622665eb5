"""What happens before the goods ship: declines, capture failures, cancellation and the ship-by deadline."""

from datetime import UTC, datetime, timedelta

from domain import order_steps as steps
from tests.integration.stack import token


async def _psp(pool, order_id: str) -> list[str]:
    rows = await pool.fetch("SELECT operation, outcome FROM sim.psp_operations WHERE order_id = $1 ORDER BY created_at", order_id)
    return [f"{r['operation']}:{r['outcome']}" for r in rows]


async def test_declined_card_fails_the_payment(engine, pool):
    created = await engine.create(payment_method="pm_card_declined")
    failed = await engine.wait_for(created["order_id"], "payment_failed")
    assert failed["decline_code"] == "card_declined"
    assert failed["amounts"]["authorized"] == 0
    assert await _psp(pool, created["order_id"]) == ["authorize:declined"]
    assert await pool.fetchval("SELECT count(*) FROM sim.fulfillment_orders WHERE order_id = $1", created["order_id"]) == 0


async def test_capture_failure_needs_attention_and_an_operator_cancels(engine, pool):
    created = await engine.create(payment_method="pm_card_capture_fails")
    order_id = created["order_id"]
    await engine.wait_for(order_id, "awaiting_shipment")
    await engine.webhook(order_id, "shipped")
    stuck = await engine.wait_for(order_id, "needs_attention")
    assert stuck["attention"]["step"] == steps.CAPTURE.label
    assert "capture refused" in stuck["attention"]["reason"]
    assert stuck["amounts"]["captured"] == 0

    buyer_cancel = await engine.api.post(f"/v1/orders/{order_id}/cancel", headers=token("buyer", "buyer_a"))
    assert buyer_cancel.status_code == 409
    cancelled = await engine.api.post(
        f"/v1/orders/{order_id}/cancel", json={"reason": "card cannot be captured"}, headers=token("operator", "ops")
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "card cannot be captured"
    assert await _psp(pool, order_id) == ["authorize:succeeded", "void:succeeded"]


async def test_ship_by_lapsing_cancels_and_voids(engine, pool):
    ship_by = (datetime.now(UTC) + timedelta(seconds=3)).isoformat()
    created = await engine.create(ship_by=ship_by)
    order_id = created["order_id"]
    cancelled = await engine.wait_for(order_id, "cancelled", timeout=30)
    assert "ship-by deadline lapsed" in cancelled["cancel_reason"]
    assert await _psp(pool, order_id) == ["authorize:succeeded", "void:succeeded"]
    assert await pool.fetchval("SELECT status FROM sim.fulfillment_orders WHERE order_id = $1", order_id) == "cancelled"


async def test_buyer_cancels_before_shipment_but_not_after(engine, pool):
    first = await engine.create()
    await engine.wait_for(first["order_id"], "awaiting_shipment")
    response = await engine.api.post(f"/v1/orders/{first['order_id']}/cancel", headers=token("buyer", "buyer_a"))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert await _psp(pool, first["order_id"]) == ["authorize:succeeded", "void:succeeded"]

    second = await engine.create()
    await engine.ship_and_deliver(second["order_id"])
    late = await engine.api.post(f"/v1/orders/{second['order_id']}/cancel", headers=token("buyer", "buyer_a"))
    assert late.status_code == 409
    assert late.headers["content-type"] == "application/problem+json"
    assert (await engine.get(second["order_id"])).json()["status"] == "awaiting_confirmation"
    await engine.api.post(f"/v1/orders/{second['order_id']}/confirm-receipt", headers=token("buyer", "buyer_a"))
    await engine.wait_for(second["order_id"], "settled")


async def test_another_buyer_cannot_cancel(engine):
    created = await engine.create()
    await engine.wait_for(created["order_id"], "awaiting_shipment")
    response = await engine.api.post(f"/v1/orders/{created['order_id']}/cancel", headers=token("buyer", "buyer_b"))
    assert response.status_code == 404
    await engine.api.post(f"/v1/orders/{created['order_id']}/cancel", headers=token("operator", "ops"))
    await engine.wait_for(created["order_id"], "cancelled")
