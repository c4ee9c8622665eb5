"""JSON calls to a provider, with its answers sorted into success, rejection and transient failure.

Only an answer that says for certain the operation did not happen is a rejection. A timeout, a 5xx, a 408 (the
provider gave up waiting), a 409 (another request under the same key is still in progress), a 425 or a 429 leaves
the outcome unknown or asks to come back later: the call is made again under the same idempotency key, after the
answer's `Retry-After` when it gives one.
"""

from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

from adapters.errors import ProviderRejected, ProviderUnavailable

NOT_DEFINITE = frozenset({408, 409, 425, 429})
# The longest wait a provider's Retry-After may ask for; a longer one is taken as this.
LONGEST_RETRY_AFTER = timedelta(hours=1)


async def post_json(client: httpx.AsyncClient, path: str, body: dict) -> dict:
    return await _call(path, client.post(path, json=body))


async def get_json(client: httpx.AsyncClient, path: str, params: dict) -> dict:
    return await _call(path, client.get(path, params=params))


async def _call(path: str, request: Awaitable[httpx.Response]) -> dict:
    try:
        response = await request
    except httpx.TransportError as err:
        raise ProviderUnavailable(f"{path}: {type(err).__name__}: {err}") from err
    status = response.status_code
    if outcome_unknown(status):
        raise ProviderUnavailable(f"{path}: HTTP {status}: {_detail(response)}", retry_after=retry_after(response))
    if status >= 400:
        raise ProviderRejected(f"{path}: HTTP {status}: {_detail(response)}")
    return response.json()


def outcome_unknown(status: int) -> bool:
    """Whether an HTTP answer leaves it unknown whether the operation happened (ask again, under the same key)."""
    return status >= 500 or status in NOT_DEFINITE


def retry_after(response: httpx.Response, now: datetime | None = None) -> timedelta | None:
    """The answer's `Retry-After` (seconds, or an HTTP date), within LONGEST_RETRY_AFTER; None when absent or unreadable."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        wait = timedelta(seconds=int(value[:7]))
    else:
        try:
            wait = parsedate_to_datetime(value) - (now or datetime.now(UTC))
        except (TypeError, ValueError):
            return None
    return min(max(wait, timedelta(0)), LONGEST_RETRY_AFTER)


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))[:500]
    except (ValueError, AttributeError):
        return response.text[:200]
