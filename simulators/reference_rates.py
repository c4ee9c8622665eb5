"""The simulated FX source's reference rates: units of each currency per 1 USD, mid-market, and the client
rate it quotes (mid less a spread).

These are illustrative figures of the order of magnitude of late-2025 market rates, not live data;
a real rate source replaces them behind adapters/fx.py. Cross rates go through USD. The engine knows
none of this: it takes the quote the source locks.
"""

from decimal import Decimal

UNITS_PER_USD: dict[str, Decimal] = {
    "USD": Decimal("1"),
    "EUR": Decimal("0.92"),
    "GBP": Decimal("0.79"),
    "CHF": Decimal("0.88"),
    "JPY": Decimal("151.20"),
    "CAD": Decimal("1.37"),
    "AUD": Decimal("1.53"),
    "SEK": Decimal("10.45"),
    "PLN": Decimal("3.98"),
    "KWD": Decimal("0.3075"),
    "BHD": Decimal("0.376"),
    "INR": Decimal("83.30"),
    "CNY": Decimal("7.24"),
    "KRW": Decimal("1380"),
    "MXN": Decimal("17.10"),
    "BRL": Decimal("5.05"),
}

DEFAULT_SPREAD_BPS = 50  # 0.5 %


def has_rate(base: str, quote: str) -> bool:
    return base == quote or (base in UNITS_PER_USD and quote in UNITS_PER_USD)


def client_rate(mid: Decimal, spread_bps: int) -> Decimal:
    """Mid less the spread, rounded to 10 decimal places so that it is stable and auditable."""
    return (mid * (Decimal(10_000 - spread_bps) / Decimal(10_000))).quantize(Decimal("1e-10"))


def mid_rate(base: str, quote: str) -> Decimal:
    """Units of quote per unit of base, rounded to 10 decimal places."""
    if base == quote:
        return Decimal(1)
    return (UNITS_PER_USD[quote] / UNITS_PER_USD[base]).quantize(Decimal("1e-10"))
