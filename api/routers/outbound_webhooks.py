"""Webhook endpoints marketplaces and sellers register, and the events the engine sent them (docs/webhooks.md).

A marketplace or seller registers, lists and disables its own endpoints and reads and replays its own events; an
operator does so for anyone (naming the owner)."""

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from pydantic import BaseModel

from api.auth import Principal, require
from api.idempotency import IdempotentRoute
from api.openapi import problems
from api.problems import Problem, field_error
from db import outbound_webhooks as outbox
from domain.order_actions import Role
from domain.outbound_webhooks import OWNER_PATTERN, Endpoint, EndpointRequest, EventRecord, NewEndpoint, owner_of, private_host

router = APIRouter(tags=["webhooks"], route_class=IdempotentRoute)

EndpointId = Annotated[str, Path(pattern=r"^we_[0-9a-f]{24}$", description="an endpoint's id")]
EventId = Annotated[str, Path(pattern=r"^evt_[0-9a-f]{32}$", description="an event's id (its `webhook-id`)")]
Owner = Annotated[str | None, Query(pattern=OWNER_PATTERN, description="operators: whose (`marketplace:<id>` or `seller:<id>`)")]
MAY_REGISTER = (Role.MARKETPLACE, Role.SELLER, Role.OPERATOR)
_EXAMPLE = {"url": "https://hooks.example.com/settlement", "event_types": ["order.status_changed", "payout.paid"]}


class EndpointList(BaseModel):
    endpoints: list[Endpoint]


class EventList(BaseModel):
    events: list[EventRecord]


class Replayed(BaseModel):
    event_id: str
    status: Literal["queued"]
    deliveries: int


def _owner(principal: Principal, named: str | None) -> str | None:
    """Whose endpoints and events the caller acts on: their own, or for an operator the owner named (None: all)."""
    if principal.role == Role.OPERATOR:
        return named
    own = owner_of(principal.role.value, principal.sub)
    if named is not None and named != own:
        raise Problem(403, f"{principal.role.value} {principal.sub} may act only on their own webhooks")
    return own


@router.post(
    "/v1/webhook-endpoints", status_code=201, response_model=NewEndpoint, operation_id="createWebhookEndpoint", responses=problems(403, 409)
)
async def create_endpoint(
    body: Annotated[EndpointRequest, Body(openapi_examples={"orders and payouts": {"value": _EXAMPLE}})],
    request: Request,
    principal: Principal = Depends(require(*MAY_REGISTER)),
) -> NewEndpoint:
    """Register a URL; the answer carries its signing secret, shown this once. Events are signed with it by the
    Standard Webhooks scheme (`webhook-id`, `webhook-timestamp`, `webhook-signature`)."""
    owner = _owner(principal, body.owner)
    if owner is None:
        raise Problem(403, "an operator has no webhook endpoints of its own: name the owner (marketplace:<id> or seller:<id>)")
    if await outbox.active_endpoints(request.app.state.pool, owner) >= outbox.MOST_ENDPOINTS:
        raise Problem(409, f"{owner} has {outbox.MOST_ENDPOINTS} endpoints: disable one first", kind="conflict")
    url = str(body.url)
    if private_host(url) and not request.app.state.settings.webhook_private_urls_allowed:
        raise field_error("url", "a loopback or private address; register a public URL")
    return await outbox.create_endpoint(request.app.state.pool, owner, url, [t.value for t in body.event_types])


@router.get("/v1/webhook-endpoints", response_model=EndpointList, operation_id="listWebhookEndpoints", responses=problems(403))
async def list_endpoints(request: Request, owner: Owner = None, principal: Principal = Depends(require(*MAY_REGISTER))) -> EndpointList:
    return EndpointList(endpoints=await outbox.endpoints(request.app.state.pool, _owner(principal, owner)))


@router.delete(
    "/v1/webhook-endpoints/{endpoint_id}", response_model=Endpoint, operation_id="disableWebhookEndpoint", responses=problems(403, 404)
)
async def disable_endpoint(endpoint_id: EndpointId, request: Request, principal: Principal = Depends(require(*MAY_REGISTER))) -> Endpoint:
    """Nothing more is sent to it; what was still to be delivered to it is given up."""
    disabled = await outbox.disable_endpoint(request.app.state.pool, endpoint_id, _owner(principal, None))
    if disabled is None:
        raise Problem(404, f"no webhook endpoint {endpoint_id}")
    return disabled


@router.get("/v1/webhook-events", response_model=EventList, operation_id="listWebhookEvents", responses=problems(403, 404))
async def list_events(
    request: Request,
    owner: Owner = None,
    after: Annotated[str | None, Query(pattern=r"^evt_[0-9a-f]{32}$", description="the last `event_id` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    principal: Principal = Depends(require(*MAY_REGISTER)),
) -> EventList:
    """The caller's events, newest first, each with its deliveries to the caller's endpoints."""
    page = await outbox.events(request.app.state.pool, _owner(principal, owner), after, limit)
    if page is None:
        raise Problem(404, f"no webhook event {after} to page on from")
    return EventList(events=page)


@router.post(
    "/v1/webhook-events/{event_id}/replay",
    status_code=202,
    response_model=Replayed,
    operation_id="replayWebhookEvent",
    responses=problems(403, 404, 409),
)
async def replay_event(event_id: EventId, request: Request, principal: Principal = Depends(require(*MAY_REGISTER))) -> Replayed:
    """Send the event again, delivered before or not, to every active endpoint of the caller that takes its type (an
    operator: of every owner it concerns). The same `webhook-id`: receivers that keep ids see it as a repeat."""
    queued = await outbox.replay(request.app.state.pool, event_id, _owner(principal, None))
    if queued is None:
        raise Problem(404, f"no webhook event {event_id}")
    return Replayed(event_id=event_id, status="queued", deliveries=queued)
