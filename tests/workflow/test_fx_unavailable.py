"""An FX source that cannot quote when the payment is captured does not fail the order: it parks in
needs_attention at lock_fx_rate; once the source quotes again, an operator's retry settles it at the rate then
locked. The real FX activity runs here, over a scripted source, so the adapter's refusal is classified as in
production. (Placement only accepts pairs the engine converts, domain/currency.py.)"""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.worker import Worker

from activities.fx import FxActivities
from adapters.errors import ProviderRejected
from domain import activity_names as act
from domain import order_steps as steps
from domain.fees import compute_fees
from domain.fx import FxQuote
from domain.providers import FxLockRequest
from domain.statuses import OrderStatus
from tests.workflow.conftest import TASK_QUEUE, confirm, deliver, key, make_order, retry, send_event, start_order, wait_for_status
from workflows.order import OrderWorkflow


class ScriptedFxSource:
    """Quotes only the pairs it was given; any other is refused, as a source without that rate does."""

    def __init__(self) -> None:
        self.pairs: dict[tuple[str, str], Decimal] = {}
        self.requests: list[FxLockRequest] = []

    async def lock(self, request: FxLockRequest) -> FxQuote:
        self.requests.append(request)
        rate = self.pairs.get((request.base, request.quote))
        if rate is None:
            raise ProviderRejected(f"/fx/quotes: HTTP 422: no reference rate for {request.base}/{request.quote}")
        return FxQuote(
            base=request.base,
            quote=request.quote,
            mid_rate=rate,
            rate=rate,
            spread_bps=0,
            source="scripted",
            locked_at=datetime(2026, 1, 1, tzinfo=UTC),
        )


@pytest.fixture
def fx_source() -> ScriptedFxSource:
    return ScriptedFxSource()


@pytest.fixture
async def worker(env, providers, fx_source):
    """The fake providers, with the real FX activity over the scripted source in place of the fake one."""
    activities = [a for a in providers.activities() if a.__name__ != act.LOCK_FX_RATE] + [FxActivities(fx_source).lock_fx_rate]
    async with Worker(env.client, task_queue=TASK_QUEUE, workflows=[OrderWorkflow], activities=activities):
        yield


async def test_a_pair_without_a_rate_parks_at_the_fx_step_then_an_operator_retry_settles(env, worker, providers, fx_source, now):
    order = make_order(now, currency="USD", settlement_currency="NGN", fees=compute_fees(3500, 2, "USD"))
    handle = await start_order(env, order)
    await wait_for_status(handle, OrderStatus.AWAITING_SHIPMENT)
    await send_event(handle, order, "shipped", "ev-ship", now, tracking="TRK1")
    state = await wait_for_status(handle, OrderStatus.NEEDS_ATTENTION)
    assert state.attention.step == steps.LOCK_FX.label
    assert "no reference rate for USD/NGN" in state.attention.reason
    assert state.attention.resume_status == OrderStatus.AWAITING_SHIPMENT
    assert not state.attention.cancellable
    assert state.fx is None and state.amounts.captured == 0
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING  # parked, not failed
    assert len(fx_source.requests) == 1  # refused for good: not retried
    assert providers.steps(act.CAPTURE_PAYMENT) == []  # the rate is locked before the capture, whose entry needs it

    fx_source.pairs[("USD", "NGN")] = Decimal("1500")
    await retry(handle)
    await wait_for_status(handle, OrderStatus.IN_TRANSIT)
    await deliver(env, handle, order)
    await confirm(handle)
    result = await handle.result()
    assert result.status == OrderStatus.SETTLED
    assert [r.idempotency_key for r in fx_source.requests] == [key(order, steps.LOCK_FX.key)] * 2  # the same key both times
    assert providers.steps(act.CAPTURE_PAYMENT) == [key(order, steps.CAPTURE.key)]
    assert result.fx is not None and result.fx.rate == Decimal("1500")
    payout = providers.request(act.PAYOUT_SELLER)
    assert payout.currency == "NGN" and payout.amount == (3500 - order.fees.total) * 1500
