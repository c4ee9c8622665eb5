"""What a marketplace sends to create an order, validated field by field, and the id, time and duration types
of every request."""

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

from iso4217 import Currency
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, model_validator

from domain.after_sales import AfterSalesPolicy
from domain.currency import CONVERTIBLE, CurrencyCode, is_tradeable
from domain.json_schema import WHOLE_NUMBER, variants
from domain.ship_to import ShipTo

# ASCII letters, digits and a little punctuation only: no control characters, nothing PostgreSQL cannot store.
IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
IDENTIFIER_DESCRIPTION = "1-64 letters, digits, '_', '-', '.', ':'"
Identifier = Annotated[str, Field(pattern=IDENTIFIER_PATTERN, description=IDENTIFIER_DESCRIPTION)]

# `po:` starts the ids of sellers' pooled payouts, which the ledger keeps beside orders' (domain/payouts.py).
RESERVED_PREFIX = "po:"


def _not_reserved(order_id: str) -> str:
    if order_id.startswith(RESERVED_PREFIX):
        raise ValueError(f"must not start with {RESERVED_PREFIX!r} (the ids of payouts)")
    return order_id


OrderId = Annotated[
    str,
    Field(pattern=IDENTIFIER_PATTERN, description=IDENTIFIER_DESCRIPTION + f", not starting with {RESERVED_PREFIX!r}"),
    Field(json_schema_extra={"not": {"pattern": f"^{RESERVED_PREFIX}"}}),
    AfterValidator(_not_reserved),
]


def _written_as(grammar: re.Pattern[str], what: str, built: type) -> Callable[[Any], Any]:
    """Only text in the grammar the JSON schema's `format` names (pydantic alone also takes numbers, and other
    spellings); values built in Python (of type `built`) pass."""

    def check(value: Any) -> Any:
        if (isinstance(value, str) and grammar.fullmatch(value)) or isinstance(value, built):
            return value
        raise ValueError(f"must be {what}")

    return check


# RFC 3339 `date-time`; the years 2 to 9998 only, so that every value has a UTC equivalent.
_RFC3339_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})")
_YEARS_2_TO_9998 = r"^(000[2-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-"


def _in_years_2_to_9998(value: datetime) -> datetime:
    if not 2 <= value.year <= 9998:
        raise ValueError("must fall in the years 2 to 9998")
    return value


Timestamp = Annotated[
    AwareDatetime,
    BeforeValidator(_written_as(_RFC3339_DATE_TIME, "an RFC 3339 date-time with its offset, e.g. 2026-01-01T12:00:00Z", datetime)),
    AfterValidator(_in_years_2_to_9998),
    Field(json_schema_extra={"pattern": _YEARS_2_TO_9998}),
]

# RFC 3339 (appendix A) `duration`: ISO 8601 with whole numbers, e.g. P7D, PT12H, P1DT12H, P2W.
_TIME = r"T([0-9]+H([0-9]+M([0-9]+S)?)?|[0-9]+M([0-9]+S)?|[0-9]+S)"
_RFC3339_DURATION = re.compile(rf"P([0-9]+W|([0-9]+Y([0-9]+M([0-9]+D)?)?|[0-9]+M([0-9]+D)?|[0-9]+D)({_TIME})?|{_TIME})")
Duration = Annotated[timedelta, BeforeValidator(_written_as(_RFC3339_DURATION, "an RFC 3339 duration, e.g. P7D or PT12H", timedelta))]

MAX_CONFIRMATION_WINDOW = timedelta(days=90)
MAX_DELIVERY_TIME = timedelta(days=60)
# Far below 2**63 even after conversion to a currency worth a thousandth as much (ledger amounts are bigint).
MAX_ORDER_TOTAL = 10**15

# The JSON schema names the codes a request may give: any tradeable currency, for the order and for settlement
# alike (a pair the FX source cannot quote parks the order at the FX step).
_TRADEABLE = sorted(c.code for c in Currency if is_tradeable(c.code))
OrderCurrency = Annotated[CurrencyCode, Field(json_schema_extra={"enum": _TRADEABLE})]
SettlementCurrency = Annotated[CurrencyCode, Field(json_schema_extra={"enum": sorted(CONVERTIBLE)})]
# Left out (or null), the seller is settled in the order currency; named, both currencies must be convertible.
_SETTLEMENT_NEEDS_A_RATE = variants(
    "anyOf", ({"settlement_currency": {"type": "null"}}, set()), ({"currency": {"enum": sorted(CONVERTIBLE)}}, set())
)


class RetryBudget(BaseModel):
    """How long a provider call is retried before the order needs an operator's attention."""

    maximum_attempts: int = Field(10, ge=1, le=100)
    initial_interval: timedelta = timedelta(seconds=1)
    maximum_interval: timedelta = timedelta(seconds=60)


class PlacementPolicy(BaseModel):
    """What placement fills in when a request leaves it out. Each field is a setting (runtime/settings.py) whose
    default is the one written here."""

    ship_within: timedelta = timedelta(days=5)
    deliver_within_after_ship_by: timedelta = timedelta(days=9)
    confirmation_window: timedelta = timedelta(days=7)
    authorization_life: timedelta = timedelta(days=7)
    after_sales: AfterSalesPolicy = AfterSalesPolicy()
    provider_retry: RetryBudget = RetryBudget()
    street_address_required: bool = False  # the fulfillment network delivers to a street address (Amazon's)


DEFAULT_POLICY = PlacementPolicy()


def _days(duration: timedelta) -> str:
    return f"{duration.days} days"


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: Identifier
    quantity: Annotated[StrictInt, Field(gt=0, le=10_000), WHOLE_NUMBER]
    unit_price: Annotated[StrictInt, Field(gt=0, le=10**12, description="minor units of the order currency"), WHOLE_NUMBER]


class OrderRequest(BaseModel):
    """Rules JSON Schema cannot state (each is a 422 naming its field): the total (items and shipping) is at most
    10^15 minor units; `ship_by` is after the moment of placement and within the payment authorization's life
    (7 days), `deliver_by` after `ship_by` and at most 60 days after it; `confirmation_window` is positive and at
    most 90 days."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_SETTLEMENT_NEEDS_A_RATE)

    order_id: OrderId
    buyer_id: Identifier
    seller_id: Identifier
    marketplace: Identifier
    currency: OrderCurrency
    items: Annotated[list[Item], Field(min_length=1, max_length=100)]
    shipping_fee: Annotated[StrictInt, Field(ge=0, le=10**12), WHOLE_NUMBER] = 0
    payment_method: Annotated[str, Field(pattern=r"^pm_[A-Za-z0-9_]{1,64}$")]
    settlement_currency: SettlementCurrency | None = Field(None, description="default: the order currency")
    ship_to: ShipTo | None = Field(
        None,
        description="where the parcel goes; Amazon's network (SETTLEMENT_FULFILLMENT_NETWORK=amazon) needs name, address_line1 and postal_code",
    )
    ship_by: Timestamp | None = Field(
        None,
        description=f"default: placement + {_days(DEFAULT_POLICY.ship_within)} (SETTLEMENT_DEFAULT_SHIP_WITHIN); "
        f"at most placement + {_days(DEFAULT_POLICY.authorization_life)}",
    )
    deliver_by: Timestamp | None = Field(
        None,
        description=f"default: ship_by + {_days(DEFAULT_POLICY.deliver_within_after_ship_by)} "
        f"(SETTLEMENT_DEFAULT_DELIVER_WITHIN); at most ship_by + {_days(MAX_DELIVERY_TIME)}",
    )
    confirmation_window: Duration | None = Field(
        None,
        description=f"e.g. P7D; at most {_days(MAX_CONFIRMATION_WINDOW)}; default "
        f"{_days(DEFAULT_POLICY.confirmation_window)} (SETTLEMENT_DEFAULT_CONFIRMATION_WINDOW)",
    )

    @model_validator(mode="after")
    def _check_relations(self) -> "OrderRequest":
        if self.ship_by and self.deliver_by and self.deliver_by <= self.ship_by:
            raise ValueError("deliver_by must be after ship_by")
        if self.confirmation_window is not None and not timedelta(0) < self.confirmation_window <= MAX_CONFIRMATION_WINDOW:
            raise ValueError("confirmation_window must be positive and at most 90 days")
        if self.total > MAX_ORDER_TOTAL:
            raise ValueError(f"the order total may not exceed {MAX_ORDER_TOTAL} minor units")
        return self

    @property
    def units(self) -> int:
        return sum(i.quantity for i in self.items)

    @property
    def total(self) -> int:
        return sum(i.quantity * i.unit_price for i in self.items) + self.shipping_fee


def resolve_deadlines(request: OrderRequest, placed_at: datetime, policy: PlacementPolicy) -> tuple[datetime, datetime, timedelta]:
    """ship_by, deliver_by and the confirmation window for an order placed at placed_at.

    Raises ValueError (naming the field) when a deadline cannot be honoured.
    """
    ship_by = request.ship_by or placed_at + policy.ship_within
    if ship_by <= placed_at:
        raise ValueError("ship_by: must be in the future")
    if ship_by > placed_at + policy.authorization_life:
        raise ValueError(f"ship_by: must fall within the payment authorization's life ({policy.authorization_life.days} days)")
    deliver_by = request.deliver_by or ship_by + policy.deliver_within_after_ship_by
    if deliver_by <= ship_by:
        raise ValueError("deliver_by: must be after ship_by")
    if deliver_by > ship_by + MAX_DELIVERY_TIME:
        raise ValueError(f"deliver_by: must be at most {MAX_DELIVERY_TIME.days} days after ship_by")
    return ship_by, deliver_by, request.confirmation_window or policy.confirmation_window
