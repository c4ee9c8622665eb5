"""Money: an integer amount of minor units with its ISO 4217 currency. No floats anywhere."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StrictInt

from domain.currency import validate_currency

CurrencyCode = Annotated[str, AfterValidator(validate_currency)]


class Money(BaseModel):
    model_config = ConfigDict(frozen=True)

    amount: StrictInt
    currency: CurrencyCode

    def __add__(self, other: "Money") -> "Money":
        self._same_currency(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same_currency(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def _same_currency(self, other: "Money") -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    @classmethod
    def zero(cls, currency: str) -> "Money":
        return cls(amount=0, currency=currency)
