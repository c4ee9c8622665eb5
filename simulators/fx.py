"""The simulated FX rate source: documented reference rates (simulators/reference_rates.py) less a spread.

A quote is locked once per idempotency key: asking again with the same key returns the same quote,
so a retried or reset workflow converts at the rate it locked the first time.
"""

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from simulators import reference_rates

router = APIRouter(prefix="/fx")

SOURCE = "simulated reference rates"


class QuoteBody(BaseModel):
    idempotency_key: str
    base: str
    quote: str


@router.post("/quotes")
async def lock_quote(body: QuoteBody, request: Request) -> dict:
    if not reference_rates.has_rate(body.base, body.quote):
        raise HTTPException(422, detail=f"no reference rate for {body.base}/{body.quote}")
    mid = reference_rates.mid_rate(body.base, body.quote)
    spread = request.app.state.settings.settlement_sim_fx_spread_bps
    async with request.app.state.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO sim.fx_quotes (idempotency_key, base, quote, mid_rate, rate, spread_bps) VALUES ($1, $2, $3, $4, $5, $6) "
            "ON CONFLICT (idempotency_key) DO NOTHING",
            body.idempotency_key,
            body.base,
            body.quote,
            mid,
            reference_rates.client_rate(mid, spread),
            spread,
        )
        row = await conn.fetchrow("SELECT * FROM sim.fx_quotes WHERE idempotency_key = $1", body.idempotency_key)
    if (row["base"], row["quote"]) != (body.base, body.quote):
        raise HTTPException(400, detail=f"idempotency key {body.idempotency_key} was used for another currency pair")
    return {
        "base": row["base"],
        "quote": row["quote"],
        "mid_rate": str(row["mid_rate"]),
        "rate": str(row["rate"]),
        "spread_bps": row["spread_bps"],
        "source": SOURCE,
        "locked_at": row["locked_at"].isoformat(),
    }
