"""Order statuses (contract names: clients and operators filter on them; README: How it works)."""

from enum import StrEnum


class OrderStatus(StrEnum):
    PAYMENT_PENDING = "payment_pending"
    AWAITING_SHIPMENT = "awaiting_shipment"
    IN_TRANSIT = "in_transit"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    DISPUTED = "disputed"
    AWAITING_RETURN = "awaiting_return"
    PAYOUT_PENDING = "payout_pending"
    NEEDS_ATTENTION = "needs_attention"
    SETTLED = "settled"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"
    PAYMENT_FAILED = "payment_failed"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({OrderStatus.SETTLED, OrderStatus.REFUNDED, OrderStatus.CANCELLED, OrderStatus.PAYMENT_FAILED})


class FulfillmentEventType(StrEnum):
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    LOST = "lost"
    DAMAGED = "damaged"
    RETURN_SHIPPED = "return_shipped"
    RETURN_RECEIVED = "return_received"


# Forward progress of the outbound parcel; an event ranked at or below what is known is stale.
PARCEL_PROGRESS = {FulfillmentEventType.SHIPPED: 1, FulfillmentEventType.IN_TRANSIT: 2, FulfillmentEventType.DELIVERED: 3}
