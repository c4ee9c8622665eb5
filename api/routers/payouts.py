"""A seller's payout settings, their account at the payment provider, their on-demand payouts and their settlement
reports."""

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Principal, require
from api.idempotency import IdempotentRoute
from api.openapi import problems
from api.params import PathId
from api.problems import Problem
from api.routers.sellers import owner_or_operator
from db.payment_accounts import payment_account, put_payment_account
from db.seller_payouts import payout_settings, put_payout_settings
from db.settlements import seller_settlements, settlement_report
from domain.order_actions import Role
from domain.payouts import PayoutSchedule, PayoutSettings, PreparedPayout
from domain.settlement_report import SettlementLine, SettlementReport, SettlementSummary

router = APIRouter(prefix="/v1/sellers/{seller_id}", tags=["payouts"], route_class=IdempotentRoute)

SETTLEMENT_ID_PATTERN = r"^po:[A-Za-z0-9_.:-]{1,120}$"
SettlementId = Annotated[str, Path(pattern=SETTLEMENT_ID_PATTERN, description="a settlement's id (its payout's id)")]


class SellerPayoutSettings(PayoutSettings):
    seller_id: str


class PayoutsMade(BaseModel):
    seller_id: str
    payouts: list[PreparedPayout]


class SettlementList(BaseModel):
    seller_id: str
    settlements: list[SettlementSummary]


@router.get("/payout-settings", response_model=SellerPayoutSettings, operation_id="getPayoutSettings", responses=problems(403, 404))
async def get_settings(
    seller_id: PathId, request: Request, principal: Principal = Depends(require(Role.SELLER, Role.OPERATOR))
) -> SellerPayoutSettings:
    """The seller's settings; a seller nobody has configured is paid per order."""
    owner_or_operator(principal, seller_id)
    settings = await payout_settings(request.app.state.pool, seller_id) or PayoutSettings()
    return SellerPayoutSettings(seller_id=seller_id, **settings.model_dump())


@router.put("/payout-settings", response_model=SellerPayoutSettings, operation_id="putPayoutSettings", responses=problems(403))
async def put_settings(
    seller_id: PathId,
    settings: Annotated[
        PayoutSettings, Body(openapi_examples={"weekly": {"value": {"schedule": "weekly", "reserve_percent": 10, "reserve_days": 7}}})
    ],
    request: Request,
    principal: Principal = Depends(require(Role.OPERATOR)),
) -> SellerPayoutSettings:
    """Orders placed from now on follow these settings; the seller's payouts workflow takes the new schedule at once."""
    await put_payout_settings(request.app.state.pool, seller_id, settings)
    await request.app.state.payouts.settings_changed(seller_id)
    return SellerPayoutSettings(seller_id=seller_id, **settings.model_dump())


class PaymentAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stripe_account: Annotated[str, Field(pattern=r"^acct_[A-Za-z0-9]{1,64}$", description="the seller's Stripe connected account")]


class SellerPaymentAccount(PaymentAccount):
    seller_id: str


@router.put("/payment-account", response_model=SellerPaymentAccount, operation_id="putPaymentAccount", responses=problems(403))
async def put_account(
    seller_id: PathId,
    account: Annotated[PaymentAccount, Body(openapi_examples={"connected": {"value": {"stripe_account": "acct_1Nv0FGQ9RKHgCVdK"}}})],
    request: Request,
    principal: Principal = Depends(require(Role.OPERATOR)),
) -> SellerPaymentAccount:
    """Where the seller's payouts go when the engine pays through Stripe Connect (each payout: a transfer to this
    connected account, then a payout from it to the seller's bank)."""
    await put_payment_account(request.app.state.pool, seller_id, account.stripe_account)
    return SellerPaymentAccount(seller_id=seller_id, stripe_account=account.stripe_account)


@router.get("/payment-account", response_model=SellerPaymentAccount, operation_id="getPaymentAccount", responses=problems(403, 404))
async def get_account(
    seller_id: PathId, request: Request, principal: Principal = Depends(require(Role.SELLER, Role.OPERATOR))
) -> SellerPaymentAccount:
    owner_or_operator(principal, seller_id)
    account = await payment_account(request.app.state.pool, seller_id)
    if account is None:
        raise Problem(404, f"seller {seller_id} has no payment account")
    return SellerPaymentAccount(seller_id=seller_id, stripe_account=account)


@router.post("/payouts", response_model=PayoutsMade, operation_id="requestPayout", responses=problems(403, 404, 409))
async def request_payout(
    seller_id: PathId, request: Request, principal: Principal = Depends(require(Role.SELLER, Role.OPERATOR))
) -> PayoutsMade:
    """Pay the seller's available balance now (per currency, at least the minimum) and answer once paid: a seller on
    demand asks for their own; an operator may pay a seller on any pooled schedule off its cycle."""
    owner_or_operator(principal, seller_id)
    settings = await payout_settings(request.app.state.pool, seller_id) or PayoutSettings()
    off_cycle = principal.role == Role.OPERATOR
    if settings.schedule == PayoutSchedule.PER_ORDER or (settings.schedule != PayoutSchedule.ON_DEMAND and not off_cycle):
        raise Problem(409, f"seller {seller_id} is paid {settings.schedule.value}, not on demand", kind="invalid-transition")
    return PayoutsMade(seller_id=seller_id, payouts=await request.app.state.payouts.request_payout(seller_id, off_cycle))


@router.get("/settlements", response_model=SettlementList, operation_id="listSettlements", responses=problems(403, 404))
async def list_settlements(
    seller_id: PathId,
    request: Request,
    after: Annotated[str | None, Query(pattern=SETTLEMENT_ID_PATTERN, description="the last `settlement_id` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    principal: Principal = Depends(require(Role.SELLER, Role.OPERATOR)),
) -> SettlementList:
    """Newest first; page on with `after` = the last `settlement_id` of the page before."""
    owner_or_operator(principal, seller_id)
    return SettlementList(seller_id=seller_id, settlements=await seller_settlements(request.app.state.pool, seller_id, after, limit))


@router.get(
    "/settlements/{settlement_id}",
    response_model=SettlementReport,
    operation_id="getSettlement",
    responses={
        200: {
            "description": "JSON, or CSV when `Accept` names `text/csv`",
            "content": {"text/csv": {"schema": {"type": "string", "description": "a summary row, then one row per line"}}},
        },
        **problems(403, 404),
    },
)
async def get_settlement(
    seller_id: PathId,
    settlement_id: SettlementId,
    request: Request,
    principal: Principal = Depends(require(Role.SELLER, Role.OPERATOR)),
):
    owner_or_operator(principal, seller_id)
    report = await settlement_report(request.app.state.pool, seller_id, settlement_id)
    if report is None:
        raise Problem(404, f"no settlement {settlement_id} for seller {seller_id}")
    if "text/csv" in request.headers.get("accept", ""):
        filename = settlement_id.replace(":", "-")
        return Response(_csv(report), media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'})
    return report


CSV_COLUMNS = [
    "settlement-id",
    "settlement-start-date",
    "settlement-end-date",
    "deposit-date",
    "total-amount",
    "currency",
    "transaction-type",
    "order-id",
    "amount",
    "posted-date",
]


def _csv(report: SettlementReport) -> str:
    """A summary row, then one row per line, as a marketplace's flat-file settlement report lays them out."""

    def when(value) -> str:
        return value.isoformat() if value else ""

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerow(
        [report.settlement_id, when(report.period_start), when(report.period_end), when(report.deposit_date), report.total, report.currency]
        + [""] * 4
    )
    line: SettlementLine
    for line in report.lines:
        writer.writerow(
            [report.settlement_id, "", "", "", "", report.currency, line.transaction_type, line.order_id, line.amount, when(line.posted_at)]
        )
    return out.getvalue()
