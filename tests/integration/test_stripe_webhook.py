"""Stripe's dispute webhook end to end: events signed by Stripe's scheme name the PaymentIntent (the order's capture);
the engine finds the order by it and takes the chargeback as it takes the payments webhook's, its outcome too."""

import hmac
import json
import time
import uuid
from hashlib import sha256

from tests.integration.stack import STRIPE_WEBHOOK_SECRET, token
from tests.integration.test_seller_payouts import settle_order, until

OPERATOR = token("operator", "ops")


def stripe_event(type_: str, dispute_id: str, payment_intent: str, status: str, amount: int = 600) -> dict:
    dispute = {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount,
        "currency": "usd",
        "payment_intent": payment_intent,
        "reason": "product_not_received",
        "status": status,
    }
    return {"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": type_, "created": int(time.time()), "data": {"object": dispute}}


async def send(engine, event: dict, secret: str = STRIPE_WEBHOOK_SECRET):
    payload = json.dumps(event).encode()
    stamp = int(time.time())
    signature = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, sha256).hexdigest()
    headers = {"Stripe-Signature": f"t={stamp},v1={signature}", "Content-Type": "application/json"}
    return await engine.api.post("/v1/webhooks/stripe", content=payload, headers=headers)


async def test_a_stripe_dispute_becomes_the_orders_chargeback_and_its_outcome_follows(engine, pool):
    seller = f"stripe-{uuid.uuid4().hex[:8]}"
    order_id = (await settle_order(engine, seller))["order_id"]
    capture = await pool.fetchval("SELECT state->>'capture_id' FROM orders WHERE order_id = $1", order_id)
    dispute = f"dp_{uuid.uuid4().hex[:12]}"

    assert (
        await send(engine, stripe_event("charge.dispute.created", dispute, capture, "needs_response"), "whsec_wrong")
    ).status_code == 401
    unknown = await send(engine, stripe_event("charge.dispute.created", dispute, "pi_unknown", "needs_response"))
    assert unknown.status_code == 202 and unknown.json()["status"] == "ignored"  # not this engine's payment
    ignored = await send(engine, stripe_event("charge.refunded", dispute, capture, "needs_response"))
    assert ignored.status_code == 202 and ignored.json()["status"] == "ignored"
    inquiry = await send(engine, stripe_event("charge.dispute.created", dispute, capture, "warning_needs_response"))
    assert inquiry.json()["status"] == "ignored"  # an inquiry takes no money
    too_much = await send(engine, stripe_event("charge.dispute.created", dispute, capture, "needs_response", amount=3001))
    assert too_much.status_code == 422

    opened = await send(engine, stripe_event("charge.dispute.created", dispute, capture, "needs_response"))
    assert opened.status_code == 202 and opened.json()["status"] == "accepted", opened.text
    url = f"/v1/sellers/{seller}/chargebacks/{dispute}"

    async def chargeback():
        return await engine.api.get(url, headers=OPERATOR)

    seen = await until(chargeback, lambda r: r.status_code == 200, "recorded the Stripe dispute")
    assert (seen.json()["order_id"], seen.json()["amount"], seen.json()["status"]) == (order_id, 600, "opened")
    assert (await send(engine, stripe_event("charge.dispute.closed", dispute, capture, "won"))).status_code == 202
    await until(chargeback, lambda r: r.json()["status"] == "won", "heard the dispute was won")
    balance = (await engine.api.get(f"/v1/sellers/{seller}/balance", headers=OPERATOR)).json()["balances"][0]
    assert balance["owed"] == 0  # the reversal is written with the status: the seller owes nothing


async def test_operators_set_where_a_seller_is_paid_at_stripe(engine):
    seller = f"stripe-{uuid.uuid4().hex[:8]}"
    url = f"/v1/sellers/{seller}/payment-account"
    mine = token("seller", seller)
    assert (await engine.api.get(url, headers=OPERATOR)).status_code == 404
    assert (await engine.api.put(url, json={"stripe_account": "acct_1Abc"}, headers=mine)).status_code == 403
    for bad in ({"stripe_account": "not-an-account"}, {"stripe_account": "acct_"}, {}, {"stripe_account": "acct_1Abc", "x": 1}):
        assert (await engine.api.put(url, json=bad, headers=OPERATOR)).status_code == 422, bad
    put = await engine.api.put(url, json={"stripe_account": "acct_1Abc"}, headers=OPERATOR)
    assert put.status_code == 200 and put.json() == {"seller_id": seller, "stripe_account": "acct_1Abc"}
    assert (await engine.api.put(url, json={"stripe_account": "acct_2Def"}, headers=OPERATOR)).status_code == 200
    assert (await engine.api.get(url, headers=mine)).json()["stripe_account"] == "acct_2Def"
    assert (await engine.api.get(url, headers=token("seller", "someone-else"))).status_code == 404
