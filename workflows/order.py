"""One workflow per order, from payment to its final money movement (README: How it works).

The story (`run`) and the order's messages (query, signal, updates) are here. Orchestration only: every side
effect is an activity referred to by name, deadlines are durable timers. The mechanics (money steps, waiting,
parking, the read model) are in steps.py, the after-sales flows in after_sales.py, the cancellation path in
cancellation.py; what the actors have asked for is shared through one Requests object (requests.py).
"""

from collections.abc import Callable
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import ledger
    from domain import order_actions as msg
    from domain import order_steps as steps
    from domain.after_sales import open_dispute
    from domain.order_state import FulfillmentEvent, OrderInput, OrderState, confirm_by
    from domain.providers import AuthorizationResult, AuthorizeRequest, CaptureRequest, FulfillmentOrderRequest, ProviderReference
    from domain.statuses import PARCEL_PROGRESS, FulfillmentEventType, OrderStatus
    from workflows import patches
    from workflows.after_sales import AfterSales
    from workflows.cancellation import Cancellation
    from workflows.requests import Requests
    from workflows.steps import OrderCancelled, OrderSteps, Posting, Then, rejected
    from workflows.update_inputs import update_input

DELIVERED = PARCEL_PROGRESS[FulfillmentEventType.DELIVERED]
NETWORK_FAULTS = {FulfillmentEventType.LOST, FulfillmentEventType.DAMAGED}
RETURN_EVENTS = {FulfillmentEventType.RETURN_SHIPPED, FulfillmentEventType.RETURN_RECEIVED}
# Where a lost or damaged parcel is still the fulfillment network's to answer for.
FAULT_STATUSES = {OrderStatus.AWAITING_SHIPMENT, OrderStatus.IN_TRANSIT, OrderStatus.AWAITING_CONFIRMATION, OrderStatus.DISPUTED}


def captured(total: int) -> Callable[[OrderState], None]:
    def change(state: OrderState) -> None:
        state.amounts.captured = total

    return change


@workflow.defn(name=msg.WORKFLOW_TYPE)
class OrderWorkflow:
    @workflow.init
    def __init__(self, order: OrderInput) -> None:
        self.order = order
        self.state = OrderState.initial(order)
        self.requests = Requests()
        self.steps = OrderSteps(order, self.state, self.requests, on_transition=self._apply_deferred_events)
        self.after_sales = AfterSales(self.steps)
        self.cancellation = Cancellation(self.steps, self.after_sales)

    # ---- the lifecycle -------------------------------------------------------------------------

    @workflow.run
    async def run(self, order: OrderInput) -> OrderState:
        self.steps.books_ride = patches.books_ride()
        if not self.steps.books_ride:
            await self.steps.record()  # otherwise the authorization's activity writes the first row
        try:
            if not await self._authorize():
                return self.state
            self.steps.raise_if_cancelled()
            await self._create_fulfillment_order()
            shipped = await self.steps.wait_until(
                lambda: self.state.parcel_progress >= 1 or self.requests.cancel is not None or self.after_sales.network_at_fault(),
                self.state.deadlines.ship_by,
            )
            self.steps.raise_if_cancelled()
            if self.state.network_fault is not None and self.state.parcel_progress == 0:
                raise OrderCancelled(f"the fulfillment network reported the goods {self.state.network_fault.type} before shipment")
            if not shipped:
                raise OrderCancelled("ship-by deadline lapsed before shipment")
        except OrderCancelled as cancelled:
            if await self.cancellation.cancel_order(cancelled):
                return self.state
        try:
            await self._capture()
        except OrderCancelled as cancelled:
            await self.cancellation.cancel_order(cancelled)
            return self.state
        if await self._await_delivery():
            await self._await_confirmation()
        return self.state

    async def _authorize(self) -> bool:
        o = self.order
        request = AuthorizeRequest(
            idempotency_key=self.steps.key(steps.AUTHORIZE.key),
            order_id=o.order_id,
            amount=o.total,
            currency=o.currency,
            payment_method=o.payment_method,
        )
        if self.steps.books_ride:
            result = await self.steps.booked_step(steps.AUTHORIZE, request, AuthorizationResult, record_before=True)
        else:
            result = await self.steps.provider_step(steps.AUTHORIZE, request, AuthorizationResult)
        if not result.approved:
            self.state.decline_code = result.decline_code
            await self.steps.transition(OrderStatus.PAYMENT_FAILED, f"authorization declined: {result.decline_code}")
            return False
        self.state.authorization_id = result.authorization_id
        self.state.amounts.authorized = o.total
        if not self.steps.books_ride and patches.applies(patches.RECORD_AUTHORIZATION):
            await self.steps.record()  # the read model shows the authorization even while fulfillment retries
        return True

    async def _create_fulfillment_order(self) -> None:
        o = self.order
        request = FulfillmentOrderRequest(
            idempotency_key=self.steps.key(steps.CREATE_FULFILLMENT.key),
            order_id=o.order_id,
            seller_id=o.seller_id,
            items=o.items,
            ship_to=o.ship_to,
        )
        self.requests.fulfillment_requested = True
        then = Then(OrderStatus.AWAITING_SHIPMENT, "payment authorized; fulfillment order created")
        if self.steps.books_ride:
            # the row shows the authorization while the network is asked, then the order awaiting shipment
            await self.steps.booked_step(
                steps.CREATE_FULFILLMENT, request, ProviderReference, record_before=True, reference_field="fulfillment_order_id", then=then
            )
            return
        ref = await self.steps.provider_step(steps.CREATE_FULFILLMENT, request, ProviderReference)
        self.state.fulfillment_order_id = ref.id
        await self.steps.transition(then.status, then.detail)

    async def _capture(self) -> None:
        o, s = self.order, self.state
        request = CaptureRequest(
            idempotency_key=self.steps.key(steps.CAPTURE.key),
            authorization_id=s.authorization_id or "",
            amount=o.total,
            currency=o.currency,
        )
        then = Then(OrderStatus.IN_TRANSIT, "shipped; payment captured into escrow", change=captured(o.total))
        if self.steps.books_ride:
            # the rate is locked just before the capture, so its ledger entry rides with the capture itself
            fx = await self.steps.lock_fx()
            entry = Posting(
                steps.RECORD_CAPTURE.label, ledger.capture_entry(s.workflow_id, o.order_id, o.total, o.currency, fx, o.seller_id)
            )
            await self.steps.booked_step(steps.CAPTURE, request, ProviderReference, after=[entry], reference_field="capture_id", then=then)
            return
        ref = await self.steps.provider_step(steps.CAPTURE, request, ProviderReference)
        s.capture_id = ref.id
        fx = await self.steps.lock_fx()
        captured_entry = ledger.capture_entry(s.workflow_id, o.order_id, o.total, o.currency, fx, o.seller_id)
        await self.steps.ledger_step(steps.RECORD_CAPTURE.label, captured_entry)
        then.change(s)
        await self.steps.transition(then.status, then.detail)

    async def _await_delivery(self) -> bool:
        """Wait for delivery; False when the order ended on the way (lost, damaged, or never arrived)."""
        arrived = lambda: self.state.parcel_progress >= DELIVERED or self.after_sales.network_at_fault()  # noqa: E731
        deliver_by = self.state.deadlines.deliver_by
        if not await self.steps.wait_until(arrived, deliver_by):
            await self.after_sales.compensate_late_delivery()
            if not await self.steps.wait_until(arrived, deliver_by + self.order.after_sales.lost_after_late):
                self.state.network_fault = FulfillmentEvent(
                    event_id="policy:lost-after-late",
                    order_id=self.order.order_id,
                    type=FulfillmentEventType.LOST,
                    occurred_at=workflow.now(),
                )
        if self.after_sales.network_at_fault():
            await self.after_sales.resolve_network_fault()
            return False
        return True

    async def _await_confirmation(self) -> None:
        s = self.state
        if patches.applies(patches.CONFIRM_WINDOW_FROM_LEARNING):
            delivered_at = workflow.now()
        else:
            delivered_at = min(s.delivered_at or workflow.now(), workflow.now())
        s.deadlines.confirm_by = confirm_by(delivered_at, s.confirmation_window)
        await self.steps.transition(OrderStatus.AWAITING_CONFIRMATION, "delivered; confirmation window open")
        confirmed = await self.steps.wait_until(
            lambda: self.requests.confirmed or s.dispute is not None or self.after_sales.network_at_fault(), s.deadlines.confirm_by
        )
        if self.after_sales.network_at_fault():
            await self.after_sales.resolve_network_fault()
        elif s.dispute is not None:
            await self.after_sales.run_dispute()
        else:
            await self.steps.release_to_seller(
                "buyer confirmed receipt" if confirmed else "confirmation window lapsed; released automatically"
            )

    @workflow.query(name=msg.STATE_QUERY)
    def get_state(self) -> OrderState:
        return self.state

    @workflow.signal(name=msg.BOOKS_DIFFER_SIGNAL)
    def on_books_differ(self, finding: msg.BooksDiffer) -> None:
        self.requests.books_differ = finding

    # ---- the fulfillment network's events ------------------------------------------------------

    @workflow.signal(name=msg.FULFILLMENT_EVENT_SIGNAL)
    def on_fulfillment_event(self, event: FulfillmentEvent) -> None:
        s = self.state
        if event.event_id in s.seen_event_ids:
            return
        s.seen_event_ids.append(event.event_id)
        s.fulfillment_center = s.fulfillment_center or event.fulfillment_center
        if not self._applies_now(event) and patches.applies(patches.KEEP_EARLY_EVENTS):
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
            self.after_sales.on_return_event(event.type, event.occurred_at)
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

    # ---- the buyer's, seller's and operator's actions -------------------------------------------

    @workflow.update(name=msg.CONFIRM_RECEIPT)
    async def confirm_receipt(self, actor: msg.Actor) -> OrderState:
        self.requests.confirmed = True
        await workflow.wait_condition(lambda: self.state.status != OrderStatus.AWAITING_CONFIRMATION)
        return self.state

    @confirm_receipt.validator
    def _validate_confirm_receipt(self, actor: msg.Actor) -> None:
        s = self.state
        if (
            s.status != OrderStatus.AWAITING_CONFIRMATION
            or self.requests.confirmed
            or s.dispute is not None
            or self.after_sales.network_at_fault()
        ):
            raise rejected(f"the order is {self.state.status}, not awaiting confirmation")

    @workflow.update(name=msg.CANCEL)
    async def cancel(self, request: msg.CancelRequest) -> OrderState:
        return await self.cancellation.answer(request)

    @cancel.validator
    def _validate_cancel(self, request: msg.CancelRequest) -> None:
        self.cancellation.refuse(request)

    @workflow.update(name=msg.RETRY)
    async def retry(self, actor: msg.Actor) -> OrderState:
        self.requests.retry = True
        await workflow.wait_condition(lambda: self.state.status != OrderStatus.NEEDS_ATTENTION)
        return self.state

    @retry.validator
    def _validate_retry(self, actor: msg.Actor) -> None:
        if self.state.status != OrderStatus.NEEDS_ATTENTION or self.requests.retry:
            raise rejected(f"the order is {self.state.status}, not needs_attention")

    # Each dispute update takes one input model; `*arguments` also accepts the legacy pair (update_inputs.py).

    @workflow.update(name=msg.OPEN_DISPUTE)
    async def open_dispute(self, *arguments: Any) -> OrderState:
        opening = update_input(msg.OpenDispute, arguments)
        self.state.dispute = open_dispute(opening.dispute, f"buyer:{opening.actor.sub}", workflow.now(), self.order.after_sales)
        await workflow.wait_condition(lambda: self.state.status != OrderStatus.AWAITING_CONFIRMATION)
        return self.state

    @open_dispute.validator
    def _validate_open_dispute(self, *arguments: Any) -> None:
        update_input(msg.OpenDispute, arguments)
        s = self.state
        if s.dispute is not None:
            raise rejected("a dispute is already open for this order")
        if self.requests.confirmed:
            raise rejected("the buyer has confirmed receipt")
        if s.status != OrderStatus.AWAITING_CONFIRMATION or (s.deadlines.confirm_by and workflow.now() >= s.deadlines.confirm_by):
            raise rejected(f"the order is {s.status}: disputes may be opened only within the confirmation window")

    @workflow.update(name=msg.RESPOND_TO_DISPUTE)
    async def respond_to_dispute(self, *arguments: Any) -> OrderState:
        response = update_input(msg.RespondToDispute, arguments).response
        assert self.state.dispute is not None
        self.state.dispute.seller_response = response
        await workflow.wait_condition(lambda: self.state.status != OrderStatus.DISPUTED or response.evidence is not None)
        return self.state

    @respond_to_dispute.validator
    def _validate_response(self, *arguments: Any) -> None:
        update_input(msg.RespondToDispute, arguments)
        d = self.state.dispute
        if self.state.status != OrderStatus.DISPUTED or d is None or d.resolution is not None:
            raise rejected(f"the order is {self.state.status} with no dispute awaiting the seller")
        if d.seller_response is not None:
            raise rejected("the seller has already answered this dispute")
        if workflow.now() >= d.seller_response_by:
            raise rejected("the seller's response deadline has passed")

    @workflow.update(name=msg.RESOLVE_DISPUTE)
    async def resolve_dispute(self, *arguments: Any) -> OrderState:
        decision = update_input(msg.ResolveDispute, arguments)
        self.after_sales.decide(decision.resolution, f"operator:{decision.actor.sub}")
        await workflow.wait_condition(lambda: self.state.status != OrderStatus.DISPUTED)
        return self.state

    @resolve_dispute.validator
    def _validate_resolution(self, *arguments: Any) -> None:
        resolution = update_input(msg.ResolveDispute, arguments).resolution
        s, d = self.state, self.state.dispute
        if s.status != OrderStatus.DISPUTED or d is None:
            raise rejected(f"the order is {s.status}, not disputed")
        if d.resolution is not None:
            raise rejected(f"the dispute is already resolved ({d.resolution.outcome} by {d.resolved_by})")
        if self.after_sales.network_at_fault():
            raise rejected("the fulfillment network reported the parcel lost or damaged: the buyer is being refunded")
        held = s.amounts.captured - s.amounts.refunded
        if resolution.refund_amount is not None and resolution.refund_amount > held:
            raise rejected(f"refund_amount {resolution.refund_amount} exceeds what escrow holds ({held})")
