"""Outbound webhooks in the chaos run: before the first order, the chaos marketplace registers an endpoint (a receiver
in the runner, on 127.0.0.1). Once every order is over and the outbox has drained, every step of every order's
timeline must have reached it at least once, signed with its secret, though workers were killed mid-send and the
database restarted."""

import asyncio
import json
import time
from collections import Counter
from datetime import datetime

import asyncpg
import httpx

from tests.integration.stack import token
from tests.reliability.driver import OrderRun
from tests.webhook_receiver import Receiver, signed_with

MARKETPLACE = "market_chaos"  # tests/reliability/paths.py order_body
DRAIN = 120.0  # seconds the outbox may take to deliver what is left once the orders are over


class WebhookWatch:
    def __init__(self, api: httpx.AsyncClient):
        self.api, self.receiver = api, Receiver()
        self.endpoint: dict = {}
        self.summary = "not checked"

    async def __aenter__(self) -> "WebhookWatch":
        await self.receiver.__aenter__()
        body = {"url": self.receiver.url("chaos"), "event_types": ["order.status_changed"]}
        created = await self.api.post("/v1/webhook-endpoints", json=body, headers=token("marketplace", MARKETPLACE))
        assert created.status_code == 201, created.text
        self.endpoint = created.json()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.receiver.__aexit__(*exc)

    async def problems(self, database_url: str, runs: list[OrderRun]) -> list[str]:
        """Every order step told, signed; what arrived more than once is counted, never a problem."""
        connection = await asyncpg.connect(database_url)
        try:
            pending = await self._drained(connection)
            steps = await connection.fetch(
                "SELECT order_id, status, at FROM order_events WHERE order_id = ANY($1::text[])", [r.order_id for r in runs]
            )
        finally:
            await connection.close()
        received, unsigned = Counter(), 0
        for delivery in self.receiver.got.get("chaos", []):
            if not signed_with(self.endpoint["secret"], delivery):
                unsigned += 1
                continue
            data = json.loads(delivery[1])["data"]
            received[(data["order_id"], data["status"], datetime.fromisoformat(data["at"]))] += 1
        missing = [s for s in steps if (s["order_id"], s["status"], s["at"]) not in received]
        found = [f"{len(missing)} order steps never told, e.g. {[tuple(s) for s in missing[:3]]}"] if missing else []
        found += [f"{unsigned} deliveries not signed with the endpoint's secret"] if unsigned else []
        found += [f"{pending} deliveries still pending {DRAIN:.0f} s after the orders were over"] if pending else []
        repeats = sum(n - 1 for n in received.values())
        self.summary = f"{len(steps)} order steps, {sum(received.values())} deliveries received ({repeats} repeats), {len(missing)} missing"
        return found

    async def _drained(self, connection: asyncpg.Connection) -> int:
        """Wait until nothing is pending for the endpoint; what is still pending after DRAIN."""
        deadline = time.monotonic() + DRAIN
        while True:
            pending = await connection.fetchval(
                "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'pending'", self.endpoint["endpoint_id"]
            )
            if not pending or time.monotonic() > deadline:
                return pending
            await asyncio.sleep(1.0)
