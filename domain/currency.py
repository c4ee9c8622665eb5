"""ISO 4217 currency facts, from the `iso4217` package (the current ISO list with minor-unit exponents).

Tradeable here: a current ISO 4217 currency with a minor-unit exponent, excluding fund codes and units
of account (precious metals, SDR, test and "no currency" codes have no exponent in ISO 4217).
"""

from typing import Annotated

from iso4217 import Currency
from pydantic import AfterValidator

# ISO 4217 fund codes and units of account: they have exponents but are not money a buyer pays with.
NON_TRADEABLE = frozenset({"BOV", "CHE", "CHW", "CLF", "COU", "MXV", "USN", "UYI", "UYW", "XAD"})

_EXPONENTS = {c.code: c.exponent for c in Currency if c.exponent is not None and c.code not in NON_TRADEABLE}


class UnknownCurrency(ValueError):
    pass


def is_tradeable(code: str) -> bool:
    return isinstance(code, str) and code in _EXPONENTS


def validate_currency(code: str) -> str:
    if not is_tradeable(code):
        raise UnknownCurrency(f"{code!r} is not a tradeable ISO 4217 currency code")
    return code


def exponent(code: str) -> int:
    """Minor-unit exponent: JPY 0, USD 2, KWD 3."""
    validate_currency(code)
    return _EXPONENTS[code]


# The currencies the engine converts between when it settles a seller in another currency than the order's. A
# business choice, not the rate source's: the FX source in use must quote every pair of them (the simulated one
# does: tests/unit/test_reference_rates.py). An order outside them settles in its own currency.
CONVERTIBLE = frozenset({"USD", "EUR", "GBP", "CHF", "JPY", "CAD", "AUD", "SEK", "PLN", "KWD", "BHD", "INR", "CNY", "KRW", "MXN", "BRL"})


def convertible(base: str, quote: str) -> bool:
    """Whether an order in `base` may settle in `quote`."""
    return base == quote or (base in CONVERTIBLE and quote in CONVERTIBLE)


CurrencyCode = Annotated[str, AfterValidator(validate_currency)]  # a model field holding a tradeable code
