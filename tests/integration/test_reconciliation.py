"""The engine reconciles with the payment provider through the adapter: the provider's listing of its own
records (GET /psp/operations, read by SimulatedPaymentGateway.records), never its tables; both sides as of
one cut, so money moving between the two reads is no drift."""

from activities.reconciliation import provider_listing
from adapters.payments import SimulatedPaymentGateway
from db.invariants import check_invariants, database_now
from domain.providers import ProviderListing, ProviderOperation, ProviderOutcome, ProviderRecordQuery
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
        (ProviderOperation.AUTHORIZE, ProviderOutcome.SUCCEEDED, 3000, "USD"),
        (ProviderOperation.CAPTURE, ProviderOutcome.SUCCEEDED, 3000, "USD"),
        (ProviderOperation.PAYOUT, ProviderOutcome.SUCCEEDED, settled["amounts"]["paid_out"], "USD"),
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


async def test_a_payout_made_between_the_two_reads_is_no_drift(engine, pool):
    """The cut is taken and the listing read while the order awaits the buyer; then the buyer confirms, the seller
    is paid out and the order settles; then the ledger is read."""
    created = await engine.create(seller_id="seller_race")
    order_id = created["order_id"]
    await engine.ship_and_deliver(order_id)
    listing = await provider_listing(pool, SimulatedPaymentGateway(engine.sim))
    await engine.api.post(f"/v1/orders/{order_id}/confirm-receipt", headers=token("buyer", "buyer_a"))
    paid = (await engine.wait_for(order_id, "settled"))["amounts"]["paid_out"]
    assert await check_invariants(pool, listing) == []
    # the same listing taken for the books as they are now misses the payout: the race is real
    stale = ProviderListing(until=await database_now(pool), records=listing.records)
    assert f"order {order_id}: provider payout 0 but the ledger reserved {paid} and settled {paid}" in await check_invariants(pool, stale)
