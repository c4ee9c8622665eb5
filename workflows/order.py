"""One workflow per order, from payment to its final money movement (DESIGN §4).

Orchestration only: every side effect is an activity referred to by name; deadlines are durable timers.
"""

import asyncio
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import activity_names as act
    from domain import ledger
    from domain.order_actions import Actor, CancelRequest
    from domain.order_state import Attention, FulfillmentEvent, OrderInput, OrderState, TimelineEntry, confirm_by
    from domain.providers import (
        AuthorizationResult,
        AuthorizeRequest,
        CancelFulfillmentRequest,
        CancelFulfillmentResult,
        CaptureRequest,
        FulfillmentOrderRequest,
        PayoutRequest,
        ProviderReference,
        VoidRequest,
    )
    from domain.statuses import PARCEL_PROGRESS, FulfillmentEventType, OrderStatus
    from domain.search_attributes import ORDER_STATUS
    from workflows.options import BOOKKEEPING, PROVIDER_CALL

T = TypeVar("T")

# Steps whose lasting failure an operator may settle by cancelling the order instead of retrying.
CANCELLABLE_STEPS = {"authorize", "create_fulfillment_order", "capture"}
CANCELLABLE_STATUSES = {OrderStatus.PAYMENT_PENDING, OrderStatus.AWAITING_SHIPMENT}


class _OrderCancelled(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _rejected(message: str) -> ApplicationError:
    return ApplicationError(message, type="InvalidTransition", non_retryable=True)


@workflow.defn(name="OrderWorkflow")
class OrderWorkflow:
    @workflow.init
    def __init__(self, order: OrderInput) -> None:
        self.order = order
        self.state = OrderState.initial(order)
        self._cancel: CancelRequest | None = None
        self._confirmed = False
        self._retry = False

    # ---- the lifecycle -------------------------------------------------------------------------

    @workflow.run
    async def run(self, order: OrderInput) -> OrderState:
        await self._record()
        try:
            if not await self._authorize():
                return self.state
            self._raise_if_cancelled()
            await self._create_fulfillment_order()
            await self._transition(OrderStatus.AWAITING_SHIPMENT, "payment authorized; fulfillment order created")
            shipped = await self._wait_until(lambda: self.state.parcel_progress >= 1 or self._cancel is not None, self.state.deadlines.ship_by)
            self._raise_if_cancelled()
            if not shipped:
                raise _OrderCancelled("ship-by deadline lapsed before shipment")
            await self._capture()
        except _OrderCancelled as cancelled:
            await self._cancel_order(cancelled.reason)
            return self.state
        await self._transition(OrderStatus.IN_TRANSIT, "shipped; payment captured into escrow")
        await workflow.wait_condition(lambda: self.state.parcel_progress >= PARCEL_PROGRESS[FulfillmentEventType.DELIVERED])
        await self._await_confirmation()
        await self._release_and_pay_out()
        return self.state

    async def _authorize(self) -> bool:
        o = self.order
        request = AuthorizeRequest(
            idempotency_key=self._key("authorize"), order_id=o.order_id, amount=o.total, currency=o.currency, payment_method=o.payment_method
        )
        result = await self._money_step("authorize", lambda: self._provider(act.AUTHORIZE_PAYMENT, request, AuthorizationResult))
        if not result.approved:
            self.state.decline_code = result.decline_code
            await self._transition(OrderStatus.PAYMENT_FAILED, f"authorization declined: {result.decline_code}")
            return False
        self.state.authorization_id = result.authorization_id
        self.state.amounts.authorized = o.total
        return True

    async def _create_fulfillment_order(self) -> None:
        o = self.order
        request = FulfillmentOrderRequest(idempotency_key=self._key("fulfillment"), order_id=o.order_id, seller_id=o.seller_id, items=o.items)
        ref = await self._money_step("create_fulfillment_order", lambda: self._provider(act.CREATE_FULFILLMENT_ORDER, request, ProviderReference))
        self.state.fulfillment_order_id = ref.id

    async def _capture(self) -> None:
        request = CaptureRequest(
            idempotency_key=self._key("capture"), authorization_id=self.state.authorization_id or "", amount=self.order.total, currency=self.order.currency
        )
        ref = await self._money_step("capture", lambda: self._provider(act.CAPTURE_PAYMENT, request, ProviderReference))
        self.state.capture_id = ref.id
        entry = ledger.capture_entry(self.state.workflow_id, self.order.order_id, self.order.total, self.order.currency)
        await self._money_step("record_capture", lambda: self._post(entry))
        self.state.amounts.captured = self.order.total

    async def _await_confirmation(self) -> None:
        delivered_at = min(self.state.delivered_at or workflow.now(), workflow.now())
        self.state.deadlines.confirm_by = confirm_by(delivered_at, self.state.confirmation_window)
        await self._transition(OrderStatus.AWAITING_CONFIRMATION, "delivered; confirmation window open")
        confirmed = await self._wait_until(lambda: self._confirmed, self.state.deadlines.confirm_by)
        detail = "buyer confirmed receipt" if confirmed else "confirmation window lapsed; released automatically"
        await self._transition(OrderStatus.PAYOUT_PENDING, detail)

    async def _release_and_pay_out(self) -> None:
        o, s = self.order, self.state
        release = ledger.release_entry(s.workflow_id, o.order_id, o.seller_id, s.amounts.captured, o.fees, o.currency)
        await self._money_step("release", lambda: self._post(release))
        s.amounts.fees = o.fees.total
        seller_share = s.amounts.captured - o.fees.total
        if seller_share > 0:
            request = PayoutRequest(idempotency_key=self._key("payout"), order_id=o.order_id, seller_id=o.seller_id, amount=seller_share, currency=o.currency)
            ref = await self._money_step("payout", lambda: self._provider(act.PAYOUT_SELLER, request, ProviderReference))
            s.payout_id = ref.id
            payout = ledger.payout_entry(s.workflow_id, o.order_id, o.seller_id, seller_share, o.currency)
            await self._money_step("payout", lambda: self._post(payout))
            s.amounts.paid_out = seller_share
        await self._transition(OrderStatus.SETTLED, "seller paid out")

    async def _cancel_order(self, reason: str) -> None:
        s = self.state
        s.cancel_reason = reason
        if s.authorization_id:
            void = VoidRequest(idempotency_key=self._key("void"), authorization_id=s.authorization_id)
            await self._money_step("void", lambda: self._provider(act.VOID_AUTHORIZATION, void, ProviderReference))
            s.amounts.authorized = 0
        if s.fulfillment_order_id:
            request = CancelFulfillmentRequest(idempotency_key=self._key("fulfillment-cancel"), order_id=s.order_id)
            await self._money_step(
                "cancel_fulfillment_order", lambda: self._provider(act.CANCEL_FULFILLMENT_ORDER, request, CancelFulfillmentResult)
            )
        await self._transition(OrderStatus.CANCELLED, reason)

    # ---- actions and events ---------------------------------------------------------------------

    @workflow.query(name="state")
    def get_state(self) -> OrderState:
        return self.state

    @workflow.signal(name="fulfillment_event")
    def on_fulfillment_event(self, event: FulfillmentEvent) -> None:
        if event.event_id in self.state.seen_event_ids:
            return
        self.state.seen_event_ids.append(event.event_id)
        rank = PARCEL_PROGRESS.get(event.type)
        if rank is None or rank <= self.state.parcel_progress:
            return  # stale or out of order: what it says is already known
        self.state.parcel_progress = rank
        self.state.shipped_at = self.state.shipped_at or event.occurred_at
        self.state.tracking = event.tracking or self.state.tracking
        if event.type == FulfillmentEventType.DELIVERED:
            self.state.delivered_at = event.occurred_at

    @workflow.update(name="confirm_receipt")
    async def confirm_receipt(self, actor: Actor) -> OrderState:
        self._confirmed = True
        await workflow.wait_condition(lambda: self.state.status != OrderStatus.AWAITING_CONFIRMATION)
        return self.state

    @confirm_receipt.validator
    def _validate_confirm_receipt(self, actor: Actor) -> None:
        if self.state.status != OrderStatus.AWAITING_CONFIRMATION or self._confirmed:
            raise _rejected(f"the order is {self.state.status}, not awaiting confirmation")

    @workflow.update(name="cancel")
    async def cancel(self, request: CancelRequest) -> OrderState:
        self._cancel = request
        await workflow.wait_condition(lambda: self.state.status.is_terminal)
        return self.state

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        if self._cancel is not None:
            raise _rejected("the order is already being cancelled")
        s = self.state
        if s.status in CANCELLABLE_STATUSES and s.parcel_progress == 0:
            return
        if request.actor.role == "operator" and s.attention is not None and s.attention.step in CANCELLABLE_STEPS:
            return
        raise _rejected(f"the order is {s.status} and can no longer be cancelled")

    @workflow.update(name="retry")
    async def retry(self, actor: Actor) -> OrderState:
        self._retry = True
        await workflow.wait_condition(lambda: self.state.status != OrderStatus.NEEDS_ATTENTION)
        return self.state

    @retry.validator
    def _validate_retry(self, actor: Actor) -> None:
        if self.state.status != OrderStatus.NEEDS_ATTENTION or self._retry:
            raise _rejected(f"the order is {self.state.status}, not needs_attention")

    # ---- helpers --------------------------------------------------------------------------------

    def _key(self, step: str) -> str:
        return ledger.entry_key(self.state.workflow_id, step)

    def _raise_if_cancelled(self) -> None:
        if self._cancel is not None:
            raise _OrderCancelled(self._cancel.reason)

    async def _wait_until(self, condition: Callable[[], bool], deadline: datetime) -> bool:
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
                reason = str(err.cause or err)
                resume = self.state.status
                self.state.attention = Attention(step=step, reason=reason, resume_status=resume)
                await self._transition(OrderStatus.NEEDS_ATTENTION, f"{step} failed: {reason}")
                await workflow.wait_condition(lambda: self._retry or (self._cancel is not None and step in CANCELLABLE_STEPS))
                self.state.attention = None
                if not self._retry:
                    await self._transition(resume, f"operator cancelled instead of retrying {step}")
                    raise _OrderCancelled(self._cancel.reason)
                self._retry = False
                await self._transition(resume, f"operator retried {step}")

    async def _provider(self, name: str, request: Any, result_type: type[T]) -> T:
        return await workflow.execute_activity(name, request, result_type=result_type, **PROVIDER_CALL)

    async def _post(self, entry: ledger.EntryRequest) -> int:
        return await workflow.execute_activity(act.POST_LEDGER_ENTRY, entry, result_type=int, **BOOKKEEPING)

    async def _transition(self, status: OrderStatus, detail: str) -> None:
        self.state.status = status
        self.state.timeline.append(TimelineEntry(at=workflow.now(), status=status, detail=detail))
        workflow.upsert_search_attributes([ORDER_STATUS.value_set(status.value)])
        await self._record()

    async def _record(self) -> None:
        await workflow.execute_activity(act.RECORD_ORDER, self.state, **BOOKKEEPING)
