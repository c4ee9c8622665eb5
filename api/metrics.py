"""Request metrics for Prometheus."""

import time

from fastapi import FastAPI, Request
from prometheus_client import Counter, Histogram

REQUESTS = Counter("settlement_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram("settlement_http_request_seconds", "HTTP request latency", ["method", "route"])


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def _measure(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        return response
