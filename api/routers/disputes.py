"""Disputes: the buyer opens one, the seller answers, an operator decides."""

from fastapi import APIRouter, Depends, Request

from api.auth import Principal, Role, require
from api.idempotency import IdempotentRoute
from api.params import PathId
from api.routers.orders import act, actor
from api.views import OrderView
from domain.after_sales import DisputeRequest, Resolution, SellerResponse

router = APIRouter(prefix="/v1/orders/{order_id}/disputes", tags=["disputes"], route_class=IdempotentRoute)


@router.post("", status_code=201, response_model=OrderView, responses={409: {}, 404: {}})
async def open_dispute(order_id: PathId, body: DisputeRequest, request: Request, principal: Principal = Depends(require(Role.BUYER))) -> OrderView:
    return await act(request, order_id, principal, "open_dispute", actor(principal), body)


@router.post("/response", response_model=OrderView, responses={409: {}, 404: {}})
async def respond(order_id: PathId, body: SellerResponse, request: Request, principal: Principal = Depends(require(Role.SELLER))) -> OrderView:
    return await act(request, order_id, principal, "respond_to_dispute", actor(principal), body)


@router.post("/resolution", response_model=OrderView, responses={409: {}, 404: {}})
async def resolve(order_id: PathId, body: Resolution, request: Request, principal: Principal = Depends(require(Role.OPERATOR))) -> OrderView:
    return await act(request, order_id, principal, "resolve_dispute", actor(principal), body)
