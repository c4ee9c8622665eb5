"""`Idempotency-Key` on the authenticated POSTs: a repeat gets the first answer and never runs twice.

- `IdempotentRoute`, the route class of the orders and disputes routers, gives each of their POSTs the
  `idempotency_key` dependency (so the header is documented on each). The fulfillment webhook is exempt:
  it has no bearer token to scope keys by, and its events are deduplicated by `event_id`.
- The dependency authenticates the caller, then claims (caller, key) for the request's fingerprint
  (method, path, query, body). A repeat whose first answer is kept gets that answer, marked
  `Idempotent-Replayed: true`; the key on another request is 409 `idempotency-key-reused`; a repeat
  while the first request still runs is 409 `idempotency-key-in-progress`.
- `IdempotencyRecorder` (pure ASGI middleware) keeps a claimed request's answer before sending it, or
  frees the key when the answer is a 5xx (the client may retry) or there is none.
"""

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

import anyio
import asyncpg
from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import Principal, current_principal
from api.problems import Problem
from db import idempotency as store

log = logging.getLogger("settlement.api")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# A claim still unanswered after this long belongs to a process that died; a repeat may take it over.
ABANDONED_AFTER = timedelta(minutes=15)
_KEPT_HEADERS = (b"content-type", b"location")
_SCOPE_KEY = "settlement.idempotency"

KeyHeader = Annotated[
    str | None,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=255,
        pattern=r"^[\x20-\x7e]+$",
        description="1-255 printable ASCII characters. A repeat with the same key and the same request gets the first "
        "answer (with `Idempotent-Replayed: true`); the key on another request is 409; a repeat while the first is "
        "running is 409. Answers of 500 and above are not kept.",
    ),
]


@dataclass(frozen=True)
class _Claim:
    pool: asyncpg.Pool
    caller: str
    key: str
    claimed_at: datetime


class _Replay(Exception):
    def __init__(self, recorded: store.Recorded):
        super().__init__("idempotent replay")
        self.recorded = recorded


async def idempotency_key(request: Request, key: KeyHeader = None, principal: Principal = Depends(current_principal)) -> None:
    if key is None:
        return
    pool = request.app.state.pool
    caller = f"{principal.role}:{principal.sub}"
    fingerprint = await _fingerprint(request)
    claimed_at = await store.claim(pool, caller, key, fingerprint, ABANDONED_AFTER)
    if claimed_at is not None:
        request.scope[_SCOPE_KEY] = _Claim(pool, caller, key, claimed_at)
        return
    recorded = await store.recorded(pool, caller, key)
    if recorded is not None and recorded.fingerprint != fingerprint:
        raise Problem(409, f"this {HEADER} was used for another request", kind="idempotency-key-reused")
    if recorded is None or recorded.status is None:
        raise Problem(
            409,
            f"the first request with this {HEADER} is still running; try again shortly",
            kind="idempotency-key-in-progress",
            headers={"Retry-After": "1"},
        )
    raise _Replay(recorded)


async def _fingerprint(request: Request) -> str:
    target = json.dumps([request.method, request.url.path, request.url.query]).encode()
    return hashlib.sha256(target + b"\n" + await request.body()).hexdigest()


class IdempotentRoute(APIRoute):
    """A route whose POST takes an `Idempotency-Key`."""

    def __init__(self, path: str, endpoint, *, methods=None, dependencies=None, **kwargs):
        dependencies = list(dependencies or [])
        if "POST" in {m.upper() for m in methods or ()} and not any(d.dependency is idempotency_key for d in dependencies):
            dependencies.append(Depends(idempotency_key))
        super().__init__(path, endpoint, methods=methods, dependencies=dependencies, **kwargs)


class IdempotencyRecorder:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def keep_then_send(message: Message) -> None:
            claim = scope.get(_SCOPE_KEY)
            if claim is None:
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                del scope[_SCOPE_KEY]
                await _settle(claim, held)
                for m in held:
                    await send(m)

        try:
            await self.app(scope, receive, keep_then_send)
        except BaseException:
            if (claim := scope.pop(_SCOPE_KEY, None)) is not None:
                with anyio.CancelScope(shield=True):
                    await store.release(claim.pool, claim.caller, claim.key, claim.claimed_at)
            raise


async def _settle(claim: _Claim, messages: list[Message]) -> None:
    start = messages[0]
    try:
        if start["status"] >= 500:
            await store.release(claim.pool, claim.caller, claim.key, claim.claimed_at)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in start.get("headers", []) if k.lower() in _KEPT_HEADERS}
        body = b"".join(m.get("body", b"") for m in messages[1:])
        await store.complete(claim.pool, claim.caller, claim.key, claim.claimed_at, start["status"], headers, body)
    except Exception:  # the action has happened: its answer goes out even if it cannot be kept
        log.exception("could not keep the answer to %s %s of %s", HEADER, claim.key, claim.caller)


def install(app: FastAPI) -> None:
    """Answer replays; keep first answers (add before the body limit, so it sits inside it)."""
    app.add_middleware(IdempotencyRecorder)

    @app.exception_handler(_Replay)
    async def _replay(request: Request, exc: _Replay) -> Response:
        recorded = exc.recorded
        return Response(recorded.body, status_code=recorded.status, headers={**recorded.headers, REPLAYED_HEADER: "true"})
