"""api/body_limit.py: an oversized body is a 413 problem document, answered before it is read whole and
before the endpoint runs."""

import httpx
import pytest
from fastapi import FastAPI, Request

from api import problems
from api.body_limit import MAX_BODY_BYTES, BodyLimit

LIMIT = 100


def _app() -> tuple[FastAPI, list[str]]:
    app = FastAPI()
    problems.install(app)
    app.add_middleware(BodyLimit, max_bytes=LIMIT)
    ran: list[str] = []

    @app.post("/parsed")
    async def parsed(body: dict) -> dict:
        ran.append("parsed")
        return {"keys": len(body)}

    @app.post("/raw")
    async def raw(request: Request) -> dict:  # reads the body itself, like the webhook
        size = len(await request.body())
        ran.append("raw")
        return {"size": size}

    @app.post("/action")
    async def action() -> dict:  # reads no body at all
        ran.append("action")
        return {"done": True}

    return app, ran


async def _post(app: FastAPI, path: str, **kwargs) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        return await client.post(path, **kwargs)


def _assert_413(response: httpx.Response, path: str) -> None:
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 413 and problem["title"] == "Content too large" and problem["instance"] == path
    assert str(LIMIT) in problem["detail"]


@pytest.mark.parametrize("path", ["/parsed", "/raw", "/action"])
async def test_a_declared_length_over_the_cap_is_refused_before_the_endpoint_runs(path):
    app, ran = _app()
    response = await _post(app, path, content=b"{" + b" " * LIMIT + b"}", headers={"Content-Type": "application/json"})
    _assert_413(response, path)
    assert ran == []


@pytest.mark.parametrize("path", ["/parsed", "/raw"])
async def test_a_streamed_body_is_refused_at_the_chunk_that_crosses_the_cap(path):
    app, ran = _app()
    sent: list[int] = []

    async def chunks():
        for i in range(50):
            sent.append(i)
            yield b" " * 40

    response = await _post(app, path, content=chunks(), headers={"Content-Type": "application/json"})
    _assert_413(response, path)
    assert len(sent) < 50  # not read whole
    assert ran == []


@pytest.mark.parametrize("path", ["/parsed", "/raw"])
async def test_a_body_within_the_cap_is_served(path):
    app, ran = _app()
    body = b'{"a": "' + b"x" * (LIMIT - 9) + b'"}'
    assert len(body) == LIMIT
    response = await _post(app, path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    assert ran == [path.strip("/")]


async def test_an_absurd_content_length_is_over_the_cap_not_an_error():
    app, ran = _app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        request = client.build_request("POST", "/action", content=b"{}")
        request.headers["Content-Length"] = "9" * 5000
        response = await client.send(request)
    _assert_413(response, "/action")
    assert ran == []


def test_the_default_cap_fits_the_largest_order():
    assert MAX_BODY_BYTES == 64 * 1024
