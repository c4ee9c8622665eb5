"""How and when a seller is paid: their payout schedule, minimum and reserve, and the ids of their payouts.

`per_order` pays each order out on its own as it is released (the default). The pooled schedules credit each
released order to the seller's balance, and the seller's payout workflow pays that balance per currency at
the end of each period (`daily`, `weekly` on Mondays, `every_14_days` on every other Monday, all at 00:00 UTC)
or when the seller asks (`on_demand`). A reserve holds a share of each release for some days before it becomes
available; it needs a pooled schedule, since a per-order payout pays the whole share at once.
"""

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from domain.chargebacks import ChargebackNotice
from domain.claims import ClaimNotice
from domain.json_schema import WHOLE_NUMBER, variants
from domain.order_request import RESERVED_PREFIX


class PayoutSchedule(StrEnum):
    PER_ORDER = "per_order"
    DAILY = "daily"
    WEEKLY = "weekly"
    EVERY_14_DAYS = "every_14_days"
    ON_DEMAND = "on_demand"


POOLED = frozenset(set(PayoutSchedule) - {PayoutSchedule.PER_ORDER})

# Periods of the weekly schedules start on Mondays; every_14_days counts its fortnights from this one.
FIRST_MONDAY = datetime(2024, 1, 1, tzinfo=UTC)
PERIOD = {
    PayoutSchedule.DAILY: timedelta(days=1),
    PayoutSchedule.WEEKLY: timedelta(days=7),
    PayoutSchedule.EVERY_14_DAYS: timedelta(days=14),
}


class PayoutTerms(BaseModel):
    """What an order's release does with the seller's share, fixed when the order is placed."""

    model_config = ConfigDict(frozen=True)

    schedule: PayoutSchedule = PayoutSchedule.PER_ORDER
    reserve_percent: Annotated[StrictInt, Field(ge=0, le=100, description="share of each release held in reserve"), WHOLE_NUMBER] = 0
    reserve_days: Annotated[
        StrictInt, Field(ge=0, le=365, description="days a release's reserve is held after the release"), WHOLE_NUMBER
    ] = 0

    @property
    def pooled(self) -> bool:
        return self.schedule in POOLED

    @model_validator(mode="after")
    def _reserve_needs_a_pool(self) -> "PayoutTerms":
        if self.reserve_percent and not self.pooled:
            raise ValueError("a reserve needs a pooled schedule: per_order pays each order's share out at once")
        return self

    def hold(self, share: int) -> int:
        """The part of a seller's share held in reserve (rounded down: the seller gets the odd minor unit)."""
        return share * self.reserve_percent // 100


# The rule between fields, in the settings' JSON schema: no reserve, or a pooled schedule.
_RESERVE_NEEDS_A_POOL = variants(
    "anyOf", ({"reserve_percent": {"const": 0}}, set()), ({"schedule": {"enum": sorted(s.value for s in POOLED)}}, {"schedule"})
)


class PayoutSettings(PayoutTerms):
    """A seller's payout settings, as an operator sets them (`PUT /v1/sellers/{id}/payout-settings`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra=_RESERVE_NEEDS_A_POOL)

    minimum_payout: Annotated[
        StrictInt, Field(ge=0, le=10**12, description="minor units; a smaller balance waits for the next period"), WHOLE_NUMBER
    ] = 0
    write_off_after_days: Annotated[
        StrictInt,
        Field(ge=1, le=730, description="what a seller still owes this many days after a chargeback is written off as a loss"),
        WHOLE_NUMBER,
    ] = 90

    def terms(self) -> PayoutTerms:
        return PayoutTerms(schedule=self.schedule, reserve_percent=self.reserve_percent, reserve_days=self.reserve_days)


class CutRequest(BaseModel):
    seller_id: str
    cut_at: datetime
    pay: bool = Field(description="open payouts (otherwise only reserves, debts and write-offs are settled)")


class PreparedPayout(BaseModel):
    payout_id: str
    seller_id: str
    currency: str
    amount: int


class CutResult(BaseModel):
    payouts: list[PreparedPayout] = Field(description="every payout of the seller still pending, this cut's included")
    holds_money: bool = Field(description="anything left in the seller's available, reserve or owed balances, or a payout on its way")


class PayoutOutcome(BaseModel):
    """What the provider did with a payout: paid it (`provider_reference`) or refused it for certain (`refusal`)."""

    payout_id: str
    provider_reference: str | None = None
    refusal: str | None = None


class SellerPayoutsInput(BaseModel):
    seller_id: str
    notices: list[ChargebackNotice] = []
    claims: list[ClaimNotice] = []
    evidence: list[str] = Field([], description="disputes whose evidence is still to be given to the provider")


class SellerPayoutsState(BaseModel):
    seller_id: str
    schedule: PayoutSchedule = PayoutSchedule.PER_ORDER
    next_cut_at: datetime | None = None
    last_cut_at: datetime | None = None  # the last cut done, its payouts paid, returned or left pending
    payouts: list[PreparedPayout] = []  # the last cut's payouts
    refused: list[str] = []  # notices or payouts the ledger refused for good (reported, never retried forever)


class PayoutAsk(BaseModel):
    """A request for a payout now: the seller's own (on demand), or an operator's off the seller's schedule."""

    off_cycle: bool = False


class PayoutRequested(BaseModel):
    """The answer to `request_payout`: the payouts the cut made or found pending, once paid or returned."""

    payouts: list[PreparedPayout]


def period_end(after: datetime, schedule: PayoutSchedule) -> datetime | None:
    """The first period boundary strictly after `after`; None for schedules without periods."""
    length = PERIOD.get(schedule)
    if length is None:
        return None
    periods = (after - FIRST_MONDAY) // length + 1
    return FIRST_MONDAY + periods * length


PAYOUT_ID_PREFIX = RESERVED_PREFIX  # no order id starts with it


def payout_id(seller_id: str, currency: str, cut_at: datetime) -> str:
    """A payout's own id, also its idempotency key at the provider: one payout per seller, currency and cut."""
    return f"{PAYOUT_ID_PREFIX}{seller_id}:{currency}:{cut_at.astimezone(UTC):%Y%m%dT%H%M%S%f}"


def payouts_workflow_id(seller_id: str) -> str:
    return f"seller-payouts-{seller_id}"


# The seller payouts workflow on the wire (never renamed: recorded in histories).
PAYOUTS_WORKFLOW_TYPE = "SellerPayouts"
CHARGEBACK_SIGNAL = "chargeback"
CLAIM_SIGNAL = "claim"
EVIDENCE_SIGNAL = "chargeback_evidence"
SETTINGS_CHANGED_SIGNAL = "payout_settings_changed"
REQUEST_PAYOUT_UPDATE = "request_payout"
PAYOUTS_QUERY = "payouts_state"
