"""domain/currency.py: ISO 4217 facts, never guessed."""

import pytest

from domain.currency import UnknownCurrency, exponent, is_tradeable, validate_currency


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


@pytest.mark.parametrize("code", ["DEM", "FRF", "HRK", "SLL", "CLF", "USN", "XDR", "XAD"])
def test_withdrawn_currencies_and_fund_codes_are_not_tradeable(code):
    with pytest.raises(UnknownCurrency):
        validate_currency(code)


@pytest.mark.parametrize("code", ["XCG", "ZWG", "SLE"])
def test_currencies_introduced_recently_are_tradeable(code):
    assert validate_currency(code) == code
