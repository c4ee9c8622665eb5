"""The fee schedule: what the marketplace and the fulfillment network take from a sale.

- Referral fee (marketplace): a percentage of the order total (items plus shipping), at least a minimum.
- Fulfillment fee (fulfillment network): a fixed amount per unit shipped.
Both are stated in major units and converted to the order currency's minor units, rounding up to the
minor unit (JPY has none, KWD has three). Fees never exceed the total: the fulfillment fee is capped at
the total and the referral fee at what remains, so the seller's share is never negative.
"""

from decimal import ROUND_CEILING, Decimal

from pydantic import BaseModel, ConfigDict

from domain.allocation import percentage_of
from domain.currency import exponent


class FeeSchedule(BaseModel):
    model_config = ConfigDict(frozen=True)

    referral_basis_points: int = 800  # 8 %
    referral_minimum: Decimal = Decimal("0.30")
    fulfillment_fee_per_unit: Decimal = Decimal("2.50")


DEFAULT_FEE_SCHEDULE = FeeSchedule()


class Fees(BaseModel):
    model_config = ConfigDict(frozen=True)

    referral: int
    fulfillment: int

    @property
    def total(self) -> int:
        return self.referral + self.fulfillment


def _to_minor_ceiling(major: Decimal, currency: str) -> int:
    return int(major.scaleb(exponent(currency)).to_integral_value(rounding=ROUND_CEILING))


def compute_fees(total: int, units: int, currency: str, schedule: FeeSchedule = DEFAULT_FEE_SCHEDULE) -> Fees:
    if total < 0 or units < 0:
        raise ValueError("total and units must be non-negative")
    fulfillment = min(total, units * _to_minor_ceiling(schedule.fulfillment_fee_per_unit, currency))
    referral = max(percentage_of(total, schedule.referral_basis_points), _to_minor_ceiling(schedule.referral_minimum, currency))
    referral = min(referral, total - fulfillment)
    return Fees(referral=referral, fulfillment=fulfillment)
