"""Foreign exchange: a locked quote and exact conversion between minor units.

A quote carries the mid-market rate and the client rate the seller is settled at, as the rate source locked
them (the difference is the platform's FX gain). Converting an amount multiplies exactly (fractions, never floats), moves between the
two currencies' minor-unit exponents, and rounds half up to the target's minor unit, once.
"""

from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.currency import exponent


class FxQuote(BaseModel):
    model_config = ConfigDict(frozen=True)

    base: str = Field(description="the order (presentment) currency")
    quote: str = Field(description="the seller's settlement currency")
    mid_rate: Decimal = Field(gt=0, description="units of quote per unit of base, mid-market")
    rate: Decimal = Field(gt=0, description="the client rate applied to the seller: mid less the spread")
    spread_bps: int = Field(ge=0, le=10_000)
    source: str
    locked_at: AwareDatetime


def convert(amount: int, source: str, target: str, rate: Decimal) -> int:
    """amount minor units of source in minor units of target at rate, rounded half up."""
    if amount < 0:
        raise ValueError("convert takes a non-negative amount")
    exact = Fraction(amount) * Fraction(rate) * Fraction(10) ** (exponent(target) - exponent(source))
    return int(exact + Fraction(1, 2))


def crossed_rates(kept: dict[str, tuple[Decimal, datetime]], kept_in: str, wanted: str) -> dict[str, tuple[Decimal, datetime]]:
    """Rates to `wanted` (currency: (rate, as of when)) from rates kept to `kept_in`, crossed through it; empty when
    there is no rate between the two."""
    if wanted == kept_in:
        return kept
    if wanted not in kept:
        return {}
    others = dict(kept)
    through, through_as_of = others.pop(wanted)
    crossed = {currency: (rate / through, min(as_of, through_as_of)) for currency, (rate, as_of) in others.items()}
    return {**crossed, kept_in: (1 / through, through_as_of)}
