"""The Stripe Connect gateway driven through the real Stripe SDK, offline: a fake HTTP client under the SDK records
each request (method, path, headers, form body) and answers in Stripe's wire format."""

import functools
import hmac
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import stripe

from adapters.errors import ProviderRejected, ProviderUnavailable
from adapters.http_client import LONGEST_RETRY_AFTER
from adapters.stripe_payments import StripePaymentGateway, provider_error, stripe_client
from api.stripe_events import DisputeEvent, dispute_event
from domain.chargebacks import ChargebackStatus, EvidenceSubmission
from domain.providers import (
    AuthorizationResult,
    AuthorizeRequest,
    CaptureRequest,
    CreditRequest,
    PayoutRequest,
    ProviderOperation,
    ProviderOutcome,
    ProviderRecord,
    ProviderRecordQuery,
    ProviderReference,
    RefundRequest,
    VoidRequest,
)

CREATED = 1_795_000_000  # 2026-11-18, in Stripe's whole seconds


@dataclass
class Sent:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str]


@dataclass
class Answer:
    status: int
    body: dict
    headers: dict[str, str]


class FakeStripeHTTP(stripe.HTTPClient):
    """Stripe's API below the SDK: records every request, answers the next canned answer (or raises it)."""

    name = "fake"

    def __init__(self, answers: list[Answer | Exception]):
        super().__init__()
        self.answers = answers
        self.sent: list[Sent] = []

    async def request_async(self, method, url, headers, post_data=None):
        parts = urlsplit(url)
        self.sent.append(Sent(method, parts.path, dict(parse_qsl(parts.query)), dict(headers), dict(parse_qsl(post_data or ""))))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return json.dumps(answer.body).encode(), answer.status, httpx.Headers({"Request-Id": "req_1", **answer.headers})

    async def close_async(self):
        pass


def ok(body: dict) -> Answer:
    return Answer(200, body, {})


def failure(status: int, error_type: str, headers: dict[str, str] | None = None, **error: object) -> Answer:
    return Answer(status, {"error": {"type": error_type, "message": f"{error_type} ({status})", **error}}, headers or {})


def payment_intent(status: str = "requires_capture", **fields) -> dict:
    return {
        "id": "pi_1",
        "object": "payment_intent",
        "amount": 2500,
        "amount_received": 0,
        "currency": "eur",
        "status": status,
        "created": CREATED,
        "metadata": {"order_id": "order-1"},
        "transfer_group": "order-1",
        "latest_charge": "ch_1",
        "last_payment_error": None,
        **fields,
    }


def refund(**fields) -> dict:
    return {
        "id": "re_1",
        "object": "refund",
        "amount": 700,
        "currency": "eur",
        "status": "succeeded",
        "payment_intent": "pi_1",
        "created": CREATED,
        "metadata": {"order_id": "order-1"},
        **fields,
    }


def transfer(**fields) -> dict:
    return {
        "id": "tr_1",
        "object": "transfer",
        "amount": 2000,
        "currency": "eur",
        "destination": "acct_seller1",
        "transfer_group": "order-1",
        "created": CREATED,
        "metadata": {"order_id": "order-1", "seller_id": "seller-1"},
        **fields,
    }


def page(path: str, items: list[dict], has_more: bool = False) -> Answer:
    return ok({"object": "list", "url": path, "has_more": has_more, "data": items})


async def connected_account(seller_id: str) -> str | None:
    return {"seller-1": "acct_seller1"}.get(seller_id)


def gateway(*answers: Answer | Exception) -> tuple[StripePaymentGateway, FakeStripeHTTP]:
    http = FakeStripeHTTP(list(answers))
    return StripePaymentGateway(stripe_client("sk_test_123", http), connected_account), http


AUTHORIZE = AuthorizeRequest(
    idempotency_key="order-1:authorize", order_id="order-1", amount=2500, currency="EUR", payment_method="pm_card_visa"
)
CAPTURE = CaptureRequest(idempotency_key="order-1:capture", authorization_id="pi_1", amount=2000, currency="EUR")
PAYOUT = PayoutRequest(idempotency_key="order-1:payout", order_id="order-1", seller_id="seller-1", amount=2000, currency="EUR")


async def test_an_approved_authorization_is_a_manual_capture_payment_intent_of_the_order():
    payments, http = gateway(ok(payment_intent("requires_capture")))
    assert await payments.authorize(AUTHORIZE) == AuthorizationResult(approved=True, authorization_id="pi_1")
    [sent] = http.sent
    assert (sent.method, sent.path) == ("post", "/v1/payment_intents")
    assert sent.form == {
        "amount": "2500",
        "currency": "eur",
        "payment_method": "pm_card_visa",
        "payment_method_types[0]": "card",
        "confirm": "true",
        "capture_method": "manual",
        "transfer_group": "order-1",
        "metadata[order_id]": "order-1",
    }
    assert sent.headers["Idempotency-Key"] == "order-1:authorize"
    assert sent.headers["Authorization"] == "Bearer sk_test_123"
    assert "Stripe-Account" not in sent.headers


@pytest.mark.parametrize(
    "error, decline_code",
    [
        ({"code": "card_declined", "decline_code": "insufficient_funds"}, "insufficient_funds"),
        ({"code": "expired_card"}, "expired_card"),
    ],
)
async def test_a_card_error_is_a_declined_authorization(error, decline_code):
    payments, _ = gateway(failure(402, "card_error", **error, payment_intent=payment_intent("requires_payment_method")))
    assert await payments.authorize(AUTHORIZE) == AuthorizationResult(approved=False, decline_code=decline_code)


async def test_a_payment_intent_that_wants_more_than_the_card_is_declined_with_its_status():
    payments, _ = gateway(ok(payment_intent("requires_action")))
    assert await payments.authorize(AUTHORIZE) == AuthorizationResult(approved=False, decline_code="requires_action")


async def test_capture_captures_the_payment_intent_and_refers_to_it():
    payments, http = gateway(ok(payment_intent("succeeded", amount_received=2000)))
    assert await payments.capture(CAPTURE) == ProviderReference(id="pi_1")
    [sent] = http.sent
    assert (sent.method, sent.path, sent.form) == ("post", "/v1/payment_intents/pi_1/capture", {"amount_to_capture": "2000"})
    assert sent.headers["Idempotency-Key"] == "order-1:capture"


UNEXPECTED_STATE = failure(400, "invalid_request_error", code="payment_intent_unexpected_state")


async def test_a_capture_already_made_is_a_capture_when_its_key_was_forgotten():
    payments, http = gateway(UNEXPECTED_STATE, ok(payment_intent("succeeded", amount_received=2000)))
    assert await payments.capture(CAPTURE) == ProviderReference(id="pi_1")
    assert [(sent.method, sent.path) for sent in http.sent] == [
        ("post", "/v1/payment_intents/pi_1/capture"),
        ("get", "/v1/payment_intents/pi_1"),
    ]


@pytest.mark.parametrize("found", [payment_intent("canceled"), payment_intent("succeeded", amount_received=1500)])
async def test_a_capture_in_an_unexpected_state_is_refused_unless_this_amount_was_captured(found):
    payments, _ = gateway(UNEXPECTED_STATE, ok(found))
    with pytest.raises(ProviderRejected):
        await payments.capture(CAPTURE)


async def test_void_cancels_the_payment_intent():
    payments, http = gateway(ok(payment_intent("canceled")))
    assert await payments.void(VoidRequest(idempotency_key="order-1:void", authorization_id="pi_1")) == ProviderReference(id="pi_1")
    [sent] = http.sent
    assert (sent.method, sent.path, sent.form) == ("post", "/v1/payment_intents/pi_1/cancel", {})
    assert sent.headers["Idempotency-Key"] == "order-1:void"


REFUND = RefundRequest(idempotency_key="order-1:refund:1", order_id="order-1", capture_id="pi_1", amount=700, currency="EUR")
NOTHING_MADE = page("/v1/refunds", [])


async def test_a_refund_is_made_against_the_captured_payment_intent():
    payments, http = gateway(NOTHING_MADE, ok(refund()))
    assert await payments.refund(REFUND) == ProviderReference(id="re_1")
    looked, sent = http.sent
    assert (looked.method, looked.path, looked.query) == ("get", "/v1/refunds", {"payment_intent": "pi_1", "limit": "100"})
    assert (sent.method, sent.path) == ("post", "/v1/refunds")
    assert sent.form == {
        "payment_intent": "pi_1",
        "amount": "700",
        "metadata[order_id]": "order-1",
        "metadata[idempotency_key]": "order-1:refund:1",
    }
    assert sent.headers["Idempotency-Key"] == "order-1:refund:1"


async def test_a_refund_made_by_an_earlier_attempt_is_not_made_again_after_stripe_forgot_its_key():
    other = refund(id="re_0", metadata={"order_id": "order-1", "idempotency_key": "order-1:claim:c1"})
    mine = refund(id="re_1", metadata={"order_id": "order-1", "idempotency_key": "order-1:refund:1"})
    payments, http = gateway(page("/v1/refunds", [other, mine]))

    assert await payments.refund(REFUND) == ProviderReference(id="re_1")
    assert [(sent.method, sent.path) for sent in http.sent] == [("get", "/v1/refunds")]


def connected_payout(**fields) -> dict:
    return {"id": "po_1", "object": "payout", "amount": 2000, "currency": "eur", "created": CREATED, "metadata": {}, **fields}


async def test_a_payout_transfers_to_the_connected_account_then_pays_out_from_it():
    payments, http = gateway(page("/v1/transfers", []), ok(transfer()), page("/v1/payouts", []), ok(connected_payout()))
    assert await payments.payout(PAYOUT) == ProviderReference(id="po_1")
    transfers, moved, payouts, paid_out = http.sent
    assert (transfers.method, transfers.path, transfers.query) == ("get", "/v1/transfers", {"transfer_group": "order-1", "limit": "100"})
    assert (moved.method, moved.path) == ("post", "/v1/transfers")
    assert moved.form == {
        "amount": "2000",
        "currency": "eur",
        "destination": "acct_seller1",
        "transfer_group": "order-1",
        "metadata[order_id]": "order-1",
        "metadata[seller_id]": "seller-1",
        "metadata[idempotency_key]": "order-1:payout",
    }
    assert moved.headers["Idempotency-Key"] == "order-1:payout"
    assert "Stripe-Account" not in moved.headers
    assert (payouts.method, payouts.path, payouts.query) == ("get", "/v1/payouts", {"created[gte]": str(CREATED), "limit": "100"})
    assert payouts.headers["Stripe-Account"] == "acct_seller1"
    assert (paid_out.method, paid_out.path) == ("post", "/v1/payouts")
    assert paid_out.form == {
        "amount": "2000",
        "currency": "eur",
        "metadata[order_id]": "order-1",
        "metadata[seller_id]": "seller-1",
        "metadata[idempotency_key]": "order-1:payout:payout",
    }
    assert paid_out.headers["Stripe-Account"] == "acct_seller1"
    assert paid_out.headers["Idempotency-Key"] == "order-1:payout:payout"


async def test_a_payout_retried_after_stripe_forgot_its_keys_moves_nothing_twice():
    made = transfer(metadata={"order_id": "order-1", "seller_id": "seller-1", "idempotency_key": "order-1:payout"})
    paid = connected_payout(metadata={"idempotency_key": "order-1:payout:payout"})
    payments, http = gateway(
        page("/v1/transfers", [transfer(id="tr_0", metadata={})], has_more=True), page("/v1/transfers", [made]), page("/v1/payouts", [paid])
    )

    assert await payments.payout(PAYOUT) == ProviderReference(id="po_1")
    assert [(sent.method, sent.path) for sent in http.sent] == [("get", "/v1/transfers"), ("get", "/v1/transfers"), ("get", "/v1/payouts")]


async def test_a_payout_whose_transfer_was_made_before_only_pays_out():
    made = transfer(metadata={"order_id": "order-1", "seller_id": "seller-1", "idempotency_key": "order-1:payout"})
    payments, http = gateway(page("/v1/transfers", [made]), page("/v1/payouts", []), ok(connected_payout()))

    assert await payments.payout(PAYOUT) == ProviderReference(id="po_1")
    assert [(sent.method, sent.path) for sent in http.sent] == [("get", "/v1/transfers"), ("get", "/v1/payouts"), ("post", "/v1/payouts")]


async def test_a_seller_without_a_connected_account_is_refused_before_stripe_is_asked():
    payments, http = gateway()
    with pytest.raises(ProviderRejected, match="seller-2"):
        await payments.payout(PAYOUT.model_copy(update={"seller_id": "seller-2"}))
    assert http.sent == []


async def test_a_payout_refused_after_its_transfer_is_not_a_rejection():
    payments, http = gateway(
        page("/v1/transfers", []),
        ok(transfer()),
        page("/v1/payouts", []),
        failure(400, "invalid_request_error", code="balance_insufficient"),
    )
    with pytest.raises(ProviderUnavailable, match="transfer tr_1 to acct_seller1 was made"):
        await payments.payout(PAYOUT)
    assert len(http.sent) == 4


async def test_a_lookup_that_fails_is_asked_again_and_nothing_is_made():
    payments, http = gateway(failure(500, "api_error"))
    with pytest.raises(ProviderUnavailable, match="listing refunds"):
        await payments.refund(REFUND)
    assert [(sent.method, sent.path) for sent in http.sent] == [("get", "/v1/refunds")]


async def test_a_credit_to_a_card_is_refused_for_certain():
    payments, http = gateway()
    request = CreditRequest(idempotency_key="order-1:credit", order_id="order-1", payment_method="pm_card_visa", amount=500, currency="EUR")
    with pytest.raises(ProviderRejected, match="cannot push a credit"):
        await payments.credit(request)
    assert http.sent == []


SUBMISSION = EvidenceSubmission(
    idempotency_key="evidence:dp_1:abc",
    dispute_id="dp_1",
    order_id="order-1",
    explanation="Delivered and signed for.",
    documents=["invoice-17.pdf", "photo of the parcel"],
    tracking_number="TRACK-9",
    delivered_at=datetime(2026, 11, 20, 15, 30, tzinfo=UTC),
)


async def test_evidence_is_submitted_on_the_dispute():
    payments, http = gateway(ok({"id": "dp_1", "object": "dispute", "status": "under_review"}))
    assert await payments.submit_dispute_evidence(SUBMISSION) == ProviderReference(id="dp_1")
    [sent] = http.sent
    assert (sent.method, sent.path) == ("post", "/v1/disputes/dp_1")
    assert sent.form == {
        "evidence[uncategorized_text]": "Delivered and signed for.\n\nDocuments the seller keeps:\n- invoice-17.pdf\n- photo of the parcel",
        "evidence[shipping_tracking_number]": "TRACK-9",
        "evidence[shipping_date]": "2026-11-20",
        "submit": "true",
    }
    assert sent.headers["Idempotency-Key"] == "evidence:dp_1:abc"


async def test_evidence_without_delivery_proof_sends_the_explanation_alone():
    payments, http = gateway(ok({"id": "dp_1", "object": "dispute", "status": "under_review"}))
    bare = SUBMISSION.model_copy(update={"documents": [], "tracking_number": None, "delivered_at": None})
    await payments.submit_dispute_evidence(bare)
    assert http.sent[0].form == {"evidence[uncategorized_text]": "Delivered and signed for.", "submit": "true"}


async def test_evidence_for_a_closed_dispute_is_refused():
    payments, _ = gateway(failure(400, "invalid_request_error", message="This dispute is already closed"))
    with pytest.raises(ProviderRejected, match="already closed"):
        await payments.submit_dispute_evidence(SUBMISSION)


@pytest.mark.parametrize(
    "answer, sdk_error, engine_error",
    [
        (failure(402, "card_error", code="card_declined"), stripe.CardError, ProviderRejected),
        (failure(400, "invalid_request_error", code="amount_too_large"), stripe.InvalidRequestError, ProviderRejected),
        (failure(404, "invalid_request_error", code="resource_missing"), stripe.InvalidRequestError, ProviderRejected),
        (failure(400, "idempotency_error"), stripe.IdempotencyError, ProviderRejected),
        (failure(401, "invalid_request_error"), stripe.AuthenticationError, ProviderUnavailable),  # the key, not the payment
        (failure(403, "invalid_request_error"), stripe.PermissionError, ProviderUnavailable),
        (failure(409, "idempotency_error"), stripe.APIError, ProviderUnavailable),
        (failure(409, "invalid_request_error", code="lock_timeout"), stripe.APIError, ProviderUnavailable),
        (failure(429, "invalid_request_error", code="rate_limit"), stripe.RateLimitError, ProviderUnavailable),
        (failure(500, "api_error"), stripe.APIError, ProviderUnavailable),
        (failure(503, "api_error"), stripe.APIError, ProviderUnavailable),
        (stripe.APIConnectionError("connection reset"), stripe.APIConnectionError, ProviderUnavailable),
    ],
)
async def test_only_an_answer_that_says_nothing_happened_is_a_rejection(answer, sdk_error, engine_error):
    payments, http = gateway(answer)
    with pytest.raises(engine_error) as failed:
        await payments.capture(CAPTURE)
    assert type(failed.value.__cause__) is sdk_error
    assert len(http.sent) == 1  # the SDK does not retry: Temporal does, under the same key


def test_a_conflict_with_a_request_in_progress_is_asked_again_whatever_error_carries_it():
    in_progress = stripe.IdempotencyError("another request with this key is in progress", http_status=409)
    assert isinstance(provider_error(in_progress, "capture"), ProviderUnavailable)
    assert isinstance(provider_error(stripe.IdempotencyError("key reused", http_status=400), "capture"), ProviderRejected)


@pytest.mark.parametrize(
    "retry_after_header, wait",
    [("30", timedelta(seconds=30)), ("99999999", LONGEST_RETRY_AFTER), (None, None)],
)
async def test_a_rate_limit_is_retried_after_stripes_wait(retry_after_header, wait):
    headers = {"Retry-After": retry_after_header} if retry_after_header else {}
    payments, _ = gateway(failure(429, "invalid_request_error", headers, code="rate_limit"))
    with pytest.raises(ProviderUnavailable) as failed:
        await payments.refund(RefundRequest(idempotency_key="k", order_id="order-1", capture_id="pi_1", amount=1, currency="EUR"))
    assert failed.value.retry_after == wait


async def test_a_timeout_of_the_real_httpx_client_is_asked_again():
    tried: list[httpx.Request] = []

    def timing_out(request: httpx.Request) -> httpx.Response:
        tried.append(request)
        raise httpx.ReadTimeout("no answer", request=request)

    class TimingOutHttpx:  # stands for the httpx module HTTPXClient builds its client with
        AsyncClient = functools.partial(httpx.AsyncClient, transport=httpx.MockTransport(timing_out))

    payments = StripePaymentGateway(stripe_client("sk_test_123", stripe.HTTPXClient(_lib=TimingOutHttpx)), connected_account)
    with pytest.raises(ProviderUnavailable, match="APIConnectionError"):
        await payments.capture(CAPTURE)
    [request] = tried
    assert str(request.url) == "https://api.stripe.com/v1/payment_intents/pi_1/capture"
    assert request.headers["Idempotency-Key"] == "order-1:capture"


async def test_the_client_speaks_through_stripes_httpx_client_by_default(monkeypatch):
    http = FakeStripeHTTP([ok(payment_intent("canceled"))])
    monkeypatch.setattr(stripe, "HTTPXClient", lambda: http)
    payments = StripePaymentGateway(stripe_client("sk_test_123"), connected_account)
    await payments.void(VoidRequest(idempotency_key="order-1:void", authorization_id="pi_1"))
    assert [sent.path for sent in http.sent] == ["/v1/payment_intents/pi_1/cancel"]


async def test_a_retried_call_carries_the_same_idempotency_key():
    payments, http = gateway(failure(500, "api_error"), ok(payment_intent("succeeded", amount_received=2000)))
    with pytest.raises(ProviderUnavailable):
        await payments.capture(CAPTURE)
    assert await payments.capture(CAPTURE) == ProviderReference(id="pi_1")
    assert [sent.headers["Idempotency-Key"] for sent in http.sent] == ["order-1:capture", "order-1:capture"]


def at(seconds_after_created: int) -> datetime:
    return datetime.fromtimestamp(CREATED + seconds_after_created, UTC)


def record(operation: ProviderOperation, reference: str | None, amount: int, seconds: int, **fields) -> ProviderRecord:
    values = {"order_id": "order-1", "outcome": ProviderOutcome.SUCCEEDED, "currency": "EUR", **fields}
    return ProviderRecord(id=reference, idempotency_key="", operation=operation, amount=amount, created_at=at(seconds), **values)


async def test_records_list_every_page_of_payment_intents_refunds_and_transfers_oldest_first():
    # Stripe lists the newest first; the payment intents take two pages.
    payments, http = gateway(
        page(
            "/v1/payment_intents",
            [
                payment_intent("requires_action", id="pi_5", created=CREATED + 50),
                payment_intent("requires_capture", id="pi_4", created=CREATED + 40, metadata={}, transfer_group="order-4"),
            ],
            has_more=True,
        ),
        page(
            "/v1/payment_intents",
            [
                payment_intent("requires_payment_method", id="pi_3", created=CREATED + 30, last_payment_error={"code": "card_declined"}),
                payment_intent("canceled", id="pi_2", created=CREATED + 20, metadata={"order_id": "order-2"}),
                payment_intent("succeeded", id="pi_1", amount_received=2000),
            ],
        ),
        page("/v1/refunds", [refund(id="re_2", status="failed", created=CREATED + 45), refund(created=CREATED + 10)]),
        page("/v1/transfers", [transfer(created=CREATED + 15)]),
    )
    until = datetime.fromtimestamp(CREATED + 60.4, UTC)
    records = await payments.records(ProviderRecordQuery(created_until=until))

    first_page, second_page, refunds, transfers = http.sent
    assert (first_page.method, first_page.path, first_page.query) == (
        "get",
        "/v1/payment_intents",
        {"limit": "100", "created[lt]": str(CREATED + 61)},
    )
    assert (second_page.path, second_page.query) == (
        "/v1/payment_intents",
        {"limit": "100", "created[lt]": str(CREATED + 61), "starting_after": "pi_4"},
    )
    assert (refunds.path, refunds.query) == ("/v1/refunds", first_page.query)
    assert (transfers.path, transfers.query) == ("/v1/transfers", first_page.query)
    assert records == [
        record(ProviderOperation.AUTHORIZE, "pi_1", 2500, 0),
        record(ProviderOperation.CAPTURE, "pi_1", 2000, 0),
        record(ProviderOperation.REFUND, "re_1", 700, 10),
        record(ProviderOperation.PAYOUT, "tr_1", 2000, 15),
        record(ProviderOperation.AUTHORIZE, "pi_2", 2500, 20, order_id="order-2"),
        record(ProviderOperation.VOID, "pi_2", 2500, 20, order_id="order-2"),
        record(ProviderOperation.AUTHORIZE, None, 2500, 30, outcome=ProviderOutcome.DECLINED),
        record(ProviderOperation.AUTHORIZE, "pi_4", 2500, 40, order_id="order-4"),
        record(ProviderOperation.REFUND, "re_2", 700, 45, outcome=ProviderOutcome.DECLINED),
    ]


async def test_records_of_one_order_and_period():
    payments, http = gateway(
        page("/v1/payment_intents", [payment_intent("requires_capture", id="pi_2", metadata={"order_id": "order-2"}), payment_intent()]),
        page("/v1/refunds", []),
        page("/v1/transfers", [transfer(metadata={}, transfer_group="order-2")]),
    )
    query = ProviderRecordQuery(order_id="order-2", created_from=datetime.fromtimestamp(CREATED - 0.5, UTC))
    records = await payments.records(query)
    assert http.sent[0].query == {"limit": "100", "created[gte]": str(CREATED - 1)}
    assert records == [
        record(ProviderOperation.AUTHORIZE, "pi_2", 2500, 0, order_id="order-2"),
        record(ProviderOperation.PAYOUT, "tr_1", 2000, 0, order_id="order-2"),
    ]


async def test_a_listing_that_fails_on_a_later_page_is_asked_again():
    payments, _ = gateway(page("/v1/payment_intents", [payment_intent()], has_more=True), failure(503, "api_error"))
    with pytest.raises(ProviderUnavailable, match="listing payment intents"):
        await payments.records(ProviderRecordQuery())


SECRET = "whsec_test"


def dispute_payload(event_type: str, status: str, event_id: str = "evt_1") -> bytes:
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "amount": 2500,
        "currency": "eur",
        "status": status,
        "payment_intent": "pi_1",
        "charge": "ch_1",
    }
    event = {"id": event_id, "object": "event", "type": event_type, "created": CREATED, "data": {"object": dispute}}
    return json.dumps(event).encode()


def signed(payload: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, sha256).hexdigest()
    return f"t={timestamp},v1={signature}"


@pytest.mark.parametrize(
    "event_type, dispute_status, status",
    [
        ("charge.dispute.created", "needs_response", ChargebackStatus.OPENED),
        ("charge.dispute.funds_withdrawn", "needs_response", ChargebackStatus.OPENED),
        ("charge.dispute.closed", "won", ChargebackStatus.WON),
        ("charge.dispute.funds_reinstated", "won", ChargebackStatus.WON),
        ("charge.dispute.closed", "lost", ChargebackStatus.LOST),
    ],
)
def test_a_signed_dispute_webhook_is_a_chargeback_event(event_type, dispute_status, status):
    payload = dispute_payload(event_type, dispute_status)
    assert dispute_event(payload, signed(payload), SECRET) == DisputeEvent(
        event_id="evt_1",
        dispute_id="dp_1",
        payment_intent="pi_1",
        amount=2500,
        currency="EUR",
        status=status,
        occurred_at=at(0),
    )


@pytest.mark.parametrize(
    "event_type, dispute_status",
    [
        ("charge.refunded", "succeeded"),
        ("charge.dispute.updated", "under_review"),
        ("charge.dispute.created", "warning_needs_response"),  # an inquiry: no money taken
        ("charge.dispute.closed", "warning_closed"),
    ],
)
def test_other_webhooks_tell_of_no_chargeback(event_type, dispute_status):
    payload = dispute_payload(event_type, dispute_status)
    assert dispute_event(payload, signed(payload), SECRET) is None


@pytest.mark.parametrize(
    "signature",
    [
        signed(dispute_payload("charge.dispute.created", "needs_response"), secret="whsec_other"),
        signed(dispute_payload("charge.dispute.created", "needs_response", event_id="evt_2")),  # another body's
        signed(dispute_payload("charge.dispute.created", "needs_response"), timestamp=int(time.time()) - 3600),  # too old
        "t=1,v0=abc",
    ],
)
def test_a_webhook_with_a_bad_signature_is_refused(signature):
    with pytest.raises(stripe.SignatureVerificationError):
        dispute_event(dispute_payload("charge.dispute.created", "needs_response"), signature, SECRET)
