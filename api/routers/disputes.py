"""Disputes: the buyer opens one, the seller answers, an operator decides."""

from fastapi import APIRouter, Depends, Request

from api.auth import Principal, Role, require
from api.routers.orders import load_order, view
from api.views import OrderView
from domain.after_sales import DisputeRequest, Resolution, SellerResponse
from domain.order_actions import Actor

router = APIRouter(prefix="/v1/orders/{order_id}/disputes", tags=["disputes"])


def _actor(principal: Principal) -> Actor:
    return Actor(role=principal.role, sub=principal.sub)


@router.post("", status_code=201, response_model=OrderView, responses={409: {}, 404: {}})
async def open_dispute(order_id: str, body: DisputeRequest, request: Request, principal: Principal = Depends(require(Role.BUYER))) -> OrderView:
    await load_order(request, order_id, principal)
    return view(request, await request.app.state.orders.update(order_id, "open_dispute", _actor(principal), body))


@router.post("/response", response_model=OrderView, responses={409: {}, 404: {}})
async def respond(order_id: str, body: SellerResponse, request: Request, principal: Principal = Depends(require(Role.SELLER))) -> OrderView:
    await load_order(request, order_id, principal)
    return view(request, await request.app.state.orders.update(order_id, "respond_to_dispute", _actor(principal), body))


@router.post("/resolution", response_model=OrderView, responses={409: {}, 404: {}})
async def resolve(order_id: str, body: Resolution, request: Request, principal: Principal = Depends(require(Role.OPERATOR))) -> OrderView:
    await load_order(request, order_id, principal)
    return view(request, await request.app.state.orders.update(order_id, "resolve_dispute", _actor(principal), body))
