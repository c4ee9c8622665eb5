"""The fulfillment network's signed webhook."""

import time

from fastapi import APIRouter, Request
from pydantic import ValidationError

from api.problems import Problem, pydantic_errors, validation_problem
from domain.order_state import FulfillmentEvent
from domain.webhook_signature import InvalidSignature, verify
from logs import current_order_id

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


@router.post("/fulfillment", status_code=202, openapi_extra={
    "requestBody": {"required": True, "content": {"application/json": {"schema": FulfillmentEvent.model_json_schema()}}},
    "parameters": [{"name": "X-Signature", "in": "header", "required": True, "schema": {"type": "string"},
                    "description": 't=<unix>,v1=<hex HMAC-SHA256 of "t.body">; several v1 allowed'}],
})
async def fulfillment_webhook(request: Request) -> dict:
    settings = request.app.state.settings
    body = await request.body()
    secrets = [s.strip() for s in settings.settlement_webhook_secret.split(",") if s.strip()]
    try:
        verify(body, request.headers.get("X-Signature"), secrets, int(time.time()), settings.settlement_webhook_tolerance_seconds)
    except InvalidSignature as err:
        raise Problem(401, f"webhook signature rejected: {err}", kind="invalid-signature") from err
    try:
        event = FulfillmentEvent.model_validate_json(body)
    except ValidationError as err:
        raise validation_problem(pydantic_errors(err.errors())) from err
    current_order_id.set(event.order_id)
    outcome = await request.app.state.orders.deliver_event(event)
    return {"event_id": event.event_id, "status": outcome}
