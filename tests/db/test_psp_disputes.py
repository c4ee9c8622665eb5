"""The simulated payment provider's disputes (simulators/disputes.py) and their webhooks (simulators/dispatcher.py):
a dispute never takes more than the capture has left, a repeat answers the same dispute, closing it is final, and
each change reaches the engine's /v1/webhooks/payments signed, in the body the engine accepts, at least once."""

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from api.routers.payment_webhooks import PaymentEventBody
from domain.webhook_signature import verify
from simulators import dispatcher, disputes, psp

SECRET = "whsec_disputes_test"


@pytest.fixture(scope="module")
async def provider(sim_pool):
    """The simulated payment provider with its dispute controls, reached over HTTP in process."""
    app = FastAPI()
    app.include_router(psp.router)
    app.include_router(disputes.router)
    app.state.pool = sim_pool
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://psp") as client:
        yield client


class Api:
    """The engine's payments webhook: checks each delivery's signature and body, then answers `status`."""

    def __init__(self) -> None:
        self.status = 202
        self.events: list[dict] = []
        self.secret = SECRET  # what the engine checks the provider's signatures with

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/webhooks/payments"
        verify(request.content, request.headers.get("X-Signature"), [self.secret], int(time.time()), 300)
        PaymentEventBody.model_validate_json(request.content)  # what the engine's endpoint would accept
        self.events.append(json.loads(request.content))
        return httpx.Response(self.status, json={"status": "accepted"})

    def of(self, dispute_id: str) -> list[dict]:
        return [e for e in self.events if e["dispute_id"] == dispute_id]


@pytest.fixture
async def api():
    mock = Api()
    async with httpx.AsyncClient(transport=httpx.MockTransport(mock), base_url="http://api") as client:
        mock.client = client
        yield mock


async def captured(provider, amount: int = 5000, refunded: int = 0) -> str:
    """An order paid with `amount` captured, `refunded` of it refunded."""
    order = f"o-{uuid.uuid4().hex[:8]}"
    auth = await provider.post(
        "/psp/authorizations",
        json={"idempotency_key": f"{order}:a", "order_id": order, "amount": amount, "currency": "USD", "payment_method": "pm_card_visa"},
    )
    capture = await provider.post(
        "/psp/captures",
        json={"idempotency_key": f"{order}:c", "authorization_id": auth.json()["reference"], "amount": amount, "currency": "USD"},
    )
    if refunded:
        refund = {"idempotency_key": f"{order}:r", "order_id": order, "capture_id": capture.json()["reference"]}
        assert (await provider.post("/psp/refunds", json={**refund, "amount": refunded, "currency": "USD"})).status_code == 200
    return order


async def _outbox(pool: asyncpg.Pool, dispute_id: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT body, due_at, delivered_at, attempts, last_error FROM sim.payment_webhook_outbox WHERE body->>'dispute_id' = $1 "
        "ORDER BY body->>'type'",
        dispute_id,
    )


async def test_a_dispute_is_opened_on_the_capture_and_queues_its_webhook(provider, sim_pool):
    order = await captured(provider)
    opened = await provider.post("/psp/disputes", json={"order_id": order, "amount": 1200, "dispute_id": None})
    assert opened.status_code == 201, opened.text
    dispute = opened.json()
    assert dispute["dispute_id"].startswith("dp_") and dispute["capture_id"].startswith("cap_")
    assert (dispute["order_id"], dispute["amount"], dispute["currency"], dispute["status"], dispute["closed_at"]) == (
        order,
        1200,
        "USD",
        "open",
        None,
    )
    assert (await provider.get(f"/psp/disputes/{dispute['dispute_id']}")).json() == dispute
    [queued] = await _outbox(sim_pool, dispute["dispute_id"])
    assert queued["body"]["type"] == "charge.dispute.created" and queued["delivered_at"] is None
    assert datetime.fromisoformat(queued["body"]["occurred_at"]) == datetime.fromisoformat(dispute["created_at"])


async def test_a_dispute_needs_a_capture_with_enough_left(provider):
    assert (await provider.post("/psp/disputes", json={"order_id": "never-paid", "amount": 1})).status_code == 422
    order = await captured(provider, amount=5000, refunded=1000)
    assert (await provider.post("/psp/disputes", json={"order_id": order, "amount": 4001})).status_code == 422
    assert (await provider.post("/psp/disputes", json={"order_id": order, "amount": 3000})).status_code == 201
    too_much = await provider.post("/psp/disputes", json={"order_id": order, "amount": 1001})
    assert too_much.status_code == 422 and "(1000)" in too_much.json()["detail"]
    assert (await provider.post("/psp/disputes", json={"order_id": order, "amount": 1000})).status_code == 201
    assert (await provider.post("/psp/disputes", json={"order_id": order, "amount": 0})).status_code == 422
    assert (await provider.post("/psp/disputes", json={"order_id": order, "amount": 1, "dispute_id": "no spaces"})).status_code == 422
    assert (await provider.get("/psp/disputes/dp_none")).status_code == 404


async def test_a_repeat_answers_the_same_dispute_and_another_body_is_409(provider, sim_pool):
    order = await captured(provider, amount=5000)
    body = {"order_id": order, "amount": 4000, "dispute_id": f"dp-{order}"}
    first = await provider.post("/psp/disputes", json=body)
    again = await provider.post("/psp/disputes", json=body)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()  # not a second dispute, which the capture could not hold
    assert len(await _outbox(sim_pool, body["dispute_id"])) == 1
    assert (await provider.post("/psp/disputes", json={**body, "amount": 1000})).status_code == 409
    other = await captured(provider)
    assert (await provider.post("/psp/disputes", json={**body, "order_id": other})).status_code == 409


@pytest.mark.parametrize("outcome", ["won", "lost"])
async def test_closing_a_dispute_is_final(provider, sim_pool, outcome):
    order = await captured(provider)
    dispute_id = (await provider.post("/psp/disputes", json={"order_id": order, "amount": 500})).json()["dispute_id"]
    closed = await provider.post(f"/psp/disputes/{dispute_id}/close", json={"outcome": outcome})
    assert closed.status_code == 200 and closed.json()["status"] == outcome and closed.json()["closed_at"] is not None
    again = await provider.post(f"/psp/disputes/{dispute_id}/close", json={"outcome": outcome})
    assert again.status_code == 200 and again.json() == closed.json()
    other = "lost" if outcome == "won" else "won"
    assert (await provider.post(f"/psp/disputes/{dispute_id}/close", json={"outcome": other})).status_code == 409
    assert (await provider.get(f"/psp/disputes/{dispute_id}")).json() == closed.json()
    types = [row["body"]["type"] for row in await _outbox(sim_pool, dispute_id)]
    assert sorted(types) == sorted(["charge.dispute.created", f"charge.dispute.{outcome}"])
    assert (await provider.post("/psp/disputes/dp_none/close", json={"outcome": outcome})).status_code == 404
    assert (await provider.post(f"/psp/disputes/{dispute_id}/close", json={"outcome": "withdrawn"})).status_code == 422


async def test_the_dispatcher_posts_each_event_signed_and_marks_it_delivered(provider, sim_pool, api):
    order = await captured(provider)
    dispute = (await provider.post("/psp/disputes", json={"order_id": order, "amount": 700})).json()
    await provider.post(f"/psp/disputes/{dispute['dispute_id']}/close", json={"outcome": "won"})
    while await dispatcher.deliver_due(sim_pool, api.client, SECRET):
        pass
    created, won = api.of(dispute["dispute_id"])
    common = {"dispute_id": dispute["dispute_id"], "order_id": order, "amount": 700, "currency": "USD"}
    assert created == {**common, "type": "charge.dispute.created", "event_id": created["event_id"], "occurred_at": created["occurred_at"]}
    assert won == {**common, "type": "charge.dispute.won", "event_id": won["event_id"], "occurred_at": won["occurred_at"]}
    assert created["event_id"] != won["event_id"]
    assert datetime.fromisoformat(created["occurred_at"]) < datetime.fromisoformat(won["occurred_at"])
    rows = await _outbox(sim_pool, dispute["dispute_id"])
    assert [(r["attempts"], r["last_error"]) for r in rows] == [(1, None), (1, None)]
    assert all(r["delivered_at"] is not None for r in rows)
    await dispatcher.deliver_due(sim_pool, api.client, SECRET)
    assert len(api.of(dispute["dispute_id"])) == 2  # delivered once is enough


async def test_a_refused_delivery_is_retried_later_and_later(provider, sim_pool, api):
    order = await captured(provider)
    dispute_id = (await provider.post("/psp/disputes", json={"order_id": order, "amount": 300})).json()["dispute_id"]
    api.status = 503
    for attempt in (1, 2):
        before = datetime.now(UTC)
        await dispatcher.deliver_due(sim_pool, api.client, SECRET)
        [row] = await _outbox(sim_pool, dispute_id)
        assert (row["attempts"], row["delivered_at"]) == (attempt, None) and row["last_error"].startswith("HTTP 503")
        assert row["due_at"] >= before + timedelta(seconds=2 ** (attempt - 1))  # 1 s, then 2 s
        await dispatcher.deliver_due(sim_pool, api.client, SECRET)
        assert len(api.of(dispute_id)) == attempt  # not due again yet
        await sim_pool.execute("UPDATE sim.payment_webhook_outbox SET due_at = now() WHERE event_id = $1", row["body"]["event_id"])
    api.status = 202
    await dispatcher.deliver_due(sim_pool, api.client, SECRET)
    [row] = await _outbox(sim_pool, dispute_id)
    assert row["attempts"] == 3 and row["delivered_at"] is not None
    first, *_, last = api.of(dispute_id)
    assert first == last  # the same event each time


async def test_the_fulfillment_network_s_events_still_go_to_their_own_webhook(sim_pool):
    """The dispatcher's other outbox, delivered as before its payments outbox came."""
    event_id, order = f"evt_{uuid.uuid4().hex}", f"o-{uuid.uuid4().hex[:8]}"
    await sim_pool.execute(
        "INSERT INTO sim.fulfillment_orders (order_id, idempotency_key, seller_id, items, status, fulfillment_center) "
        "VALUES ($1, 'k', 's', '[]', 'open', 'SIM-FRA3')",
        order,
    )
    due = await sim_pool.fetchval(
        "INSERT INTO sim.webhook_outbox (event_id, order_id, type, due_at, tracking) VALUES ($1, $2, 'shipped', now(), 'SIM1') RETURNING due_at",
        event_id,
        order,
    )
    posted: dict[str, dict] = {}

    def handle(request: httpx.Request) -> httpx.Response:
        verify(request.content, request.headers.get("X-Signature"), [SECRET], int(time.time()), 300)
        posted[request.url.path] = json.loads(request.content)
        return httpx.Response(202)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handle), base_url="http://api") as client:
        await dispatcher.deliver_due(sim_pool, client, SECRET)
    assert posted["/v1/webhooks/fulfillment"] == {
        "event_id": event_id,
        "order_id": order,
        "type": "shipped",
        "occurred_at": due.isoformat(),
        "tracking": "SIM1",
        "fulfillment_center": "SIM-FRA3",
    }
    assert await sim_pool.fetchval("SELECT delivered_at IS NOT NULL FROM sim.webhook_outbox WHERE event_id = $1", event_id)


async def test_with_a_secret_of_its_own_the_provider_signs_with_it(provider, sim_pool, api):
    order = await captured(provider)
    dispute_id = (await provider.post("/psp/disputes", json={"order_id": order, "amount": 200})).json()["dispute_id"]
    api.secret = "q" * 64
    await dispatcher.deliver_due(sim_pool, api.client, SECRET, payments_secret=api.secret)
    assert [e["type"] for e in api.of(dispute_id)] == ["charge.dispute.created"]


async def test_evidence_is_taken_while_the_dispute_is_open_and_a_repeat_under_its_key_answers_as_before(provider):
    order = await captured(provider)
    dispute_id = (await provider.post("/psp/disputes", json={"order_id": order, "amount": 500})).json()["dispute_id"]
    evidence = {"idempotency_key": "ev-1", "explanation": "signed for", "documents": ["invoice 1"], "tracking_number": "TRK-9"}
    given = await provider.post(f"/psp/disputes/{dispute_id}/evidence", json=evidence)
    assert given.status_code == 200 and given.json()["reference"] == "ev-1"
    kept = (await provider.get(f"/psp/disputes/{dispute_id}")).json()
    assert kept["evidence"] == {"explanation": "signed for", "documents": ["invoice 1"], "tracking_number": "TRK-9", "delivered_at": None}
    await provider.post(f"/psp/disputes/{dispute_id}/close", json={"outcome": "lost"})
    again = await provider.post(f"/psp/disputes/{dispute_id}/evidence", json=evidence)
    assert again.status_code == 200 and again.json() == given.json()  # a repeat of what it took, after it closed
    late = await provider.post(f"/psp/disputes/{dispute_id}/evidence", json={**evidence, "idempotency_key": "ev-2"})
    assert late.status_code == 400  # a definite refusal
    assert (await provider.post("/psp/disputes/dp_none/evidence", json=evidence)).status_code == 404
