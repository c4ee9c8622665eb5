"""After-sales end to end: disputes, returns, the network's faults and late delivery, through HTTP.
The stack runs with a 5 s seller-response window and a 5 s return window (conftest.py)."""

from datetime import UTC, datetime, timedelta

from domain import order_steps as steps
from domain.ledger import SETTLED_SUFFIX
from tests.integration.stack import token
from tests.ledger_reads import entries_for_order

BUYER, SELLER, OPERATOR = token("buyer", "buyer_a"), token("seller", "seller_a"), token("operator", "ops")


async def _dispute(engine, order_id: str, reason: str = "damaged"):
    return await engine.api.post(
        f"/v1/orders/{order_id}/disputes", json={"reason": reason, "description": "box crushed, mug broken"}, headers=BUYER
    )


async def _resolve(engine, order_id: str, outcome: str, **extra):
    return await engine.api.post(
        f"/v1/orders/{order_id}/disputes/resolution", json={"outcome": outcome, "note": "reviewed", **extra}, headers=OPERATOR
    )


async def _key_suffixes(pool, order_id: str) -> list[str]:
    """The step keys of the order's ledger entries, in the order they were written."""
    return [e["idempotency_key"].split(":", 1)[1] for e in await entries_for_order(pool, order_id)]


def _disbursed(money: steps.MoneyOut) -> list[str]:
    """A disbursement's two entries: reserved under its key, settled under the key and SETTLED_SUFFIX."""
    return [money.key, money.key + SETTLED_SUFFIX]


async def _delivered_order(engine, **overrides) -> str:
    created = await engine.create(**overrides)
    await engine.ship_and_deliver(created["order_id"])
    return created["order_id"]


async def test_damaged_goods_evidence_then_operator_refunds(engine, pool):
    order_id = await _delivered_order(engine)
    opened = await _dispute(engine, order_id)
    assert opened.status_code == 201, opened.text
    assert opened.json()["status"] == "disputed"
    assert opened.json()["deadlines"]["seller_response_by"] is not None
    answered = await engine.api.post(
        f"/v1/orders/{order_id}/disputes/response", json={"evidence": "photos of careful packing"}, headers=SELLER
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["dispute"]["seller_response"]["evidence"] == "photos of careful packing"
    resolved = await _resolve(engine, order_id, "refund")
    assert resolved.status_code == 200, resolved.text
    refunded = await engine.wait_for(order_id, "refunded")
    assert refunded["amounts"]["refunded"] == 3000 and refunded["amounts"]["fees"] == 0 and refunded["amounts"]["paid_out"] == 0
    assert refunded["dispute"]["resolved_by"] == "operator:ops"
    assert await _key_suffixes(pool, order_id) == [steps.CAPTURE.key, *_disbursed(steps.REFUND)]


async def test_operator_resolving_twice_is_409(engine):
    order_id = await _delivered_order(engine)
    await _dispute(engine, order_id)
    assert (await _resolve(engine, order_id, "release")).status_code == 200
    again = await _resolve(engine, order_id, "refund")
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    settled = await engine.wait_for(order_id, "settled")
    assert settled["amounts"]["refunded"] == 0


async def test_partial_refund_settles_with_the_remainder_paid_out(engine, pool):
    order_id = await _delivered_order(engine)
    await _dispute(engine, order_id, "missing_items")
    too_much = await _resolve(engine, order_id, "partial_refund", refund_amount=3001)
    assert too_much.status_code == 409
    no_amount = await _resolve(engine, order_id, "partial_refund")
    assert no_amount.status_code == 422
    assert (await _resolve(engine, order_id, "partial_refund", refund_amount=1000)).status_code == 200
    settled = await engine.wait_for(order_id, "settled")
    a = settled["amounts"]
    # Fees on the remaining 2000: referral 8 % = 160, fulfillment 2 x 250 = 500.
    assert (a["refunded"], a["fees"], a["paid_out"]) == (1000, 660, 1340)
    assert await _key_suffixes(pool, order_id) == [
        steps.CAPTURE.key,
        *_disbursed(steps.PARTIAL_REFUND),
        steps.RELEASE.key,
        *_disbursed(steps.PAYOUT),
    ]


async def test_return_and_refund(engine, pool):
    order_id = await _delivered_order(engine)
    await _dispute(engine, order_id, "not_as_described")
    resolved = await _resolve(engine, order_id, "return_and_refund")
    assert resolved.json()["status"] == "awaiting_return"
    assert resolved.json()["deadlines"]["return_by"] is not None
    assert (await engine.webhook(order_id, "return_shipped")).status_code == 202
    assert (await engine.webhook(order_id, "return_received")).status_code == 202
    refunded = await engine.wait_for(order_id, "refunded")
    assert refunded["return_shipment"]["received_at"] is not None
    assert refunded["amounts"]["refunded"] == 3000
    assert await pool.fetchval("SELECT status FROM sim.fulfillment_orders WHERE order_id = $1", order_id) == "return_requested"


async def test_return_never_shipped_releases_to_the_seller(engine):
    order_id = await _delivered_order(engine)
    await _dispute(engine, order_id, "not_as_described")
    await _resolve(engine, order_id, "return_and_refund")
    settled = await engine.wait_for(order_id, "settled", timeout=30)
    assert any("not shipped in time" in t["detail"] for t in settled["timeline"])
    assert settled["amounts"]["refunded"] == 0 and settled["amounts"]["paid_out"] > 0


async def test_silent_seller_grants_the_buyers_claim(engine):
    order_id = await _delivered_order(engine)
    await _dispute(engine, order_id, "not_received")
    refunded = await engine.wait_for(order_id, "refunded", timeout=30)
    assert refunded["dispute"]["resolved_by"] == "policy"
    late_answer = await engine.api.post(f"/v1/orders/{order_id}/disputes/response", json={"accept_refund": True}, headers=SELLER)
    assert late_answer.status_code == 409


async def test_seller_accepts_the_refund(engine):
    order_id = await _delivered_order(engine)
    await _dispute(engine, order_id)
    accepted = await engine.api.post(f"/v1/orders/{order_id}/disputes/response", json={"accept_refund": True}, headers=SELLER)
    assert accepted.status_code == 200, accepted.text
    refunded = await engine.wait_for(order_id, "refunded")
    assert refunded["dispute"]["resolved_by"] == "seller"


async def test_dispute_roles_and_window(engine):
    order_id = await _delivered_order(engine, confirmation_window="PT2S")
    assert (
        await engine.api.post(f"/v1/orders/{order_id}/disputes", json={"reason": "damaged", "description": "x"}, headers=SELLER)
    ).status_code == 403
    other_buyer = token("buyer", "buyer_b")
    assert (
        await engine.api.post(f"/v1/orders/{order_id}/disputes", json={"reason": "damaged", "description": "x"}, headers=other_buyer)
    ).status_code == 404
    bad_reason = await engine.api.post(f"/v1/orders/{order_id}/disputes", json={"reason": "bored", "description": "x"}, headers=BUYER)
    assert bad_reason.status_code == 422
    await engine.wait_for(order_id, "settled", timeout=30)
    after_window = await _dispute(engine, order_id)
    assert after_window.status_code == 409


async def test_second_dispute_is_409(engine):
    order_id = await _delivered_order(engine)
    assert (await _dispute(engine, order_id)).status_code == 201
    assert (await _dispute(engine, order_id)).status_code == 409
    await _resolve(engine, order_id, "refund")
    await engine.wait_for(order_id, "refunded")


async def test_lost_in_transit_refunds_the_buyer_and_the_network_reimburses_the_seller(engine, pool):
    created = await engine.create(seller_id="seller_lost")
    order_id = created["order_id"]
    await engine.wait_for(order_id, "awaiting_shipment")
    await engine.webhook(order_id, "shipped")
    await engine.wait_for(order_id, "in_transit")
    await engine.webhook(order_id, "lost")
    refunded = await engine.wait_for(order_id, "refunded")
    a = refunded["amounts"]
    assert a["refunded"] == 3000 and a["reimbursed"] == 3000 - created["fees"]["referral"] - created["fees"]["fulfillment"]
    assert refunded["dispute"]["fault"] == "fulfillment_network"
    assert await _key_suffixes(pool, order_id) == [
        steps.CAPTURE.key,
        *_disbursed(steps.REFUND),
        steps.REIMBURSEMENT.key,
        *_disbursed(steps.REIMBURSEMENT_PAYOUT),
    ]
    balance = (await engine.api.get("/v1/sellers/seller_lost/balance", headers=token("seller", "seller_lost"))).json()
    assert balance["balances"] == [
        {"currency": "USD", "in_escrow": 0, "available": 0, "reserved": 0, "owed": 0, "paid_out": a["reimbursed"]}
    ]


async def test_late_delivery_compensates_the_buyer_and_the_order_carries_on(engine, pool):
    now = datetime.now(UTC)
    created = await engine.create(ship_by=(now + timedelta(seconds=8)).isoformat(), deliver_by=(now + timedelta(seconds=12)).isoformat())
    order_id = created["order_id"]
    await engine.wait_for(order_id, "awaiting_shipment")
    await engine.webhook(order_id, "shipped")
    await engine.wait_for(order_id, "in_transit")
    compensated = await _wait_compensated(engine, order_id)
    assert compensated["amounts"]["compensated"] == 300
    await engine.webhook(order_id, "delivered")
    await engine.wait_for(order_id, "awaiting_confirmation")
    await engine.api.post(f"/v1/orders/{order_id}/confirm-receipt", headers=BUYER)
    settled = await engine.wait_for(order_id, "settled")
    assert settled["amounts"]["compensated"] == 300
    assert await _key_suffixes(pool, order_id) == [
        steps.CAPTURE.key,
        *_disbursed(steps.LATE_DELIVERY_COMPENSATION),
        steps.RELEASE.key,
        *_disbursed(steps.PAYOUT),
    ]
    credits = await pool.fetchval("SELECT count(*) FROM sim.psp_operations WHERE order_id = $1 AND operation = 'credit'", order_id)
    assert credits == 1


async def _wait_compensated(engine, order_id: str) -> dict:
    import asyncio

    for _ in range(150):
        order = (await engine.get(order_id)).json()
        if order["amounts"]["compensated"]:
            return order
        await asyncio.sleep(0.2)
    raise AssertionError(f"order {order_id} was never compensated: {order['timeline']}")


async def test_statement_lists_every_movement_as_json_and_csv(engine):
    order_id = await _delivered_order(engine, seller_id="seller_statement")
    await _dispute(engine, order_id, "missing_items")
    await _resolve(engine, order_id, "partial_refund", refund_amount=1000)
    await engine.wait_for(order_id, "settled")
    seller = token("seller", "seller_statement")
    body = (await engine.api.get("/v1/sellers/seller_statement/statement", headers=seller)).json()
    assert [(line["kind"], line["amount"]) for line in body["lines"]] == [
        ("sale", 3000),
        ("refund", 1000),
        ("referral_fee", 160),
        ("fulfillment_fee", 500),
        ("payout", 1340),
    ]
    assert body["net_by_currency"] == {"USD": 0}
    csv_response = await engine.api.get("/v1/sellers/seller_statement/statement", headers={**seller, "Accept": "text/csv"})
    assert csv_response.headers["content-type"].startswith("text/csv")
    rows = csv_response.text.strip().splitlines()
    assert rows[0].startswith("at,order_id,kind,amount,currency,seller_effect")
    assert len(rows) == 6 and ",payout,1340,USD,-1340," in rows[-1]
    assert (await engine.api.get("/v1/sellers/seller_statement/statement", headers=token("seller", "nosy"))).status_code == 404
    bad = await engine.api.get(
        "/v1/sellers/seller_statement/statement", params={"from": "2030-01-01T00:00:00Z", "to": "2029-01-01T00:00:00Z"}, headers=seller
    )
    assert bad.status_code == 422
