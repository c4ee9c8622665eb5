"""Idempotency-Key (api/idempotency.py, db/idempotency.py) against real PostgreSQL: a repeat gets the first
answer, another request under the key is refused, a concurrent repeat never runs twice, 5xx are not kept."""

import asyncio

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request, Response

from api import idempotency, problems
from api.auth import Principal, current_principal
from api.problems import Problem


def _app(pool) -> tuple[FastAPI, list[str]]:
    app = FastAPI()
    problems.install(app)
    idempotency.install(app)
    app.state.pool = pool
    calls: list[str] = []
    router = APIRouter(route_class=idempotency.IdempotentRoute)

    @router.post("/things/{name}", status_code=201)
    async def make(name: str, body: dict, response: Response) -> dict:
        calls.append(name)
        await asyncio.sleep(body.get("seconds", 0))
        if "fail" in body:
            if body["fail"] == 500:
                raise RuntimeError("boom")
            raise Problem(body["fail"], f"failed with {body['fail']}", kind="made-up")
        response.headers["Location"] = f"/things/{name}"
        return {"name": name, "call": len(calls)}

    @router.get("/things/{name}")
    async def read(name: str) -> dict:
        return {"name": name}

    app.include_router(router)

    def principal(request: Request) -> Principal:
        return Principal(role="buyer", sub=request.headers["x-sub"])

    app.dependency_overrides[current_principal] = principal
    return app, calls


@pytest.fixture
async def api(db_pool):
    app, calls = _app(db_pool)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        client.calls = calls
        yield client


def _headers(uid: str, key: str | None = "k1", sub: str | None = None) -> dict:
    return {"x-sub": sub or f"buyer-{uid}", **({"Idempotency-Key": key} if key else {})}


async def test_a_repeat_gets_the_first_answer_and_runs_once(api, uid):
    first = await api.post("/things/a", json={"x": 1}, headers=_headers(uid))
    again = await api.post("/things/a", json={"x": 1}, headers=_headers(uid))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() == {"name": "a", "call": 1}
    assert again.headers["location"] == "/things/a" and again.headers["content-type"] == "application/json"
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert api.calls == ["a"]


@pytest.mark.parametrize(("path", "body"), [("/things/a", {"x": 2}), ("/things/b", {"x": 1}), ("/things/a?q=1", {"x": 1})])
async def test_the_key_on_another_request_is_409(api, uid, path, body):
    assert (await api.post("/things/a", json={"x": 1}, headers=_headers(uid))).status_code == 201
    reused = await api.post(path, json=body, headers=_headers(uid))
    assert reused.status_code == 409
    assert reused.headers["content-type"] == "application/problem+json"
    assert reused.json()["type"] == "/problems/idempotency-key-reused"
    assert len(api.calls) == 1


async def test_keys_belong_to_their_caller(api, uid):
    mine = await api.post("/things/a", json={}, headers=_headers(uid, sub=f"one-{uid}"))
    theirs = await api.post("/things/a", json={}, headers=_headers(uid, sub=f"two-{uid}"))
    assert mine.json()["call"] == 1 and theirs.json()["call"] == 2
    assert "idempotent-replayed" not in theirs.headers


async def test_a_concurrent_repeat_is_409_in_progress_and_never_runs_twice(api, uid):
    first, second = await asyncio.gather(
        api.post("/things/slow", json={"seconds": 0.5}, headers=_headers(uid)),
        api.post("/things/slow", json={"seconds": 0.5}, headers=_headers(uid)),
    )
    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [201, 409]
    refused = first if first.status_code == 409 else second
    assert refused.json()["type"] == "/problems/idempotency-key-in-progress"
    assert refused.headers["retry-after"]
    assert api.calls == ["slow"]
    later = await api.post("/things/slow", json={"seconds": 0.5}, headers=_headers(uid))
    assert later.status_code == 201 and later.headers["idempotent-replayed"] == "true"
    assert api.calls == ["slow"]


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_are_not_kept_so_the_client_may_retry(api, uid, status):
    assert (await api.post("/things/f", json={"fail": status}, headers=_headers(uid))).status_code == status
    assert (await api.post("/things/f", json={"fail": status}, headers=_headers(uid))).status_code == status
    assert api.calls == ["f", "f"]


async def test_a_client_error_is_kept_and_replayed(api, uid):
    first = await api.post("/things/f", json={"fail": 409}, headers=_headers(uid))
    again = await api.post("/things/f", json={"fail": 409}, headers=_headers(uid))
    assert first.status_code == again.status_code == 409
    assert again.json() == first.json() and again.headers["content-type"] == "application/problem+json"
    assert again.headers["idempotent-replayed"] == "true"
    assert api.calls == ["f"]


async def test_without_a_key_every_request_runs(api, uid):
    for _ in range(2):
        assert (await api.post("/things/n", json={}, headers=_headers(uid, key=None))).status_code == 201
    assert api.calls == ["n", "n"]


async def test_a_claim_left_unanswered_by_a_dead_process_is_taken_over_but_a_fresh_one_is_not(api, uid, db_pool):
    await db_pool.execute(
        "INSERT INTO idempotent_requests (caller, key, fingerprint, claimed_at) VALUES ($1, 'stale', $2, now() - interval '1 hour'), "
        "($1, 'fresh', $3, now()), ($1, 'other', 'another request', now() - interval '1 hour')",
        f"buyer:buyer-{uid}",
        await _fingerprint("/things/a", b"{}"),
        await _fingerprint("/things/b", b"{}"),
    )

    async def post(path: str, key: str) -> httpx.Response:
        return await api.post(path, content=b"{}", headers={**_headers(uid, key=key), "Content-Type": "application/json"})

    assert (await post("/things/a", "stale")).status_code == 201
    fresh = await post("/things/b", "fresh")
    assert fresh.status_code == 409 and fresh.json()["type"] == "/problems/idempotency-key-in-progress"
    other = await post("/things/a", "other")
    assert other.status_code == 409 and other.json()["type"] == "/problems/idempotency-key-reused"
    assert api.calls == ["a"]


async def _fingerprint(path: str, body: bytes) -> str:
    scope = {"type": "http", "method": "POST", "path": path, "query_string": b"", "headers": [], "server": ("test", 80), "scheme": "http"}

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    return await idempotency._fingerprint(Request(scope, receive))


async def test_gets_take_no_key(api, uid):
    assert (await api.get("/things/a", headers=_headers(uid))).json() == {"name": "a"}
    assert (await api.get("/things/a", headers=_headers(uid))).headers.get("idempotent-replayed") is None
