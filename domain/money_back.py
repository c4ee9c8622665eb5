"""Money that went back to the buyer after an order settled: chargebacks the provider reported and claims operators
accepted (docs/payouts.md). The order's view shows them, and they bound each other: together with the order's own
refunds they never give back more than was captured."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from domain.chargebacks import Chargeback, ChargebackStatus
from domain.claims import ClaimFault
from domain.order_state import Amounts


class ClaimStatus(StrEnum):
    REFUNDING = "refunding"  # the money is reserved; the provider has not refunded it yet
    REFUNDED = "refunded"
    REFUSED = "refused"  # the provider refused the refund: the money went back to whoever was to pay


class ClaimRefund(BaseModel):
    claim_id: str
    amount: int
    paid_by: ClaimFault = Field(description="who pays: the seller (at fault) or the fulfillment network")
    status: ClaimStatus
    accepted_at: datetime


class MoneyBack(BaseModel):
    chargebacks: list[Chargeback] = []
    claims: list[ClaimRefund] = []

    def left_to_give_back(self, amounts: Amounts, *, dispute_id: str | None = None, claim_id: str | None = None) -> int:
        """What was captured and is not yet refunded, charged back (and not won back) or claimed (and not refused),
        leaving out the chargeback or claim being checked (a notice or a claim repeated is not counted twice)."""
        charged_back = sum(c.amount for c in self.chargebacks if c.status != ChargebackStatus.WON and c.dispute_id != dispute_id)
        claimed = sum(c.amount for c in self.claims if c.status != ClaimStatus.REFUSED and c.claim_id != claim_id)
        return max(amounts.captured - amounts.refunded - charged_back - claimed, 0)

    def chargeback(self, dispute_id: str) -> Chargeback | None:
        return next((c for c in self.chargebacks if c.dispute_id == dispute_id), None)

    def claim(self, claim_id: str) -> ClaimRefund | None:
        return next((c for c in self.claims if c.claim_id == claim_id), None)
