"""Stripe's own webhook events, as the API reads them (routers/stripe_webhooks.py): its signature checked by Stripe's
scheme, and a dispute event told as the chargeback it is."""

from datetime import UTC, datetime

import stripe
from pydantic import AwareDatetime, BaseModel

from domain.chargebacks import ChargebackStatus


class DisputeEvent(BaseModel):
    """What a Stripe dispute webhook says about a chargeback."""

    event_id: str
    dispute_id: str
    payment_intent: str | None
    amount: int
    currency: str
    status: ChargebackStatus
    occurred_at: AwareDatetime


DISPUTE_EVENTS = frozenset(
    {"charge.dispute.created", "charge.dispute.closed", "charge.dispute.funds_reinstated", "charge.dispute.funds_withdrawn"}
)


def dispute_event(payload: bytes, signature_header: str, secret: str) -> DisputeEvent | None:
    """The chargeback a signed Stripe webhook tells of; None for an event that tells of none. A bad signature raises
    stripe.SignatureVerificationError, a body that is not JSON ValueError."""
    event = stripe.Webhook.construct_event(payload, signature_header, secret)
    if event.type not in DISPUTE_EVENTS:
        return None
    dispute = event.data.object
    status = _chargeback_status(event.type, dispute.status)
    if status is None:
        return None
    return DisputeEvent(
        event_id=event.id,
        dispute_id=dispute.id,
        payment_intent=dispute.payment_intent,
        amount=dispute.amount,
        currency=dispute.currency.upper(),
        status=status,
        occurred_at=datetime.fromtimestamp(event.created, UTC),
    )


def _chargeback_status(event_type: str, dispute_status: str) -> ChargebackStatus | None:
    """None for an inquiry (a `warning_...` status), which takes no money, and for a dispute closed otherwise
    than won or lost."""
    if dispute_status.startswith("warning_"):
        return None
    if event_type == "charge.dispute.closed":
        return {"won": ChargebackStatus.WON, "lost": ChargebackStatus.LOST}.get(dispute_status)
    if event_type == "charge.dispute.funds_reinstated":
        return ChargebackStatus.WON
    return ChargebackStatus.OPENED  # created, or its money withdrawn
