"""Stripe's own webhook, for an engine whose payments go through Stripe Connect: its disputes (chargebacks), signed
with Stripe's scheme (`Stripe-Signature`) and the endpoint's secret SETTLEMENT_STRIPE_WEBHOOK_SECRET. A dispute names
the PaymentIntent, which is the order's capture; it is then taken like the payments webhook's chargebacks."""

from typing import Literal

import stripe
from fastapi import APIRouter, Request
from pydantic import BaseModel

from api.openapi import problems
from api.problems import Problem
from api.routers.orders import find_order
from api.routers.payment_webhooks import take_chargeback
from api.stripe_events import dispute_event
from db.payment_accounts import order_of_capture
from runtime.logs import current_order_id

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


class StripeEventReceipt(BaseModel):
    event_id: str
    status: Literal["accepted", "ignored"]


@router.post(
    "/stripe",
    status_code=202,
    response_model=StripeEventReceipt,
    operation_id="stripeWebhook",
    responses=problems(401, 404, 409, 422, 503),  # 404: no Stripe webhook is configured
    openapi_extra={"parameters": [{"name": "Stripe-Signature", "in": "header", "required": True, "schema": {"type": "string"}}]},
)
async def stripe_webhook(request: Request) -> StripeEventReceipt:
    """`charge.dispute.created`, `.funds_withdrawn`, `.funds_reinstated` and `.closed` (won or lost); other events,
    inquiries and disputes on payments that are not this engine's are acknowledged and ignored."""
    secret = request.app.state.settings.settlement_stripe_webhook_secret
    if not secret:
        raise Problem(404, "no Stripe webhook is configured here (SETTLEMENT_STRIPE_WEBHOOK_SECRET)")
    try:
        event = dispute_event(await request.body(), request.headers.get("Stripe-Signature", ""), secret)
    except (ValueError, stripe.SignatureVerificationError) as err:
        raise Problem(401, f"Stripe signature rejected: {err}", kind="invalid-signature") from err
    if event is None or event.payment_intent is None:
        return StripeEventReceipt(event_id=event.event_id if event else "", status="ignored")
    order_id = await order_of_capture(request.app.state.pool, event.payment_intent)
    order = await find_order(request, order_id) if order_id else None
    if order is None:  # a payment of the account's that is not this engine's: Stripe would retry a 404 for days
        return StripeEventReceipt(event_id=event.event_id, status="ignored")
    current_order_id.set(order.order_id)
    await take_chargeback(
        request, order, event.dispute_id, event.status, event.amount, event.currency, event.occurred_at, "data.object.amount"
    )
    return StripeEventReceipt(event_id=event.event_id, status="accepted")
