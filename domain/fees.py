"""The fee schedule: what the marketplace and the fulfillment network take from a sale.

- Referral fee (marketplace): a percentage of the order total (items plus shipping), at least a minimum.
- Fulfillment fee (fulfillment network): a fixed amount per unit shipped.
The fixed amounts are stated in major units of the order currency: by default 0.30 and 2.50, with
amounts of their own for currencies where those make no sense (JPY, KRW, KWD, BHD); they are converted
to minor units rounding up (JPY has none, KWD has three). The referral percentage rounds half up to the
minor unit. Fees never exceed the total: the fulfillment fee is capped at the total and the referral
fee at what remains, so the seller's share is never negative.
"""

from decimal import ROUND_CEILING, Decimal

from pydantic import BaseModel, ConfigDict

from domain.allocation import percentage_of
from domain.currency import exponent


class FixedFees(BaseModel):
    model_config = ConfigDict(frozen=True)

    referral_minimum: Decimal
    fulfillment_fee_per_unit: Decimal


class FeeSchedule(BaseModel):
    model_config = ConfigDict(frozen=True)

    referral_basis_points: int = 800  # 8 %
    referral_minimum: Decimal = Decimal("0.30")
    fulfillment_fee_per_unit: Decimal = Decimal("2.50")
    fixed_by_currency: dict[str, FixedFees] = {
        "JPY": FixedFees(referral_minimum=Decimal("30"), fulfillment_fee_per_unit=Decimal("350")),
        "KRW": FixedFees(referral_minimum=Decimal("400"), fulfillment_fee_per_unit=Decimal("3300")),
        "KWD": FixedFees(referral_minimum=Decimal("0.100"), fulfillment_fee_per_unit=Decimal("0.750")),
        "BHD": FixedFees(referral_minimum=Decimal("0.100"), fulfillment_fee_per_unit=Decimal("0.950")),
    }

    def fixed(self, currency: str) -> FixedFees:
        default = FixedFees(referral_minimum=self.referral_minimum, fulfillment_fee_per_unit=self.fulfillment_fee_per_unit)
        return self.fixed_by_currency.get(currency, default)


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
    fixed = schedule.fixed(currency)
    fulfillment = min(total, units * _to_minor_ceiling(fixed.fulfillment_fee_per_unit, currency))
    referral = max(percentage_of(total, schedule.referral_basis_points), _to_minor_ceiling(fixed.referral_minimum, currency))
    referral = min(referral, total - fulfillment)
    return Fees(referral=referral, fulfillment=fulfillment)
