"""ISO 4217 currency facts, from py-moneyed's ISO 4217 table (never guessed)."""

import math

import moneyed

# X-codes that are precious metals, funds, testing or "no currency": not tradeable here.
_REAL_X_CURRENCIES = {"XAF", "XCD", "XOF", "XPF"}


class UnknownCurrency(ValueError):
    pass


def is_tradeable(code: str) -> bool:
    if code not in moneyed.CURRENCIES:
        return False
    return not code.startswith("X") or code in _REAL_X_CURRENCIES


def validate_currency(code: str) -> str:
    if not isinstance(code, str) or not is_tradeable(code):
        raise UnknownCurrency(f"{code!r} is not a tradeable ISO 4217 currency code")
    return code


def exponent(code: str) -> int:
    """Minor-unit exponent: JPY 0, USD 2, KWD 3."""
    validate_currency(code)
    return round(math.log10(moneyed.CURRENCIES[code].sub_unit))


def major_to_minor(major_units: int | str, code: str) -> int:
    """An amount stated in whole major units (e.g. a fee schedule's 3 per unit) in minor units."""
    from decimal import Decimal

    scaled = Decimal(str(major_units)).scaleb(exponent(code))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{major_units} has more decimals than {code} allows")
    return int(scaled)
