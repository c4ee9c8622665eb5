"""Inputs and results of the provider-facing activities (shared by workflows, activities and adapters)."""

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, Field

from domain.order_request import Item
from domain.ship_to import ShipTo


class AuthorizeRequest(BaseModel):
    idempotency_key: str
    order_id: str
    amount: int
    currency: str
    payment_method: str


class AuthorizationResult(BaseModel):
    approved: bool
    authorization_id: str | None = None
    decline_code: str | None = None


class CaptureRequest(BaseModel):
    idempotency_key: str
    authorization_id: str
    amount: int
    currency: str


class VoidRequest(BaseModel):
    idempotency_key: str
    authorization_id: str


class PayoutRequest(BaseModel):
    idempotency_key: str
    order_id: str
    seller_id: str
    amount: int
    currency: str


class ProviderReference(BaseModel):
    """The provider's id for what it did (a capture, a void, a payout)."""

    id: str


class ProviderOperation(StrEnum):
    """What the payment provider did, as its listing names it."""

    AUTHORIZE = "authorize"
    CAPTURE = "capture"
    VOID = "void"
    PAYOUT = "payout"
    REFUND = "refund"
    CREDIT = "credit"


class ProviderOutcome(StrEnum):
    """How an operation the provider recorded ended (a refused request is not recorded at all)."""

    SUCCEEDED = "succeeded"
    DECLINED = "declined"


class ProviderRecord(BaseModel):
    """One operation as the payment provider's own listing reports it (as a real provider lists its charges,
    refunds and transfers): what reconciliation compares the ledger with."""

    id: str | None = Field(description="the provider's reference; none for a declined authorization")
    idempotency_key: str
    operation: ProviderOperation
    order_id: str | None
    outcome: ProviderOutcome
    amount: int | None
    currency: str | None
    created_at: AwareDatetime


class ProviderRecordQuery(BaseModel):
    """Which of the provider's records to list: one order's, those of a period, or (all None) every one."""

    order_id: str | None = None
    created_from: AwareDatetime | None = Field(None, description="inclusive")
    created_until: AwareDatetime | None = Field(None, description="exclusive")


class ProviderListing(BaseModel):
    """The provider's side of a reconciliation: the records it listed as created before `until`, the moment
    at which the ledger's side is cut too (db/invariants.py)."""

    until: AwareDatetime
    records: list[ProviderRecord]


class FulfillmentOrderRequest(BaseModel):
    idempotency_key: str
    order_id: str
    seller_id: str
    items: list[Item]
    ship_to: ShipTo | None = None


class CancelFulfillmentRequest(BaseModel):
    idempotency_key: str
    order_id: str


class CancelFulfillmentResult(BaseModel):
    cancelled: bool
    shipped: bool = Field(False, description="too late: the network had already shipped")
    detail: str = ""


class RefundRequest(BaseModel):
    idempotency_key: str
    order_id: str
    capture_id: str
    amount: int
    currency: str


class CreditRequest(BaseModel):
    """A push credit to the buyer's payment method, independent of the capture."""

    idempotency_key: str
    order_id: str
    payment_method: str
    amount: int
    currency: str


class ReturnRequest(BaseModel):
    idempotency_key: str
    order_id: str


class FxLockRequest(BaseModel):
    idempotency_key: str = ""
    order_id: str
    base: str
    quote: str
