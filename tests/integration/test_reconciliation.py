"""The engine reconciles with the payment provider through the adapter: the provider's listing of its own
records (GET /psp/operations, read by SimulatedPaymentGateway.records), never its tables."""

from adapters.payments import SimulatedPaymentGateway
from domain.providers import ProviderRecordQuery
from operations.reconciliation import check_books, check_books_at
from tests.integration.stack import token


async def test_a_settled_order_reconciles_with_the_provider_s_listing(engine, pool, database_url, services):
    created = await engine.create(seller_id="seller_reconciled")
    order_id = created["order_id"]
    await engine.ship_and_deliver(order_id)
    await engine.api.post(f"/v1/orders/{order_id}/confirm-receipt", headers=token("buyer", "buyer_a"))
    settled = await engine.wait_for(order_id, "settled")

    gateway = SimulatedPaymentGateway(engine.sim)
    records = await gateway.records(ProviderRecordQuery(order_id=order_id))
    assert [(r.operation, r.outcome, r.amount, r.currency) for r in records] == [
        ("authorize", "succeeded", 3000, "USD"),
        ("capture", "succeeded", 3000, "USD"),
        ("payout", "succeeded", settled["amounts"]["paid_out"], "USD"),
    ]
    assert await check_books(pool, gateway) == []
    assert await check_books_at(database_url, services.sim_url) == []  # what `settlement check-invariants` runs


async def test_a_payout_the_ledger_never_made_is_a_drift(engine, pool):
    """The provider paid a seller outside the engine: only its listing can tell."""
    created = await engine.create(seller_id="seller_drift")
    order_id = created["order_id"]
    await engine.wait_for(order_id, "awaiting_shipment")
    gateway = SimulatedPaymentGateway(engine.sim)
    assert await check_books(pool, gateway) == []
    paid = await engine.sim.post(
        "/psp/payouts",
        json={"idempotency_key": f"rogue-{order_id}", "order_id": order_id, "seller_id": "seller_drift", "amount": 100, "currency": "USD"},
    )
    assert paid.status_code == 200, paid.text
    assert await check_books(pool, gateway) == [f"order {order_id}: provider payout 100 but the ledger reserved 0 and settled 0"]
    # take the rogue payout back out of the provider's records, so that checks after this test see sound books
    await pool.execute("DELETE FROM sim.psp_operations WHERE idempotency_key = $1", f"rogue-{order_id}")
    assert await check_books(pool, gateway) == []
