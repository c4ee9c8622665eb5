"""Liveness, readiness and Prometheus metrics."""

import asyncio

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.problems import problem_response
from db.pool import ping

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request):
    failures = []
    try:
        await asyncio.wait_for(ping(request.app.state.pool), 2)
    except Exception as err:  # any failure means not ready
        failures.append(f"postgresql: {type(err).__name__}")
    try:
        await asyncio.wait_for(request.app.state.orders.client.service_client.check_health(), 2)
    except Exception as err:
        failures.append(f"temporal: {type(err).__name__}")
    if failures:
        return problem_response(request, 503, "not ready: " + ", ".join(failures))
    return {"status": "ready"}


@router.get("/metrics")
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
