"""From order to payout, through the HTTP API, the dev server, PostgreSQL and the simulators."""

from domain import order_steps as steps
from domain.ledger import SETTLED_SUFFIX, entry_key
from domain.order_state import workflow_id_for
from tests.integration.stack import token
from tests.ledger_reads import entries_for_order


async def test_confirmed_order_is_paid_out_through_the_simulated_carrier(engine, pool):
    created = await engine.create()
    order_id = created["order_id"]
    assert created["status"] == "payment_pending"
    assert created["amounts"]["total"] == 3000
    assert created["workflow"]["id"] == workflow_id_for(order_id)

    await engine.wait_for(order_id, "awaiting_shipment")
    await engine.carrier(order_id, "shipped")
    in_transit = await engine.wait_for(order_id, "in_transit")
    assert in_transit["amounts"]["captured"] == 3000
    assert in_transit["tracking"] == "SIMTRACK"
    await engine.carrier(order_id, "delivered")
    awaiting = await engine.wait_for(order_id, "awaiting_confirmation")
    assert awaiting["deadlines"]["confirm_by"] is not None

    confirmed = await engine.api.post(f"/v1/orders/{order_id}/confirm-receipt", headers=token("buyer", "buyer_a"))
    assert confirmed.status_code == 200, confirmed.text
    settled = await engine.wait_for(order_id, "settled")
    fees = settled["fees"]["referral"] + settled["fees"]["fulfillment"]
    assert settled["amounts"] == {
        "total": 3000,
        "authorized": 3000,
        "captured": 3000,
        "refunded": 0,
        "fees": fees,
        "paid_out": 3000 - fees,
        "compensated": 0,
        "reimbursed": 0,
    }
    assert [t["status"] for t in settled["timeline"]] == [
        "payment_pending",
        "awaiting_shipment",
        "in_transit",
        "awaiting_confirmation",
        "payout_pending",
        "settled",
    ]
    assert "buyer confirmed receipt" in settled["timeline"][4]["detail"]

    entries = await entries_for_order(pool, order_id)
    workflow_id = workflow_id_for(order_id)
    assert [(e["kind"], e["idempotency_key"]) for e in entries] == [
        ("capture", entry_key(workflow_id, steps.CAPTURE.key)),
        ("release", entry_key(workflow_id, steps.RELEASE.key)),
        ("payout", entry_key(workflow_id, steps.PAYOUT.key)),
        ("payout", entry_key(workflow_id, steps.PAYOUT.key) + SETTLED_SUFFIX),
    ]
    pending = await pool.fetchval("SELECT balance FROM ledger_accounts WHERE code = $1", f"pending:payout:{order_id}:USD")
    assert pending == 0  # reserved before the provider paid, settled after
    events = await pool.fetch("SELECT status FROM order_events WHERE order_id = $1 ORDER BY seq", order_id)
    assert [e["status"] for e in events][-1] == "settled"


async def test_confirmation_window_lapsing_releases_to_the_seller(engine):
    created = await engine.create(confirmation_window="PT2S", seller_id="seller_window")
    await engine.ship_and_deliver(created["order_id"])
    settled = await engine.wait_for(created["order_id"], "settled", timeout=30)
    assert "confirmation window lapsed" in settled["timeline"][4]["detail"]
    assert settled["amounts"]["paid_out"] == 3000 - settled["amounts"]["fees"]


async def test_seller_balance_shows_escrow_then_paid_out(engine):
    created = await engine.create(seller_id="seller_balance")
    order_id = created["order_id"]
    await engine.ship_and_deliver(order_id)
    seller = token("seller", "seller_balance")
    balance = (await engine.api.get("/v1/sellers/seller_balance/balance", headers=seller)).json()
    assert balance["balances"] == [{"currency": "USD", "in_escrow": 3000, "available": 0, "reserved": 0, "owed": 0, "paid_out": 0}]
    await engine.api.post(f"/v1/orders/{order_id}/confirm-receipt", headers=token("buyer", "buyer_a"))
    settled = await engine.wait_for(order_id, "settled")
    balance = (await engine.api.get("/v1/sellers/seller_balance/balance", headers=seller)).json()
    assert balance["balances"] == [
        {"currency": "USD", "in_escrow": 0, "available": 0, "reserved": 0, "owed": 0, "paid_out": settled["amounts"]["paid_out"]}
    ]
    other = await engine.api.get("/v1/sellers/seller_balance/balance", headers=token("seller", "someone_else"))
    assert other.status_code == 404


async def test_payout_rejected_needs_attention_until_the_account_is_fixed(engine, pool):
    seller_id = "sim_payout_reject_1"
    created = await engine.create(seller_id=seller_id)
    order_id = created["order_id"]
    await engine.ship_and_deliver(order_id)
    await engine.api.post(f"/v1/orders/{order_id}/confirm-receipt", headers=token("buyer", "buyer_a"))
    stuck = await engine.wait_for(order_id, "needs_attention")
    assert stuck["attention"]["step"] == steps.PAYOUT.pay.label
    assert "rejects payouts" in stuck["attention"]["reason"]

    assert (await engine.sim.put(f"/psp/payout-accounts/{seller_id}", json={"rejects": False})).status_code == 200
    retried = await engine.api.post(f"/v1/orders/{order_id}/retry", headers=token("operator", "ops"))
    assert retried.status_code == 200, retried.text
    settled = await engine.wait_for(order_id, "settled")
    assert settled["attention"] is None
    payouts = await pool.fetchval("SELECT count(*) FROM sim.psp_operations WHERE order_id = $1 AND operation = 'payout'", order_id)
    assert payouts == 1
