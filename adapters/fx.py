"""FX rate sources: the protocol, and the simulated source built on documented reference rates."""

from datetime import datetime, timezone
from decimal import Decimal
from typing import Protocol

from domain import reference_rates
from domain.fx import FxQuote, client_rate


class UnsupportedCurrencyPair(Exception):
    pass


class FxRateSource(Protocol):
    async def quote(self, base: str, quote: str) -> FxQuote: ...


class SimulatedFxRates:
    """Reference mid rates (domain/reference_rates.py) less a fixed spread; a real source has the same shape."""

    def __init__(self, spread_bps: int = reference_rates.DEFAULT_SPREAD_BPS):
        self._spread_bps = spread_bps

    async def quote(self, base: str, quote: str) -> FxQuote:
        if not reference_rates.has_rate(base, quote):
            raise UnsupportedCurrencyPair(f"no reference rate for {base}/{quote}")
        mid: Decimal = reference_rates.mid_rate(base, quote)
        return FxQuote(
            base=base,
            quote=quote,
            mid_rate=mid,
            rate=client_rate(mid, self._spread_bps),
            spread_bps=self._spread_bps,
            source="simulated reference rates",
            locked_at=datetime.now(timezone.utc),
        )
