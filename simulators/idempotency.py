"""The payment simulator's idempotency: same key and request → same result; another request → 400, a definite
refusal (a 409 would tell the engine the first request is still in progress, to be asked again)."""

import hashlib
import json

import asyncpg
from fastapi import HTTPException


def request_hash(operation: str, body: dict) -> str:
    return hashlib.sha256(json.dumps([operation, body], sort_keys=True).encode()).hexdigest()


async def replay(conn: asyncpg.Connection, key: str, operation: str, body: dict) -> dict | None:
    """The stored result for this key, or None when the key is new."""
    row = await conn.fetchrow(
        "SELECT operation, request, outcome, reference, detail FROM sim.psp_operations WHERE idempotency_key = $1", key
    )
    if row is None:
        return None
    if row["operation"] != operation or row["request"] != body:
        raise HTTPException(400, detail=f"idempotency key {key} was used with a different request")
    return {"outcome": row["outcome"], "reference": row["reference"], "decline_code": row["detail"]}


async def store(
    conn: asyncpg.Connection,
    key: str,
    operation: str,
    order_id: str | None,
    body: dict,
    outcome: str,
    reference: str | None,
    amount: int | None = None,
    currency: str | None = None,
    detail: str | None = None,
) -> dict:
    await conn.execute(
        "INSERT INTO sim.psp_operations (idempotency_key, operation, order_id, request, outcome, reference, amount, currency, detail) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        key,
        operation,
        order_id,
        body,
        outcome,
        reference,
        amount,
        currency,
        detail,
    )
    return {"outcome": outcome, "reference": reference, "decline_code": detail}
