"""A chargeback: the buyer's card network takes a captured payment back, reported by the payment provider.

The provider reports a dispute when it opens (the money is taken from the platform at once) and when it closes:
`won` returns the money, `lost` keeps it gone. Each notice carries the whole story (its dispute id, order and
amount), so notices that arrive twice or out of order come to the same entries (domain/seller_ledger.py).
While a dispute is open the seller may give evidence, which the seller payouts workflow hands to the provider.
"""

import hashlib
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.order_request import Identifier
from domain.text import FreeText, SingleLine


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


class ChargebackEvidence(BaseModel):
    """The seller's case for keeping the money (`POST /v1/sellers/{id}/chargebacks/{dispute_id}/evidence`). The
    order's own tracking number and delivery time go to the provider with it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    explanation: Annotated[FreeText, Field(min_length=1, max_length=5000, description="why the charge stands, in the seller's words")]
    documents: list[Annotated[SingleLine, Field(min_length=1, max_length=500)]] = Field(
        [], max_length=10, description="references to documents the seller keeps (invoices, photos, messages), shown to the provider"
    )


class EvidenceStatus(StrEnum):
    PENDING = "pending"  # kept; on its way to the provider
    SUBMITTED = "submitted"
    REFUSED = "refused"  # the provider would not take it (the dispute had closed)


class ChargebackSummary(BaseModel):
    """A chargeback as the order's view shows it to everyone who may see the order."""

    dispute_id: str
    amount: int
    currency: str
    status: ChargebackStatus
    opened_at: AwareDatetime
    closed_at: AwareDatetime | None
    evidence_status: EvidenceStatus | None = Field(description="whether the seller gave evidence and the provider has it")


class Chargeback(ChargebackSummary):
    """A chargeback as the seller and operators see it."""

    order_id: str
    seller_id: str
    evidence: ChargebackEvidence | None
    evidence_failure: str | None = Field(description="why the provider refused the evidence")


class EvidenceSubmission(BaseModel):
    """What the provider is given: the seller's evidence and the order's proof of delivery, keyed by its content."""

    idempotency_key: str
    dispute_id: str
    order_id: str
    explanation: str
    documents: list[str]
    tracking_number: str | None
    delivered_at: AwareDatetime | None


def evidence_key(dispute_id: str, evidence: ChargebackEvidence) -> str:
    """The provider's idempotency key for one version of the evidence."""
    digest = hashlib.sha256(evidence.model_dump_json().encode()).hexdigest()[:16]
    return f"evidence:{dispute_id}:{digest}"
