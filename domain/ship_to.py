"""Where an order ships to: an ISO 3166-1 country, optionally an ISO 3166-2 subdivision of it, and the street
address a real fulfillment network needs to deliver (the simulated network needs none of it)."""

from typing import Annotated, Any

import pycountry
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from domain.text import SingleLine

COUNTRIES = sorted(country.alpha_2 for country in pycountry.countries)
SUBDIVISIONS = frozenset(subdivision.code for subdivision in pycountry.subdivisions)
SUBDIVISION_PATTERN = r"^[A-Z]{2}-[A-Z0-9]{1,3}$"
# What a fulfillment network that ships parcels needs besides the country (Amazon's: its `Address`, where a city
# is required in every country but Japan).
STREET_ADDRESS = ("name", "address_line1", "city", "postal_code", "subdivision")
CITYLESS_COUNTRIES = frozenset({"JP"})


def _line(longest: int, description: str = "") -> Any:
    return Field(None, min_length=1, max_length=longest, description=description or None)


class ShipTo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    country: Annotated[str, Field(json_schema_extra={"enum": COUNTRIES}, description="ISO 3166-1 alpha-2, e.g. DE")]
    subdivision: Annotated[str | None, Field(pattern=SUBDIVISION_PATTERN)] = Field(
        None, description="ISO 3166-2 code of a subdivision of `country`, e.g. DE-BY"
    )
    name: SingleLine | None = _line(100, "the recipient")
    address_line1: SingleLine | None = _line(60)
    address_line2: SingleLine | None = _line(60)
    city: SingleLine | None = _line(50)
    postal_code: SingleLine | None = _line(20)
    phone: SingleLine | None = _line(20)

    @field_validator("country")
    @classmethod
    def _a_country(cls, code: str) -> str:
        if code not in COUNTRIES:
            raise ValueError("must be an ISO 3166-1 alpha-2 country code, e.g. DE")
        return code

    @field_validator("subdivision")
    @classmethod
    def _a_subdivision_of_the_country(cls, code: str | None, info: ValidationInfo) -> str | None:
        country = info.data.get("country")
        if code is None or country is None:
            return code
        if not code.startswith(f"{country}-"):
            raise ValueError(f"{code} is not in {country}")
        if code not in SUBDIVISIONS:
            raise ValueError(f"{code} is not an ISO 3166-2 code")
        return code

    @property
    def region(self) -> str:
        """The subdivision where it is known, else the country."""
        return self.subdivision or self.country

    @property
    def missing_for_delivery(self) -> list[str]:
        needed = [name for name in STREET_ADDRESS if not (name == "city" and self.country in CITYLESS_COUNTRIES)]
        return [name for name in needed if getattr(self, name) is None]
