"""The fulfillment network: its protocol, and the implementation that talks to the simulated network."""

from typing import Protocol

import httpx

from adapters.http_client import post_json
from domain.providers import CancelFulfillmentRequest, CancelFulfillmentResult, FulfillmentOrderRequest, ProviderReference, ReturnRequest


class FulfillmentNetwork(Protocol):
    async def create_order(self, request: FulfillmentOrderRequest) -> ProviderReference: ...
    async def cancel_order(self, request: CancelFulfillmentRequest) -> CancelFulfillmentResult: ...
    async def request_return(self, request: ReturnRequest) -> ProviderReference: ...


class SimulatedFulfillmentNetwork:
    def __init__(self, client: httpx.AsyncClient):
        self._client = client

    async def create_order(self, request: FulfillmentOrderRequest) -> ProviderReference:
        body = await post_json(self._client, "/fulfillment/orders", request.model_dump(mode="json"))
        return ProviderReference(id=body["fulfillment_order_id"])

    async def cancel_order(self, request: CancelFulfillmentRequest) -> CancelFulfillmentResult:
        body = await post_json(self._client, f"/fulfillment/orders/{request.order_id}/cancel", request.model_dump())
        return CancelFulfillmentResult(cancelled=body["cancelled"], shipped=body.get("shipped", False), detail=body.get("detail", ""))

    async def request_return(self, request: ReturnRequest) -> ProviderReference:
        body = await post_json(self._client, f"/fulfillment/orders/{request.order_id}/returns", request.model_dump())
        return ProviderReference(id=body["return_id"])
