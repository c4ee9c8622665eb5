"""A whole engine for end-to-end tests: embedded PostgreSQL, the Temporal dev server, and the worker,
API and simulators as real processes on free loopback ports, with the carrier in manual mode."""

import json
import secrets
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC

import httpx

from db.dsn import with_login
from db.migrate import ENGINE_LOGIN, ensure_engine_login
from domain.order_actions import Role
from domain.webhook_signature import sign
from runtime.settings import Settings
from runtime.tokens import mint_token

# Fresh for each test session: a secret printed here would be a published one, refused by the settings.
JWT_SECRET = secrets.token_hex(32)
WEBHOOK_SECRET = secrets.token_hex(32)
STRIPE_WEBHOOK_SECRET = "whsec_" + secrets.token_hex(24)
PAYLOAD_KEYS = "it-2:MjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjI=,it-1:MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE="  # test keys only
_TOKENS = Settings(settlement_jwt_secret=JWT_SECRET, settlement_webhook_secret=WEBHOOK_SECRET)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def token(role: str, sub: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(_TOKENS, sub, Role(role))}"}


async def engine_database_url(owner_url: str) -> str:
    """The address the engine's processes use: a restricted login role (member of settlement_engine), created as
    the owner after the migrations. Embedded PostgreSQL trusts local connections, so the password is a formality."""
    url = with_login(owner_url, ENGINE_LOGIN, secrets.token_hex(16))
    await ensure_engine_login(owner_url, url)
    return url


def signed(event: dict, secret: str = WEBHOOK_SECRET, at: int | None = None) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    return body, {"Content-Type": "application/json", "X-Signature": sign(body, secret, at or int(time.time()))}


def new_order(**overrides) -> dict:
    order = {
        "order_id": f"it-{uuid.uuid4().hex[:10]}",
        "buyer_id": "buyer_a",
        "seller_id": "seller_a",
        "marketplace": "market_a",
        "currency": "USD",
        "items": [{"sku": "mug", "quantity": 2, "unit_price": 1250}],
        "shipping_fee": 500,
        "payment_method": "pm_card_visa",
    }
    order.update(overrides)
    return order


@dataclass
class Engine:
    api: httpx.AsyncClient
    sim: httpx.AsyncClient
    created: list[str] = field(default_factory=list)

    async def create(self, **overrides) -> dict:
        response = await self.api.post(
            "/v1/orders", json=new_order(**overrides), headers=token("marketplace", overrides.get("marketplace", "market_a"))
        )
        assert response.status_code == 201, response.text
        self.created.append(response.json()["order_id"])
        return response.json()

    async def get(self, order_id: str, role: str = "operator", sub: str = "ops") -> httpx.Response:
        return await self.api.get(f"/v1/orders/{order_id}", headers=token(role, sub))

    async def wait_for(self, order_id: str, *statuses: str, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            response = await self.get(order_id)
            if response.status_code == 200:
                last = response.json()
                if last["status"] in statuses:
                    return last
            await _sleep(0.2)
        raise AssertionError(f"order {order_id} never reached {statuses}; last seen {last and last['status']}: {last and last['timeline']}")

    async def webhook(self, order_id: str, type_: str, event_id: str | None = None, **kwargs) -> httpx.Response:
        event = {
            "event_id": event_id or f"evt-{uuid.uuid4().hex}",
            "order_id": order_id,
            "type": type_,
            "occurred_at": _now_iso(),
            "tracking": "TRACK1",
        }
        body, headers = signed(event, **kwargs)
        return await self.api.post("/v1/webhooks/fulfillment", content=body, headers=headers)

    async def carrier(self, order_id: str, type_: str) -> None:
        """Make the simulated carrier report an event: it reaches the API as a signed webhook."""
        response = await self.sim.post(f"/fulfillment/orders/{order_id}/events", json={"type": type_, "tracking": "SIMTRACK"})
        assert response.status_code == 202, response.text

    async def ship_and_deliver(self, order_id: str) -> dict:
        await self.wait_for(order_id, "awaiting_shipment")
        assert (await self.webhook(order_id, "shipped")).status_code == 202
        await self.wait_for(order_id, "in_transit")
        assert (await self.webhook(order_id, "delivered")).status_code == 202
        return await self.wait_for(order_id, "awaiting_confirmation")


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


def _now_iso() -> str:
    from datetime import datetime

    return datetime.now(UTC).isoformat()
