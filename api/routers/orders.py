"""Orders: create, read, list, and the buyer's and operator's actions."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Principal, current_principal, require
from api.idempotency import IdempotentRoute
from api.openapi import problems
from api.order_workflows import NoRunningWorkflow
from api.params import Cursor, PathId, QueryId, cursor_of, position_of
from api.placement import order_input, request_fingerprint
from api.problems import Problem
from api.views import OrderDetail, OrderPage, OrderView
from db import read_model, seller_payouts
from db.money_back import money_back
from db.reconciliations import order_findings
from domain import order_actions as msg
from domain.order_actions import Actor, CancelRequest, Role
from domain.order_request import OrderRequest
from domain.order_state import OrderState
from domain.statuses import OrderStatus
from domain.text import FreeText

router = APIRouter(prefix="/v1/orders", tags=["orders"], route_class=IdempotentRoute)

_LOCATION = {"Location": {"description": "the order's address, `/v1/orders/{order_id}`", "schema": {"type": "string"}, "required": True}}
# What an action on an order may answer besides its result: not the caller's role, no such order, not in its status.
ACTION_PROBLEMS = problems(403, 404, 409)

_ORDER_EXAMPLE = {
    "order_id": "walk-1",
    "buyer_id": "buyer_demo",
    "seller_id": "seller_demo",
    "marketplace": "demo_market",
    "currency": "USD",
    "items": [{"sku": "mug", "quantity": 2, "unit_price": 1250}],
    "shipping_fee": 500,
    "payment_method": "pm_card_visa",
    "confirmation_window": "P7D",
}


class CancelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: FreeText = Field("cancelled on request", max_length=500)


def view(request: Request, state: OrderState) -> OrderView:
    orders = request.app.state.orders
    return OrderView.of(state, request.app.state.settings.temporal_ui_url, orders.client.namespace)


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


async def find_order(request: Request, order_id: str) -> OrderState | None:
    """The read model's order, or the workflow's for one placed moments ago (not recorded yet)."""
    return await read_model.get_order(request.app.state.pool, order_id) or await request.app.state.orders.state(order_id)


async def load_order(request: Request, order_id: str, principal: Principal) -> OrderState:
    """The order as the caller may see it: someone else's order is a 404, like one that does not exist."""
    state = await find_order(request, order_id)
    if state is None or not _may_see(principal, state):
        raise Problem(404, f"no order {order_id}")
    return state


async def act(request: Request, order_id: str, principal: Principal, name: str, argument: BaseModel) -> OrderView:
    """Send the caller's action to the order's workflow; an order whose workflow has finished is a 409 naming its status."""
    known = await load_order(request, order_id, principal)
    try:
        return view(request, await request.app.state.orders.update(order_id, name, argument))
    except NoRunningWorkflow as err:
        latest = await read_model.get_order(request.app.state.pool, order_id) or known
        raise Problem(
            409, f"order {order_id} is {latest.status}: it has finished and takes no more actions", kind="invalid-transition"
        ) from err


def actor(principal: Principal) -> Actor:
    return Actor(role=principal.role, sub=principal.sub)


@router.post(
    "",
    status_code=201,
    response_model=OrderView,
    operation_id="createOrder",
    response_description="The order was created",
    responses={
        201: {"headers": _LOCATION},
        200: {"model": OrderView, "description": "An identical repeat: the order as it is now", "headers": _LOCATION},
        **problems(403, 409),
    },
)
async def create_order(
    body: Annotated[OrderRequest, Body(openapi_examples={"two mugs": {"value": _ORDER_EXAMPLE}})],
    request: Request,
    response: Response,
    principal: Principal = Depends(require(Role.MARKETPLACE, Role.OPERATOR)),
) -> OrderView:
    if principal.role == Role.MARKETPLACE and body.marketplace != principal.sub:
        raise Problem(403, f"marketplace {principal.sub} may not create orders for {body.marketplace}")
    fingerprint = request_fingerprint(body)
    response.headers["Location"] = f"/v1/orders/{body.order_id}"
    # The read model keeps every order for good (Temporal may purge closed workflows), so it answers repeats first.
    existing = await read_model.get_order(request.app.state.pool, body.order_id)
    if existing is None:
        payout = await seller_payouts.placement_terms(request.app.state.pool, body.seller_id)
        order = order_input(body, datetime.now(UTC), request.app.state.placement_policy, fingerprint, payout)
        if await request.app.state.orders.start(order, fingerprint):
            return view(request, OrderState.initial(order))
        recorded_fingerprint = await request.app.state.orders.request_hash(body.order_id)
    else:
        recorded_fingerprint = existing.request_fingerprint
    if recorded_fingerprint != fingerprint:
        raise Problem(409, f"order {body.order_id} exists with a different payload", kind="order-conflict")
    response.status_code = 200
    return view(request, await load_order(request, body.order_id, principal))


@router.get("/{order_id}", response_model=OrderDetail, operation_id="getOrder", responses=problems(404))
async def get_order(order_id: PathId, request: Request, principal: Principal = Depends(current_principal)) -> OrderDetail:
    """The order, with the money that went back to its buyer after it settled and (for operators) what the latest
    daily reconciliation found on it."""
    state = await load_order(request, order_id, principal)
    pool = request.app.state.pool
    findings = await order_findings(pool, order_id) if principal.role == Role.OPERATOR else []  # the books are operators'
    return OrderDetail.with_after_sale(view(request, state), await money_back(pool, order_id), findings)


@router.get("", response_model=OrderPage, operation_id="listOrders")
async def list_orders(
    request: Request,
    principal: Principal = Depends(current_principal),
    status: OrderStatus | None = None,
    seller_id: QueryId = None,
    buyer_id: QueryId = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrderPage:
    marketplace = None
    if principal.role == Role.BUYER:
        buyer_id = principal.sub
    elif principal.role == Role.SELLER:
        seller_id = principal.sub
    elif principal.role == Role.MARKETPLACE:
        marketplace = principal.sub
    states, more = await read_model.list_orders(
        request.app.state.pool,
        status=status,
        seller_id=seller_id,
        buyer_id=buyer_id,
        marketplace=marketplace,
        after=position_of(cursor) if cursor else None,
        limit=limit,
    )
    next_cursor = cursor_of(states[-1].placed_at, states[-1].order_id) if more else None
    return OrderPage(orders=[view(request, s) for s in states], next_cursor=next_cursor)


@router.post("/{order_id}/confirm-receipt", response_model=OrderView, operation_id="confirmReceipt", responses=ACTION_PROBLEMS)
async def confirm_receipt(order_id: PathId, request: Request, principal: Principal = Depends(require(Role.BUYER))) -> OrderView:
    return await act(request, order_id, principal, msg.CONFIRM_RECEIPT, actor(principal))


@router.post("/{order_id}/cancel", response_model=OrderView, operation_id="cancelOrder", responses=ACTION_PROBLEMS)
async def cancel_order(
    order_id: PathId,
    request: Request,
    body: Annotated[CancelBody | None, Body(openapi_examples={"with a reason": {"value": {"reason": "bought it elsewhere"}}})] = None,
    principal: Principal = Depends(require(Role.BUYER, Role.OPERATOR)),
) -> OrderView:
    reason = (body or CancelBody()).reason
    return await act(request, order_id, principal, msg.CANCEL, CancelRequest(actor=actor(principal), reason=reason))


@router.post("/{order_id}/retry", response_model=OrderView, operation_id="retryOrder", responses=ACTION_PROBLEMS)
async def retry_order(order_id: PathId, request: Request, principal: Principal = Depends(require(Role.OPERATOR))) -> OrderView:
    return await act(request, order_id, principal, msg.RETRY, actor(principal))
