"""The payment provider's signed webhook: chargebacks on captured payments, possibly long after the seller was paid.

Signed like the fulfillment network's webhook (`X-Signature`), with the provider's own secret
(SETTLEMENT_PAYMENTS_WEBHOOK_SECRET; unset, the shared SETTLEMENT_WEBHOOK_SECRET). A notice is checked against the
order (its currency, and that chargebacks and claims never give back more than was captured and not refunded), then handed
to the seller's payouts workflow, which records it; a notice delivered twice comes to the same entries.
"""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from api.openapi import REF, problems
from api.problems import Problem, field_error
from api.routers.webhooks import SIGNATURE, order_of_event, parse_document, signed_body
from db.money_back import money_back
from domain.chargebacks import ChargebackNotice, ChargebackStatus
from domain.json_schema import WHOLE_NUMBER
from domain.order_request import Identifier, Timestamp
from domain.order_state import OrderState
from domain.text import SingleLine

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

EVENT_TYPES = {
    "charge.dispute.created": ChargebackStatus.OPENED,
    "charge.dispute.won": ChargebackStatus.WON,
    "charge.dispute.lost": ChargebackStatus.LOST,
}


class PaymentEventBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: SingleLine = Field(min_length=1, max_length=128)
    type: Literal["charge.dispute.created", "charge.dispute.won", "charge.dispute.lost"]
    dispute_id: Identifier
    order_id: Identifier
    amount: Annotated[StrictInt, Field(gt=0, le=10**12, description="minor units of the order's currency taken back"), WHOLE_NUMBER]
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    occurred_at: Timestamp


class PaymentEventReceipt(BaseModel):
    event_id: str
    status: Literal["accepted"]


_EVENT = {
    "required": True,
    "content": {
        "application/json": {
            "schema": PaymentEventBody.model_json_schema(ref_template=REF + "{model}"),
            "examples": {
                "chargeback": {
                    "value": {
                        "event_id": "evt-cb-1",
                        "type": "charge.dispute.created",
                        "dispute_id": "dp-1",
                        "order_id": "walk-1",
                        "amount": 3000,
                        "currency": "USD",
                        "occurred_at": "2026-05-20T10:00:00Z",
                    }
                }
            },
        }
    },
}


@router.post(
    "/payments",
    status_code=202,
    response_model=PaymentEventReceipt,
    operation_id="paymentsWebhook",
    responses=problems(401, 404, 409, 422, 503),
    openapi_extra={"requestBody": _EVENT, "parameters": [SIGNATURE]},
)
async def payments_webhook(request: Request) -> PaymentEventReceipt:
    event = parse_document(await signed_body(request, request.app.state.settings.payments_webhook_secrets), PaymentEventBody)
    order = await order_of_event(request, event.order_id, event.occurred_at)
    await take_chargeback(
        request, order, event.dispute_id, EVENT_TYPES[event.type], event.amount, event.currency, event.occurred_at, "amount"
    )
    return PaymentEventReceipt(event_id=event.event_id, status="accepted")


async def take_chargeback(
    request: Request,
    order: OrderState,
    dispute_id: str,
    status: ChargebackStatus,
    amount: int,
    currency: str,
    occurred_at: datetime,
    amount_field: str,
) -> None:
    """Check a provider's chargeback notice against the order and hand it to the seller's payouts workflow: 422 for
    another currency or more than is left to give back, 409 for a known dispute given another amount."""
    if currency != order.currency:
        raise field_error("currency", f"the order was paid in {order.currency}")
    back = await money_back(request.app.state.pool, order.order_id)
    known = back.chargeback(dispute_id)
    if known is not None and known.amount != amount:
        raise Problem(409, f"dispute {dispute_id} was reported for {known.amount}, not {amount}", kind="conflict")
    left = back.left_to_give_back(order.amounts, dispute_id=dispute_id)
    if amount > left:
        raise field_error(amount_field, f"exceeds what was captured and not refunded, charged back or claimed ({left})")
    notice = ChargebackNotice(
        dispute_id=dispute_id,
        order_id=order.order_id,
        seller_id=order.seller_id,
        status=status,
        amount=amount,
        currency=currency,
        occurred_at=occurred_at,
    )
    await request.app.state.payouts.chargeback(notice)
