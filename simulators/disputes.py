"""The simulated payment provider's card disputes (chargebacks): test and demo controls under /psp/disputes.

A dispute takes part of an order's capture back; it can never take more than was captured and not yet refunded
or disputed, the same bound the engine holds it to. Opening and closing one each queue a signed webhook to the
engine (`charge.dispute.created`, `.won`, `.lost`), which the dispatcher delivers at least once.
"""

import uuid
from datetime import datetime
from typing import Literal

import asyncpg
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from domain.order_request import Identifier
from domain.providers import ProviderOperation, ProviderOutcome

router = APIRouter(prefix="/psp/disputes")

COLUMNS = "dispute_id, order_id, capture_id, amount, currency, status, created_at, closed_at, evidence, evidence_at"


class DisputeBody(BaseModel):
    order_id: str
    amount: int = Field(gt=0)
    dispute_id: Identifier | None = Field(None, description="made up (dp_<hex>) when absent; the engine takes only identifiers")


class CloseBody(BaseModel):
    outcome: Literal["won", "lost"]


class EvidenceBody(BaseModel):
    idempotency_key: str = Field(min_length=1)
    explanation: str
    documents: list[str] = []
    tracking_number: str | None = None
    delivered_at: datetime | None = None


async def _dispute(conn: asyncpg.Connection | asyncpg.Pool, dispute_id: str, lock: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {COLUMNS} FROM sim.psp_disputes WHERE dispute_id = $1{' FOR UPDATE' if lock else ''}", dispute_id)


async def _enqueue(conn: asyncpg.Connection, type_: str, dispute: asyncpg.Record, occurred_at: datetime) -> None:
    """Queue the webhook in the transaction that changed the dispute, so the engine hears of every change."""
    event_id = f"evt_{uuid.uuid4().hex}"
    body = {
        "event_id": event_id,
        "type": type_,
        "dispute_id": dispute["dispute_id"],
        "order_id": dispute["order_id"],
        "amount": dispute["amount"],
        "currency": dispute["currency"],
        "occurred_at": occurred_at.isoformat(),
    }
    await conn.execute("INSERT INTO sim.payment_webhook_outbox (event_id, body) VALUES ($1, $2)", event_id, body)


@router.post("", status_code=201)
async def open_dispute(body: DisputeBody, request: Request) -> dict:
    """Open a dispute on the order's capture. A repeat under the same dispute id answers 201 with the dispute as it
    is now (and queues nothing); the same id for another order or amount is 409."""
    dispute_id = body.dispute_id or f"dp_{uuid.uuid4().hex}"
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", dispute_id)
        existing = await _dispute(conn, dispute_id)
        if existing is not None:
            if (existing["order_id"], existing["amount"]) != (body.order_id, body.amount):
                raise HTTPException(409, detail=f"dispute {dispute_id} was opened for {existing['amount']} on order {existing['order_id']}")
            return dict(existing)
        capture = await conn.fetchrow(
            "SELECT reference, amount, currency FROM sim.psp_operations WHERE order_id = $1 AND operation = $2 AND outcome = $3 "
            "ORDER BY seq LIMIT 1",
            body.order_id,
            ProviderOperation.CAPTURE,
            ProviderOutcome.SUCCEEDED,
        )
        if capture is None:
            raise HTTPException(422, detail=f"order {body.order_id} has no capture")
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", capture["reference"])  # the lock refunds of it take
        taken = await conn.fetchval(
            "SELECT (SELECT coalesce(sum(amount), 0) FROM sim.psp_operations WHERE operation = $2 AND request->>'capture_id' = $1) "
            "+ (SELECT coalesce(sum(amount), 0) FROM sim.psp_disputes WHERE capture_id = $1)",
            capture["reference"],
            ProviderOperation.REFUND,
        )
        if taken + body.amount > capture["amount"]:
            raise HTTPException(
                422, detail=f"dispute of {body.amount} exceeds what was captured and not refunded or disputed ({capture['amount'] - taken})"
            )
        dispute = await conn.fetchrow(
            f"INSERT INTO sim.psp_disputes (dispute_id, order_id, capture_id, amount, currency, status) VALUES ($1, $2, $3, $4, $5, 'open') "
            f"RETURNING {COLUMNS}",
            dispute_id,
            body.order_id,
            capture["reference"],
            body.amount,
            capture["currency"].strip(),
        )
        await _enqueue(conn, "charge.dispute.created", dispute, dispute["created_at"])
    return dict(dispute)


@router.post("/{dispute_id}/close")
async def close_dispute(dispute_id: str, body: CloseBody, request: Request) -> dict:
    """Close a dispute won (the money comes back) or lost. Closing it again the same way answers it as it is."""
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        dispute = await _dispute(conn, dispute_id, lock=True)
        if dispute is None:
            raise HTTPException(404, detail=f"no dispute {dispute_id}")
        if dispute["status"] == body.outcome:
            return dict(dispute)
        if dispute["status"] != "open":
            raise HTTPException(409, detail=f"dispute {dispute_id} was already {dispute['status']}")
        dispute = await conn.fetchrow(
            f"UPDATE sim.psp_disputes SET status = $2, closed_at = now() WHERE dispute_id = $1 RETURNING {COLUMNS}",
            dispute_id,
            body.outcome,
        )
        await _enqueue(conn, f"charge.dispute.{body.outcome}", dispute, dispute["closed_at"])
    return dict(dispute)


@router.post("/{dispute_id}/evidence")
async def submit_evidence(dispute_id: str, body: EvidenceBody, request: Request) -> dict:
    """Take the merchant's evidence for an open dispute; the latest submission stands, and one repeated under its
    key answers as before. A closed dispute takes no evidence (400)."""
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        dispute = await conn.fetchrow("SELECT status, evidence_key FROM sim.psp_disputes WHERE dispute_id = $1 FOR UPDATE", dispute_id)
        if dispute is None:
            raise HTTPException(404, detail=f"no dispute {dispute_id}")
        if dispute["evidence_key"] != body.idempotency_key:
            if dispute["status"] != "open":  # a definite refusal (400); a 409 would tell the engine to ask again
                raise HTTPException(400, detail=f"dispute {dispute_id} was already {dispute['status']}")
            evidence = body.model_dump(mode="json", exclude={"idempotency_key"})
            await conn.execute(
                "UPDATE sim.psp_disputes SET evidence = $2, evidence_key = $3, evidence_at = now() WHERE dispute_id = $1",
                dispute_id,
                evidence,
                body.idempotency_key,
            )
    return {"reference": body.idempotency_key, "dispute_id": dispute_id}


@router.get("/{dispute_id}")
async def get_dispute(dispute_id: str, request: Request) -> dict:
    dispute = await _dispute(request.app.state.pool, dispute_id)
    if dispute is None:
        raise HTTPException(404, detail=f"no dispute {dispute_id}")
    return dict(dispute)
