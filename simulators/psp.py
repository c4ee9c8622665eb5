"""The simulated payment service provider.

Test inputs, in the style of card-network test numbers:
- payment method `pm_card_declined`: declined at authorization;
- payment method `pm_card_capture_fails`: authorized, but every capture is refused;
- a seller whose id starts with `sim_payout_reject`: the payout account rejects payouts, until fixed
  with `PUT /psp/payout-accounts/{seller_id}`.
Refusals (HTTP 422) are not stored, so the same key may be retried once the cause is fixed.
`GET /psp/operations` lists what was stored, as a real provider lists its charges, refunds and transfers.
Card disputes (chargebacks) on a capture are opened and closed under /psp/disputes (disputes.py).
"""

import uuid
from datetime import datetime

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from domain.providers import ProviderOperation, ProviderOutcome
from simulators import idempotency

router = APIRouter(prefix="/psp")

DECLINED_METHOD = "pm_card_declined"
CAPTURE_FAILS_METHOD = "pm_card_capture_fails"
PAYOUT_REJECT_PREFIX = "sim_payout_reject"
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class AuthorizeBody(BaseModel):
    idempotency_key: str
    order_id: str
    amount: int = Field(gt=0)
    currency: str
    payment_method: str


class CaptureBody(BaseModel):
    idempotency_key: str
    authorization_id: str
    amount: int = Field(gt=0)
    currency: str


class VoidBody(BaseModel):
    idempotency_key: str
    authorization_id: str


class PayoutBody(BaseModel):
    idempotency_key: str
    order_id: str
    seller_id: str
    amount: int = Field(gt=0)
    currency: str


class RefundBody(BaseModel):
    idempotency_key: str
    order_id: str
    capture_id: str
    amount: int = Field(gt=0)
    currency: str


class CreditBody(BaseModel):
    idempotency_key: str
    order_id: str
    payment_method: str
    amount: int = Field(gt=0)
    currency: str


class PayoutAccount(BaseModel):
    rejects: bool


def _ref(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


async def _once(request: Request, operation: ProviderOperation, key: str, body: dict, perform):
    """Run perform(conn) once per idempotency key, serialised per key."""
    async with request.app.state.pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", key)
            stored = await idempotency.replay(conn, key, operation, body)
            return stored if stored is not None else await perform(conn)


async def _authorization(conn, authorization_id: str):
    row = await conn.fetchrow(
        "SELECT order_id, amount, currency, request->>'payment_method' AS payment_method FROM sim.psp_operations "
        "WHERE operation = $2 AND reference = $1 AND outcome = $3",
        authorization_id,
        ProviderOperation.AUTHORIZE,
        ProviderOutcome.SUCCEEDED,
    )
    if row is None:
        raise HTTPException(422, detail=f"unknown authorization {authorization_id}")
    return row


async def _voided(conn, authorization_id: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM sim.psp_operations WHERE operation = $2 AND request->>'authorization_id' = $1",
            authorization_id,
            ProviderOperation.VOID,
        )
    )


@router.post("/authorizations")
async def authorize(body: AuthorizeBody, request: Request) -> dict:
    data = body.model_dump()

    async def perform(conn):
        if body.payment_method == DECLINED_METHOD:
            return await idempotency.store(
                conn,
                body.idempotency_key,
                ProviderOperation.AUTHORIZE,
                body.order_id,
                data,
                ProviderOutcome.DECLINED,
                None,
                detail="card_declined",
            )
        return await idempotency.store(
            conn,
            body.idempotency_key,
            ProviderOperation.AUTHORIZE,
            body.order_id,
            data,
            ProviderOutcome.SUCCEEDED,
            _ref("auth"),
            body.amount,
            body.currency,
        )

    return await _once(request, ProviderOperation.AUTHORIZE, body.idempotency_key, data, perform)


@router.post("/captures")
async def capture(body: CaptureBody, request: Request) -> dict:
    data = body.model_dump()

    async def perform(conn):
        auth = await _authorization(conn, body.authorization_id)
        if await _voided(conn, body.authorization_id):
            raise HTTPException(422, detail="authorization was voided")
        if auth["payment_method"] == CAPTURE_FAILS_METHOD:
            raise HTTPException(422, detail="capture refused by the card issuer")
        if body.amount > auth["amount"] or body.currency != auth["currency"].strip():
            raise HTTPException(422, detail="capture exceeds the authorization")
        captured = await conn.fetchval(
            "SELECT 1 FROM sim.psp_operations WHERE operation = $2 AND request->>'authorization_id' = $1",
            body.authorization_id,
            ProviderOperation.CAPTURE,
        )
        if captured:
            raise HTTPException(422, detail="authorization already captured")
        return await idempotency.store(
            conn,
            body.idempotency_key,
            ProviderOperation.CAPTURE,
            auth["order_id"],
            data,
            ProviderOutcome.SUCCEEDED,
            _ref("cap"),
            body.amount,
            body.currency,
        )

    return await _once(request, ProviderOperation.CAPTURE, body.idempotency_key, data, perform)


@router.post("/voids")
async def void(body: VoidBody, request: Request) -> dict:
    data = body.model_dump()

    async def perform(conn):
        auth = await _authorization(conn, body.authorization_id)
        return await idempotency.store(
            conn, body.idempotency_key, ProviderOperation.VOID, auth["order_id"], data, ProviderOutcome.SUCCEEDED, _ref("void")
        )

    return await _once(request, ProviderOperation.VOID, body.idempotency_key, data, perform)


@router.post("/payouts")
async def payout(body: PayoutBody, request: Request) -> dict:
    data = body.model_dump()

    async def perform(conn):
        override = await conn.fetchval("SELECT rejects FROM sim.payout_accounts WHERE seller_id = $1", body.seller_id)
        rejects = override if override is not None else body.seller_id.startswith(PAYOUT_REJECT_PREFIX)
        if rejects:
            raise HTTPException(422, detail=f"payout account of {body.seller_id} rejects payouts")
        return await idempotency.store(
            conn,
            body.idempotency_key,
            ProviderOperation.PAYOUT,
            body.order_id,
            data,
            ProviderOutcome.SUCCEEDED,
            _ref("po"),
            body.amount,
            body.currency,
        )

    return await _once(request, ProviderOperation.PAYOUT, body.idempotency_key, data, perform)


@router.post("/refunds")
async def refund(body: RefundBody, request: Request) -> dict:
    """Refunds against one capture never add up to more than was captured."""
    data = body.model_dump()

    async def perform(conn):
        captured = await conn.fetchrow(
            "SELECT order_id, amount, currency FROM sim.psp_operations WHERE operation = $2 AND reference = $1",
            body.capture_id,
            ProviderOperation.CAPTURE,
        )
        if captured is None:
            raise HTTPException(422, detail=f"unknown capture {body.capture_id}")
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", body.capture_id)
        refunded = await conn.fetchval(
            "SELECT coalesce(sum(amount), 0) FROM sim.psp_operations WHERE operation = $2 AND request->>'capture_id' = $1",
            body.capture_id,
            ProviderOperation.REFUND,
        )
        if body.currency != captured["currency"].strip() or refunded + body.amount > captured["amount"]:
            raise HTTPException(
                422, detail=f"refund of {body.amount} exceeds what remains of the capture ({captured['amount'] - refunded})"
            )
        return await idempotency.store(
            conn,
            body.idempotency_key,
            ProviderOperation.REFUND,
            captured["order_id"],
            data,
            ProviderOutcome.SUCCEEDED,
            _ref("re"),
            body.amount,
            body.currency,
        )

    return await _once(request, ProviderOperation.REFUND, body.idempotency_key, data, perform)


@router.post("/credits")
async def credit(body: CreditBody, request: Request) -> dict:
    """A push credit to a card (e.g. a goodwill compensation), independent of any capture."""
    data = body.model_dump()

    async def perform(conn):
        return await idempotency.store(
            conn,
            body.idempotency_key,
            ProviderOperation.CREDIT,
            body.order_id,
            data,
            ProviderOutcome.SUCCEEDED,
            _ref("cr"),
            body.amount,
            body.currency,
        )

    return await _once(request, ProviderOperation.CREDIT, body.idempotency_key, data, perform)


@router.put("/payout-accounts/{seller_id}")
async def set_payout_account(seller_id: str, account: PayoutAccount, request: Request) -> dict:
    await request.app.state.pool.execute(
        "INSERT INTO sim.payout_accounts (seller_id, rejects) VALUES ($1, $2) ON CONFLICT (seller_id) DO UPDATE SET rejects = $2, updated_at = now()",
        seller_id,
        account.rejects,
    )
    return {"seller_id": seller_id, "rejects": account.rejects}


@router.get("/operations")
async def list_operations(
    request: Request,
    order_id: str | None = None,
    created_from: datetime | None = Query(None, description="inclusive"),
    created_until: datetime | None = Query(None, description="exclusive"),
    starting_after: str | None = Query(None, description="the idempotency key of the last record of the page before"),
    limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
) -> dict:
    """The operations performed (refusals are never stored), in the order they were recorded, a page at a time."""
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        # A record draws its seq when inserted but shows only once committed, so a page could pass over a seq still
        # uncommitted. SHARE waits for every transaction that has inserted (it holds ROW EXCLUSIVE until it ends) and
        # holds new inserts back while the page is read: every seq drawn so far is visible or gone, later ones are higher.
        await conn.execute("LOCK TABLE sim.psp_operations IN SHARE MODE")
        after = 0
        if starting_after is not None:
            after = await conn.fetchval("SELECT seq FROM sim.psp_operations WHERE idempotency_key = $1", starting_after)
            if after is None:
                raise HTTPException(422, detail=f"unknown operation {starting_after}")
        rows = await conn.fetch(
            "SELECT reference AS id, idempotency_key, operation, order_id, outcome, amount, currency, created_at FROM sim.psp_operations "
            "WHERE seq > $1 AND ($2::text IS NULL OR order_id = $2) AND ($3::timestamptz IS NULL OR created_at >= $3) "
            "AND ($4::timestamptz IS NULL OR created_at < $4) ORDER BY seq LIMIT $5",
            after,
            order_id,
            created_from,
            created_until,
            limit + 1,
        )
    return {"data": [dict(row) for row in rows[:limit]], "has_more": len(rows) > limit}
