"""A chargeback: the buyer's card network takes a captured payment back, reported by the payment provider.

The provider reports a dispute when it opens (the money is taken from the platform at once) and when it closes:
`won` returns the money, `lost` keeps it gone. Each notice carries the whole story (its dispute id, order and
amount), so notices that arrive twice or out of order come to the same entries (domain/seller_ledger.py).
"""

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.order_request import Identifier


class ChargebackStatus(StrEnum):
    OPENED = "opened"
    WON = "won"
    LOST = "lost"


class ChargebackNotice(BaseModel):
    """What the seller payouts workflow is told: the provider's notice and the seller it concerns."""

    model_config = ConfigDict(frozen=True)

    dispute_id: Identifier
    order_id: Identifier
    seller_id: Identifier
    status: ChargebackStatus
    amount: int = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    occurred_at: AwareDatetime
