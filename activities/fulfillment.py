"""Fulfillment-network activities."""

from temporalio import activity

from activities.provider_errors import classified_provider_errors
from adapters.fulfillment import FulfillmentNetwork
from domain import activity_names as act
from domain.providers import CancelFulfillmentRequest, CancelFulfillmentResult, FulfillmentOrderRequest, ProviderReference, ReturnRequest


class FulfillmentActivities:
    def __init__(self, network: FulfillmentNetwork):
        self._network = network

    @activity.defn(name=act.CREATE_FULFILLMENT_ORDER)
    async def create_order(self, request: FulfillmentOrderRequest) -> ProviderReference:
        async with classified_provider_errors():
            return await self._network.create_order(request)

    @activity.defn(name=act.CANCEL_FULFILLMENT_ORDER)
    async def cancel_order(self, request: CancelFulfillmentRequest) -> CancelFulfillmentResult:
        async with classified_provider_errors():
            return await self._network.cancel_order(request)

    @activity.defn(name=act.REQUEST_RETURN)
    async def request_return(self, request: ReturnRequest) -> ProviderReference:
        async with classified_provider_errors():
            return await self._network.request_return(request)
