"""Double-entry ledger vocabulary and the entries each money movement writes.

Sign convention (also in the schema): a posting's amount is what flows INTO the account (positive) or
OUT of it (negative), in minor units. Every entry's postings sum to zero per currency. Accounts inside
the platform (escrow, seller balances, fee accounts) may never go negative; the two external accounts,
`external:buyers` (money that came in from buyers' payment methods) and `external:payouts` (money that
left to sellers' bank accounts), mirror the platform's boundary and may; so does
`fulfillment:reimbursements`, what the fulfillment network owes for reimbursements and compensation
(netted against its fees off-platform).
"""

from collections import defaultdict
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.fees import Fees


class EntryKind(StrEnum):
    CAPTURE = "capture"
    RELEASE = "release"
    PAYOUT = "payout"
    REFUND = "refund"
    REIMBURSEMENT = "reimbursement"
    COMPENSATION = "compensation"


class AccountSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    owner: str
    currency: str
    may_go_negative: bool = False


class Posting(BaseModel):
    model_config = ConfigDict(frozen=True)

    account: AccountSpec
    amount: int = Field(description="minor units into (+) or out of (-) the account; never zero")

    @field_validator("amount")
    @classmethod
    def _not_zero(cls, amount: int) -> int:
        if amount == 0:
            raise ValueError("a posting moves money: its amount cannot be zero")
        return amount


class EntryRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    idempotency_key: str = Field(min_length=1)
    order_id: str
    kind: EntryKind
    postings: list[Posting] = Field(min_length=2)

    def unbalanced_currencies(self) -> list[str]:
        sums: dict[str, int] = defaultdict(int)
        for p in self.postings:
            sums[p.account.currency] += p.amount
        return sorted(c for c, s in sums.items() if s != 0)


def external_buyers(currency: str) -> AccountSpec:
    return AccountSpec(code=f"external:buyers:{currency}", owner="external", currency=currency, may_go_negative=True)


def external_payouts(currency: str) -> AccountSpec:
    return AccountSpec(code=f"external:payouts:{currency}", owner="external", currency=currency, may_go_negative=True)


def escrow(order_id: str, currency: str) -> AccountSpec:
    return AccountSpec(code=f"escrow:{order_id}:{currency}", owner=f"order:{order_id}", currency=currency)


def seller_available(seller_id: str, currency: str) -> AccountSpec:
    return AccountSpec(code=f"seller:{seller_id}:{currency}", owner=f"seller:{seller_id}", currency=currency)


def marketplace_fees(currency: str) -> AccountSpec:
    return AccountSpec(code=f"platform:marketplace_fees:{currency}", owner="platform", currency=currency)


def fulfillment_fees_payable(currency: str) -> AccountSpec:
    return AccountSpec(code=f"fulfillment:fees_payable:{currency}", owner="fulfillment_network", currency=currency)


def fulfillment_reimbursements(currency: str) -> AccountSpec:
    return AccountSpec(code=f"fulfillment:reimbursements:{currency}", owner="fulfillment_network", currency=currency, may_go_negative=True)


def entry_key(workflow_id: str, step: str) -> str:
    return f"{workflow_id}:{step}"


def capture_entry(workflow_id: str, order_id: str, amount: int, currency: str) -> EntryRequest:
    return EntryRequest(
        idempotency_key=entry_key(workflow_id, "capture"),
        order_id=order_id,
        kind=EntryKind.CAPTURE,
        postings=[
            Posting(account=external_buyers(currency), amount=-amount),
            Posting(account=escrow(order_id, currency), amount=amount),
        ],
    )


def release_entry(workflow_id: str, order_id: str, seller_id: str, amount: int, fees: Fees, currency: str) -> EntryRequest:
    """Escrow goes to the fee accounts and the seller's available balance."""
    seller_share = amount - fees.total
    postings = [Posting(account=escrow(order_id, currency), amount=-amount)]
    if fees.referral:
        postings.append(Posting(account=marketplace_fees(currency), amount=fees.referral))
    if fees.fulfillment:
        postings.append(Posting(account=fulfillment_fees_payable(currency), amount=fees.fulfillment))
    if seller_share:
        postings.append(Posting(account=seller_available(seller_id, currency), amount=seller_share))
    return EntryRequest(idempotency_key=entry_key(workflow_id, "release"), order_id=order_id, kind=EntryKind.RELEASE, postings=postings)


def payout_entry(workflow_id: str, order_id: str, seller_id: str, amount: int, currency: str, step: str = "payout") -> EntryRequest:
    return EntryRequest(
        idempotency_key=entry_key(workflow_id, step),
        order_id=order_id,
        kind=EntryKind.PAYOUT,
        postings=[
            Posting(account=seller_available(seller_id, currency), amount=-amount),
            Posting(account=external_payouts(currency), amount=amount),
        ],
    )


def refund_entry(workflow_id: str, order_id: str, amount: int, currency: str, step: str = "refund") -> EntryRequest:
    """Escrow goes back to the buyer."""
    return EntryRequest(
        idempotency_key=entry_key(workflow_id, step),
        order_id=order_id,
        kind=EntryKind.REFUND,
        postings=[
            Posting(account=escrow(order_id, currency), amount=-amount),
            Posting(account=external_buyers(currency), amount=amount),
        ],
    )


def reimbursement_entry(workflow_id: str, order_id: str, seller_id: str, amount: int, currency: str) -> EntryRequest:
    """The fulfillment network makes the seller whole for goods it lost or damaged."""
    return EntryRequest(
        idempotency_key=entry_key(workflow_id, "reimbursement"),
        order_id=order_id,
        kind=EntryKind.REIMBURSEMENT,
        postings=[
            Posting(account=fulfillment_reimbursements(currency), amount=-amount),
            Posting(account=seller_available(seller_id, currency), amount=amount),
        ],
    )


def compensation_entry(workflow_id: str, order_id: str, amount: int, currency: str) -> EntryRequest:
    """The fulfillment network compensates the buyer for late delivery (credited to the buyer's card)."""
    return EntryRequest(
        idempotency_key=entry_key(workflow_id, "late-delivery-compensation"),
        order_id=order_id,
        kind=EntryKind.COMPENSATION,
        postings=[
            Posting(account=fulfillment_reimbursements(currency), amount=-amount),
            Posting(account=external_buyers(currency), amount=amount),
        ],
    )
