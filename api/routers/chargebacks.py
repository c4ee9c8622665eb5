"""A seller's chargebacks, and the evidence they give the payment provider while one is open."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel

from api.auth import Principal, require
from api.idempotency import IdempotentRoute
from api.openapi import problems
from api.params import PathId
from api.problems import Problem
from api.routers.sellers import owner_or_operator
from db import chargebacks
from domain.chargebacks import Chargeback, ChargebackEvidence
from domain.order_actions import Role
from domain.order_request import IDENTIFIER_PATTERN

router = APIRouter(prefix="/v1/sellers/{seller_id}/chargebacks", tags=["payouts"], route_class=IdempotentRoute)

_EVIDENCE = {
    "delivered": {
        "value": {
            "explanation": "The parcel was delivered and signed for; the buyer wrote to thank us two days later.",
            "documents": ["invoice INV-2291", "buyer message 2026-05-14"],
        }
    }
}


class ChargebackList(BaseModel):
    seller_id: str
    chargebacks: list[Chargeback]


async def _seller_chargeback(request: Request, seller_id: str, dispute_id: str) -> Chargeback:
    chargeback = await chargebacks.get_chargeback(request.app.state.pool, dispute_id)
    if chargeback is None or chargeback.seller_id != seller_id:
        raise Problem(404, f"no chargeback {dispute_id} for seller {seller_id}")
    return chargeback


@router.get("", response_model=ChargebackList, operation_id="listChargebacks", responses=problems(403, 404))
async def list_chargebacks(
    seller_id: PathId,
    request: Request,
    after: Annotated[str | None, Query(pattern=IDENTIFIER_PATTERN, description="the last `dispute_id` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    principal: Principal = Depends(require(Role.SELLER, Role.OPERATOR)),
) -> ChargebackList:
    """Newest first; page on with `after` = the last `dispute_id` of the page before (404 when it names none of the
    seller's chargebacks)."""
    owner_or_operator(principal, seller_id)
    page = await chargebacks.seller_chargebacks(request.app.state.pool, seller_id, after, limit)
    if page is None:
        raise Problem(404, f"no chargeback {after} for seller {seller_id} to page on from")
    return ChargebackList(seller_id=seller_id, chargebacks=page)


@router.get("/{dispute_id}", response_model=Chargeback, operation_id="getChargeback", responses=problems(403, 404))
async def get_chargeback(
    seller_id: PathId, dispute_id: PathId, request: Request, principal: Principal = Depends(require(Role.SELLER, Role.OPERATOR))
) -> Chargeback:
    owner_or_operator(principal, seller_id)
    return await _seller_chargeback(request, seller_id, dispute_id)


@router.post(
    "/{dispute_id}/evidence",
    status_code=202,
    response_model=Chargeback,
    operation_id="submitChargebackEvidence",
    responses=problems(403, 404, 409),
)
async def submit_evidence(
    seller_id: PathId,
    dispute_id: PathId,
    evidence: Annotated[ChargebackEvidence, Body(openapi_examples=_EVIDENCE)],
    request: Request,
    principal: Principal = Depends(require(Role.SELLER, Role.OPERATOR)),
) -> Chargeback:
    """The seller's case, handed to the payment provider with the order's tracking number and delivery time (its
    `evidence_status` says when the provider has it). Evidence given again replaces the last; a closed dispute
    takes none (409)."""
    owner_or_operator(principal, seller_id)
    chargeback = await _seller_chargeback(request, seller_id, dispute_id)
    kept = await chargebacks.keep_evidence(request.app.state.pool, dispute_id, evidence)
    if kept is None:
        status = (await chargebacks.get_chargeback(request.app.state.pool, dispute_id) or chargeback).status
        raise Problem(409, f"chargeback {dispute_id} was {status.value}: it takes no more evidence", kind="invalid-transition")
    await request.app.state.payouts.evidence(seller_id, dispute_id)
    return kept
