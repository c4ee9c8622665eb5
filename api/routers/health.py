"""Liveness, readiness and Prometheus metrics."""

import asyncio
import logging
from typing import Literal

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from api.openapi import problems
from api.problems import problem_response
from db.pool import ping

log = logging.getLogger("settlement.api")

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]


@router.get("/healthz", operation_id="healthz")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, operation_id="readyz", responses=problems(503))
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
        return problem_response(request, 503, "not ready: " + ", ".join(failures), headers={"Retry-After": "5"})
    return Readiness(status="ready")


@router.get(
    "/metrics",
    operation_id="metrics",
    response_class=Response,
    responses={200: {"description": "Prometheus text exposition format", "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
