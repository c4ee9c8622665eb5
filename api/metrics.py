"""Request metrics for Prometheus (served at GET /metrics), recorded by prometheus-fastapi-instrumentator for every
answer, an unhandled error's 500 included. `method` is the request's method when it is a standard one (METHODS),
else `other`, so a client cannot create label values; `route` is the route's template (`/v1/orders/{order_id}`),
`none` for a path no route matches; `status` the exact status code."""

from fastapi import FastAPI
from prometheus_client import Counter, Histogram
from prometheus_fastapi_instrumentator import Instrumentator
from prometheus_fastapi_instrumentator.metrics import Info

REQUESTS = Counter("settlement_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram("settlement_http_request_seconds", "HTTP request latency", ["method", "route"])
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"


def method_label(method: str) -> str:
    return method if method in METHODS else OTHER_METHOD


def _record(info: Info) -> None:
    method = method_label(info.method)
    REQUESTS.labels(method, info.modified_handler, info.modified_status).inc()
    LATENCY.labels(method, info.modified_handler).observe(info.modified_duration)


def install(app: FastAPI) -> None:
    Instrumentator(should_group_status_codes=False).add(_record).instrument(app)
