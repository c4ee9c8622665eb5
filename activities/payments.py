"""Payment activities: one thin function per provider call, idempotent by the key the workflow derives."""

from temporalio import activity

from activities.provider_errors import classified_provider_errors
from adapters.payments import PaymentGateway
from domain import activity_names as act
from domain.providers import (
    AuthorizationResult,
    AuthorizeRequest,
    CaptureRequest,
    CreditRequest,
    PayoutRequest,
    ProviderReference,
    RefundRequest,
    VoidRequest,
)


class PaymentActivities:
    def __init__(self, gateway: PaymentGateway):
        self._gateway = gateway

    @activity.defn(name=act.AUTHORIZE_PAYMENT)
    async def authorize(self, request: AuthorizeRequest) -> AuthorizationResult:
        async with classified_provider_errors():
            return await self._gateway.authorize(request)

    @activity.defn(name=act.CAPTURE_PAYMENT)
    async def capture(self, request: CaptureRequest) -> ProviderReference:
        async with classified_provider_errors():
            return await self._gateway.capture(request)

    @activity.defn(name=act.VOID_AUTHORIZATION)
    async def void(self, request: VoidRequest) -> ProviderReference:
        async with classified_provider_errors():
            return await self._gateway.void(request)

    @activity.defn(name=act.PAYOUT_SELLER)
    async def payout(self, request: PayoutRequest) -> ProviderReference:
        async with classified_provider_errors():
            return await self._gateway.payout(request)

    @activity.defn(name=act.REFUND_PAYMENT)
    async def refund(self, request: RefundRequest) -> ProviderReference:
        async with classified_provider_errors():
            return await self._gateway.refund(request)

    @activity.defn(name=act.CREDIT_BUYER)
    async def credit(self, request: CreditRequest) -> ProviderReference:
        async with classified_provider_errors():
            return await self._gateway.credit(request)
