"""The type of an ISO 4217 currency code in a model: validated as tradeable (domain/currency.py)."""

from typing import Annotated

from pydantic import AfterValidator

from domain.currency import validate_currency

CurrencyCode = Annotated[str, AfterValidator(validate_currency)]
