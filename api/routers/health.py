"""Liveness, readiness and Prometheus metrics."""

import asyncio
import logging

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.problems import problem_response
from db.pool import ping

log = logging.getLogger("settlement.api")

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request):
    failures = []
    try:
        await asyncio.wait_for(ping(request.app.state.pool), 2)
    except Exception:  # any failure means not ready; the log says which, the answer only what
        log.exception("readiness: PostgreSQL unreachable")
        failures.append("postgresql unreachable")
    try:
        await asyncio.wait_for(request.app.state.orders.client.service_client.check_health(), 2)
    except Exception:
        log.exception("readiness: Temporal unreachable")
        failures.append("temporal unreachable")
    if failures:
        return problem_response(request, 503, "not ready: " + ", ".join(failures))
    return {"status": "ready"}


@router.get("/metrics")
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
