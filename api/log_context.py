"""Tells the logs which order a request is about (see logs.py)."""

from fastapi import FastAPI, Request

from runtime.logs import current_order_id


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def _order_context(request: Request, call_next):
        parts = request.url.path.split("/")
        token = current_order_id.set(parts[3] if len(parts) > 3 and parts[1:3] == ["v1", "orders"] else None)
        try:
            return await call_next(request)
        finally:
            current_order_id.reset(token)
