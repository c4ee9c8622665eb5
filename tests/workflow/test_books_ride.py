"""Bookkeeping riding with the provider calls (workflows/patches.py BOOKS_RIDE_WITH_STEPS): a confirmed order is five
activities, one patch marker and four status upserts, and the read model still sees every status, each row the state
the workflow itself reaches."""

import json

from temporalio.api.enums.v1 import EventType

from domain import activity_names as act
from domain import order_steps as steps
from domain.search_attributes import ORDER_STATUS
from domain.statuses import OrderStatus
from tests.workflow.conftest import (
    assert_ledger,
    confirm,
    env_now,
    key,
    make_order,
    send_event,
    ship_and_deliver,
    start_order,
    statuses,
    wait_for_status,
)
from tests.workflow.test_happy_path import FULL_LIFECYCLE
from workflows.patches import BOOKS_RIDE_WITH_STEPS


async def test_a_confirmed_order_is_five_activities_and_every_status_reaches_the_read_model(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await ship_and_deliver(env, handle, order)
    await confirm(handle)
    result = await handle.result()
    assert result.status == OrderStatus.SETTLED

    events = (await handle.fetch_history()).events
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert scheduled == [
        act.booked(act.AUTHORIZE_PAYMENT),
        act.booked(act.CREATE_FULFILLMENT_ORDER),
        act.booked(act.CAPTURE_PAYMENT),
        act.RECORD_ORDER,  # delivered: the order waits in awaiting_confirmation with no provider call to ride on
        act.booked(act.PAYOUT_SELLER),  # release, reserve, payout, settle and the rows of payout_pending and settled
    ]
    markers = [e.marker_recorded_event_attributes for e in events if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED]
    assert [json.loads(m.details["patch-data"].payloads[0].data)["id"] for m in markers] == [BOOKS_RIDE_WITH_STEPS]
    upserted = [
        e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields.get(ORDER_STATUS.name)
        for e in events
        if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
    ]
    statuses = [json.loads(p.data) for p in upserted if p is not None]
    # payout_pending lasts only as long as the payout's own activity: the attribute goes straight to settled
    assert statuses == ["awaiting_shipment", "in_transit", "awaiting_confirmation", "settled"]

    assert providers.recorded_statuses() == FULL_LIFECYCLE
    assert providers.recorded[-1] == result  # the row the payout's activity foresaw is the state the order ended in
    assert providers.steps(act.PAYOUT_SELLER) == [f"order-{order.order_id}:{steps.PAYOUT.key}"]
    assert_ledger(providers, order, [steps.CAPTURE.key, steps.RELEASE.key, steps.PAYOUT.key])


async def test_a_database_away_before_a_provider_call_is_waited_for_and_parks_nothing(env, worker, providers, now):
    """The release in the payout's activity fails (the database went away), and so does its first post on its own: the
    step is done the plain way, the release retried until the database answers, and the provider asked once."""
    order = make_order(now)
    handle = await start_order(env, order)
    await ship_and_deliver(env, handle, order)
    providers.transient[act.POST_LEDGER_ENTRY] = 2
    await confirm(handle)
    result = await handle.result()
    assert result.status == OrderStatus.SETTLED and OrderStatus.NEEDS_ATTENTION not in statuses(result)
    assert providers.steps(act.POST_LEDGER_ENTRY).count(key(order, steps.RELEASE.key)) == 3  # failed twice, then posted
    assert providers.steps(act.PAYOUT_SELLER) == [key(order, steps.PAYOUT.key)]
    assert_ledger(providers, order, [steps.CAPTURE.key, steps.RELEASE.key, steps.PAYOUT.key])


async def test_an_event_that_arrives_while_a_step_runs_reaches_the_read_model_after_it(env, worker, providers, now):
    order = make_order(now)
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    gate = providers.hold(act.CAPTURE_PAYMENT)
    at = await env_now(env)
    await send_event(handle, order, "shipped", "ev-ship", at)
    await providers.arrived(act.CAPTURE_PAYMENT)
    await send_event(handle, order, "delivered", "ev-deliver", at)  # while the capture's activity runs
    gate.set()
    await wait_for_status(handle, OrderStatus.AWAITING_CONFIRMATION)
    in_transit = [s for s in providers.recorded if s.status == OrderStatus.IN_TRANSIT]
    assert in_transit[0].delivered_at is None  # the row the capture's activity foresaw when it was scheduled
    assert in_transit[-1].delivered_at == at  # written again once the step was over
