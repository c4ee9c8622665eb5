"""Latency and fault knobs shared by the simulated providers, adjustable at run time."""

import asyncio
import random
from datetime import datetime, timezone

from fastapi import HTTPException
from pydantic import BaseModel, Field


class Faults(BaseModel):
    latency_ms: int = Field(0, ge=0, le=10_000)
    failure_rate: float = Field(0.0, ge=0.0, le=1.0, description="share of calls answered 503")
    outage_until: datetime | None = Field(None, description="every call is answered 503 until then")


async def apply(faults: Faults) -> None:
    if faults.latency_ms:
        await asyncio.sleep(faults.latency_ms / 1000)
    if faults.outage_until and datetime.now(timezone.utc) < faults.outage_until:
        raise HTTPException(503, detail="provider outage (simulated)")
    if faults.failure_rate and random.random() < faults.failure_rate:
        raise HTTPException(503, detail="transient provider error (simulated)")
