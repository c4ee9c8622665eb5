"""The outbound webhooks' outbox against a real database: events published with the change they tell of, once per
change, fanned out to the owners' endpoints that take their type; deliveries held, delivered, retried on the
schedule and given up; listings and replays; and the dispatcher signing what it sends by the Standard Webhooks
scheme."""

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from db import outbound_webhooks as outbox
from db.read_model import record_order
from domain.outbound_webhooks import RETRY_SCHEDULE, EventType, OutboundEvent, event_id, private_host, seller_event
from runtime.webhook_delivery import deliver_due, resolves_privately
from tests.db.factories import order_state
from tests.db.test_seller_payouts import ids

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def an_event(owner: str, type_: EventType = EventType.PAYOUT_PAID, key: str = "k") -> OutboundEvent:
    return OutboundEvent(event_id=event_id(owner, type_.value, key), type=type_, owners=[owner], data={"key": key}, occurred_at=NOW)


async def publish(pool, event: OutboundEvent) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await outbox.publish(conn, event)


async def deliveries(pool, event: OutboundEvent) -> dict[str, str]:
    rows = await pool.fetch("SELECT endpoint_id, status FROM webhook_deliveries WHERE event_id = $1", event.event_id)
    return {r["endpoint_id"]: r["status"] for r in rows}


async def test_an_event_goes_to_each_endpoint_of_its_owners_that_takes_its_type_once(db_pool):
    _, seller = ids()
    owner = f"seller:{seller}"
    every = await outbox.create_endpoint(db_pool, owner, "https://a.example/hook", [])
    payouts = await outbox.create_endpoint(db_pool, owner, "https://b.example/hook", ["payout.paid"])
    chargebacks = await outbox.create_endpoint(db_pool, owner, "https://c.example/hook", ["chargeback.opened"])
    gone = await outbox.create_endpoint(db_pool, owner, "https://d.example/hook", [])
    await outbox.disable_endpoint(db_pool, gone.endpoint_id, owner)
    await outbox.create_endpoint(db_pool, "seller:someone-else", "https://e.example/hook", [])
    assert every.secret.startswith("whsec_") and every.secret != payouts.secret

    event = an_event(owner)
    await publish(db_pool, event)
    await publish(db_pool, event)  # the same change written again
    assert await deliveries(db_pool, event) == {every.endpoint_id: "pending", payouts.endpoint_id: "pending"}
    assert chargebacks.endpoint_id not in await deliveries(db_pool, event)
    assert await db_pool.fetchval("SELECT count(*) FROM webhook_events WHERE event_id = $1", event.event_id) == 1


async def test_a_delivery_is_held_then_retried_on_the_schedule_and_given_up_after_its_last_step(db_pool):
    _, seller = ids()
    owner = f"seller:{seller}"
    endpoint = await outbox.create_endpoint(db_pool, owner, "https://a.example/hook", [])
    event = an_event(owner)
    await publish(db_pool, event)
    due = [d for d in await outbox.claim_due(db_pool, 1000, timedelta(minutes=1)) if d.event.event_id == event.event_id]
    assert [(d.endpoint_id, d.url, d.secret, d.attempts) for d in due] == [(endpoint.endpoint_id, endpoint.url, endpoint.secret, 0)]
    again = await outbox.claim_due(db_pool, 1000, timedelta(minutes=1))
    assert event.event_id not in {d.event.event_id for d in again}  # held for its lease

    for attempt, wait in enumerate(RETRY_SCHEDULE, start=1):
        now = datetime.now(UTC)
        await outbox.attempt_failed(db_pool, event.event_id, endpoint.endpoint_id, 503, "HTTP 503", now)
        row = await db_pool.fetchrow("SELECT * FROM webhook_deliveries WHERE event_id = $1", event.event_id)
        assert (row["status"], row["attempts"], row["last_status"], row["next_attempt_at"]) == ("pending", attempt, 503, now + wait)
    await outbox.attempt_failed(db_pool, event.event_id, endpoint.endpoint_id, None, "ConnectError: refused", datetime.now(UTC))
    row = await db_pool.fetchrow("SELECT * FROM webhook_deliveries WHERE event_id = $1", event.event_id)
    assert (row["status"], row["attempts"], row["last_status"]) == ("failed", len(RETRY_SCHEDULE) + 1, None)

    assert await outbox.replay(db_pool, event.event_id, owner) == 1  # the owner sends it again
    row = await db_pool.fetchrow("SELECT * FROM webhook_deliveries WHERE event_id = $1", event.event_id)
    assert (row["status"], row["attempts"]) == ("pending", 0)
    await outbox.delivered(db_pool, event.event_id, endpoint.endpoint_id, 204)
    assert await deliveries(db_pool, event) == {endpoint.endpoint_id: "delivered"}
    assert await outbox.replay(db_pool, event.event_id, "seller:someone-else") is None


async def test_the_owners_events_page_newest_first_with_their_deliveries(db_pool):
    _, seller = ids()
    owner = f"seller:{seller}"
    endpoint = await outbox.create_endpoint(db_pool, owner, "https://a.example/hook", [])
    published = [an_event(owner, key=str(n)) for n in range(5)]
    for event in published:
        await publish(db_pool, event)
    first = await outbox.events(db_pool, owner, None, 2)
    second = await outbox.events(db_pool, owner, first[-1].event_id, 2)
    third = await outbox.events(db_pool, owner, second[-1].event_id, 2)
    assert [e.event_id for e in first + second + third] == [e.event_id for e in reversed(published)]
    assert [(d.endpoint_id, d.status, d.attempts) for d in first[0].deliveries] == [(endpoint.endpoint_id, "pending", 0)]
    assert await outbox.events(db_pool, "seller:someone-else", first[0].event_id, 2) is None
    assert published[0].event_id not in {e.event_id for e in await outbox.events(db_pool, "seller:someone-else", None, 200)}


async def test_each_step_of_an_orders_timeline_is_told_to_its_marketplace_and_seller_once(db_pool):
    order, seller = ids()
    await outbox.create_endpoint(db_pool, f"marketplace:mkt-{seller}", "https://m.example/hook", ["order.status_changed"])
    state = order_state(order, seller_id=seller, marketplace=f"mkt-{seller}", steps=3)
    await record_order(db_pool, state)
    await record_order(db_pool, state)  # a repeated write tells nothing new
    rows = await db_pool.fetch("SELECT type, owners, data FROM webhook_events WHERE data->>'order_id' = $1 ORDER BY occurred_at", order)
    assert [r["data"]["status"] for r in rows] == ["payment_pending", "awaiting_shipment", "in_transit"]
    assert all(r["owners"] == [f"marketplace:mkt-{seller}", f"seller:{seller}"] and r["type"] == "order.status_changed" for r in rows)
    assert rows[0]["data"]["total"] == 3500 and rows[0]["data"]["currency"] == "USD"
    queued = await db_pool.fetchval(
        "SELECT count(*) FROM webhook_deliveries d JOIN webhook_events e USING (event_id) WHERE e.data->>'order_id' = $1", order
    )
    assert queued == 3


async def _no_dns(url: str) -> bool:
    """The tests resolve no name: a literal private address is private, hooks.example is public."""
    return private_host(url)


class Receiver:
    def __init__(self, status: int = 204):
        self.status, self.got = status, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.got.append(request)
        return httpx.Response(self.status)


async def test_the_dispatcher_signs_what_it_sends_and_retries_what_is_refused(fresh_pool, monkeypatch):
    monkeypatch.setattr("runtime.webhook_delivery.DEADLINE", 0.2)
    _, seller = ids()
    owner = f"seller:{seller}"
    endpoint = await outbox.create_endpoint(fresh_pool, owner, "https://hooks.example/ok", [])
    failing = await outbox.create_endpoint(fresh_pool, owner, "https://hooks.example/failing", [])
    private = await outbox.create_endpoint(fresh_pool, owner, "http://10.1.2.3/hook", [])
    slow = await outbox.create_endpoint(fresh_pool, owner, "https://hooks.example/slow", [])
    event = seller_event(EventType.PAYOUT_PAID, "po:1", seller, {"payout_id": "po:1", "amount": 2034}, NOW)
    await publish(fresh_pool, event)
    receiver = Receiver()

    async def route(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/slow":  # never answers: the send's deadline ends it
            await asyncio.sleep(3600)
        return receiver(request) if request.url.path == "/ok" else httpx.Response(500)

    async with httpx.AsyncClient(transport=httpx.MockTransport(route)) as client:
        assert await deliver_due(fresh_pool, client, private_urls=False, resolver=_no_dns) == 4
    (sent,) = receiver.got
    headers = {k: v for k, v in sent.headers.items() if k.startswith("webhook-")}
    body = Webhook(endpoint.secret).verify(sent.content, headers)  # raises unless signed with the endpoint's secret
    assert body == {
        "type": "payout.paid",
        "timestamp": "2026-06-01T00:00:00Z",
        "data": {"seller_id": seller, "payout_id": "po:1", "amount": 2034},
    }
    assert headers["webhook-id"] == event.event_id
    with pytest.raises(WebhookVerificationError):
        Webhook(failing.secret).verify(sent.content, headers)
    states = {
        r["endpoint_id"]: (r["status"], r["attempts"], r["last_status"], r["last_error"])
        for r in await fresh_pool.fetch("SELECT * FROM webhook_deliveries WHERE event_id = $1", event.event_id)
    }
    assert states == {
        endpoint.endpoint_id: ("delivered", 1, 204, None),
        failing.endpoint_id: ("pending", 1, 500, "HTTP 500"),
        private.endpoint_id: ("pending", 1, None, "a private address: not allowed here"),
        slow.endpoint_id: ("pending", 1, None, "TimeoutError"),
    }


@pytest.mark.parametrize(
    "url, private",
    [
        ("http://127.0.0.1:9000/hook", True),
        ("http://localhost/hook", True),
        ("http://api.localhost./hook", True),
        ("http://10.0.0.8/hook", True),
        ("http://[::1]/hook", True),
        ("http://169.254.169.254/latest", True),
        ("https://hooks.example.com/hook", False),
        ("https://93.184.216.34/hook", False),
    ],
)
def test_private_hosts_are_told_apart(url, private):
    assert private_host(url) is private


async def test_a_name_that_resolves_to_a_private_address_is_private(monkeypatch):
    answers = {"hooks.example.com": "93.184.216.34", "internal.example.com": "10.0.0.5", "v6.example.com": "fd00::1"}

    async def getaddrinfo(host, port, *args, **kwargs):
        address = answers[host]
        return [(None, None, None, "", (address, port))]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", getaddrinfo)
    assert not await resolves_privately("https://hooks.example.com/hook")
    assert await resolves_privately("https://internal.example.com/hook")
    assert await resolves_privately("https://v6.example.com/hook")
    assert await resolves_privately("http://127.0.0.1:9/hook")  # a literal address needs no lookup
