"""The API's guards, on the real application with Temporal and the read model faked: ids in paths and
queries, unstorable text, finished orders, webhook times and signatures, the Idempotency-Key header."""

import base64
import json
import secrets
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import Request

from api.app import create_app
from api.auth import Principal, current_principal
from api.order_workflows import NoRunningWorkflow
from api.params import cursor_of, position_of
from db import read_model
from domain.fees import Fees
from domain.fulfillment_events import EVENT_CLOCK_SKEW, occurred_at_error
from domain.order_request import Item
from domain.order_state import OrderInput, OrderState
from domain.statuses import OrderStatus
from domain.webhook_signature import sign
from runtime.settings import Settings

# Fresh per run (a secret printed in the repository is refused); the JWT one is unused: tests give the principal.
JWT_SECRET, WEBHOOK_SECRET = secrets.token_hex(32), secrets.token_hex(32)
PLACED_AT = datetime.now(UTC) - timedelta(days=1)


def _order(order_id: str, status: OrderStatus) -> OrderState:
    order = OrderInput(
        order_id=order_id,
        buyer_id="buyer_a",
        seller_id="seller_a",
        marketplace="market_a",
        currency="USD",
        settlement_currency="USD",
        items=[Item(sku="mug", quantity=1, unit_price=1000)],
        shipping_fee=0,
        payment_method="pm_card_visa",
        placed_at=PLACED_AT,
        ship_by=PLACED_AT + timedelta(days=5),
        deliver_by=PLACED_AT + timedelta(days=14),
        confirmation_window=timedelta(days=7),
        fees=Fees(referral=80, fulfillment=250),
    )
    return OrderState.initial(order).model_copy(update={"status": status})


class FakeOrders:
    """The API's side of Temporal: every workflow has finished, as after a settlement or a refund."""

    def __init__(self):
        self.updates: list[str] = []
        self.events: list[str] = []

    async def state(self, order_id: str):
        return None

    async def update(self, order_id: str, name: str, *arguments):
        self.updates.append(name)
        raise NoRunningWorkflow(order_id)

    async def deliver_event(self, event):
        self.events.append(event.event_id)
        raise NoRunningWorkflow(event.order_id)


@pytest.fixture
def orders(monkeypatch) -> dict[str, OrderState]:
    known = {"done-1": _order("done-1", OrderStatus.SETTLED), "refunded-1": _order("refunded-1", OrderStatus.REFUNDED)}

    async def get_order(pool, order_id):
        return known.get(order_id)

    monkeypatch.setattr(read_model, "get_order", get_order)
    return known


@pytest.fixture
async def api(orders):
    settings = Settings(settlement_jwt_secret=JWT_SECRET, settlement_webhook_secret=WEBHOOK_SECRET)
    app = create_app(settings)
    app.state.settings = settings  # the lifespan (Temporal, PostgreSQL) does not run here
    app.state.orders = FakeOrders()
    app.state.pool = None

    def principal(request: Request) -> Principal:
        role, _, sub = request.headers.get("x-test-principal", "operator:ops").partition(":")
        return Principal(role=role, sub=sub)

    app.dependency_overrides[current_principal] = principal
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        client.app = app
        yield client


def _as(role: str, sub: str) -> dict[str, str]:
    return {"x-test-principal": f"{role}:{sub}"}


def _fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [e["field"] for e in response.json()["errors"]]


# ---- ids in paths and queries --------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["a%00b", "%0A", "x" * 65, "has%20space", "%C3%BC", "-dash"])
@pytest.mark.parametrize(
    ("method", "path", "role"),
    [
        ("GET", "/v1/orders/{}", "operator"),
        ("POST", "/v1/orders/{}/confirm-receipt", "buyer"),
        ("POST", "/v1/orders/{}/retry", "operator"),
        ("POST", "/v1/orders/{}/disputes/resolution", "operator"),
        ("GET", "/v1/sellers/{}/balance", "operator"),
        ("GET", "/v1/sellers/{}/statement", "operator"),
    ],
)
async def test_bad_ids_in_paths_are_422_naming_them(api, method, path, role, bad):
    response = await api.request(method, path.format(bad), headers=_as(role, "someone"))
    assert ("seller_id" if "sellers" in path else "order_id") in _fields(response)


@pytest.mark.parametrize("param", ["seller_id", "buyer_id"])
async def test_bad_ids_in_list_filters_are_422(api, param):
    assert param in _fields(await api.get("/v1/orders", params={param: "a\x00b"}))


@pytest.mark.parametrize(
    "cursor",
    [
        "1767225600000000~a\u0000b",  # an unstorable id
        "17672256000000000~a",  # beyond the year 2286
        base64.urlsafe_b64encode(json.dumps(["2026-01-01T00:00:00+00:00", "a"]).encode()).decode(),  # the former kind
    ],
)
async def test_a_cursor_that_is_no_position_is_422(api, cursor):
    assert _fields(await api.get("/v1/orders", params={"cursor": cursor})) == ["cursor"]


def test_a_cursor_names_a_position_exactly():
    placed_at = datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert position_of(cursor_of(placed_at, "ord:1")) == (placed_at, "ord:1")


async def test_a_good_unknown_id_is_404(api):
    assert (await api.get("/v1/orders/no-such-order")).status_code == 404


# ---- text that PostgreSQL cannot store, unknown properties -------------------------------------


@pytest.mark.parametrize(
    ("path", "role", "body", "field"),
    [
        ("/v1/orders/done-1/disputes", "buyer:buyer_a", {"reason": "damaged", "description": "broken\u0000"}, "description"),
        ("/v1/orders/done-1/disputes/response", "seller:seller_a", {"evidence": "photo\u0001"}, "evidence"),
        ("/v1/orders/done-1/disputes/resolution", "operator:ops", {"outcome": "refund", "note": "ok\ud800"}, "note"),
        ("/v1/orders/done-1/cancel", "operator:ops", {"reason": "\u001b[2J"}, "reason"),
        ("/v1/orders/done-1/disputes/resolution", "operator:ops", {"outcome": "refund", "extra": 1}, "extra"),
        ("/v1/orders/done-1/cancel", "operator:ops", {"reason": "ok", "extra": 1}, "extra"),
    ],
)
async def test_unstorable_text_and_unknown_properties_are_422_naming_the_field(api, path, role, body, field):
    response = await api.post(path, content=json.dumps(body), headers={"Content-Type": "application/json", **_as(*role.split(":"))})
    assert field in _fields(response)
    assert api.app.state.orders.updates == []


# ---- numbers and times as the OpenAPI document states them ---------------------------------------


@pytest.mark.parametrize(("amount", "accepted"), [(250, True), (250.0, True), (2.5e2, True), ("250", False), (True, False), (250.5, False)])
async def test_an_amount_is_a_json_integer_however_written_and_never_a_string(api, amount, accepted):
    body = {"outcome": "partial_refund", "refund_amount": amount}
    response = await api.post("/v1/orders/refunded-1/disputes/resolution", json=body, headers=_as("operator", "ops"))
    assert response.status_code == (409 if accepted else 422), response.text  # valid: refused only for the order's status


@pytest.mark.parametrize("moment", ["0.5", "1767225600", "2026-01-01", "2026-01-01 00:00:00Z", "0001-01-01T00:00:00+23:59"])
async def test_a_statement_period_is_given_in_rfc_3339_date_times(api, moment):
    assert _fields(await api.get("/v1/sellers/seller_a/statement", params={"to": moment})) == ["to"]


async def test_an_event_time_is_an_rfc_3339_date_time_not_a_number(api):
    response = await _webhook(api, json.dumps(_event(occurred_at=int(time.time()))).encode())
    assert _fields(response) == ["occurred_at"]


# ---- actions on finished orders ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order_id", "path", "role", "body", "status"),
    [
        ("done-1", "confirm-receipt", "buyer:buyer_a", None, "settled"),
        ("done-1", "retry", "operator:ops", None, "settled"),
        ("refunded-1", "disputes/resolution", "operator:ops", {"outcome": "refund"}, "refunded"),
        ("refunded-1", "cancel", "operator:ops", None, "refunded"),
    ],
)
async def test_an_action_on_a_finished_order_is_409_naming_its_status(api, order_id, path, role, body, status):
    response = await api.post(f"/v1/orders/{order_id}/{path}", json=body, headers=_as(*role.split(":")))
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["type"] == "/problems/invalid-transition"
    assert problem["detail"].startswith(f"order {order_id} is {status}:")


async def test_an_action_on_someone_elses_finished_order_is_still_404(api):
    assert (await api.post("/v1/orders/done-1/confirm-receipt", headers=_as("buyer", "buyer_other"))).status_code == 404


# ---- the webhook: signature, times, text ---------------------------------------------------------


def _event(**overrides) -> dict:
    return {
        "event_id": "evt-1",
        "order_id": "done-1",
        "type": "delivered",
        "occurred_at": datetime.now(UTC).isoformat(),
        "tracking": "T1",
        **overrides,
    }


async def _webhook(api, body: bytes, signature: str | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/json", "X-Signature": signature or sign(body, WEBHOOK_SECRET, int(time.time()))}
    return await api.post("/v1/webhooks/fulfillment", content=body, headers=headers)


@pytest.mark.parametrize("timestamp", ["9" * 5000, "9" * 30, "-5", "abc", "1e9", ""])
async def test_an_absurd_signature_timestamp_is_401(api, timestamp):
    body = json.dumps(_event()).encode()
    response = await _webhook(api, body, f"t={timestamp},v1={'0' * 64}")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "when",
    [
        lambda: datetime.now(UTC) + EVENT_CLOCK_SKEW + timedelta(minutes=1),
        lambda: PLACED_AT - EVENT_CLOCK_SKEW - timedelta(minutes=1),
        lambda: datetime(2000, 1, 1, tzinfo=UTC),
    ],
    ids=["future", "before-placement", "long-ago"],
)
async def test_an_event_in_the_future_or_before_the_order_is_422_naming_occurred_at(api, when):
    occurred_at = when()  # at run time: a moment taken at collection would drift by the time the test runs
    response = await _webhook(api, json.dumps(_event(occurred_at=occurred_at.isoformat())).encode())
    assert _fields(response) == ["occurred_at"]
    assert api.app.state.orders.events == []


def test_the_clock_skew_is_allowed_both_ways():
    now = datetime.now(UTC)
    assert occurred_at_error(now + EVENT_CLOCK_SKEW, now, now) is None
    assert occurred_at_error(now - EVENT_CLOCK_SKEW, now, now) is None
    assert occurred_at_error(now + EVENT_CLOCK_SKEW + timedelta(seconds=1), now, now)
    assert occurred_at_error(now - EVENT_CLOCK_SKEW - timedelta(seconds=1), now, now)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'"tracking": "T\\ud800"', "tracking"),  # an escaped unpaired surrogate
        (b'"tracking": "T\xed\xa0\x80"', "tracking"),  # the same surrogate as raw (invalid UTF-8) bytes
        (b'"tracking": "T\\u0000"', "tracking"),
        (b'"event_id": "e\\n1"', "event_id"),
        (b'"surprise": 1', "surprise"),
    ],
)
async def test_unstorable_text_in_an_event_is_422_naming_the_field(api, raw, field):
    body = json.dumps({k: v for k, v in _event().items() if not raw.startswith(f'"{k}"'.encode())}).encode()
    body = body[:-1] + b", " + raw + b"}"
    assert field in _fields(await _webhook(api, body))


@pytest.mark.parametrize("body", [b"[" * 50_000, b"{not json", b"\xff\xfe"])
async def test_a_body_that_is_no_json_is_422(api, body):
    assert _fields(await _webhook(api, body)) == [""]  # the body as a whole


async def test_an_event_for_a_finished_order_is_ignored_and_an_unknown_order_is_404(api):
    finished = await _webhook(api, json.dumps(_event()).encode())
    assert finished.status_code == 202 and finished.json() == {"event_id": "evt-1", "status": "ignored"}
    assert (await _webhook(api, json.dumps(_event(order_id="nope")).encode())).status_code == 404


async def test_an_oversized_event_is_413(api):
    response = await _webhook(api, json.dumps(_event(tracking="x" * 70_000)).encode())
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


# ---- the Idempotency-Key header is documented on every authenticated POST ------------------------


async def test_every_authenticated_post_documents_the_idempotency_key_and_the_webhooks_do_not(api):
    spec = (await api.get("/openapi.json")).json()
    posts = {
        path: op for path, item in spec["paths"].items() for method, op in item.items() if method == "post" and path.startswith("/v1/")
    }
    assert {
        "/v1/orders",
        "/v1/orders/{order_id}/confirm-receipt",
        "/v1/orders/{order_id}/cancel",
        "/v1/orders/{order_id}/retry",
        "/v1/orders/{order_id}/disputes",
        "/v1/orders/{order_id}/disputes/response",
        "/v1/orders/{order_id}/disputes/resolution",
        "/v1/orders/{order_id}/claims",
        "/v1/sellers/{seller_id}/payouts",
        "/v1/sellers/{seller_id}/chargebacks/{dispute_id}/evidence",
        "/v1/webhook-endpoints",
        "/v1/webhook-events/{event_id}/replay",
        "/v1/webhooks/fulfillment",
        "/v1/webhooks/payments",
        "/v1/webhooks/stripe",
    } == set(posts)
    for path, op in posts.items():
        keys = [p for p in op.get("parameters", []) if p["name"] == "Idempotency-Key"]
        assert len(keys) == (0 if path.startswith("/v1/webhooks/") else 1), path  # the providers' own webhooks
        assert all(p["in"] == "header" and not p["required"] for p in keys)


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\tkey", "ünï"])
async def test_a_malformed_idempotency_key_is_422(api, key):
    response = await api.post("/v1/orders/done-1/confirm-receipt", headers={**_as("buyer", "buyer_a"), "Idempotency-Key": key.encode()})
    assert _fields(response) == ["Idempotency-Key"]
    assert api.app.state.orders.updates == []


async def test_readiness_says_what_is_down_without_library_internals(api):
    response = await api.get("/readyz")  # neither PostgreSQL nor Temporal exists here
    assert response.status_code == 503
    assert response.json()["detail"] == "not ready: postgresql unreachable, temporal unreachable"
    assert "Error" not in response.text


async def test_with_a_secret_of_its_own_the_payments_webhook_refuses_the_fulfillment_networks(orders):
    payments_secret = "p" * 64
    settings = Settings(
        settlement_jwt_secret=JWT_SECRET, settlement_webhook_secret=WEBHOOK_SECRET, settlement_payments_webhook_secret=payments_secret
    )
    app = create_app(settings)
    app.state.settings, app.state.orders, app.state.pool = settings, FakeOrders(), None
    body = json.dumps(
        {
            "event_id": "e",
            "type": "charge.dispute.created",
            "dispute_id": "d",
            "order_id": "nope",
            "amount": 1,
            "currency": "USD",
            "occurred_at": "2026-01-01T00:00:00Z",
        }
    ).encode()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        for secret, status in ((WEBHOOK_SECRET, 401), (payments_secret, 404)):
            headers = {"Content-Type": "application/json", "X-Signature": sign(body, secret, int(time.time()))}
            assert (await client.post("/v1/webhooks/payments", content=body, headers=headers)).status_code == status, secret
    fulfillment = {"Content-Type": "application/json", "X-Signature": sign(body, payments_secret, int(time.time()))}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        assert (await client.post("/v1/webhooks/fulfillment", content=body, headers=fulfillment)).status_code == 401
