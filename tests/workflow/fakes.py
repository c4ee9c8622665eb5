"""Fake activities for workflow tests: same names and types as the real ones, recording every call."""

from dataclasses import dataclass, field

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain import activity_names as act
from domain.ledger import EntryRequest
from domain.order_state import OrderState
from domain.providers import (
    AuthorizationResult,
    AuthorizeRequest,
    CancelFulfillmentRequest,
    CancelFulfillmentResult,
    CaptureRequest,
    FulfillmentOrderRequest,
    PayoutRequest,
    ProviderReference,
    VoidRequest,
)


@dataclass
class FakeProviders:
    """Scripted outside world. Set the *_fails flags to make a step fail for good."""

    capture_fails: bool = False
    payout_fails: bool = False
    calls: list[tuple[str, str]] = field(default_factory=list)
    entries: dict[str, EntryRequest] = field(default_factory=dict)
    recorded: list[OrderState] = field(default_factory=list)

    def activities(self) -> list:
        @activity.defn(name=act.AUTHORIZE_PAYMENT)
        async def authorize(request: AuthorizeRequest) -> AuthorizationResult:
            self.calls.append(("authorize", request.idempotency_key))
            if request.payment_method == "pm_card_declined":
                return AuthorizationResult(approved=False, decline_code="card_declined")
            return AuthorizationResult(approved=True, authorization_id=f"auth_{request.order_id}")

        @activity.defn(name=act.CAPTURE_PAYMENT)
        async def capture(request: CaptureRequest) -> ProviderReference:
            self.calls.append(("capture", request.idempotency_key))
            if self.capture_fails:
                raise ApplicationError("capture refused", type="ProviderRejected", non_retryable=True)
            return ProviderReference(id=f"cap_{request.authorization_id}")

        @activity.defn(name=act.VOID_AUTHORIZATION)
        async def void(request: VoidRequest) -> ProviderReference:
            self.calls.append(("void", request.idempotency_key))
            return ProviderReference(id=f"void_{request.authorization_id}")

        @activity.defn(name=act.PAYOUT_SELLER)
        async def payout(request: PayoutRequest) -> ProviderReference:
            self.calls.append(("payout", request.idempotency_key))
            if self.payout_fails:
                raise ApplicationError("payout account rejects payouts", type="ProviderRejected", non_retryable=True)
            return ProviderReference(id=f"po_{request.order_id}")

        @activity.defn(name=act.CREATE_FULFILLMENT_ORDER)
        async def create_fulfillment(request: FulfillmentOrderRequest) -> ProviderReference:
            self.calls.append(("create_fulfillment", request.idempotency_key))
            return ProviderReference(id=f"fo_{request.order_id}")

        @activity.defn(name=act.CANCEL_FULFILLMENT_ORDER)
        async def cancel_fulfillment(request: CancelFulfillmentRequest) -> CancelFulfillmentResult:
            self.calls.append(("cancel_fulfillment", request.idempotency_key))
            return CancelFulfillmentResult(cancelled=True)

        @activity.defn(name=act.POST_LEDGER_ENTRY)
        async def post_ledger_entry(entry: EntryRequest) -> int:
            self.calls.append(("ledger", entry.idempotency_key))
            self.entries.setdefault(entry.idempotency_key, entry)
            return len(self.entries)

        @activity.defn(name=act.RECORD_ORDER)
        async def record_order(state: OrderState) -> None:
            self.recorded.append(state)

        return [authorize, capture, void, payout, create_fulfillment, cancel_fulfillment, post_ledger_entry, record_order]

    def steps(self, name: str) -> list[str]:
        return [key for step, key in self.calls if step == name]
