"""One workflow per order, from payment to its final money movement (DESIGN §4).

Orchestration only: every side effect is an activity referred to by name; deadlines are durable timers.
The building blocks are in steps.py, the after-sales flows in after_sales.py.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import activity_names as act
    from domain import ledger
    from domain.order_actions import Actor, CancelRequest
    from domain.order_state import FulfillmentEvent, OrderInput, OrderState, confirm_by
    from domain.providers import (
        AuthorizationResult,
        AuthorizeRequest,
        CancelFulfillmentRequest,
        CancelFulfillmentResult,
        CaptureRequest,
        FulfillmentOrderRequest,
        ProviderReference,
        VoidRequest,
    )
    from domain.statuses import PARCEL_PROGRESS, FulfillmentEventType, OrderStatus

from workflows.after_sales import AfterSales
from workflows.steps import OrderCancelled, rejected

CANCELLABLE_STATUSES = {OrderStatus.PAYMENT_PENDING, OrderStatus.AWAITING_SHIPMENT}
DELIVERED = PARCEL_PROGRESS[FulfillmentEventType.DELIVERED]
NETWORK_FAULTS = {FulfillmentEventType.LOST, FulfillmentEventType.DAMAGED}
RETURN_EVENTS = {FulfillmentEventType.RETURN_SHIPPED, FulfillmentEventType.RETURN_RECEIVED}
# Where a lost or damaged parcel is still the fulfillment network's to answer for.
FAULT_STATUSES = {OrderStatus.AWAITING_SHIPMENT, OrderStatus.IN_TRANSIT, OrderStatus.AWAITING_CONFIRMATION, OrderStatus.DISPUTED}


# A cancel asks the fulfillment network first and stands only if the goods have not left (or an operator
# insists); a cancel update answers as soon as the order is cancelled, refused, or parked for an operator.
CANCEL_AT_NETWORK_FIRST = "cancel-at-network-first"


# The buyer's confirmation window counts from no earlier than when the engine learns of the delivery, so a
# backdated `delivered` event cannot shorten it.
CONFIRM_WINDOW_FROM_LEARNING = "confirm-window-from-learning"

# A lost, damaged or return event that arrives before it can apply is kept and applied later, not dropped.
KEEP_EARLY_EVENTS = "keep-early-events"


def records_authorization() -> bool:
    """A change made after histories existed, so behind a patch: old histories replay without it."""
    return workflow.patched("record-authorization")


@workflow.defn(name="OrderWorkflow")
class OrderWorkflow(AfterSales):
    @workflow.init
    def __init__(self, order: OrderInput) -> None:
        self.order = order
        self.state = OrderState.initial(order)
        self._cancel: CancelRequest | None = None
        self._cancel_refused: str | None = None
        self._fulfillment_requested = False
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
            shipped = await self._wait_until(
                lambda: self.state.parcel_progress >= 1 or self._cancel is not None or self._network_at_fault(), self.state.deadlines.ship_by
            )
            self._raise_if_cancelled()
            if self._network_at_fault() and self.state.parcel_progress == 0:
                raise OrderCancelled(f"the fulfillment network reported the goods {self.state.network_fault.type} before shipment")
            if not shipped:
                raise OrderCancelled("ship-by deadline lapsed before shipment")
        except OrderCancelled as cancelled:
            if await self._cancel_order(cancelled):
                return self.state
        try:
            await self._capture()
        except OrderCancelled as cancelled:
            await self._cancel_order(cancelled)
            return self.state
        await self._transition(OrderStatus.IN_TRANSIT, "shipped; payment captured into escrow")
        if await self._await_delivery():
            await self._await_confirmation()
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
        if records_authorization():
            await self._record()  # the read model shows the authorization even while fulfillment retries
        return True

    async def _create_fulfillment_order(self) -> None:
        o = self.order
        request = FulfillmentOrderRequest(idempotency_key=self._key("fulfillment"), order_id=o.order_id, seller_id=o.seller_id, items=o.items)
        self._fulfillment_requested = True  # from here on the network may hold an order, even if we never hear back
        ref = await self._money_step("create_fulfillment_order", lambda: self._provider(act.CREATE_FULFILLMENT_ORDER, request, ProviderReference))
        self.state.fulfillment_order_id = ref.id

    async def _capture(self) -> None:
        request = CaptureRequest(
            idempotency_key=self._key("capture"), authorization_id=self.state.authorization_id or "", amount=self.order.total, currency=self.order.currency
        )
        ref = await self._money_step("capture", lambda: self._provider(act.CAPTURE_PAYMENT, request, ProviderReference))
        self.state.capture_id = ref.id
        fx = await self._lock_fx()
        entry = ledger.capture_entry(self.state.workflow_id, self.order.order_id, self.order.total, self.order.currency, fx)
        await self._money_step("record_capture", lambda: self._post(entry))
        self.state.amounts.captured = self.order.total

    async def _await_delivery(self) -> bool:
        """Wait for delivery; False when the order ended on the way (lost, damaged, or never arrived)."""
        arrived = lambda: self.state.parcel_progress >= DELIVERED or self._network_at_fault()  # noqa: E731
        deliver_by = self.state.deadlines.deliver_by
        if not await self._wait_until(arrived, deliver_by):
            await self._compensate_late_delivery()
            if not await self._wait_until(arrived, deliver_by + self.order.after_sales.lost_after_late):
                self.state.network_fault = FulfillmentEvent(
                    event_id="policy:lost-after-late", order_id=self.order.order_id, type=FulfillmentEventType.LOST, occurred_at=workflow.now()
                )
        if self._network_at_fault():
            await self._resolve_network_fault()
            return False
        return True

    async def _await_confirmation(self) -> None:
        s = self.state
        if workflow.patched(CONFIRM_WINDOW_FROM_LEARNING):
            delivered_at = workflow.now()
        else:
            delivered_at = min(s.delivered_at or workflow.now(), workflow.now())
        s.deadlines.confirm_by = confirm_by(delivered_at, s.confirmation_window)
        await self._transition(OrderStatus.AWAITING_CONFIRMATION, "delivered; confirmation window open")
        confirmed = await self._wait_until(lambda: self._confirmed or s.dispute is not None or self._network_at_fault(), s.deadlines.confirm_by)
        if self._network_at_fault():
            await self._resolve_network_fault()
        elif s.dispute is not None:
            await self._run_dispute()
        else:
            await self._transition(OrderStatus.PAYOUT_PENDING, "buyer confirmed receipt" if confirmed else "confirmation window lapsed; released automatically")
            await self._release_and_pay_out()

    async def _cancel_order(self, cancelled: OrderCancelled) -> bool:
        """Cancel at the fulfillment network, then void the authorization. False when the network had already
        shipped and the cancel was not an operator's decision: then the sale stands and the order carries on."""
        if not workflow.patched(CANCEL_AT_NETWORK_FIRST):
            return await self._cancel_order_v1(cancelled.reason)
        s = self.state
        if s.fulfillment_order_id or self._fulfillment_requested:
            request = CancelFulfillmentRequest(idempotency_key=self._key("fulfillment-cancel"), order_id=s.order_id)
            result = await self._money_step(
                "cancel_fulfillment_order", lambda: self._provider(act.CANCEL_FULFILLMENT_ORDER, request, CancelFulfillmentResult)
            )
            if result.shipped and not cancelled.even_if_shipped:
                return await self._carry_on_as_shipped(cancelled.reason)
        s.cancel_reason = cancelled.reason
        if s.authorization_id:
            void = VoidRequest(idempotency_key=self._key("void"), authorization_id=s.authorization_id)
            await self._money_step("void", lambda: self._provider(act.VOID_AUTHORIZATION, void, ProviderReference))
            s.amounts.authorized = 0
        if self._network_at_fault():
            await self._reimburse_seller()
        await self._transition(OrderStatus.CANCELLED, cancelled.reason)
        return True

    async def _cancel_order_v1(self, reason: str) -> bool:
        """How orders cancelled before the CANCEL_AT_NETWORK_FIRST change: void first, then tell the network."""
        s = self.state
        s.cancel_reason = reason
        if s.authorization_id:
            void = VoidRequest(idempotency_key=self._key("void"), authorization_id=s.authorization_id)
            await self._money_step("void", lambda: self._provider(act.VOID_AUTHORIZATION, void, ProviderReference))
            s.amounts.authorized = 0
        if s.fulfillment_order_id:
            request = CancelFulfillmentRequest(idempotency_key=self._key("fulfillment-cancel"), order_id=s.order_id)
            await self._money_step("cancel_fulfillment_order", lambda: self._provider(act.CANCEL_FULFILLMENT_ORDER, request, CancelFulfillmentResult))
        if self._network_at_fault():
            await self._reimburse_seller()
        await self._transition(OrderStatus.CANCELLED, reason)
        return True

    async def _carry_on_as_shipped(self, reason: str) -> bool:
        s = self.state
        self._cancel, self._cancel_refused = None, f"the fulfillment network had already shipped the order ({reason})"
        s.parcel_progress = max(s.parcel_progress, PARCEL_PROGRESS[FulfillmentEventType.SHIPPED])
        s.shipped_at = s.shipped_at or workflow.now()
        await self._transition(s.status, f"not cancelled: {self._cancel_refused}")
        return False

    # ---- actions and events ---------------------------------------------------------------------

    @workflow.query(name="state")
    def get_state(self) -> OrderState:
        return self.state

    @workflow.signal(name="fulfillment_event")
    def on_fulfillment_event(self, event: FulfillmentEvent) -> None:
        s = self.state
        if event.event_id in s.seen_event_ids:
            return
        s.seen_event_ids.append(event.event_id)
        if not self._applies_now(event) and workflow.patched(KEEP_EARLY_EVENTS):
            s.deferred_events.append(event)  # applied when the order reaches a status where it can
            return
        self._apply_event(event)

    def _applies_now(self, event: FulfillmentEvent) -> bool:
        s = self.state
        if event.type in RETURN_EVENTS:
            return s.return_shipment is not None
        if event.type in NETWORK_FAULTS:
            resolved = s.dispute is not None and s.dispute.resolution is not None
            status = s.attention.resume_status if s.status == OrderStatus.NEEDS_ATTENTION and s.attention else s.status
            return s.network_fault is not None or (status in FAULT_STATUSES and not resolved)
        return True

    def _apply_deferred_events(self) -> None:
        s = self.state
        ready = [e for e in s.deferred_events if self._applies_now(e)]
        if ready:
            s.deferred_events = [e for e in s.deferred_events if e not in ready]
            for event in ready:
                self._apply_event(event)

    def _apply_event(self, event: FulfillmentEvent) -> None:
        s = self.state
        if event.type in RETURN_EVENTS:
            self._on_return_event(event.type, event.occurred_at)
            return
        if event.type in NETWORK_FAULTS:
            if self._applies_now(event) and s.network_fault is None:
                s.network_fault = event
            return
        rank = PARCEL_PROGRESS[event.type]
        if rank <= s.parcel_progress:
            return  # stale or out of order: what it says is already known
        s.parcel_progress = rank
        s.shipped_at = s.shipped_at or event.occurred_at
        s.tracking = event.tracking or s.tracking
        if event.type == FulfillmentEventType.DELIVERED:
            s.delivered_at = event.occurred_at

    @workflow.update(name="confirm_receipt")
    async def confirm_receipt(self, actor: Actor) -> OrderState:
        self._confirmed = True
        await workflow.wait_condition(lambda: self.state.status != OrderStatus.AWAITING_CONFIRMATION)
        return self.state

    @confirm_receipt.validator
    def _validate_confirm_receipt(self, actor: Actor) -> None:
        s = self.state
        if s.status != OrderStatus.AWAITING_CONFIRMATION or self._confirmed or s.dispute is not None or self._network_at_fault():
            raise rejected(f"the order is {self.state.status}, not awaiting confirmation")

    @workflow.update(name="cancel")
    async def cancel(self, request: CancelRequest) -> OrderState:
        self._cancel, self._cancel_refused = request, None  # an earlier refusal does not answer this cancel
        if not workflow.patched(CANCEL_AT_NETWORK_FIRST):
            await workflow.wait_condition(lambda: self.state.status.is_terminal)
            return self.state
        parked_before = self.state.attention
        await workflow.wait_condition(lambda: self.state.status.is_terminal or self._cancel_refused is not None or self._parked_anew(parked_before))
        if self._cancel_refused is not None and not self.state.status.is_terminal:
            raise rejected(self._cancel_refused)
        return self.state

    def _parked_anew(self, parked_before) -> bool:
        """A step of the cancellation itself is waiting for an operator (not one the cancel resolves at once)."""
        a = self.state.attention
        return self.state.status == OrderStatus.NEEDS_ATTENTION and a is not None and a is not parked_before and not a.cancellable

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        if self._cancel is not None:
            raise rejected("the order is already being cancelled")
        s = self.state
        if s.status in CANCELLABLE_STATUSES and s.parcel_progress == 0 and not self._network_at_fault():
            return
        if request.actor.role == "operator" and s.attention is not None and s.attention.cancellable:
            return
        raise rejected(f"the order is {s.status} and can no longer be cancelled")

    @workflow.update(name="retry")
    async def retry(self, actor: Actor) -> OrderState:
        self._retry = True
        await workflow.wait_condition(lambda: self.state.status != OrderStatus.NEEDS_ATTENTION)
        return self.state

    @retry.validator
    def _validate_retry(self, actor: Actor) -> None:
        if self.state.status != OrderStatus.NEEDS_ATTENTION or self._retry:
            raise rejected(f"the order is {self.state.status}, not needs_attention")
