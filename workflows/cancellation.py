"""The cancellation path: a cancel asks the fulfillment network first and stands only if the goods have not
left (or an operator insists); the cancel update answers as soon as the order is cancelled, refused, or
parked for an operator. Orders begun before that change take the v1 path: void first, then tell the network."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import order_steps as steps
    from domain.order_actions import CancelRequest, Role
    from domain.order_state import Attention, OrderState
    from domain.providers import CancelFulfillmentRequest, CancelFulfillmentResult, ProviderReference, VoidRequest
    from domain.statuses import PARCEL_PROGRESS, FulfillmentEventType, OrderStatus
    from workflows import patches
    from workflows.after_sales import AfterSales
    from workflows.steps import OrderCancelled, OrderSteps, rejected

CANCELLABLE_STATUSES = {OrderStatus.PAYMENT_PENDING, OrderStatus.AWAITING_SHIPMENT}


class Cancellation:
    def __init__(self, steps: OrderSteps, after_sales: AfterSales):
        self.steps = steps
        self.after_sales = after_sales
        self.state = steps.state
        self.requests = steps.requests

    async def cancel_order(self, cancelled: OrderCancelled) -> bool:
        """Cancel at the fulfillment network, then void the authorization. False when the network had already
        shipped and the cancel was not an operator's decision: then the sale stands and the order carries on."""
        if not patches.applies(patches.CANCEL_AT_NETWORK_FIRST):
            return await self._cancel_order_v1(cancelled.reason)
        s = self.state
        if s.fulfillment_order_id or self.requests.fulfillment_requested:
            result = await self._cancel_fulfillment()
            if result.shipped and not cancelled.even_if_shipped:
                return await self._carry_on_as_shipped(cancelled.reason)
        s.cancel_reason = cancelled.reason
        await self._void()
        if self.after_sales.network_at_fault():
            await self.after_sales.reimburse_seller()
        await self.steps.transition(OrderStatus.CANCELLED, cancelled.reason)
        return True

    async def _cancel_order_v1(self, reason: str) -> bool:
        s = self.state
        s.cancel_reason = reason
        await self._void()
        if s.fulfillment_order_id:
            await self._cancel_fulfillment()
        if self.after_sales.network_at_fault():
            await self.after_sales.reimburse_seller()
        await self.steps.transition(OrderStatus.CANCELLED, reason)
        return True

    async def _cancel_fulfillment(self) -> CancelFulfillmentResult:
        request = CancelFulfillmentRequest(idempotency_key=self.steps.key(steps.CANCEL_FULFILLMENT.key), order_id=self.state.order_id)
        return await self.steps.provider_step(steps.CANCEL_FULFILLMENT, request, CancelFulfillmentResult)

    async def _void(self) -> None:
        s = self.state
        if s.authorization_id:
            void = VoidRequest(idempotency_key=self.steps.key(steps.VOID.key), authorization_id=s.authorization_id)
            await self.steps.provider_step(steps.VOID, void, ProviderReference)
            s.amounts.authorized = 0

    async def _carry_on_as_shipped(self, reason: str) -> bool:
        s = self.state
        refused = f"the fulfillment network had already shipped the order ({reason})"
        self.requests.cancel, self.requests.cancel_refused = None, refused
        s.parcel_progress = max(s.parcel_progress, PARCEL_PROGRESS[FulfillmentEventType.SHIPPED])
        s.shipped_at = s.shipped_at or workflow.now()
        await self.steps.transition(s.status, f"not cancelled: {refused}")
        return False

    # ---- the cancel update ----------------------------------------------------------------------

    def refuse(self, request: CancelRequest) -> None:
        """The cancel update's validator: raises when the order can no longer be cancelled."""
        if self.requests.cancel is not None:
            raise rejected("the order is already being cancelled")
        s = self.state
        if s.status in CANCELLABLE_STATUSES and s.parcel_progress == 0 and not self.after_sales.network_at_fault():
            return
        if request.actor.role == Role.OPERATOR and s.attention is not None and s.attention.cancellable:
            return
        raise rejected(f"the order is {s.status} and can no longer be cancelled")

    async def answer(self, request: CancelRequest) -> OrderState:
        """The cancel update: ask, then wait until the order is cancelled, the cancel refused, or a step of the
        cancellation itself parked for an operator."""
        requests, s = self.requests, self.state
        requests.cancel, requests.cancel_refused = request, None  # an earlier refusal does not answer this cancel
        if not patches.applies(patches.CANCEL_AT_NETWORK_FIRST):
            await workflow.wait_condition(lambda: s.status.is_terminal)
            return s
        parked_before = s.attention
        await workflow.wait_condition(
            lambda: s.status.is_terminal or requests.cancel_refused is not None or self._parked_anew(parked_before)
        )
        if requests.cancel_refused is not None and not s.status.is_terminal:
            raise rejected(requests.cancel_refused)
        return s

    def _parked_anew(self, parked_before: Attention | None) -> bool:
        """A step of the cancellation itself is waiting for an operator (not one the cancel resolves at once)."""
        a = self.state.attention
        return self.state.status == OrderStatus.NEEDS_ATTENTION and a is not None and a is not parked_before and not a.cancellable
