"""After-sales: disputes, returns, the fulfillment network's faults and late delivery (policy in
domain/after_sales.py). The workflow's dispute updates hand their decisions here."""

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import ledger
    from domain import order_steps as steps
    from domain.after_sales import DisputeOutcome, DisputeReason, DisputeRequest, Fault, Resolution, ReturnShipment, open_dispute
    from domain.allocation import percentage_of
    from domain.providers import CreditRequest, ProviderReference, ReturnRequest
    from domain.statuses import FulfillmentEventType, OrderStatus
    from workflows import patches
    from workflows.steps import OrderSteps


class AfterSales:
    def __init__(self, steps: OrderSteps):
        self.steps = steps
        self.order = steps.order
        self.state = steps.state

    def network_at_fault(self) -> bool:
        return self.state.network_fault is not None

    # ---- late delivery --------------------------------------------------------------------------

    async def compensate_late_delivery(self) -> None:
        o, s = self.order, self.state
        amount = percentage_of(o.total, o.after_sales.late_delivery_compensation_bps)
        if amount > 0:
            step = steps.LATE_DELIVERY_COMPENSATION
            request = CreditRequest(
                idempotency_key=self.steps.key(step.key),
                order_id=o.order_id,
                payment_method=o.payment_method,
                amount=amount,
                currency=o.currency,
            )
            await self.steps.disburse(
                step,
                request,
                ledger.compensation_disbursement(s.workflow_id, o.order_id, amount, o.currency),
                legacy=ledger.compensation_entry(s.workflow_id, o.order_id, amount, o.currency),
            )
            s.amounts.compensated = amount
        await self.steps.transition(
            s.status, f"deliver-by lapsed before delivery; buyer compensated {amount} {o.currency} by the fulfillment network"
        )

    # ---- the fulfillment network's fault --------------------------------------------------------

    async def resolve_network_fault(self) -> None:
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
            await self.steps.transition(OrderStatus.DISPUTED, f"the fulfillment network reported the parcel {kind}")
        held = s.amounts.captured - s.amounts.refunded
        if held > 0:
            await self.steps.refund(held, steps.REFUND)
        await self.reimburse_seller()
        await self.steps.transition(OrderStatus.REFUNDED, "buyer refunded; the fulfillment network reimbursed the seller")

    async def reimburse_seller(self) -> None:
        o, s = self.order, self.state
        amount = o.total - o.fees.total
        if amount <= 0:
            return
        fx = await self.steps.lock_fx()
        entry = ledger.reimbursement_entry(s.workflow_id, o.order_id, o.seller_id, amount, o.currency, fx)
        await self.steps.ledger_step(steps.REIMBURSEMENT.label, entry)
        settled = ledger.settled_amount(amount, fx)
        s.amounts.reimbursed, s.settlement.reimbursed = amount, settled
        if settled > 0 and not (o.payout.pooled and patches.since_books_ride(patches.POOLED_PAYOUTS)):
            await self.steps.pay_out(settled, steps.REIMBURSEMENT_PAYOUT)  # a pooled seller's payouts pay it

    # ---- disputes -------------------------------------------------------------------------------

    async def run_dispute(self) -> None:
        s = self.state
        d = s.dispute
        assert d is not None
        s.deadlines.seller_response_by, s.deadlines.resolution_by = d.seller_response_by, d.resolution_by
        await self.steps.transition(OrderStatus.DISPUTED, f"dispute opened by the buyer: {d.reason}")
        await self.steps.wait_until(
            lambda: d.seller_response is not None or d.resolution is not None or self.network_at_fault(), d.seller_response_by
        )
        if not self.network_at_fault() and d.resolution is None:
            if d.seller_response is None:
                self.decide(
                    Resolution(outcome=DisputeOutcome.REFUND, note="the seller did not answer in time; the buyer's claim is granted"),
                    "policy",
                )
            elif d.seller_response.accept_refund:
                self.decide(Resolution(outcome=DisputeOutcome.REFUND, note="the seller accepted the refund"), "seller")
            else:
                await self.steps.wait_until(lambda: d.resolution is not None or self.network_at_fault(), d.resolution_by)
                if d.resolution is None and not self.network_at_fault():
                    self.decide(
                        Resolution(
                            outcome=DisputeOutcome.REFUND, note="resolution deadline lapsed; escalated to a full refund (buyer protection)"
                        ),
                        "policy",
                    )
        if self.network_at_fault():
            await self.resolve_network_fault()
            return
        assert d.resolution is not None
        await self._apply(d.resolution)

    def decide(self, resolution: Resolution, by: str) -> None:
        dispute = self.state.dispute
        assert dispute is not None
        dispute.resolution = resolution
        dispute.resolved_by, dispute.resolved_at = by, workflow.now()

    async def _apply(self, resolution: Resolution) -> None:
        s = self.state
        held = s.amounts.captured - s.amounts.refunded
        match resolution.outcome:
            case DisputeOutcome.RELEASE:
                await self.steps.release_to_seller("dispute resolved: released to the seller")
            case DisputeOutcome.REFUND:
                await self.steps.refund(held, steps.REFUND)
                await self.steps.transition(
                    OrderStatus.REFUNDED,
                    f"dispute resolved: refunded ({resolution.note})" if resolution.note else "dispute resolved: refunded",
                )
            case DisputeOutcome.PARTIAL_REFUND:
                amount = min(resolution.refund_amount or 0, held)
                await self.steps.refund(amount, steps.PARTIAL_REFUND)
                if amount == held:
                    await self.steps.transition(OrderStatus.REFUNDED, "dispute resolved: refunded in full")
                    return
                await self.steps.release_to_seller(f"dispute resolved: {amount} refunded, the remainder released")
            case DisputeOutcome.RETURN_AND_REFUND:
                await self._return_and_refund()

    async def _return_and_refund(self) -> None:
        o, s = self.order, self.state
        # The return exists before the network confirms it, so its events are never dropped.
        s.return_shipment = ReturnShipment(requested_at=workflow.now(), return_by=workflow.now() + o.after_sales.return_window)
        s.deadlines.return_by = s.return_shipment.return_by
        request = ReturnRequest(idempotency_key=self.steps.key(steps.REQUEST_RETURN.key), order_id=o.order_id)
        await self.steps.provider_step(steps.REQUEST_RETURN, request, ProviderReference)
        await self.steps.transition(OrderStatus.AWAITING_RETURN, "return requested from the fulfillment network")
        r = s.return_shipment
        if not await self.steps.wait_until(lambda: r.shipped_at is not None, r.return_by):
            await self.steps.release_to_seller("the return was not shipped in time; released to the seller")
            return
        assert r.shipped_at is not None
        received = await self.steps.wait_until(lambda: r.received_at is not None, r.shipped_at + o.after_sales.return_transit_window)
        await self.steps.refund(s.amounts.captured - s.amounts.refunded, steps.REFUND)
        detail = "return received; buyer refunded" if received else "return shipped but not received in time; buyer refunded"
        await self.steps.transition(OrderStatus.REFUNDED, detail)

    def on_return_event(self, kind: FulfillmentEventType, occurred_at: datetime) -> None:
        r = self.state.return_shipment
        if r is None:
            return
        r.shipped_at = r.shipped_at or occurred_at
        if kind == FulfillmentEventType.RETURN_RECEIVED:
            r.received_at = r.received_at or occurred_at
