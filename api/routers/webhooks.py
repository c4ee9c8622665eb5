"""The fulfillment network's signed webhook.

It takes no `Idempotency-Key`: it has no bearer token to scope keys by, and the workflow ignores an
`event_id` it has seen, so a redelivered event is harmless.
"""

import json
import time
from datetime import UTC, datetime
from typing import Literal, TypeVar

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.openapi import REF, problems
from api.order_workflows import NoRunningWorkflow
from api.problems import Problem, field_error, pydantic_errors, validation_problem
from api.routers.orders import find_order
from domain.fulfillment_events import occurred_at_error
from domain.order_request import Timestamp
from domain.order_state import FulfillmentEvent, OrderState
from domain.webhook_signature import InvalidSignature, verify
from runtime.logs import current_order_id

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

Document = TypeVar("Document", bound=BaseModel)


class FulfillmentEventBody(FulfillmentEvent):
    """The event as the network sends it: unknown properties are refused (the workflow's payload stays lenient)."""

    model_config = ConfigDict(extra="forbid")

    occurred_at: Timestamp = Field(description="within 5 minutes of the API's clock or before it, and not before the order was placed")


class EventReceipt(BaseModel):
    event_id: str
    status: Literal["accepted", "ignored"] = Field(description="`ignored`: the order has finished")


# The body is read raw (its signature is checked first), so the document describes it here rather than by a parameter.
_EVENT = {
    "required": True,
    "content": {
        "application/json": {
            "schema": FulfillmentEventBody.model_json_schema(ref_template=REF + "{model}"),
            "examples": {
                "delivered": {
                    "value": {
                        "event_id": "evt-81",
                        "order_id": "walk-1",
                        "type": "delivered",
                        "occurred_at": "2026-05-04T09:30:00Z",
                        "tracking": "SIM123456",
                    }
                }
            },
        }
    },
}
SIGNATURE = {
    "name": "X-Signature",
    "in": "header",
    "required": True,
    "schema": {"type": "string"},
    "description": 't=<unix>,v1=<hex HMAC-SHA256 of "t.body">; several v1 allowed',
}


@router.post(
    "/fulfillment",
    status_code=202,
    response_model=EventReceipt,
    operation_id="fulfillmentWebhook",
    responses=problems(401, 404, 422, 503),
    openapi_extra={"requestBody": _EVENT, "parameters": [SIGNATURE]},
)
async def fulfillment_webhook(request: Request) -> EventReceipt:
    event = parse_document(await signed_body(request, request.app.state.settings.settlement_webhook_secret), FulfillmentEventBody)
    await order_of_event(request, event.order_id, event.occurred_at)
    try:
        await request.app.state.orders.deliver_event(event)
    except NoRunningWorkflow:
        return EventReceipt(event_id=event.event_id, status="ignored")  # the order has finished
    return EventReceipt(event_id=event.event_id, status="accepted")


async def order_of_event(request: Request, order_id: str, occurred_at: datetime) -> OrderState:
    """The order an event is about (404 when there is none), once the event's time can be true for it."""
    current_order_id.set(order_id)
    order = await find_order(request, order_id)
    if order is None:
        raise Problem(404, f"no order {order_id}")
    if error := occurred_at_error(occurred_at, order.placed_at, datetime.now(UTC)):
        raise field_error("occurred_at", error)
    return order


async def signed_body(request: Request, secret_list: str) -> bytes:
    """The body, once its `X-Signature` proves it comes from a holder of one of the secrets (`new,old`; 401 otherwise)."""
    settings = request.app.state.settings
    body = await request.body()
    secrets = [s.strip() for s in secret_list.split(",") if s.strip()]
    try:
        verify(body, request.headers.get("X-Signature"), secrets, int(time.time()), settings.settlement_webhook_tolerance_seconds)
    except InvalidSignature as err:
        raise Problem(401, f"webhook signature rejected: {err}", kind="invalid-signature") from err
    return body


def parse_document(body: bytes, model: type[Document]) -> Document:
    """Python's JSON reader keeps unpaired surrogates, so pydantic can name the field that holds one."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as err:
        raise field_error("", "the body is not a JSON document") from err
    try:
        return model.model_validate(document)
    except ValidationError as err:
        raise validation_problem(pydantic_errors(err.errors())) from err
