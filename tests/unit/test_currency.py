"""domain/currency.py and domain/money.py: ISO 4217 facts, never guessed."""

import pytest
from pydantic import ValidationError

from domain.currency import UnknownCurrency, exponent, is_tradeable, major_to_minor, validate_currency
from domain.money import Money


@pytest.mark.parametrize(
    ("code", "expected"),
    [("JPY", 0), ("KRW", 0), ("CLP", 0), ("XOF", 0), ("USD", 2), ("EUR", 2), ("GBP", 2), ("KWD", 3), ("BHD", 3), ("TND", 3)],
)
def test_exponent_comes_from_iso_4217(code, expected):
    assert exponent(code) == expected


@pytest.mark.parametrize("code", ["ABC", "XAU", "XAG", "XXX", "XTS", "XDR", "usd", "US", "USDX", ""])
def test_unknown_and_non_tradeable_codes_are_rejected(code):
    assert not is_tradeable(code)
    with pytest.raises(UnknownCurrency):
        validate_currency(code)
    with pytest.raises(UnknownCurrency):
        exponent(code)


def test_unknown_currency_is_a_value_error():
    # pydantic turns ValueErrors raised in validators into validation errors
    assert issubclass(UnknownCurrency, ValueError)


@pytest.mark.parametrize("code", ["XOF", "XAF", "XPF", "XCD", "USD", "JPY", "KWD"])
def test_real_currencies_are_accepted(code):
    assert is_tradeable(code)
    assert validate_currency(code) == code


def test_non_string_code_is_rejected():
    with pytest.raises(UnknownCurrency):
        validate_currency(840)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("major", "code", "expected"),
    [(3, "USD", 300), ("2.50", "USD", 250), (3, "JPY", 3), ("1.234", "KWD", 1234), (0, "KWD", 0)],
)
def test_major_to_minor(major, code, expected):
    assert major_to_minor(major, code) == expected


@pytest.mark.parametrize(("major", "code"), [("2.50", "JPY"), ("0.001", "USD"), ("1.0001", "KWD")])
def test_major_to_minor_refuses_more_decimals_than_the_currency_has(major, code):
    with pytest.raises(ValueError):
        major_to_minor(major, code)


def test_money_validates_its_currency_and_refuses_floats():
    assert Money(amount=1999, currency="USD").amount == 1999
    with pytest.raises(ValidationError):
        Money(amount=1999, currency="ABC")
    with pytest.raises(ValidationError):
        Money(amount=19.99, currency="USD")
    with pytest.raises(ValidationError):
        Money(amount="1999", currency="USD")


def test_money_arithmetic_keeps_currencies_apart():
    a, b = Money(amount=150, currency="USD"), Money(amount=50, currency="USD")
    assert (a + b).amount == 200
    assert (a - b).amount == 100
    assert Money.zero("JPY") == Money(amount=0, currency="JPY")
    with pytest.raises(ValueError):
        a + Money(amount=1, currency="EUR")


@pytest.mark.parametrize("code", ["DEM", "FRF", "HRK", "SLL", "CLF", "USN", "XDR", "XAD"])
def test_withdrawn_currencies_and_fund_codes_are_not_tradeable(code):
    with pytest.raises(UnknownCurrency):
        validate_currency(code)


@pytest.mark.parametrize("code", ["XCG", "ZWG", "SLE"])
def test_currencies_introduced_recently_are_tradeable(code):
    assert validate_currency(code) == code
