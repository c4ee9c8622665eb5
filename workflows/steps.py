"""The building blocks an order workflow is made of: transitions, timers, and money steps that park in
needs_attention when they fail for good. Each money movement is a provider call and a ledger entry, both
keyed `order-<id>:<step>`."""

import asyncio
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import activity_names as act
    from domain import ledger
    from domain.fees import compute_fees
    from domain.order_actions import CancelRequest
    from domain.order_state import Attention, OrderInput, OrderState, TimelineEntry
    from domain.fx import FxQuote
    from domain.providers import FxLockRequest, PayoutRequest, ProviderReference, RefundRequest
    from domain.search_attributes import ORDER_STATUS
    from domain.statuses import OrderStatus

from workflows.options import BOOKKEEPING, provider_call

T = TypeVar("T")

# Steps whose lasting failure an operator may settle by cancelling the order instead of retrying.
CANCELLABLE_STEPS = {"authorize", "create_fulfillment_order", "capture"}


# Money out is reserved in the ledger before the provider is called (histories before this paid first).
LEDGER_BEFORE_PROVIDER = "ledger-before-provider"

# The label of a read-model write that the database refused for good.
RECORD_ORDER_STEP = "record_order"

# Failures that say for certain the provider did nothing (as opposed to a timeout or an outage).
DEFINITE_REFUSALS = {"ProviderRejected", "InvalidRequest"}


class OrderCancelled(Exception):
    def __init__(self, reason: str, even_if_shipped: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.even_if_shipped = even_if_shipped  # an operator's decision stands even if the goods have left


def rejected(message: str) -> ApplicationError:
    return ApplicationError(message, type="InvalidTransition", non_retryable=True)


class OrderSteps:
    order: OrderInput
    state: OrderState
    _cancel: CancelRequest | None
    _retry: bool
    _confirmed: bool

    def _key(self, step: str) -> str:
        return ledger.entry_key(self.state.workflow_id, step)

    def _raise_if_cancelled(self) -> None:
        if self._cancel is not None:
            raise OrderCancelled(self._cancel.reason)

    async def _wait_until(self, condition: Callable[[], bool], deadline: datetime) -> bool:
        """Wait for condition until the deadline (a durable timer); True when it holds."""
        remaining = deadline - workflow.now()
        if remaining <= timedelta(0):
            return condition()
        try:
            await workflow.wait_condition(condition, timeout=remaining)
        except asyncio.TimeoutError:
            pass
        return condition()

    async def _money_step(self, step: str, call: Callable[[], Awaitable[T]]) -> T:
        """Run a money step; when it fails for good, park in needs_attention until an operator acts."""
        while True:
            try:
                return await call()
            except ActivityError as err:
                definite = isinstance(err.cause, ApplicationError) and err.cause.type in DEFINITE_REFUSALS
                await self._park(step, str(err.cause or err), cancellable=definite and step in CANCELLABLE_STEPS)

    async def _park(self, step: str, reason: str, cancellable: bool = False, record: bool = True) -> None:
        """Wait in needs_attention for an operator: returns when they retry, raises OrderCancelled when they cancel."""
        resume = self.state.status
        attention = Attention(step=step, reason=reason, resume_status=resume, cancellable=cancellable)
        self.state.attention = attention
        await self._transition(OrderStatus.NEEDS_ATTENTION, f"{step} failed: {reason}", record=record)
        await workflow.wait_condition(lambda: self._retry or (self._cancel is not None and attention.cancellable))
        self.state.attention = None
        if not self._retry:
            await self._transition(resume, f"operator cancelled instead of retrying {step}")
            raise OrderCancelled(self._cancel.reason, even_if_shipped=True)
        self._retry = False
        await self._transition(resume, f"operator retried {step}", record=record)

    async def _disburse(
        self, step: str, call: Callable[[], Awaitable[T]], disbursement: ledger.Disbursement, legacy: ledger.EntryRequest,
        paid: Callable[[T], None] = lambda _: None,
    ) -> None:
        """Money out: reserved in the ledger before the provider is called, settled once it has paid (`paid`
        sees the provider's answer at once). A second, different disbursement of money already gone (a reset
        that decides otherwise) is refused by the ledger here, before any provider call, and parks the order."""
        if workflow.patched(LEDGER_BEFORE_PROVIDER):
            await self._money_step(f"reserve_{step}", lambda: self._post(disbursement.reserve))
            paid(await self._money_step(step, call))
            await self._money_step(f"record_{step}", lambda: self._post(disbursement.settle))
        else:
            paid(await self._money_step(step, call))
            await self._money_step(f"record_{step}", lambda: self._post(legacy))

    async def _provider(self, name: str, request: Any, result_type: type[T]) -> T:
        return await workflow.execute_activity(name, request, result_type=result_type, **provider_call(self.order.provider_retry))

    async def _post(self, entry: ledger.EntryRequest) -> int:
        return await workflow.execute_activity(act.POST_LEDGER_ENTRY, entry, result_type=int, **BOOKKEEPING)

    async def _transition(self, status: OrderStatus, detail: str, record: bool = True) -> None:
        self.state.status = status
        self.state.timeline.append(TimelineEntry(at=workflow.now(), status=status, detail=detail))
        workflow.upsert_search_attributes([ORDER_STATUS.value_set(status.value)])
        workflow.set_current_details(f"Order {self.state.order_id}: {self.state.amounts.total} {self.state.currency}, {status.value} ({detail})")
        self._apply_deferred_events()
        if record:
            await self._record()

    async def _record(self) -> None:
        """Write the read model. It retries while the database is away; a write the database refuses for good
        parks the order (it never retries forever, and never moves money)."""
        while True:
            try:
                await workflow.execute_activity(act.RECORD_ORDER, self.state, **BOOKKEEPING)
                return
            except ActivityError as err:
                await self._park(RECORD_ORDER_STEP, str(err.cause or err), record=False)

    def _apply_deferred_events(self) -> None:
        """Fulfillment events kept until the order reaches a status where they apply (see the workflow)."""

    # ---- money movements after capture ----------------------------------------------------------

    async def _refund(self, amount: int, step: str) -> None:
        o, s = self.order, self.state
        request = RefundRequest(idempotency_key=self._key(step), order_id=o.order_id, capture_id=s.capture_id or "", amount=amount, currency=o.currency)
        await self._disburse(
            step,
            lambda: self._provider(act.REFUND_PAYMENT, request, ProviderReference),
            ledger.refund_disbursement(s.workflow_id, o.order_id, amount, o.currency, step=step),
            legacy=ledger.refund_entry(s.workflow_id, o.order_id, amount, o.currency, step=step),
        )
        s.amounts.refunded += amount

    async def _lock_fx(self) -> FxQuote | None:
        """Lock the order-to-settlement rate once (at capture), when the seller settles in another currency."""
        o, s = self.order, self.state
        if s.fx is None and o.currency != o.settlement_currency:
            request = FxLockRequest(idempotency_key=self._key("fx-lock"), order_id=o.order_id, base=o.currency, quote=o.settlement_currency)
            s.fx = await self._money_step("lock_fx_rate", lambda: self._provider(act.LOCK_FX_RATE, request, FxQuote))
        return s.fx

    async def _pay_out(self, amount: int, step: str) -> None:
        """Pay the seller `amount` of their settlement currency."""
        o, s = self.order, self.state
        currency = o.settlement_currency
        request = PayoutRequest(idempotency_key=self._key(step), order_id=o.order_id, seller_id=o.seller_id, amount=amount, currency=currency)
        def paid(ref: ProviderReference) -> None:
            s.payout_id = s.payout_id or ref.id

        await self._disburse(
            step,
            lambda: self._provider(act.PAYOUT_SELLER, request, ProviderReference),
            ledger.payout_disbursement(s.workflow_id, o.order_id, o.seller_id, amount, currency, step=step),
            legacy=ledger.payout_entry(s.workflow_id, o.order_id, o.seller_id, amount, currency, step=step),
            paid=paid,
        )

    async def _release_and_pay_out(self) -> None:
        """Release what escrow holds: fees (on that amount) to their accounts, the rest paid to the seller."""
        o, s = self.order, self.state
        held = s.amounts.captured - s.amounts.refunded
        fees = o.fees if s.amounts.refunded == 0 else compute_fees(held, sum(i.quantity for i in o.items), o.currency)
        fx = await self._lock_fx()
        release = ledger.release_entry(s.workflow_id, o.order_id, o.seller_id, held, fees, o.currency, fx)
        await self._money_step("release", lambda: self._post(release))
        s.amounts.fees = fees.total
        seller_share = held - fees.total
        settled = ledger.settled_amount(seller_share, fx)
        if settled > 0:
            await self._pay_out(settled, "payout")
        s.amounts.paid_out = seller_share
        s.settlement.paid_out = settled
        await self._transition(OrderStatus.SETTLED, "seller paid out" if settled > 0 else "fees took the whole amount; nothing to pay out")
