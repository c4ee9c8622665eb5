"""After-sales: disputes, returns, the fulfillment network's faults and late delivery (policy in
domain/after_sales.py). Mixed into the order workflow."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import activity_names as act
    from domain import ledger
    from domain.after_sales import (
        DisputeOutcome,
        DisputeReason,
        DisputeRequest,
        Fault,
        Resolution,
        ReturnShipment,
        SellerResponse,
        open_dispute,
    )
    from domain.allocation import percentage_of
    from domain.order_actions import Actor
    from domain.order_state import OrderState
    from domain.providers import CreditRequest, ProviderReference, ReturnRequest
    from domain.statuses import FulfillmentEventType, OrderStatus

from workflows.steps import OrderSteps, rejected


class AfterSales(OrderSteps):
    def _network_at_fault(self) -> bool:
        return self.state.network_fault is not None

    # ---- late delivery --------------------------------------------------------------------------

    async def _compensate_late_delivery(self) -> None:
        o, s = self.order, self.state
        amount = percentage_of(o.total, o.after_sales.late_delivery_compensation_bps)
        if amount > 0:
            step = "late-delivery-compensation"
            request = CreditRequest(idempotency_key=self._key(step), order_id=o.order_id, payment_method=o.payment_method, amount=amount, currency=o.currency)
            await self._disburse(
                step,
                lambda: self._provider(act.CREDIT_BUYER, request, ProviderReference),
                ledger.compensation_disbursement(s.workflow_id, o.order_id, amount, o.currency),
                legacy=ledger.compensation_entry(s.workflow_id, o.order_id, amount, o.currency),
            )
            s.amounts.compensated = amount
        await self._transition(s.status, f"deliver-by lapsed before delivery; buyer compensated {amount} {o.currency} by the fulfillment network")

    # ---- the fulfillment network's fault --------------------------------------------------------

    async def _resolve_network_fault(self) -> None:
        """Lost or damaged by the network: refund the buyer from escrow, reimburse and pay the seller."""
        s, fault = self.state, self.state.network_fault
        kind = fault.type.value if fault else "lost"
        if s.dispute is None:
            reason = DisputeReason.DAMAGED if kind == FulfillmentEventType.DAMAGED else DisputeReason.NOT_RECEIVED
            request = DisputeRequest(reason=reason, description=f"the fulfillment network reported the parcel {kind}")
            s.dispute = open_dispute(request, "fulfillment_network", workflow.now(), self.order.after_sales, Fault.FULFILLMENT_NETWORK)
        s.dispute.fault = Fault.FULFILLMENT_NETWORK
        if s.dispute.resolution is None:
            s.dispute.resolution = Resolution(outcome=DisputeOutcome.REFUND, note=f"parcel {kind}: the fulfillment network is at fault")
            s.dispute.resolved_by, s.dispute.resolved_at = "policy", workflow.now()
        if s.status != OrderStatus.DISPUTED:
            await self._transition(OrderStatus.DISPUTED, f"the fulfillment network reported the parcel {kind}")
        held = s.amounts.captured - s.amounts.refunded
        if held > 0:
            await self._refund(held, "refund")
        await self._reimburse_seller()
        await self._transition(OrderStatus.REFUNDED, "buyer refunded; the fulfillment network reimbursed the seller")

    async def _reimburse_seller(self) -> None:
        o, s = self.order, self.state
        amount = o.total - o.fees.total
        if amount <= 0:
            return
        fx = await self._lock_fx()
        entry = ledger.reimbursement_entry(s.workflow_id, o.order_id, o.seller_id, amount, o.currency, fx)
        await self._money_step("reimbursement", lambda: self._post(entry))
        settled = ledger.settled_amount(amount, fx)
        s.amounts.reimbursed, s.settlement.reimbursed = amount, settled
        if settled > 0:
            await self._pay_out(settled, "reimbursement-payout")

    # ---- disputes -------------------------------------------------------------------------------

    async def _run_dispute(self) -> None:
        s = self.state
        d = s.dispute
        s.deadlines.seller_response_by, s.deadlines.resolution_by = d.seller_response_by, d.resolution_by
        await self._transition(OrderStatus.DISPUTED, f"dispute opened by the buyer: {d.reason}")
        await self._wait_until(lambda: d.seller_response is not None or d.resolution is not None or self._network_at_fault(), d.seller_response_by)
        if not self._network_at_fault() and d.resolution is None:
            if d.seller_response is None:
                self._decide(Resolution(outcome=DisputeOutcome.REFUND, note="the seller did not answer in time; the buyer's claim is granted"), "policy")
            elif d.seller_response.accept_refund:
                self._decide(Resolution(outcome=DisputeOutcome.REFUND, note="the seller accepted the refund"), "seller")
            else:
                await self._wait_until(lambda: d.resolution is not None or self._network_at_fault(), d.resolution_by)
                if d.resolution is None and not self._network_at_fault():
                    self._decide(Resolution(outcome=DisputeOutcome.REFUND, note="resolution deadline lapsed; escalated to a full refund (buyer protection)"), "policy")
        if self._network_at_fault():
            await self._resolve_network_fault()
            return
        await self._apply(d.resolution)

    def _decide(self, resolution: Resolution, by: str) -> None:
        self.state.dispute.resolution = resolution
        self.state.dispute.resolved_by, self.state.dispute.resolved_at = by, workflow.now()

    async def _apply(self, resolution: Resolution) -> None:
        s = self.state
        held = s.amounts.captured - s.amounts.refunded
        match resolution.outcome:
            case DisputeOutcome.RELEASE:
                await self._transition(OrderStatus.PAYOUT_PENDING, "dispute resolved: released to the seller")
                await self._release_and_pay_out()
            case DisputeOutcome.REFUND:
                await self._refund(held, "refund")
                await self._transition(OrderStatus.REFUNDED, f"dispute resolved: refunded ({resolution.note})" if resolution.note else "dispute resolved: refunded")
            case DisputeOutcome.PARTIAL_REFUND:
                amount = min(resolution.refund_amount or 0, held)
                await self._refund(amount, "partial-refund")
                if amount == held:
                    await self._transition(OrderStatus.REFUNDED, "dispute resolved: refunded in full")
                    return
                await self._transition(OrderStatus.PAYOUT_PENDING, f"dispute resolved: {amount} refunded, the remainder released")
                await self._release_and_pay_out()
            case DisputeOutcome.RETURN_AND_REFUND:
                await self._return_and_refund()

    async def _return_and_refund(self) -> None:
        o, s = self.order, self.state
        # The return exists before the network confirms it, so its events are never dropped.
        s.return_shipment = ReturnShipment(requested_at=workflow.now(), return_by=workflow.now() + o.after_sales.return_window)
        s.deadlines.return_by = s.return_shipment.return_by
        request = ReturnRequest(idempotency_key=self._key("return"), order_id=o.order_id)
        await self._money_step("request_return", lambda: self._provider(act.REQUEST_RETURN, request, ProviderReference))
        await self._transition(OrderStatus.AWAITING_RETURN, "return requested from the fulfillment network")
        r = s.return_shipment
        if not await self._wait_until(lambda: r.shipped_at is not None, r.return_by):
            await self._transition(OrderStatus.PAYOUT_PENDING, "the return was not shipped in time; released to the seller")
            await self._release_and_pay_out()
            return
        received = await self._wait_until(lambda: r.received_at is not None, r.shipped_at + o.after_sales.return_transit_window)
        await self._refund(s.amounts.captured - s.amounts.refunded, "refund")
        detail = "return received; buyer refunded" if received else "return shipped but not received in time; buyer refunded"
        await self._transition(OrderStatus.REFUNDED, detail)

    def _on_return_event(self, kind: FulfillmentEventType, occurred_at) -> None:
        r = self.state.return_shipment
        if r is None:
            return
        r.shipped_at = r.shipped_at or occurred_at
        if kind == FulfillmentEventType.RETURN_RECEIVED:
            r.received_at = r.received_at or occurred_at

    # ---- the buyer's, seller's and operator's actions -------------------------------------------

    @workflow.update(name="open_dispute")
    async def open_dispute_update(self, actor: Actor, request: DisputeRequest) -> OrderState:
        self.state.dispute = open_dispute(request, f"buyer:{actor.sub}", workflow.now(), self.order.after_sales)
        await workflow.wait_condition(lambda: self.state.status != OrderStatus.AWAITING_CONFIRMATION)
        return self.state

    @open_dispute_update.validator
    def _validate_open_dispute(self, actor: Actor, request: DisputeRequest) -> None:
        s = self.state
        if s.dispute is not None:
            raise rejected("a dispute is already open for this order")
        if self._confirmed:
            raise rejected("the buyer has confirmed receipt")
        if s.status != OrderStatus.AWAITING_CONFIRMATION or (s.deadlines.confirm_by and workflow.now() >= s.deadlines.confirm_by):
            raise rejected(f"the order is {s.status}: disputes may be opened only within the confirmation window")

    @workflow.update(name="respond_to_dispute")
    async def respond_to_dispute(self, actor: Actor, response: SellerResponse) -> OrderState:
        self.state.dispute.seller_response = response
        await workflow.wait_condition(lambda: self.state.status != OrderStatus.DISPUTED or response.evidence is not None)
        return self.state

    @respond_to_dispute.validator
    def _validate_response(self, actor: Actor, response: SellerResponse) -> None:
        d = self.state.dispute
        if self.state.status != OrderStatus.DISPUTED or d is None or d.resolution is not None:
            raise rejected(f"the order is {self.state.status} with no dispute awaiting the seller")
        if d.seller_response is not None:
            raise rejected("the seller has already answered this dispute")
        if workflow.now() >= d.seller_response_by:
            raise rejected("the seller's response deadline has passed")

    @workflow.update(name="resolve_dispute")
    async def resolve_dispute(self, actor: Actor, resolution: Resolution) -> OrderState:
        self._decide(resolution, f"operator:{actor.sub}")
        await workflow.wait_condition(lambda: self.state.status != OrderStatus.DISPUTED)
        return self.state

    @resolve_dispute.validator
    def _validate_resolution(self, actor: Actor, resolution: Resolution) -> None:
        s, d = self.state, self.state.dispute
        if s.status != OrderStatus.DISPUTED or d is None:
            raise rejected(f"the order is {s.status}, not disputed")
        if d.resolution is not None:
            raise rejected(f"the dispute is already resolved ({d.resolution.outcome} by {d.resolved_by})")
        if self._network_at_fault():
            raise rejected("the fulfillment network reported the parcel lost or damaged: the buyer is being refunded")
        held = s.amounts.captured - s.amounts.refunded
        if resolution.refund_amount is not None and resolution.refund_amount > held:
            raise rejected(f"refund_amount {resolution.refund_amount} exceeds what escrow holds ({held})")
