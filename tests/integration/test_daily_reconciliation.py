"""The daily reconciliation end to end: the worker makes its Temporal Schedule, a run of it (triggered here rather
than waited for) compares the ledger with the provider's listing, and operators read the result through the API; an
order found at fault is parked while it is open and shows what was found on it."""

import asyncio
import time

from domain.reconciliation import RECONCILIATION_SCHEDULE_ID, RECONCILIATION_WORKFLOW_TYPE
from tests.integration.stack import token


async def test_a_triggered_run_of_the_schedule_reports_books_that_agree(engine, client):
    created = await engine.create(seller_id="seller_reconciled_daily")
    await engine.wait_for(created["order_id"], "awaiting_shipment")
    schedule = client.get_schedule_handle(RECONCILIATION_SCHEDULE_ID)
    described = await schedule.describe()
    assert described.schedule.action.workflow == RECONCILIATION_WORKFLOW_TYPE
    assert all((t.hour, t.minute) == (3, 0) for t in described.info.next_action_times)  # RECONCILIATION_CRON, in UTC

    ops = token("operator", "ops")
    before = (await engine.api.get("/v1/reconciliations", headers=ops)).json()["reconciliations"]
    await schedule.trigger()
    deadline = time.monotonic() + 60
    while True:
        runs = (await engine.api.get("/v1/reconciliations", headers=ops)).json()["reconciliations"]
        if len(runs) > len(before):
            break
        assert time.monotonic() < deadline, "the triggered reconciliation never reported"
        await asyncio.sleep(0.5)
    latest = runs[0]
    assert latest["differences"] == [] and latest["checked"] >= 1 and latest["until"] <= latest["finished_at"]
    assert (await engine.api.get("/v1/reconciliations", headers=token("seller", "seller_reconciled_daily"))).status_code == 403


async def test_a_run_that_finds_orders_at_fault_parks_the_open_one_and_shows_each_on_its_order(engine, client, pool):
    """A payout the provider made outside the engine, on an order still open and on one settled: the run reports
    both, parks the open one before its money leaves, and each order's view shows what was found on it."""
    ops = token("operator", "ops")
    open_id = (await engine.create(seller_id="seller_at_fault"))["order_id"]
    await engine.ship_and_deliver(open_id)
    settled_id = (await engine.create(seller_id="seller_at_fault"))["order_id"]
    await engine.ship_and_deliver(settled_id)
    await engine.api.post(f"/v1/orders/{settled_id}/confirm-receipt", headers=token("buyer", "buyer_a"))
    paid = (await engine.wait_for(settled_id, "settled"))["amounts"]["paid_out"]
    rogue = {order: f"rogue-{order}" for order in (open_id, settled_id)}
    for order, key in rogue.items():
        body = {"idempotency_key": key, "order_id": order, "seller_id": "seller_at_fault", "amount": 100, "currency": "USD"}
        assert (await engine.sim.post("/psp/payouts", json=body)).status_code == 200
    try:
        before = (await engine.api.get("/v1/reconciliations", headers=ops)).json()["reconciliations"]
        await client.get_schedule_handle(RECONCILIATION_SCHEDULE_ID).trigger()
        deadline = time.monotonic() + 60
        while len(runs := (await engine.api.get("/v1/reconciliations", headers=ops)).json()["reconciliations"]) == len(before):
            assert time.monotonic() < deadline, "the triggered reconciliation never reported"
            await asyncio.sleep(0.5)
        latest = runs[0]
        found = {
            open_id: [f"order {open_id}: provider payout 100 but the ledger reserved 0 and settled 0"],
            settled_id: [f"order {settled_id}: provider payout {paid + 100} but the ledger reserved {paid} and settled {paid}"],
        }
        assert latest["orders_at_fault"] == found and latest["orders_parked"] == [open_id]
        assert sorted(latest["differences"]) == sorted(d for ds in found.values() for d in ds)
        for order in rogue:
            assert (await engine.get(order)).json()["after_the_sale"]["reconciliation"] == found[order]
            assert (await engine.get(order, "buyer", "buyer_a")).json()["after_the_sale"]["reconciliation"] == []  # operators' only
    finally:
        await pool.execute("DELETE FROM sim.psp_operations WHERE idempotency_key = ANY($1::text[])", list(rogue.values()))

    confirmed = await engine.api.post(f"/v1/orders/{open_id}/confirm-receipt", headers=token("buyer", "buyer_a"))
    assert confirmed.status_code == 200, confirmed.text
    parked = await engine.wait_for(open_id, "needs_attention")
    assert parked["attention"]["step"] == "daily reconciliation" and latest["run_id"] in parked["attention"]["reason"]
    assert (await engine.api.post(f"/v1/orders/{open_id}/retry", headers=ops)).status_code == 200
    settled = await engine.wait_for(open_id, "settled")
    assert settled["amounts"]["paid_out"] > 0
