"""Latency and fault knobs of the simulated providers, adjustable at run time (`PUT /sim/faults`), and the
middleware that applies them to every provider call: each POST under /psp, /fulfillment and /fx, except
the carrier's test driver (`/fulfillment/orders/{id}/events`); and every request under /amazon, whatever its
method (reads and the token exchange included), except that network's test driver under /amazon/_sim.

Two kinds of fault: a transient one is answered 503 before anything is done; an ambiguous one is
performed and committed, then its answer is lost (a 503, or the connection dropped mid-answer), so the
caller cannot tell whether it happened and must retry with the same idempotency key.
"""

import asyncio
import json
import logging
import random
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

PROVIDER_PREFIXES = ("/psp/", "/fulfillment/", "/fx/")
CARRIER_DRIVER_SUFFIX = "/events"
AMAZON_PREFIX = "/amazon/"
AMAZON_DRIVER_PREFIX = "/amazon/_sim/"


class Faults(BaseModel):
    latency_ms: int = Field(0, ge=0, le=10_000)
    failure_rate: float = Field(0.0, ge=0.0, le=1.0, description="share of calls answered 503 before anything is done")
    ambiguous_rate: float = Field(
        0.0, ge=0.0, le=1.0, description="share of calls performed whose answer is then lost: answered 503 or the connection dropped"
    )
    outage_until: datetime | None = Field(None, description="every call is answered 503 until then")


class InjectedFaults(BaseModel):
    """How many faults the simulators injected since they started."""

    outage: int = 0
    transient: int = 0
    performed_then_503: int = 0
    performed_then_dropped: int = 0


class AnswerLost(Exception):
    """Raised once the answer has started: the server drops the connection before the body."""


def _not_a_lost_answer(record: logging.LogRecord) -> bool:
    return not (record.exc_info and isinstance(record.exc_info[1], AnswerLost))


def quiet_lost_answers() -> None:
    """A dropped answer is a fault on purpose: the server logs no traceback for it."""
    logging.getLogger("uvicorn.error").addFilter(_not_a_lost_answer)


router = APIRouter(prefix="/sim")


@router.get("/faults")
async def get_faults(request: Request) -> Faults:
    return request.app.state.faults


@router.put("/faults")
async def set_faults(new: Faults, request: Request) -> Faults:
    request.app.state.faults = new
    return new


@router.get("/faults/injected")
async def injected_faults(request: Request) -> InjectedFaults:
    return request.app.state.injected_faults


def _is_provider_call(scope) -> bool:
    path = scope.get("path", "")
    if scope["type"] != "http":
        return False
    if path.startswith(AMAZON_PREFIX):
        return not path.startswith(AMAZON_DRIVER_PREFIX)
    return scope["method"] == "POST" and path.startswith(PROVIDER_PREFIXES) and not path.endswith(CARRIER_DRIVER_SUFFIX)


async def _answer_503(send, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class FaultInjection:
    """ASGI middleware: latency, outage and transient faults before a provider call, lost answers after it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if not _is_provider_call(scope):
            return await self.app(scope, receive, send)
        state = scope["app"].state
        faults: Faults = state.faults
        injected: InjectedFaults = state.injected_faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.outage_until and datetime.now(UTC) < faults.outage_until:
            injected.outage += 1
            return await _answer_503(send, "provider outage (simulated)")
        if faults.failure_rate and random.random() < faults.failure_rate:
            injected.transient += 1
            return await _answer_503(send, "transient provider error (simulated)")
        if not (faults.ambiguous_rate and random.random() < faults.ambiguous_rate):
            return await self.app(scope, receive, send)
        await self._lose_the_answer(scope, receive, send, injected)

    async def _lose_the_answer(self, scope, receive, send, injected: InjectedFaults) -> None:
        """Let the call be performed; if it succeeded, answer 503 instead or drop the connection mid-answer."""
        lost = None

        async def intercept(message) -> None:
            nonlocal lost
            if message["type"] == "http.response.start":
                lost = "pass" if message["status"] >= 300 else random.choice(("503", "drop"))
                if lost == "503":
                    injected.performed_then_503 += 1
                    await _answer_503(send, "answer lost after the operation was performed (simulated)")
                    return
                injected.performed_then_dropped += lost == "drop"
                await send(message)  # a dropped answer starts, then its body never comes
            elif lost == "pass":
                await send(message)

        await self.app(scope, receive, intercept)
        if lost == "drop":
            raise AnswerLost("connection dropped after the operation was performed (simulated)")
