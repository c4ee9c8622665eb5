"""What a marketplace sends to create an order, validated field by field."""

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, model_validator

from domain.after_sales import AfterSalesPolicy
from domain.money import CurrencyCode

# ASCII letters, digits and a little punctuation only: no control characters, nothing PostgreSQL cannot store.
IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
IDENTIFIER_DESCRIPTION = "1-64 letters, digits, '_', '-', '.', ':'"
Identifier = Annotated[str, Field(pattern=IDENTIFIER_PATTERN, description=IDENTIFIER_DESCRIPTION)]

MAX_CONFIRMATION_WINDOW = timedelta(days=90)
MAX_DELIVERY_TIME = timedelta(days=60)
# Far below 2**63 even after conversion to a currency worth a thousandth as much (ledger amounts are bigint).
MAX_ORDER_TOTAL = 10**15


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: Identifier
    quantity: Annotated[StrictInt, Field(gt=0, le=10_000)]
    unit_price: Annotated[StrictInt, Field(gt=0, le=10**12, description="minor units of the order currency")]


class OrderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    order_id: Identifier
    buyer_id: Identifier
    seller_id: Identifier
    marketplace: Identifier
    currency: CurrencyCode
    items: Annotated[list[Item], Field(min_length=1, max_length=100)]
    shipping_fee: Annotated[StrictInt, Field(ge=0, le=10**12)] = 0
    payment_method: Annotated[str, Field(pattern=r"^pm_[A-Za-z0-9_]{1,64}$")]
    settlement_currency: CurrencyCode | None = None
    ship_by: AwareDatetime | None = None
    deliver_by: AwareDatetime | None = None
    confirmation_window: timedelta | None = Field(None, description="ISO 8601 duration, e.g. P7D")

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


class PlacementPolicy(BaseModel):
    """Defaults applied when the request leaves a deadline out."""

    ship_within: timedelta = timedelta(days=5)
    deliver_within_after_ship_by: timedelta = timedelta(days=9)
    confirmation_window: timedelta = timedelta(days=7)
    authorization_life: timedelta = timedelta(days=7)
    after_sales: AfterSalesPolicy = AfterSalesPolicy()
    provider_max_attempts: int = 10
    provider_max_backoff: timedelta = timedelta(seconds=60)


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
