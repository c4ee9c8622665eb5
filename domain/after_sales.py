"""After-sales vocabulary and policy: disputes, their outcomes, returns, fault and late delivery.

Policy (documented in the README):
- the seller has `seller_response_window` (default 3 days) from the dispute's opening to accept the
  refund or submit evidence; silence grants the buyer's claim (full refund);
- an operator decides before `resolution_window` (default 7 days from the opening); when that lapses the
  dispute escalates to the buyer-protection default: a full refund;
- a return must ship within `return_window` (default 14 days) of the decision, or the money is released
  to the seller; once shipped, it must arrive within `return_transit_window` (default 14 days), or the
  buyer, who did their part, is refunded anyway;
- when `deliver_by` lapses before delivery, the buyer is compensated `late_delivery_compensation_bps`
  (default 10 %) of the order total at the fulfillment network's cost, once; if the parcel has still not
  arrived `lost_after_late` (default 14 days) later, it is treated as lost;
- a parcel lost or damaged by the fulfillment network: the buyer is refunded in full from escrow and the
  network reimburses the seller what the sale would have paid them (total less fees).
- fees are taken only from money released to the seller: after a partial refund both fees are
  recomputed on the remainder; a full refund takes none.
"""

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from domain.json_schema import WHOLE_NUMBER, variants
from domain.text import FreeText


class DisputeReason(StrEnum):
    DAMAGED = "damaged"
    NOT_AS_DESCRIBED = "not_as_described"
    NOT_RECEIVED = "not_received"
    LATE_DELIVERY = "late_delivery"
    MISSING_ITEMS = "missing_items"


class DisputeOutcome(StrEnum):
    RELEASE = "release"
    REFUND = "refund"
    PARTIAL_REFUND = "partial_refund"
    RETURN_AND_REFUND = "return_and_refund"


class Fault(StrEnum):
    SELLER = "seller"
    FULFILLMENT_NETWORK = "fulfillment_network"


class AfterSalesPolicy(BaseModel):
    seller_response_window: timedelta = timedelta(days=3)
    resolution_window: timedelta = timedelta(days=7)
    return_window: timedelta = timedelta(days=14)
    return_transit_window: timedelta = timedelta(days=14)
    late_delivery_compensation_bps: int = Field(1000, ge=0, le=10_000)
    lost_after_late: timedelta = timedelta(days=14)


class DisputeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: DisputeReason
    description: FreeText = Field(min_length=1, max_length=2000)


class SellerResponse(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=variants(
            "oneOf",
            ({"accept_refund": {"const": True}, "evidence": {"type": "null"}}, {"accept_refund"}),
            ({"accept_refund": {"const": False}, "evidence": {"type": "string"}}, {"evidence"}),
        ),
    )

    accept_refund: StrictBool = False
    evidence: FreeText | None = Field(None, min_length=1, max_length=5000)

    @model_validator(mode="after")
    def _one_of(self) -> "SellerResponse":
        if self.accept_refund == (self.evidence is not None):
            raise ValueError("give either accept_refund: true or evidence, not both and not neither")
        return self


class Resolution(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=variants(
            "oneOf",
            ({"outcome": {"const": DisputeOutcome.PARTIAL_REFUND}, "refund_amount": {"type": "integer"}}, {"refund_amount"}),
            (
                {"outcome": {"enum": [o for o in DisputeOutcome if o != DisputeOutcome.PARTIAL_REFUND]}, "refund_amount": {"type": "null"}},
                set(),
            ),
        ),
    )

    outcome: DisputeOutcome
    # At most an order's largest total (domain.order_request.MAX_ORDER_TOTAL): no escrow holds more.
    refund_amount: Annotated[StrictInt, Field(gt=0, le=10**15), WHOLE_NUMBER] | None = Field(
        None, description="minor units; partial_refund only"
    )
    note: FreeText = Field("", max_length=2000)

    @model_validator(mode="after")
    def _amount_matches_outcome(self) -> "Resolution":
        if (self.outcome == DisputeOutcome.PARTIAL_REFUND) != (self.refund_amount is not None):
            raise ValueError("refund_amount is required for partial_refund and only for it")
        return self


class Dispute(BaseModel):
    reason: DisputeReason
    description: str
    opened_at: AwareDatetime
    opened_by: str
    fault: Fault = Fault.SELLER
    seller_response_by: AwareDatetime
    resolution_by: AwareDatetime
    seller_response: SellerResponse | None = None
    resolution: Resolution | None = None
    resolved_by: str | None = None
    resolved_at: AwareDatetime | None = None


class ReturnShipment(BaseModel):
    requested_at: AwareDatetime
    return_by: AwareDatetime
    shipped_at: AwareDatetime | None = None
    received_at: AwareDatetime | None = None


def open_dispute(request: DisputeRequest, opened_by: str, now: datetime, policy: AfterSalesPolicy, fault: Fault = Fault.SELLER) -> Dispute:
    return Dispute(
        reason=request.reason,
        description=request.description,
        opened_at=now,
        opened_by=opened_by,
        fault=fault,
        seller_response_by=now + policy.seller_response_window,
        resolution_by=now + policy.resolution_window,
    )
