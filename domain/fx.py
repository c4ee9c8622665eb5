"""Foreign exchange: a locked quote and exact conversion between minor units.

A quote carries the mid-market rate and the client rate the seller is settled at: the mid rate less the
platform's spread. Converting an amount multiplies exactly (fractions, never floats), moves between the
two currencies' minor-unit exponents, and rounds half up to the target's minor unit, once.
"""

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


def client_rate(mid_rate: Decimal, spread_bps: int) -> Decimal:
    """Mid less the spread, rounded to 10 decimal places so that it is stable and auditable."""
    return (mid_rate * (Decimal(10_000 - spread_bps) / Decimal(10_000))).quantize(Decimal("1e-10"))


def convert(amount: int, source: str, target: str, rate: Decimal) -> int:
    """amount minor units of source in minor units of target at rate, rounded half up."""
    if amount < 0:
        raise ValueError("convert takes a non-negative amount")
    exact = Fraction(amount) * Fraction(rate) * Fraction(10) ** (exponent(target) - exponent(source))
    return int(exact + Fraction(1, 2))
