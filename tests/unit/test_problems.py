"""api/problems.py: every error is an RFC 9457 problem document, never a stack trace."""

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from temporalio.service import RPCError, RPCStatusCode

from api import problems
from api.body_limit import BodyTooLarge


def _app(exc: Exception) -> FastAPI:
    app = FastAPI()
    problems.install(app)

    @app.get("/boom")
    async def boom():
        raise exc

    return app


async def test_method_not_allowed_names_every_method_of_the_path():
    app = FastAPI()
    problems.install(app)
    app.get("/things")(lambda: [])
    app.post("/things")(lambda: {})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        response = await client.request("DELETE", "/things")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["allow"] == "GET, POST"


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (RPCError("unavailable", RPCStatusCode.UNAVAILABLE, b""), 503),
        (ConnectionRefusedError("refused"), 503),
        (asyncpg.CannotConnectNowError("the database system is shutting down"), 503),
        (asyncpg.AdminShutdownError("terminating connection due to administrator command"), 503),
        (RPCError("bad", RPCStatusCode.INVALID_ARGUMENT, b""), 500),
        (RuntimeError("secret internals"), 500),
        (problems.Problem(409, "conflict here", kind="order-conflict"), 409),
        (RPCError("secret internals: workflow execution already completed", RPCStatusCode.NOT_FOUND, b""), 500),
        (BodyTooLarge(100), 413),
    ],
)
async def test_errors_become_problem_documents(exc, status):
    transport = httpx.ASGITransport(app=_app(exc), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/boom")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["instance"] == "/boom" and body["title"]
    assert "secret internals" not in response.text and "Traceback" not in response.text
    if status == 503:
        assert response.headers["retry-after"] == "5"
