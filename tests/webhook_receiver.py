"""An HTTP endpoint on 127.0.0.1 for outbound webhooks, run in the caller's event loop: it keeps what it is sent, by
the last part of the path, and answers 204."""

import asyncio
import hmac
import time
from datetime import UTC, datetime

import uvicorn
from standardwebhooks.webhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

Delivery = tuple[dict[str, str], bytes]


class Receiver:
    def __init__(self) -> None:
        self.got: dict[str, list[Delivery]] = {}

        async def receive(request: Request) -> Response:
            try:
                body = await request.body()
            except ClientDisconnect:  # the sender died mid-send (a killed worker): nothing was delivered
                return Response(status_code=400)
            self.got.setdefault(request.path_params["name"], []).append((dict(request.headers), body))
            return Response(status_code=204)

        app = Starlette(routes=[Route("/{name}", receive, methods=["POST"])])
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))

    async def __aenter__(self) -> "Receiver":
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            await asyncio.sleep(0.05)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_) -> None:
        self.server.should_exit = True
        await self.task

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    async def until(self, name: str, count: int, timeout: float = 30.0) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while len(self.got.get(name, [])) < count:
            assert time.monotonic() < deadline, f"{name} received {len(self.got.get(name, []))} of {count}"
            await asyncio.sleep(0.2)
        return self.got[name]


def verified(secret: str, delivery: Delivery) -> dict:
    """The event, if the delivery is signed with `secret` and recent (else WebhookVerificationError)."""
    headers, body = delivery
    return Webhook(secret).verify(body, {k: v for k, v in headers.items() if k.startswith("webhook-")})


def signed_with(secret: str, delivery: Delivery) -> bool:
    """Whether one of the delivery's signatures is `secret`'s, however long ago it was sent (verify() also refuses a
    timestamp more than five minutes from now, as a receiver should at arrival; a long run checks afterwards)."""
    headers, body = delivery
    sent_at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    expected = Webhook(secret).sign(headers["webhook-id"], sent_at, body.decode())
    return any(hmac.compare_digest(expected, given) for given in headers["webhook-signature"].split())
