"""Which provider answers are a definite refusal and which leave the outcome unknown (asked again under the same
key, after the provider's Retry-After), and how the activities hand that to Temporal."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from activities.provider_errors import classified_provider_errors
from adapters.errors import ProviderRejected, ProviderUnavailable
from adapters.http_client import LONGEST_RETRY_AFTER, post_json, retry_after
from domain import failures


def answering(status: int, headers: dict | None = None, body: dict | None = None) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body if body is not None else {"detail": f"answered {status}"}, headers=headers)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://provider.test")


@pytest.mark.parametrize("status", [408, 409, 425, 429, 500, 502, 503, 504])
async def test_an_answer_that_does_not_say_what_happened_is_asked_again(status):
    async with answering(status) as client:
        with pytest.raises(ProviderUnavailable) as failed:
            await post_json(client, "/psp/captures", {"idempotency_key": "k"})
    assert f"HTTP {status}" in str(failed.value)


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 422])
async def test_an_answer_that_says_it_did_not_happen_is_a_refusal(status):
    async with answering(status) as client:
        with pytest.raises(ProviderRejected):
            await post_json(client, "/psp/captures", {"idempotency_key": "k"})


async def test_a_transport_failure_is_asked_again_and_success_is_the_body():
    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(broken), base_url="http://provider.test") as client:
        with pytest.raises(ProviderUnavailable):
            await post_json(client, "/psp/captures", {})
    async with answering(200, body={"reference": "cap_1"}) as client:
        assert await post_json(client, "/psp/captures", {}) == {"reference": "cap_1"}


NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value, wait",
    [
        ("7", timedelta(seconds=7)),
        ("0", timedelta(0)),
        ("Fri, 27 Nov 2026 12:00:30 GMT", timedelta(seconds=30)),
        ("Fri, 27 Nov 2026 11:00:00 GMT", timedelta(0)),  # a date gone by: at once
        ("99999999999", LONGEST_RETRY_AFTER),  # a hostile wait is held to the longest
        ("soon", None),
        ("", None),
        ("-5", None),
        ("\u00b2", None),  # a digit to str.isdigit, not to int()
    ],
)
def test_retry_after_is_read_as_seconds_or_a_date(value, wait):
    response = httpx.Response(429, headers={"Retry-After": value.encode("latin-1")} if value else {})
    assert retry_after(response, NOW) == wait


async def test_a_rate_limit_is_retried_after_the_providers_wait():
    async with answering(429, headers={"Retry-After": "12"}) as client:
        with pytest.raises(ApplicationError) as failed:
            async with classified_provider_errors():
                await post_json(client, "/psp/refunds", {})
    assert failed.value.type == failures.PROVIDER_UNAVAILABLE and not failed.value.non_retryable
    assert failed.value.next_retry_delay == timedelta(seconds=12)
    with pytest.raises(ApplicationError) as refused:
        async with classified_provider_errors():
            raise ProviderRejected("HTTP 422: capture refused")
    assert refused.value.type == failures.PROVIDER_REJECTED and refused.value.non_retryable
