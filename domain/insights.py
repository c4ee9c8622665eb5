"""What an order's change adds to the business's running totals (the rollups of db/insights.py), worked out from the
order before and after the change: pure, so every write of the read model adds exactly what the change means, and a
repeated or stale write (which changes nothing in the read model) adds nothing.

- Volume: an order counts once, in the minute it was placed, with its gross value (the order total).
- Statuses: how many orders stand in each status now.
- Stage times: how long an order took from placement to shipment, shipment to delivery, delivery to payout,
  placement to payout and placement to refund, each kept as a count per power-of-two bucket of seconds.
- Outcomes: counts per day of what happened to orders (placed, shipped, delivered, delivered late, disputed by
  reason, refunded, lost, damaged; chargebacks are added where they are recorded), by seller, region and
  fulfillment centre, from which rates are worked out (e.g. lost / shipped per fulfillment centre).
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from math import floor, log2

from domain.order_state import OrderState, TimelineEntry
from domain.statuses import FulfillmentEventType, OrderStatus

UNKNOWN = "unknown"  # the region of an order placed without ship_to, or a fulfillment centre not (yet) known


class Stage(StrEnum):
    PLACED_TO_SHIPPED = "placed_to_shipped"
    SHIPPED_TO_DELIVERED = "shipped_to_delivered"
    DELIVERED_TO_PAYOUT = "delivered_to_payout"
    PLACED_TO_PAYOUT = "placed_to_payout"
    PLACED_TO_REFUND = "placed_to_refund"


class Outcome(StrEnum):
    PLACED = "placed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    LATE = "late"
    DISPUTED = "disputed"
    REFUNDED = "refunded"
    LOST = "lost"
    DAMAGED = "damaged"
    CHARGEBACK = "chargeback"


@dataclass(frozen=True)
class Where:
    """The dimensions an order is counted under."""

    marketplace: str
    seller_id: str
    region: str
    currency: str
    fulfillment_center: str


@dataclass(frozen=True)
class OutcomeCount:
    day: date
    outcome: Outcome
    reason: str = ""  # a dispute's reason


@dataclass
class Changes:
    where: Where
    placed_minute: datetime | None = None  # the order is new: count it (and its gross) in this minute
    gross: int = 0
    status_from: OrderStatus | None = None
    status_to: OrderStatus | None = None
    stage_times: list[tuple[date, Stage, int]] = field(default_factory=list)  # (day, stage, bucket)
    outcomes: list[OutcomeCount] = field(default_factory=list)

    @property
    def nothing(self) -> bool:
        return self.placed_minute is None and self.status_from == self.status_to and not self.stage_times and not self.outcomes


def day_of(moment: datetime) -> date:
    """The UTC day of a moment: totals are kept per UTC day and hour."""
    return moment.astimezone(UTC).date()


def region_of(state: OrderState) -> str:
    return state.ship_to.region if state.ship_to else UNKNOWN


def where(state: OrderState) -> Where:
    return Where(state.marketplace, state.seller_id, region_of(state), state.currency, state.fulfillment_center or UNKNOWN)


def bucket_of(duration: timedelta) -> int:
    """The power-of-two bucket of a duration in seconds: 0 for under 2 s, k for [2^k, 2^(k+1))."""
    seconds = duration.total_seconds()
    return 0 if seconds < 2 else floor(log2(seconds))


def bucket_middle(bucket: int) -> float:
    """A bucket's representative duration in seconds (its geometric middle)."""
    return 2 ** (bucket + 0.5) if bucket else 1.0


def changes(before: OrderState | None, after: OrderState) -> Changes:
    """What the change from `before` (None: the order is new to the read model) to `after` adds. Both are states
    of the same workflow run; `after` is newer."""
    found = Changes(where(after))
    if before is None:
        found.placed_minute = after.placed_at.astimezone(UTC).replace(second=0, microsecond=0)
        found.gross = after.amounts.total
        found.outcomes.append(OutcomeCount(day_of(after.placed_at), Outcome.PLACED))
    found.status_from = before.status if before else None
    found.status_to = after.status
    seen = before.timeline if before else []
    for entry in after.timeline[len(seen) :]:
        _entered(found, after, entry)
    if after.network_fault is not None and (before is None or before.network_fault is None):
        fault = after.network_fault
        kind = Outcome.LOST if fault.type == FulfillmentEventType.LOST else Outcome.DAMAGED
        found.outcomes.append(OutcomeCount(day_of(fault.occurred_at), kind))
    return found


def _first(state: OrderState, status: OrderStatus) -> TimelineEntry | None:
    return next((e for e in state.timeline if e.status == status), None)


def _entered(found: Changes, state: OrderState, entry: TimelineEntry) -> None:
    """A new step of the timeline: what it completes, if it is the first time the order took that status."""
    if _first(state, entry.status) is not entry:
        return
    day = day_of(entry.at)

    def stage(kind: Stage, since: datetime | None) -> None:
        if since is not None:
            found.stage_times.append((day, kind, bucket_of(entry.at - since)))

    shipped, delivered = _first(state, OrderStatus.IN_TRANSIT), _first(state, OrderStatus.AWAITING_CONFIRMATION)
    match entry.status:
        case OrderStatus.IN_TRANSIT:
            stage(Stage.PLACED_TO_SHIPPED, state.placed_at)
            found.outcomes.append(OutcomeCount(day, Outcome.SHIPPED))
        case OrderStatus.AWAITING_CONFIRMATION:
            stage(Stage.SHIPPED_TO_DELIVERED, shipped.at if shipped else None)
            found.outcomes.append(OutcomeCount(day, Outcome.DELIVERED))
            if state.delivered_at and state.delivered_at > state.deadlines.deliver_by:
                found.outcomes.append(OutcomeCount(day, Outcome.LATE))
        case OrderStatus.DISPUTED:
            reason = state.dispute.reason.value if state.dispute else ""
            found.outcomes.append(OutcomeCount(day, Outcome.DISPUTED, reason))
        case OrderStatus.SETTLED:
            stage(Stage.DELIVERED_TO_PAYOUT, delivered.at if delivered else None)
            stage(Stage.PLACED_TO_PAYOUT, state.placed_at)
        case OrderStatus.REFUNDED:
            stage(Stage.PLACED_TO_REFUND, state.placed_at)
            found.outcomes.append(OutcomeCount(day, Outcome.REFUNDED))


def percentile(buckets: dict[int, int], share: float) -> float | None:
    """The duration in seconds below which `share` of the orders fall, to within the bucket (a factor of about 1.4
    either way): the middle of the bucket that holds it. None without orders."""
    total = sum(buckets.values())
    if not total:
        return None
    reached = 0
    for bucket in sorted(buckets):
        reached += buckets[bucket]
        if reached >= share * total:
            return bucket_middle(bucket)
    return bucket_middle(max(buckets))


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
