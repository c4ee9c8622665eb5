"""What the engine believes of a fulfillment network's events, however they arrive (a signed webhook, or read from
the network by polling)."""

from datetime import datetime, timedelta

from domain.statuses import OrderStatus

# How far the network's clock may run ahead of ours, or an event precede the order's placement.
EVENT_CLOCK_SKEW = timedelta(minutes=5)

# The statuses in which an order still waits for news of its parcel: from the fulfillment order's creation until
# the return is received (needs_attention: an order parked there may be waiting for its parcel too).
AWAITING_PARCEL_NEWS = (
    OrderStatus.AWAITING_SHIPMENT,
    OrderStatus.IN_TRANSIT,
    OrderStatus.AWAITING_CONFIRMATION,
    OrderStatus.DISPUTED,
    OrderStatus.AWAITING_RETURN,
    OrderStatus.NEEDS_ATTENTION,
)


def occurred_at_error(occurred_at: datetime, placed_at: datetime, now: datetime) -> str | None:
    """Why an event's time cannot be true (a backdated delivery would cut the buyer's window short)."""
    if occurred_at > now + EVENT_CLOCK_SKEW:
        return f"is in the future (more than {EVENT_CLOCK_SKEW} ahead)"
    if occurred_at < placed_at - EVENT_CLOCK_SKEW:
        return f"is before the order was placed ({placed_at.isoformat()})"
    return None
