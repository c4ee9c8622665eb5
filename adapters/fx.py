"""FX rate sources: the protocol, and the client of the simulated source (a real source has the same shape)."""

from typing import Protocol

import httpx

from adapters.http_client import post_json
from domain.fx import FxQuote
from domain.providers import FxLockRequest


class FxRateSource(Protocol):
    async def lock(self, request: FxLockRequest) -> FxQuote:
        """The quote for the pair, locked once per idempotency key."""
        ...


class SimulatedFxRates:
    def __init__(self, client: httpx.AsyncClient):
        self._client = client

    async def lock(self, request: FxLockRequest) -> FxQuote:
        return FxQuote.model_validate(await post_json(self._client, "/fx/quotes", request.model_dump()))
