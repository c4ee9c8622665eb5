"""Tells the logs which order and which request a request is about (see runtime/logs.py).

The request id is the caller's `X-Request-ID` when it is well-formed (1 to 128 letters, digits, `.`, `_`, `:`, `-`),
else a new one: never a header value that could forge a log line or blow one up. It is returned in the answer's
`X-Request-ID`, carried by every log line (`request_id`) and every problem document.
"""

import re

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI, Request

from runtime.logs import current_order_id

REQUEST_ID_HEADER = "X-Request-ID"
WELL_FORMED_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def well_formed(request_id: str) -> bool:
    return WELL_FORMED_REQUEST_ID.fullmatch(request_id) is not None


def install(app: FastAPI) -> None:
    """Call last: the request id middleware must be the outermost, so the 500 handler and its log line see the id."""

    @app.middleware("http")
    async def _order_context(request: Request, call_next):
        parts = request.url.path.split("/")
        token = current_order_id.set(parts[3] if len(parts) > 3 and parts[1:3] == ["v1", "orders"] else None)
        try:
            return await call_next(request)
        finally:
            current_order_id.reset(token)

    app.add_middleware(CorrelationIdMiddleware, header_name=REQUEST_ID_HEADER, validator=well_formed)
