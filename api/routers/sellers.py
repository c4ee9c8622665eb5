"""What a seller is owed and has been paid, and every movement behind it."""

import csv
import io
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from api.auth import Principal, require
from api.openapi import problems
from api.params import PathId
from api.problems import Problem, field_error
from db.balances import seller_balance
from db.statements import seller_postings
from domain.order_actions import Role
from domain.order_request import Timestamp
from domain.statement import StatementLine, statement_lines

router = APIRouter(prefix="/v1/sellers", tags=["sellers"])

DEFAULT_PERIOD = timedelta(days=31)


class CurrencyBalance(BaseModel):
    currency: str
    in_escrow: int
    available: int
    reserved: int
    owed: int
    paid_out: int


class SellerBalance(BaseModel):
    seller_id: str
    balances: list[CurrencyBalance]


class Statement(BaseModel):
    seller_id: str
    period_start: datetime
    period_end: datetime
    lines: list[StatementLine]
    net_by_currency: dict[str, int]


def owner_or_operator(principal: Principal, seller_id: str) -> None:
    if principal.role == Role.SELLER and principal.sub != seller_id:
        raise Problem(404, f"no seller {seller_id}")


@router.get("/{seller_id}/balance", response_model=SellerBalance, operation_id="sellerBalance", responses=problems(403, 404))
async def balance(
    seller_id: PathId, request: Request, principal: Principal = Depends(require(Role.SELLER, Role.OPERATOR))
) -> SellerBalance:
    owner_or_operator(principal, seller_id)
    rows = await seller_balance(request.app.state.pool, seller_id)
    return SellerBalance(seller_id=seller_id, balances=[CurrencyBalance(**r) for r in rows])


@router.get(
    "/{seller_id}/statement",
    response_model=Statement,
    operation_id="sellerStatement",
    responses={
        200: {
            "description": "JSON, or CSV when `Accept` names `text/csv`",
            "content": {"text/csv": {"schema": {"type": "string", "description": "a header row, then one row per line"}}},
        },
        **problems(403, 404),
    },
)
async def statement(
    seller_id: PathId,
    request: Request,
    start: Annotated[Timestamp | None, Query(alias="from", description="inclusive, before `to`; default: 31 days before `to`")] = None,
    end: Annotated[Timestamp | None, Query(alias="to", description="exclusive; default: now")] = None,
    principal: Principal = Depends(require(Role.SELLER, Role.OPERATOR)),
):
    owner_or_operator(principal, seller_id)
    end = end or datetime.now(UTC)
    start = start or end - DEFAULT_PERIOD
    if start >= end:
        raise field_error("from", "must be before to")
    lines = statement_lines(await seller_postings(request.app.state.pool, seller_id, start, end))
    if "text/csv" in request.headers.get("accept", ""):
        return Response(
            _csv(lines), media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="statement-{seller_id}.csv"'}
        )
    net: dict[str, int] = defaultdict(int)
    for line in lines:
        net[line.currency] += line.seller_effect
    return Statement(seller_id=seller_id, period_start=start, period_end=end, lines=lines, net_by_currency=dict(net))


def _csv(lines: list[StatementLine]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    fields = list(StatementLine.model_fields)
    writer.writerow(fields)
    for line in lines:
        writer.writerow([getattr(line, f).isoformat() if f == "at" else getattr(line, f) for f in fields])
    return out.getvalue()
