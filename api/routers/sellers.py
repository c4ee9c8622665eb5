"""What a seller is owed and has been paid."""

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from api.auth import Principal, Role, require
from api.problems import Problem
from db.balances import seller_balance

router = APIRouter(prefix="/v1/sellers", tags=["sellers"])


class CurrencyBalance(BaseModel):
    currency: str
    in_escrow: int
    available: int
    paid_out: int


class SellerBalance(BaseModel):
    seller_id: str
    balances: list[CurrencyBalance]


def _owner_or_operator(principal: Principal, seller_id: str) -> None:
    if principal.role == Role.SELLER and principal.sub != seller_id:
        raise Problem(404, f"no seller {seller_id}")


@router.get("/{seller_id}/balance", response_model=SellerBalance)
async def balance(seller_id: str, request: Request, principal: Principal = Depends(require(Role.SELLER, Role.OPERATOR))) -> SellerBalance:
    _owner_or_operator(principal, seller_id)
    rows = await seller_balance(request.app.state.pool, seller_id)
    return SellerBalance(seller_id=seller_id, balances=[CurrencyBalance(**r) for r in rows])
