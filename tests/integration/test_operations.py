"""Operations end to end: encrypted payloads and their codec endpoint, needs-attention retry after an
outage, the UI link, and safe resets."""

import base64
import json
from datetime import UTC

from google.protobuf.json_format import MessageToDict
from temporalio.api.sdk.v1 import WorkflowMetadata

from domain import activity_names as act
from domain import order_steps as steps
from domain.ledger import SETTLED_SUFFIX, entry_key
from domain.order_state import workflow_id_for
from domain.search_attributes import BUYER_ID, MARKETPLACE, ORDER_STATUS, SELLER_ID
from tests.integration.stack import token

OPERATOR = token("operator", "ops")


async def test_payloads_in_temporal_are_encrypted_and_the_codec_endpoint_decodes_them(engine, temporal):
    created = await engine.create(payment_method="pm_card_visa")
    order_id = created["order_id"]
    await engine.wait_for(order_id, "awaiting_shipment")
    history = await temporal.client.get_workflow_handle(workflow_id_for(order_id)).fetch_history()
    raw = history.to_json()
    assert "pm_card_visa" not in raw and "buyer_a" not in raw.replace(f'"{BUYER_ID.name}"', "")
    started = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    assert started.metadata["encoding"] == b"binary/encrypted"
    assert started.metadata["encryption-key-id"] == b"it-2"

    body = {"payloads": [MessageToDict(started)]}
    decoded = await engine.api.post("/codec/decode", json=body, headers=OPERATOR)
    assert decoded.status_code == 200, decoded.text
    payload = decoded.json()["payloads"][0]
    assert json.loads(base64.b64decode(payload["data"]))["payment_method"] == "pm_card_visa"
    assert (await engine.api.post("/codec/decode", json=body, headers=token("buyer", "buyer_a"))).status_code == 403
    await engine.api.post(f"/v1/orders/{order_id}/cancel", headers=OPERATOR)
    await engine.wait_for(order_id, "cancelled")


async def test_outage_past_the_retry_budget_needs_attention_then_the_cli_retries(engine, services, temporal, pool):
    import asyncio
    import subprocess
    import sys
    from datetime import datetime, timedelta

    created = await engine.create(seller_id="seller_outage")
    order_id = created["order_id"]
    await engine.wait_for(order_id, "awaiting_shipment")
    outage_until = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert (await engine.sim.put("/sim/faults", json={"outage_until": outage_until})).status_code == 200
    try:
        await engine.webhook(order_id, "shipped")
        stuck = await engine.wait_for(order_id, "needs_attention", timeout=60)
    finally:
        assert (await engine.sim.put("/sim/faults", json={})).status_code == 200
    assert stuck["attention"]["step"] == steps.CAPTURE.label
    assert "503" in stuck["attention"]["reason"]
    row = await pool.fetchrow("SELECT status FROM orders WHERE order_id = $1", order_id)
    assert row["status"] == "needs_attention"
    found = [
        e.id
        async for e in temporal.client.list_workflows(f'{ORDER_STATUS.name} = "needs_attention" AND {SELLER_ID.name} = "seller_outage"')
    ]
    assert found == [workflow_id_for(order_id)]

    env = services.child_env()
    retried = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "operations.cli", "retry", order_id, "--operator", "it"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert retried.returncode == 0, retried.stderr
    assert f"{order_id}: awaiting_shipment" in retried.stdout  # back where the capture failed; it then runs again
    await engine.wait_for(order_id, "in_transit")
    await engine.webhook(order_id, "delivered")
    await engine.wait_for(order_id, "awaiting_confirmation")
    await engine.api.post(f"/v1/orders/{order_id}/confirm-receipt", headers=token("buyer", "buyer_a"))
    settled = await engine.wait_for(order_id, "settled")
    assert any(t["detail"] == f"operator retried {steps.CAPTURE.label}" for t in settled["timeline"])
    captures = await pool.fetchval("SELECT count(*) FROM sim.psp_operations WHERE order_id = $1 AND operation = 'capture'", order_id)
    assert captures == 1


async def test_search_attributes_ui_link_and_summary(engine, temporal, client):
    created = await engine.create(seller_id="seller_filter", buyer_id="buyer_filter", marketplace="market_filter")
    order_id = created["order_id"]
    await engine.wait_for(order_id, "awaiting_shipment")
    query = (
        f'{ORDER_STATUS.name} = "awaiting_shipment" AND {SELLER_ID.name} = "seller_filter" AND {BUYER_ID.name} = "buyer_filter" '
        f'AND {MARKETPLACE.name} = "market_filter"'
    )
    for _ in range(50):  # visibility follows within moments
        found = [e.id async for e in temporal.client.list_workflows(query)]
        if found:
            break
        await __import__("asyncio").sleep(0.2)
    assert found == [workflow_id_for(order_id)]
    order = (await engine.get(order_id)).json()
    assert order["workflow"]["ui_url"].endswith(f"/namespaces/default/workflows/{workflow_id_for(order_id)}")
    description = await client.get_workflow_handle(workflow_id_for(order_id)).describe()
    assert order_id in (await description.static_summary())
    metadata = await client.get_workflow_handle(workflow_id_for(order_id)).query(
        "__temporal_workflow_metadata", result_type=WorkflowMetadata
    )
    assert metadata.current_details.startswith(f"Order {order_id}: 3000 USD, awaiting_shipment")
    await engine.api.post(f"/v1/orders/{order_id}/cancel", headers=OPERATOR)
    await engine.wait_for(order_id, "cancelled")


async def test_resetting_a_settled_order_to_before_the_payout_moves_no_money_twice(engine, temporal, pool):
    import uuid

    from temporalio.api.common.v1 import WorkflowExecution
    from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest

    from tests.ledger_reads import entries_for_order

    created = await engine.create(seller_id="seller_reset")
    order_id = created["order_id"]
    await engine.ship_and_deliver(order_id)
    await engine.api.post(f"/v1/orders/{order_id}/confirm-receipt", headers=token("buyer", "buyer_a"))
    await engine.wait_for(order_id, "settled")
    before = await _money_moved(pool, order_id)

    handle = temporal.client.get_workflow_handle(workflow_id_for(order_id))
    history = await handle.fetch_history()
    payout_scheduled = next(
        e.event_id
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == act.booked(act.PAYOUT_SELLER)
    )
    reset_point = max(
        e.event_id for e in history.events if e.HasField("workflow_task_completed_event_attributes") and e.event_id < payout_scheduled
    )
    response = await temporal.client.workflow_service.reset_workflow_execution(
        ResetWorkflowExecutionRequest(
            namespace=temporal.client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=workflow_id_for(order_id)),
            reason="integration test: replay the payout",
            workflow_task_finish_event_id=reset_point,
            request_id=str(uuid.uuid4()),
        )
    )
    new_run = temporal.client.get_workflow_handle(workflow_id_for(order_id), run_id=response.run_id)
    await _wait_closed(new_run)
    rerun = await new_run.fetch_history()
    assert any(
        e.event_id > reset_point and e.activity_task_scheduled_event_attributes.activity_type.name == act.booked(act.PAYOUT_SELLER)
        for e in rerun.events
        if e.HasField("activity_task_scheduled_event_attributes")
    )  # the payout ran again in the new run...
    assert await _money_moved(pool, order_id) == before  # ...and moved nothing: same keys at the provider and in the ledger
    assert [e["idempotency_key"].split(":", 1)[1] for e in await entries_for_order(pool, order_id)] == [
        steps.CAPTURE.key,
        steps.RELEASE.key,
        steps.PAYOUT.key,
        steps.PAYOUT.key + SETTLED_SUFFIX,
    ]
    assert (await engine.get(order_id)).json()["status"] == "settled"


async def _money_moved(pool, order_id: str) -> list:
    provider = await pool.fetch(
        "SELECT operation, amount FROM sim.psp_operations WHERE order_id = $1 AND outcome = 'succeeded' ORDER BY idempotency_key", order_id
    )
    entries = await pool.fetch("SELECT idempotency_key FROM ledger_entries WHERE order_id = $1 ORDER BY id", order_id)
    balances = await pool.fetch(
        "SELECT code, balance FROM ledger_accounts WHERE code LIKE $1 OR code LIKE 'seller:seller_reset:%' ORDER BY code",
        f"escrow:{order_id}:%",
    )
    return [[tuple(r) for r in provider], [r[0] for r in entries], [tuple(r) for r in balances]]


async def _wait_closed(handle) -> None:
    import asyncio

    for _ in range(150):
        description = await handle.describe()
        if description.close_time is not None:
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the reset run did not finish")


async def test_worker_metrics_and_json_logs_carry_the_order(engine, services, worker_metrics_url):
    import asyncio

    import httpx

    created = await engine.create()
    order_id = created["order_id"]
    await engine.ship_and_deliver(order_id)
    await engine.api.post(f"/v1/orders/{order_id}/confirm-receipt", headers=token("buyer", "buyer_a"))
    await engine.wait_for(order_id, "settled")

    async with httpx.AsyncClient() as http:
        metrics = ""
        for _ in range(100):  # the status gauge refreshes every 15 s
            metrics = (await http.get(worker_metrics_url)).text
            if _has_series(metrics, "settlement_orders", 'status="settled"'):
                break
            await asyncio.sleep(0.3)
    assert "temporal_activity_execution_latency" in metrics or "temporal_workflow_completed" in metrics
    assert _has_series(metrics, "settlement_money_moved", 'kind="payout"')
    assert _has_series(metrics, "settlement_orders", 'status="settled"')

    api_metrics = (await engine.api.get("/metrics")).text
    assert 'route="/v1/orders/{order_id}/confirm-receipt"' in api_metrics

    lines = [json.loads(line) for line in (services.log_dir / "worker.log").read_text().splitlines() if line.startswith("{")]
    mine = [line for line in lines if line.get("order_id") == order_id]
    assert any(f"{entry_key(workflow_id_for(order_id), steps.PAYOUT.key)} written" in line["message"] for line in mine)
    assert all(line["workflow_id"] == workflow_id_for(order_id) for line in mine)
    assert {"time", "level", "logger", "message"} <= set(mine[0])


def _has_series(metrics: str, name: str, label: str) -> bool:
    return any(line.startswith(name + "{") and label in line for line in metrics.splitlines())
