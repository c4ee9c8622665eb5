"""Disputes: the buyer opens one, the seller answers, an operator decides."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request

from api.auth import Principal, require
from api.idempotency import IdempotentRoute
from api.params import PathId
from api.routers.orders import ACTION_PROBLEMS, act, actor
from api.views import OrderView
from domain import order_actions as msg
from domain.after_sales import DisputeRequest, Resolution, SellerResponse
from domain.order_actions import Role

router = APIRouter(prefix="/v1/orders/{order_id}/disputes", tags=["disputes"], route_class=IdempotentRoute)

_Opening = Annotated[
    DisputeRequest, Body(openapi_examples={"damaged": {"value": {"reason": "damaged", "description": "The mug arrived in pieces."}}})
]
_Answer = Annotated[
    SellerResponse,
    Body(
        openapi_examples={
            "refund": {"value": {"accept_refund": True}},
            "evidence": {"value": {"evidence": "Packed in bubble wrap; photos at dispatch attached to the ticket."}},
        }
    ),
]
_Decision = Annotated[
    Resolution,
    Body(
        openapi_examples={
            "release": {"value": {"outcome": "release", "note": "tracking shows delivery in good order"}},
            "partial refund": {"value": {"outcome": "partial_refund", "refund_amount": 1000, "note": "one of two mugs broken"}},
        }
    ),
]


@router.post("", status_code=201, response_model=OrderView, operation_id="openDispute", responses=ACTION_PROBLEMS)
async def open_dispute(
    order_id: PathId, body: _Opening, request: Request, principal: Principal = Depends(require(Role.BUYER))
) -> OrderView:
    return await act(request, order_id, principal, msg.OPEN_DISPUTE, msg.OpenDispute(actor=actor(principal), dispute=body))


@router.post("/response", response_model=OrderView, operation_id="respondToDispute", responses=ACTION_PROBLEMS)
async def respond_to_dispute(
    order_id: PathId, body: _Answer, request: Request, principal: Principal = Depends(require(Role.SELLER))
) -> OrderView:
    return await act(request, order_id, principal, msg.RESPOND_TO_DISPUTE, msg.RespondToDispute(actor=actor(principal), response=body))


@router.post("/resolution", response_model=OrderView, operation_id="resolveDispute", responses=ACTION_PROBLEMS)
async def resolve_dispute(
    order_id: PathId, body: _Decision, request: Request, principal: Principal = Depends(require(Role.OPERATOR))
) -> OrderView:
    return await act(request, order_id, principal, msg.RESOLVE_DISPUTE, msg.ResolveDispute(actor=actor(principal), resolution=body))
