"""Claims after the sale: an operator accepts a buyer-protection claim, or a return, on an order that has settled.
The buyer is refunded against the order's capture by the seller's payouts workflow; the seller pays (from their
balance, as a debt when it holds too little) or the fulfillment network does, by fault (docs/payouts.md)."""

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel

from api.auth import Principal, require
from api.idempotency import IdempotentRoute
from api.openapi import problems
from api.params import PathId
from api.problems import Problem
from api.routers.orders import find_order
from db.money_back import money_back
from domain.claims import ClaimNotice, ClaimRequest
from domain.order_actions import Role
from domain.statuses import OrderStatus

router = APIRouter(prefix="/v1/orders/{order_id}/claims", tags=["disputes"], route_class=IdempotentRoute)

_EXAMPLE = {"claim_id": "cl-1", "amount": 1500, "fault": "seller", "reason": "arrived broken, reported after settlement"}


class ClaimReceipt(BaseModel):
    claim_id: str
    order_id: str
    status: Literal["accepted"]


@router.post("", status_code=202, response_model=ClaimReceipt, operation_id="acceptClaim", responses=problems(403, 404, 409))
async def accept_claim(
    order_id: PathId,
    claim: Annotated[ClaimRequest, Body(openapi_examples={"seller at fault": {"value": _EXAMPLE}})],
    request: Request,
    principal: Principal = Depends(require(Role.OPERATOR)),
) -> ClaimReceipt:
    """Refund the buyer `amount` of a settled order: at most what was captured and not yet refunded, charged back or
    claimed (409 otherwise). An open order takes the dispute flow instead (409)."""
    order = await find_order(request, order_id)
    if order is None:
        raise Problem(404, f"no order {order_id}")
    if order.status != OrderStatus.SETTLED or order.capture_id is None:
        raise Problem(409, f"the order is {order.status}: a claim after the sale needs a settled order", kind="invalid-transition")
    back = await money_back(request.app.state.pool, order_id)
    known = back.claim(claim.claim_id)
    if known is not None and known.amount != claim.amount:
        raise Problem(409, f"claim {claim.claim_id} was accepted for {known.amount}, not {claim.amount}", kind="conflict")
    left = back.left_to_give_back(order.amounts, claim_id=claim.claim_id)
    if claim.amount > left:  # the order's state decides, as for a partial refund over what escrow holds
        raise Problem(
            409, f"amount {claim.amount} exceeds what was captured and not refunded, charged back or claimed ({left})", kind="conflict"
        )
    notice = ClaimNotice(
        claim_id=claim.claim_id,
        order_id=order_id,
        seller_id=order.seller_id,
        capture_id=order.capture_id,
        amount=claim.amount,
        currency=order.currency,
        fault=claim.fault,
    )
    await request.app.state.payouts.claim(notice)
    return ClaimReceipt(claim_id=claim.claim_id, order_id=order_id, status="accepted")
