"""Request metrics for Prometheus, and the order a request is about for the logs."""

import time

from fastapi import FastAPI, Request
from prometheus_client import Counter, Histogram

from logs import current_order_id

REQUESTS = Counter("settlement_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram("settlement_http_request_seconds", "HTTP request latency", ["method", "route"])


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def _measure(request: Request, call_next):
        started = time.perf_counter()
        parts = request.url.path.split("/")
        token = current_order_id.set(parts[3] if len(parts) > 3 and parts[1:3] == ["v1", "orders"] else None)
        try:
            response = await call_next(request)
        finally:
            current_order_id.reset(token)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        return response
