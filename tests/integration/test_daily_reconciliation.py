"""The daily reconciliation end to end: the worker makes its Temporal Schedule, a run of it (triggered here rather
than waited for) compares the ledger with the provider's listing, and operators read the result through the API."""

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
