"""Orders: create, read, list, and the buyer's and operator's actions."""

from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from api.auth import Principal, Role, current_principal, require
from api.placement import order_input, request_fingerprint
from api.problems import Problem, field_error
from api.views import OrderPage, OrderView
from db import read_model
from domain.order_actions import Actor, CancelRequest
from domain.order_request import OrderRequest
from domain.order_state import OrderState
from domain.statuses import OrderStatus

router = APIRouter(prefix="/v1/orders", tags=["orders"])


class CancelBody(BaseModel):
    reason: str = Field("cancelled on request", max_length=500)


def view(request: Request, state: OrderState) -> OrderView:
    s = request.app.state.settings
    return OrderView.of(state, s.temporal_ui_url, s.temporal_namespace)


def _may_see(principal: Principal, state: OrderState) -> bool:
    match principal.role:
        case Role.OPERATOR:
            return True
        case Role.BUYER:
            return state.buyer_id == principal.sub
        case Role.SELLER:
            return state.seller_id == principal.sub
        case Role.MARKETPLACE:
            return state.marketplace == principal.sub
    return False


async def load_order(request: Request, order_id: str, principal: Principal) -> OrderState:
    """The order as the caller may see it: someone else's order is a 404, like one that does not exist."""
    state = await read_model.get_order(request.app.state.pool, order_id) or await request.app.state.orders.state(order_id)
    if state is None or not _may_see(principal, state):
        raise Problem(404, f"no order {order_id}")
    return state


@router.post("", status_code=201, response_model=OrderView, responses={200: {"model": OrderView}, 409: {}, 422: {}})
async def create_order(
    body: OrderRequest, request: Request, response: Response, principal: Principal = Depends(require(Role.MARKETPLACE, Role.OPERATOR))
) -> OrderView:
    if principal.role == Role.MARKETPLACE and body.marketplace != principal.sub:
        raise Problem(403, f"marketplace {principal.sub} may not create orders for {body.marketplace}")
    fingerprint = request_fingerprint(body)
    response.headers["Location"] = f"/v1/orders/{body.order_id}"
    # The read model keeps every order for good (Temporal may purge closed workflows), so it answers repeats first.
    existing = await read_model.get_order(request.app.state.pool, body.order_id)
    if existing is None:
        order = order_input(body, datetime.now(timezone.utc), request.app.state.placement_policy, fingerprint)
        if await request.app.state.orders.start(order, fingerprint):
            return view(request, OrderState.initial(order))
        recorded_fingerprint = await request.app.state.orders.request_hash(body.order_id)
    else:
        recorded_fingerprint = existing.request_fingerprint
    if recorded_fingerprint != fingerprint:
        raise Problem(409, f"order {body.order_id} exists with a different payload", kind="order-conflict")
    response.status_code = 200
    return view(request, await load_order(request, body.order_id, principal))


@router.get("/{order_id}", response_model=OrderView)
async def get_order(order_id: str, request: Request, principal: Principal = Depends(current_principal)) -> OrderView:
    return view(request, await load_order(request, order_id, principal))


@router.get("", response_model=OrderPage)
async def list_orders(
    request: Request,
    principal: Principal = Depends(current_principal),
    status: OrderStatus | None = None,
    seller_id: str | None = None,
    buyer_id: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrderPage:
    marketplace = None
    if principal.role == Role.BUYER:
        buyer_id = principal.sub
    elif principal.role == Role.SELLER:
        seller_id = principal.sub
    elif principal.role == Role.MARKETPLACE:
        marketplace = principal.sub
    try:
        after = read_model.decode_cursor(cursor) if cursor else None
    except ValueError as err:
        raise field_error("cursor", "not a cursor this API issued") from err
    states, next_cursor = await read_model.list_orders(
        request.app.state.pool, status=status, seller_id=seller_id, buyer_id=buyer_id, marketplace=marketplace, after=after, limit=limit
    )
    return OrderPage(orders=[view(request, s) for s in states], next_cursor=next_cursor)


@router.post("/{order_id}/confirm-receipt", response_model=OrderView, responses={409: {}})
async def confirm_receipt(order_id: str, request: Request, principal: Principal = Depends(require(Role.BUYER))) -> OrderView:
    await load_order(request, order_id, principal)
    state = await request.app.state.orders.update(order_id, "confirm_receipt", Actor(role=principal.role, sub=principal.sub))
    return view(request, state)


@router.post("/{order_id}/cancel", response_model=OrderView, responses={409: {}})
async def cancel_order(
    order_id: str, request: Request, body: Annotated[CancelBody | None, Body()] = None, principal: Principal = Depends(require(Role.BUYER, Role.OPERATOR))
) -> OrderView:
    await load_order(request, order_id, principal)
    reason = (body or CancelBody()).reason
    state = await request.app.state.orders.update(order_id, "cancel", CancelRequest(actor=Actor(role=principal.role, sub=principal.sub), reason=reason))
    return view(request, state)


@router.post("/{order_id}/retry", response_model=OrderView, responses={409: {}})
async def retry_order(order_id: str, request: Request, principal: Principal = Depends(require(Role.OPERATOR))) -> OrderView:
    await load_order(request, order_id, principal)
    state = await request.app.state.orders.update(order_id, "retry", Actor(role=principal.role, sub=principal.sub))
    return view(request, state)
