"""The order workflow's whole state: one pydantic model, exposed by a query and mirrored in the read model."""

from datetime import datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from domain.after_sales import AfterSalesPolicy, Dispute, ReturnShipment
from domain.fees import Fees
from domain.fx import FxQuote
from domain.order_request import Identifier, Item, RetryBudget
from domain.payouts import PayoutTerms
from domain.ship_to import ShipTo
from domain.statuses import FulfillmentEventType, OrderStatus
from domain.text import SingleLine


class Amounts(BaseModel):
    total: int
    authorized: int = 0
    captured: int = 0
    refunded: int = 0
    fees: int = 0
    paid_out: int = 0
    compensated: int = 0
    reimbursed: int = 0


class SettlementAmounts(BaseModel):
    """What the seller receives, in their settlement currency."""

    currency: str
    paid_out: int = 0
    reimbursed: int = 0


class Deadlines(BaseModel):
    ship_by: AwareDatetime
    deliver_by: AwareDatetime
    confirm_by: AwareDatetime | None = None
    seller_response_by: AwareDatetime | None = None
    resolution_by: AwareDatetime | None = None
    return_by: AwareDatetime | None = None


class TimelineEntry(BaseModel):
    at: AwareDatetime
    status: OrderStatus
    detail: str


class Attention(BaseModel):
    step: str
    reason: str
    resume_status: OrderStatus
    cancellable: bool = Field(False, description="the provider refused for certain, so an operator may cancel instead of retrying")


class FulfillmentEvent(BaseModel):
    event_id: SingleLine = Field(min_length=1, max_length=128)
    order_id: Identifier
    type: FulfillmentEventType
    occurred_at: AwareDatetime
    tracking: SingleLine | None = Field(None, max_length=128)
    fulfillment_center: SingleLine | None = Field(None, min_length=1, max_length=32, description="the centre the parcel ships from")


class OrderTerms(BaseModel):
    """What an order is, fixed at placement: carried by the workflow's input, its state and the API's view."""

    order_id: str
    buyer_id: str
    seller_id: str
    marketplace: str
    currency: str
    settlement_currency: str
    items: list[Item]
    shipping_fee: int
    fees: Fees
    confirmation_window: timedelta
    placed_at: AwareDatetime
    payout: PayoutTerms = PayoutTerms()
    ship_to: ShipTo | None = None


class OrderInput(OrderTerms):
    """Everything the workflow needs, resolved by the API at placement (defaults filled in)."""

    payment_method: str
    ship_by: AwareDatetime
    deliver_by: AwareDatetime
    after_sales: AfterSalesPolicy = AfterSalesPolicy()
    provider_retry: RetryBudget = RetryBudget()
    request_fingerprint: str = Field("", description="SHA-256 of the create request, to tell a repeat from a conflict")

    @property
    def total(self) -> int:
        return sum(i.quantity * i.unit_price for i in self.items) + self.shipping_fee


class OrderProgress(OrderTerms):
    """Where an order stands: what the API shows of the workflow's state."""

    status: OrderStatus = OrderStatus.PAYMENT_PENDING
    amounts: Amounts
    settlement: SettlementAmounts
    fx: FxQuote | None = None
    deadlines: Deadlines
    shipped_at: AwareDatetime | None = None
    delivered_at: AwareDatetime | None = None
    tracking: str | None = None
    fulfillment_center: str | None = None
    decline_code: str | None = None
    cancel_reason: str | None = None
    attention: Attention | None = None
    dispute: Dispute | None = None
    return_shipment: ReturnShipment | None = None
    timeline: list[TimelineEntry] = []


class OrderState(OrderProgress):
    """The workflow's whole state: the order's progress and the bookkeeping behind it."""

    workflow_id: str
    authorization_id: str | None = None
    capture_id: str | None = None
    payout_id: str | None = None
    fulfillment_order_id: str | None = None
    network_fault: FulfillmentEvent | None = None
    request_fingerprint: str = ""
    seen_event_ids: list[str] = []
    deferred_events: list[FulfillmentEvent] = Field(
        [], description="fulfillment events kept until the order reaches a status where they apply"
    )
    parcel_progress: int = 0

    @model_validator(mode="before")
    @classmethod
    def _settlement_of_older_documents(cls, data: Any) -> Any:
        """Orders recorded before settlement amounts existed were settled in their own currency."""
        if isinstance(data, dict) and "settlement" not in data:
            amounts = data.get("amounts") or {}
            paid_out = amounts.get("paid_out", 0) if isinstance(amounts, dict) else amounts.paid_out
            data = {**data, "settlement": {"currency": data.get("settlement_currency"), "paid_out": paid_out}}
        return data

    @classmethod
    def initial(cls, order: OrderInput) -> "OrderState":
        return cls(
            **{name: getattr(order, name) for name in OrderTerms.model_fields},
            workflow_id=workflow_id_for(order.order_id),
            amounts=Amounts(total=order.total),
            settlement=SettlementAmounts(currency=order.settlement_currency),
            deadlines=Deadlines(ship_by=order.ship_by, deliver_by=order.deliver_by),
            request_fingerprint=order.request_fingerprint,
            timeline=[TimelineEntry(at=order.placed_at, status=OrderStatus.PAYMENT_PENDING, detail="order placed")],
        )


# An order's workflow id is its id behind this prefix (on the wire: every running order's id).
WORKFLOW_ID_PREFIX = "order-"


def workflow_id_for(order_id: str) -> str:
    return WORKFLOW_ID_PREFIX + order_id


def order_id_of(workflow_id: str) -> str | None:
    """The order a workflow id belongs to; None for a workflow that is not an order's."""
    order_id = workflow_id.removeprefix(WORKFLOW_ID_PREFIX)
    return order_id if order_id and order_id != workflow_id else None


def confirm_by(delivered_at: datetime, window: timedelta) -> datetime:
    return delivered_at + window
