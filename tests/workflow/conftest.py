"""Shared fixtures and helpers for the order workflow tests (time-skipping test server, fake activities).

Time only moves when a test says so: `env.sleep(...)` or awaiting `handle.result()` (auto time skipping).
Queries, signals and updates do not move it, so `wait_for_status` observes intermediate statuses reliably.
"""

import asyncio
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain import failures
from domain import order_steps as steps
from domain.after_sales import DisputeRequest, Resolution, SellerResponse
from domain.fees import compute_fees
from domain.ledger import SETTLED_SUFFIX, entry_key
from domain.order_actions import Actor, CancelRequest, OpenDispute, ResolveDispute, RespondToDispute, Role
from domain.order_request import Item
from domain.order_state import FulfillmentEvent, OrderInput, OrderState, workflow_id_for
from domain.search_attributes import ORDER_STATUS as ORDER_STATUS_ATTRIBUTE
from domain.statuses import OrderStatus
from operations.tools import export_history
from runtime.binaries import executable
from tests.search_attributes import register_search_attributes
from tests.workflow.fakes import FakeProviders
from workflows.order import OrderWorkflow

TASK_QUEUE = "wf-test"

BUYER = Actor(role=Role.BUYER, sub="buyer_1")
SELLER = Actor(role=Role.SELLER, sub="seller_1")
OPERATOR = Actor(role=Role.OPERATOR, sub="ops_1")

# make_order's defaults: 2 x 15.00 + 5.00 shipping; fees 2 x 2.50 fulfillment + 8 % referral (2.80)
TOTAL = 3500
FEES_TOTAL = 780
SELLER_SHARE = TOTAL - FEES_TOTAL


@pytest.fixture
async def env():
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=executable("temporal-test-server"), data_converter=pydantic_data_converter
    ) as env:
        await register_search_attributes(env.client)
        yield env


async def _record_histories(env: WorkflowEnvironment, workflow_ids: set[str]) -> None:
    """With SETTLEMENT_RECORD_HISTORIES=<dir>, save the history of every order the test finished (for
    tests/histories, replayed by test_replay.py)."""
    directory = os.environ.get("SETTLEMENT_RECORD_HISTORIES")
    if not directory:
        return
    for workflow_id in sorted(workflow_ids):
        handle = env.client.get_workflow_handle(workflow_id)
        if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
            export_history(await handle.fetch_history(), Path(directory))


@pytest.fixture
def providers() -> FakeProviders:
    return FakeProviders()


@pytest.fixture
async def worker(env, providers):
    async with Worker(env.client, task_queue=TASK_QUEUE, workflows=[OrderWorkflow], activities=providers.activities()):
        yield
        await _record_histories(env, {state.workflow_id for state in providers.recorded})


@pytest.fixture
async def now(env) -> datetime:
    return await env_now(env)


def make_order(now: datetime, payment_method: str = "pm_card_visa", **overrides) -> OrderInput:
    items = [Item(sku="sku-1", quantity=2, unit_price=1500)]
    fields = dict(
        order_id=f"o-{uuid.uuid4().hex[:8]}",
        buyer_id="buyer_1",
        seller_id="seller_1",
        marketplace="mk",
        currency="USD",
        settlement_currency="USD",
        items=items,
        shipping_fee=500,
        payment_method=payment_method,
        placed_at=now,
        ship_by=now + timedelta(days=5),
        deliver_by=now + timedelta(days=14),
        confirmation_window=timedelta(days=7),
        fees=compute_fees(3500, 2, "USD"),
    )
    fields.update(overrides)
    return OrderInput(**fields)


async def env_now(env: WorkflowEnvironment) -> datetime:
    return (await env.get_current_time()).astimezone(UTC)


def key(order: OrderInput, step: str) -> str:
    return entry_key(workflow_id_for(order.order_id), step)


# Steps that move money out: reserved in the ledger under the step's key, settled under `<step>:settled`.
DISBURSEMENT_STEPS = {
    s.key for s in (steps.PAYOUT, steps.REFUND, steps.PARTIAL_REFUND, steps.LATE_DELIVERY_COMPENSATION, steps.REIMBURSEMENT_PAYOUT)
}


def ledger_keys(order: OrderInput, keys: list[str]) -> list[str]:
    """The ledger keys the steps of these key suffixes write: one entry per step, two for a disbursement."""
    return [key(order, s) for s in keys] + [key(order, s + SETTLED_SUFFIX) for s in keys if s in DISBURSEMENT_STEPS]


async def start_order(env: WorkflowEnvironment, order: OrderInput) -> WorkflowHandle:
    return await env.client.start_workflow(OrderWorkflow.run, order, id=workflow_id_for(order.order_id), task_queue=TASK_QUEUE)


async def state_of(handle: WorkflowHandle) -> OrderState:
    return await handle.query(OrderWorkflow.get_state)


async def wait_until(handle: WorkflowHandle, predicate: Callable[[OrderState], bool], what: str, timeout: float = 10.0) -> OrderState:
    """Poll the `state` query until `predicate(state)` holds (fails after `timeout` real seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        state = await state_of(handle)
        if predicate(state):
            return state
        if loop.time() > deadline:
            raise AssertionError(f"never {what}: order is {state.status}; timeline: {[(t.status, t.detail) for t in state.timeline]}")
        await asyncio.sleep(0.05)


async def wait_for_status(handle: WorkflowHandle, status: OrderStatus, timeout: float = 10.0) -> OrderState:
    return await wait_until(handle, lambda s: s.status == status, f"reached {status}", timeout)


async def send_event(
    handle: WorkflowHandle, order: OrderInput, type: str, event_id: str, at: datetime, tracking: str | None = None
) -> None:
    event = FulfillmentEvent(event_id=event_id, order_id=order.order_id, type=type, occurred_at=at, tracking=tracking)
    await handle.signal(OrderWorkflow.on_fulfillment_event, event)


async def ship(env, handle: WorkflowHandle, order: OrderInput, event_id: str = "ev-ship", tracking: str | None = "TRK1") -> datetime:
    """The seller ships: wait for awaiting_shipment, send `shipped`, wait for in_transit. Returns the event time."""
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    at = await env_now(env)
    await send_event(handle, order, "shipped", event_id, at, tracking)
    await wait_for_status(handle, OrderStatus.IN_TRANSIT)
    return at


async def deliver(env, handle: WorkflowHandle, order: OrderInput, event_id: str = "ev-deliver") -> datetime:
    """The parcel arrives: send `delivered`, wait for awaiting_confirmation. Returns the event time."""
    at = await env_now(env)
    await send_event(handle, order, "delivered", event_id, at)
    await wait_for_status(handle, OrderStatus.AWAITING_CONFIRMATION)
    return at


async def ship_and_deliver(env, handle: WorkflowHandle, order: OrderInput) -> datetime:
    await ship(env, handle, order)
    return await deliver(env, handle, order)


async def confirm(handle: WorkflowHandle, actor: Actor = BUYER) -> OrderState:
    return await handle.execute_update(OrderWorkflow.confirm_receipt, actor)


async def cancel(handle: WorkflowHandle, actor: Actor = BUYER, reason: str = "changed my mind") -> OrderState:
    return await handle.execute_update(OrderWorkflow.cancel, CancelRequest(actor=actor, reason=reason))


async def retry(handle: WorkflowHandle, actor: Actor = OPERATOR) -> OrderState:
    return await handle.execute_update(OrderWorkflow.retry, actor)


async def assert_rejected(update_call, contains: str = "") -> ApplicationError:
    """The update's validator rejects it: WorkflowUpdateFailedError caused by an InvalidTransition."""
    try:
        await update_call
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        assert isinstance(cause, ApplicationError), cause
        assert cause.type == failures.INVALID_TRANSITION
        assert cause.non_retryable
        assert contains in cause.message, cause.message
        return cause
    raise AssertionError("the update was accepted")


async def search_status(handle: WorkflowHandle) -> str | None:
    description = await handle.describe()
    return description.typed_search_attributes.get(ORDER_STATUS_ATTRIBUTE)


def statuses(state: OrderState) -> list[OrderStatus]:
    return [t.status for t in state.timeline]


def timeline_entry(state: OrderState, status: OrderStatus) -> Any:
    """The last timeline entry with that status."""
    matching = [t for t in state.timeline if t.status == status]
    assert matching, f"no {status} in the timeline {statuses(state)}"
    return matching[-1]


def window_opened(state: OrderState) -> Any:
    """When the engine learned of the delivery and opened the buyer's confirmation window."""
    return timeline_entry(state, OrderStatus.AWAITING_CONFIRMATION).at


def assert_ledger(providers: FakeProviders, order: OrderInput, keys: list[str]) -> None:
    """Exactly the entries of these step keys were posted, each once, each balanced per currency, with the expected postings."""
    expected_keys = ledger_keys(order, keys)
    assert sorted(providers.posted) == sorted(expected_keys), providers.posted
    assert set(providers.entries) == set(expected_keys)
    for entry in providers.entries.values():
        assert entry.order_id == order.order_id
        assert entry.unbalanced_currencies() == []
        assert sum(p.amount for p in entry.postings) == 0
        assert {p.account.currency for p in entry.postings} == {order.currency}
    balances = providers.balances()
    escrow = f"escrow:{order.order_id}:{order.currency}"
    seller = f"seller:{order.seller_id}:{order.currency}"
    if steps.CAPTURE.key in keys:
        assert providers.entries[key(order, steps.CAPTURE.key)].kind == "capture"
        assert balances[f"external:buyers:{order.currency}"] == -order.total
    if steps.RELEASE.key in keys:
        release = providers.entries[key(order, steps.RELEASE.key)]
        assert release.kind == "release"
        assert balances[escrow] == 0, "escrow must be empty once released"
        assert balances[f"platform:marketplace_fees:{order.currency}"] == order.fees.referral
        assert balances[f"fulfillment:fees_payable:{order.currency}"] == order.fees.fulfillment
    if steps.PAYOUT.key in keys:
        assert providers.entries[key(order, steps.PAYOUT.key)].kind == "payout"
        assert balances[seller] == 0
        assert balances[f"external:payouts:{order.currency}"] == order.total - order.fees.total
    for code, balance in balances.items():
        if not code.startswith("external:"):
            assert balance >= 0, f"{code} went negative: {balance}"


# ---- after-sales: the buyer's, seller's and operator's updates, and the books ------------------------


async def open_dispute(
    handle: WorkflowHandle, reason: str = "not_as_described", actor: Actor = BUYER, description: str = "not what I ordered"
) -> OrderState:
    request = DisputeRequest(reason=reason, description=description)
    return await handle.execute_update(OrderWorkflow.open_dispute, OpenDispute(actor=actor, dispute=request))


async def respond(handle: WorkflowHandle, actor: Actor = SELLER, accept_refund: bool = False, evidence: str | None = None) -> OrderState:
    response = SellerResponse(accept_refund=accept_refund, evidence=evidence)
    return await handle.execute_update(OrderWorkflow.respond_to_dispute, RespondToDispute(actor=actor, response=response))


async def resolve(
    handle: WorkflowHandle, outcome: str, refund_amount: int | None = None, actor: Actor = OPERATOR, note: str = ""
) -> OrderState:
    resolution = Resolution(outcome=outcome, refund_amount=refund_amount, note=note)
    return await handle.execute_update(OrderWorkflow.resolve_dispute, ResolveDispute(actor=actor, resolution=resolution))


async def disputed_order(
    env: WorkflowEnvironment, now: datetime, reason: str = "not_as_described", **overrides
) -> tuple[OrderInput, WorkflowHandle, OrderState]:
    """An order shipped, delivered and disputed by the buyer (no time skipped). Returns the disputed state."""
    order = make_order(now, **overrides)
    handle = await start_order(env, order)
    await ship_and_deliver(env, handle, order)
    answer = await open_dispute(handle, reason)
    assert answer.status == OrderStatus.DISPUTED, answer.status
    return order, handle, answer


def assert_books(providers: FakeProviders, order: OrderInput, keys: list[str], balances: dict[str, int]) -> None:
    """Exactly these ledger entries were posted, each once and balanced in the order's currency; the
    accounts end with exactly `balances` (codes with the currency left off; accounts not named are 0)."""
    expected_keys = ledger_keys(order, keys)
    assert sorted(providers.posted) == sorted(expected_keys), providers.posted
    assert set(providers.entries) == set(expected_keys)
    for entry in providers.entries.values():
        assert entry.order_id == order.order_id
        assert entry.unbalanced_currencies() == []
        assert {p.account.currency for p in entry.postings} == {order.currency}
    actual = {code.removesuffix(f":{order.currency}"): amount for code, amount in providers.balances().items() if amount != 0}
    assert actual == balances, actual
    assert sum(providers.balances().values()) == 0


def entry_postings(providers: FakeProviders, order: OrderInput, step_key: str) -> list[tuple[str, int]]:
    """(account code, amount) a step moved, sorted: a disbursement's two entries netted (its pending account
    ends at zero)."""
    moved: dict[str, int] = {}
    for k in ledger_keys(order, [step_key]):
        for p in providers.entries[k].postings:
            moved[p.account.code] = moved.get(p.account.code, 0) + p.amount
    return sorted((code, amount) for code, amount in moved.items() if amount)


def assert_amounts(state: OrderState, captured: int = TOTAL, **expected: int) -> None:
    """The order's money: captured, and refunded / fees / paid_out / compensated / reimbursed (0 unless given)."""
    moved = {name: expected.pop(name, 0) for name in ("refunded", "fees", "paid_out", "compensated", "reimbursed")}
    assert not expected, f"unknown amounts {expected}"
    got = state.amounts
    assert got.total == TOTAL and got.captured == captured
    assert {name: getattr(got, name) for name in moved} == moved
    if state.settlement.currency == state.currency:  # no FX: the seller's side in their currency is the same
        assert (state.settlement.paid_out, state.settlement.reimbursed) == (moved["paid_out"], moved["reimbursed"])
