"""Builders for read-model rows used by the database tests."""

from datetime import UTC, datetime, timedelta

from domain.fees import compute_fees
from domain.order_request import Item
from domain.order_state import Amounts, Deadlines, OrderState, TimelineEntry, workflow_id_for
from domain.statuses import OrderStatus

PLACED_AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

PATH = [
    OrderStatus.PAYMENT_PENDING,
    OrderStatus.AWAITING_SHIPMENT,
    OrderStatus.IN_TRANSIT,
    OrderStatus.AWAITING_CONFIRMATION,
    OrderStatus.PAYOUT_PENDING,
    OrderStatus.SETTLED,
]


def order_state(
    order_id: str,
    *,
    seller_id: str = "seller_1",
    buyer_id: str = "buyer_1",
    marketplace: str = "mkt",
    currency: str = "USD",
    steps: int = 1,
    placed_at: datetime = PLACED_AT,
    amounts: Amounts | None = None,
) -> OrderState:
    """An order 2 x 15.00 + 5.00 shipping (total 3500 minor units) whose timeline has taken `steps` steps along PATH."""
    items = [Item(sku="SKU-1", quantity=2, unit_price=1500)]
    total = 3500
    timeline = [TimelineEntry(at=placed_at + timedelta(minutes=i), status=PATH[i], detail=f"step {i}") for i in range(steps)]
    return OrderState(
        order_id=order_id,
        workflow_id=workflow_id_for(order_id),
        buyer_id=buyer_id,
        seller_id=seller_id,
        marketplace=marketplace,
        currency=currency,
        settlement_currency=currency,
        items=items,
        shipping_fee=500,
        status=PATH[steps - 1],
        amounts=amounts or Amounts(total=total),
        fees=compute_fees(total, 2, currency),
        confirmation_window=timedelta(days=7),
        deadlines=Deadlines(ship_by=placed_at + timedelta(days=5), deliver_by=placed_at + timedelta(days=14)),
        placed_at=placed_at,
        timeline=timeline,
    )
