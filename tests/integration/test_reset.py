"""A real `temporal workflow reset` that changes an operator's decision: the ledger refuses the second
outcome before any provider call, the order parks with the reason, and the read model follows the new run."""

import asyncio
import subprocess

from domain import order_steps as steps
from domain.order_actions import RESOLVE_DISPUTE
from domain.order_state import workflow_id_for
from operations.tools import refresh_read_model
from runtime.binaries import executable
from tests.integration.stack import token

BUYER, SELLER, OPERATOR = token("buyer", "buyer_a"), token("seller", "seller_a"), token("operator", "ops")


async def _disputed_awaiting_decision(engine) -> str:
    order_id = (await engine.create())["order_id"]
    await engine.ship_and_deliver(order_id)
    opened = await engine.api.post(
        f"/v1/orders/{order_id}/disputes", json={"reason": "damaged", "description": "box crushed"}, headers=BUYER
    )
    assert opened.status_code == 201, opened.text
    answered = await engine.api.post(
        f"/v1/orders/{order_id}/disputes/response", json={"evidence": "photos of careful packing"}, headers=SELLER
    )
    assert answered.status_code == 200, answered.text
    return order_id


async def _resolve(engine, order_id: str, outcome: str):
    return await engine.api.post(
        f"/v1/orders/{order_id}/disputes/resolution", json={"outcome": outcome, "note": "reviewed"}, headers=OPERATOR
    )


async def _reset_to_before_the_decision(temporal, order_id: str) -> None:
    """What an operator types: reset to the last workflow task before the resolution was accepted, without
    re-applying the update (so the order awaits a decision again)."""
    history = await temporal.client.get_workflow_handle(workflow_id_for(order_id)).fetch_history()
    accepted = next(
        e.event_id
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
        and e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name == RESOLVE_DISPUTE
    )
    reset_point = max(
        e.event_id for e in history.events if e.HasField("workflow_task_completed_event_attributes") and e.event_id < accepted
    )
    command = [
        executable("temporal"),
        "workflow",
        "reset",
        "--address",
        temporal.client.service_client.config.target_host,
        "--namespace",
        temporal.client.namespace,
        "--workflow-id",
        workflow_id_for(order_id),
        "--event-id",
        str(reset_point),
        "--reapply-exclude",
        "Update",
        "--reason",
        "integration test: the operator changes the decision",
    ]
    done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


async def _provider_operations(pool, order_id: str) -> list[tuple[str, int]]:
    rows = await pool.fetch(
        "SELECT operation, amount FROM sim.psp_operations WHERE order_id = $1 AND outcome = 'succeeded' ORDER BY created_at", order_id
    )
    return [(r["operation"], r["amount"]) for r in rows]


async def test_a_reset_that_turns_a_release_into_a_refund_refunds_nothing_and_parks(engine, temporal, client, pool):
    order_id = await _disputed_awaiting_decision(engine)
    released = await _resolve(engine, order_id, "release")
    assert released.status_code == 200, released.text
    settled = await engine.wait_for(order_id, "settled")
    paid = await _provider_operations(pool, order_id)
    assert [op for op, _ in paid] == ["authorize", "capture", "payout"]

    await _reset_to_before_the_decision(temporal, order_id)
    refreshed = await refresh_read_model(client, pool, order_id)  # `settlement refresh <order_id>`
    assert refreshed.status == "disputed" and (await engine.get(order_id)).json()["status"] == "disputed"
    answer = await _resolve(engine, order_id, "refund")
    assert answer.status_code == 200, answer.text
    parked = await engine.wait_for(order_id, "needs_attention")
    assert parked["attention"]["step"] == steps.REFUND.reserve.label
    assert f"escrow:{order_id}:USD" in parked["attention"]["reason"]
    assert await _provider_operations(pool, order_id) == paid  # no refund reached the provider

    # the read model shows the new run: its status and a timeline that no longer ends in `settled`
    statuses = [e["status"] for e in parked["timeline"]]
    assert statuses[-1] == "needs_attention" and "settled" not in statuses and len(parked["timeline"]) < len(settled["timeline"]) + 3
    events = await pool.fetch("SELECT status FROM order_events WHERE order_id = $1 ORDER BY seq", order_id)
    assert [e["status"] for e in events] == statuses
    assert (await retry_refused_again(engine, order_id))["status"] == "needs_attention"


async def retry_refused_again(engine, order_id: str) -> dict:
    """An operator retry cannot force the second outcome through: the ledger refuses it again."""
    retried = await engine.api.post(f"/v1/orders/{order_id}/retry", headers=OPERATOR)
    assert retried.status_code == 200, retried.text
    await asyncio.sleep(1)
    return await engine.wait_for(order_id, "needs_attention")


async def test_a_reset_that_turns_a_refund_into_a_release_pays_nothing_out_and_parks(engine, temporal, pool):
    order_id = await _disputed_awaiting_decision(engine)
    refunded = await _resolve(engine, order_id, "refund")
    assert refunded.status_code == 200, refunded.text
    await engine.wait_for(order_id, "refunded")
    before = await _provider_operations(pool, order_id)
    assert [op for op, _ in before] == ["authorize", "capture", "refund"]

    await _reset_to_before_the_decision(temporal, order_id)
    await _resolve(engine, order_id, "release")
    parked = await engine.wait_for(order_id, "needs_attention")
    assert parked["attention"]["step"] == steps.RELEASE.label
    assert await _provider_operations(pool, order_id) == before  # no payout
