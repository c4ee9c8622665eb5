"""A claim after the sale: a buyer-protection claim or a return accepted after the order settled. The buyer is
refunded against the order's capture; who pays is decided by fault, as in a dispute: the seller (from their
balance, as a debt when it holds too little) or the fulfillment network (for its own faults)."""

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from domain.json_schema import WHOLE_NUMBER
from domain.order_request import Identifier
from domain.text import SingleLine


class ClaimFault(StrEnum):
    SELLER = "seller"
    FULFILLMENT_NETWORK = "fulfillment_network"


class ClaimRequest(BaseModel):
    """An operator's decision on a claim (`POST /v1/orders/{id}/claims`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    claim_id: Identifier
    amount: Annotated[
        StrictInt, Field(gt=0, le=10**12, description="minor units of the order's currency refunded to the buyer"), WHOLE_NUMBER
    ]
    fault: ClaimFault
    reason: Annotated[SingleLine, Field(min_length=1, max_length=500)]


class ClaimNotice(BaseModel):
    """What the seller payouts workflow is told: the claim and what the refund needs."""

    model_config = ConfigDict(frozen=True)

    claim_id: str
    order_id: str
    seller_id: str
    capture_id: str
    amount: int = Field(gt=0)
    currency: str
    fault: ClaimFault
