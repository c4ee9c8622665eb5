"""What the API shows of an order."""

from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from pydantic import AwareDatetime, BaseModel, Field

from api.params import CURSOR_PATTERN

from domain.fees import Fees
from domain.order_request import Item
from domain.after_sales import Dispute, ReturnShipment
from domain.fx import FxQuote
from domain.order_state import Amounts, Attention, Deadlines, OrderState, SettlementAmounts, TimelineEntry
from domain.statuses import OrderStatus


class WorkflowLink(BaseModel):
    id: str
    ui_url: str


class OrderView(BaseModel):
    order_id: str
    status: OrderStatus
    buyer_id: str
    seller_id: str
    marketplace: str
    currency: str
    settlement_currency: str
    items: list[Item]
    shipping_fee: int
    amounts: Amounts
    settlement: SettlementAmounts
    fx: FxQuote | None
    fees: Fees
    deadlines: Deadlines
    confirmation_window: timedelta
    placed_at: AwareDatetime
    shipped_at: AwareDatetime | None
    delivered_at: AwareDatetime | None
    tracking: str | None
    decline_code: str | None
    cancel_reason: str | None
    attention: Attention | None
    dispute: Dispute | None
    return_shipment: ReturnShipment | None
    timeline: list[TimelineEntry]
    workflow: WorkflowLink

    @classmethod
    def of(cls, state: OrderState, ui_url: str, namespace: str) -> "OrderView":
        fields = {name: getattr(state, name) for name in cls.model_fields if name != "workflow"}
        link = f"{ui_url.rstrip('/')}/namespaces/{quote(namespace)}/workflows/{quote(state.workflow_id)}"
        return cls(**fields, workflow=WorkflowLink(id=state.workflow_id, ui_url=link))


class OrderPage(BaseModel):
    orders: list[OrderView]
    next_cursor: Annotated[str, Field(pattern=CURSOR_PATTERN)] | None = Field(description="the `cursor` of the next page; null on the last")
