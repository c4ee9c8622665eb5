"""Double-entry ledger vocabulary and the entries each money movement writes.

Sign convention (also in the schema): a posting's amount is what flows INTO the account (positive) or
OUT of it (negative), in minor units. Every entry's postings sum to zero per currency. Accounts inside
the platform (escrow, seller balances, fee accounts) may never go negative; the two external accounts,
`external:buyers` (money that came in from buyers' payment methods) and `external:payouts` (money that
left to sellers' bank accounts), mirror the platform's boundary and may; so does
`fulfillment:reimbursements`, what the fulfillment network owes for reimbursements and compensation
(netted against its fees off-platform); `owed:<seller>`, what a seller owes the platform after a chargeback
(their net balance may be negative, their available balance never); and `platform:losses`, debts written off.

Money out (refunds, payouts, credits) passes through the order's own `pending:<kind>:<order>:<currency>`
account: reserved there before the provider is called, settled out once it has paid (`Disbursement`). An
order's escrow can therefore be disbursed only once: a second, different outcome overdraws it and is
refused before any provider call.
"""

from collections import defaultdict
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain import order_steps as steps
from domain.fees import Fees
from domain.fx import FxQuote, convert


class EntryKind(StrEnum):
    CAPTURE = "capture"
    RELEASE = "release"
    PAYOUT = "payout"
    REFUND = "refund"
    REIMBURSEMENT = "reimbursement"
    COMPENSATION = "compensation"
    # A seller's own money after the sale (domain/seller_ledger.py).
    RESERVE_RELEASE = "reserve_release"
    CHARGEBACK = "chargeback"
    CHARGEBACK_REVERSAL = "chargeback_reversal"
    RECOVERY = "recovery"
    WRITE_OFF = "write_off"
    LOSS_RECOVERED = "loss_recovered"


class AccountSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    owner: str
    currency: str
    may_go_negative: bool = False
    # The seller whose money the account holds (their own account, an order's escrow): their balance is kept per
    # seller and currency as the ledger moves (db/balances.py). Set when the account is first written.
    seller_id: str | None = None


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
    memo: dict[str, Any] | None = Field(None, description="context recorded with the entry, e.g. the locked FX quote")

    def unbalanced_currencies(self) -> list[str]:
        sums: dict[str, int] = defaultdict(int)
        for p in self.postings:
            sums[p.account.currency] += p.amount
        return sorted(c for c, s in sums.items() if s != 0)


def external_buyers(currency: str) -> AccountSpec:
    return AccountSpec(code=f"external:buyers:{currency}", owner="external", currency=currency, may_go_negative=True)


def external_payouts(currency: str) -> AccountSpec:
    return AccountSpec(code=f"external:payouts:{currency}", owner="external", currency=currency, may_go_negative=True)


def escrow(order_id: str, currency: str, seller_id: str | None = None) -> AccountSpec:
    """The order's escrow; `seller_id` where the account is first written (the capture) says whose it is."""
    return AccountSpec(code=f"escrow:{order_id}:{currency}", owner=f"order:{order_id}", currency=currency, seller_id=seller_id)


def seller_available(seller_id: str, currency: str) -> AccountSpec:
    return AccountSpec(code=f"seller:{seller_id}:{currency}", owner=f"seller:{seller_id}", currency=currency, seller_id=seller_id)


def seller_reserve(seller_id: str, currency: str) -> AccountSpec:
    """Released to the seller but held back until the reserve's time (then it moves to their available balance)."""
    return AccountSpec(code=f"reserve:{seller_id}:{currency}", owner=f"seller:{seller_id}", currency=currency, seller_id=seller_id)


def seller_owed(seller_id: str, currency: str) -> AccountSpec:
    """What the seller owes the platform (chargebacks taken after their money was paid out): zero or negative,
    recovered from their next payouts or written off."""
    return AccountSpec(
        code=f"owed:{seller_id}:{currency}", owner=f"seller:{seller_id}", currency=currency, may_go_negative=True, seller_id=seller_id
    )


def platform_losses(currency: str) -> AccountSpec:
    """What the platform lost: sellers' debts written off."""
    return AccountSpec(code=f"platform:losses:{currency}", owner="platform", currency=currency, may_go_negative=True)


def marketplace_fees(currency: str) -> AccountSpec:
    return AccountSpec(code=f"platform:marketplace_fees:{currency}", owner="platform", currency=currency)


def fulfillment_fees_payable(currency: str) -> AccountSpec:
    return AccountSpec(code=f"fulfillment:fees_payable:{currency}", owner="fulfillment_network", currency=currency)


def fulfillment_reimbursements(currency: str) -> AccountSpec:
    return AccountSpec(code=f"fulfillment:reimbursements:{currency}", owner="fulfillment_network", currency=currency, may_go_negative=True)


def pending(order_id: str, kind: "EntryKind", currency: str) -> AccountSpec:
    """Money of the order on its way out (a refund, payout or credit the provider has not confirmed yet)."""
    return AccountSpec(code=f"pending:{kind}:{order_id}:{currency}", owner=f"order:{order_id}", currency=currency)


def fx_position(currency: str) -> AccountSpec:
    """The platform's position in a currency from settling sellers in another one (bought or sold at mid)."""
    return AccountSpec(code=f"fx:position:{currency}", owner="platform", currency=currency, may_go_negative=True)


def fx_gain_loss(currency: str) -> AccountSpec:
    """The platform's FX result: the spread it earns between the mid rate and the client rate."""
    return AccountSpec(code=f"platform:fx_gain_loss:{currency}", owner="platform", currency=currency, may_go_negative=True)


def settled_amount(amount: int, fx: FxQuote | None) -> int:
    """What `amount` of the order currency becomes in the seller's settlement currency."""
    return amount if fx is None or fx.base == fx.quote else convert(amount, fx.base, fx.quote, fx.rate)


def _to_seller(seller_id: str, amount: int, currency: str, fx: FxQuote | None) -> list[Posting]:
    """Postings that credit the seller `amount` of `currency`, converted at the locked quote when the seller
    settles in another currency: through the FX position accounts, so each currency balances on its own,
    with the spread booked as FX gain."""
    if fx is None or fx.base == fx.quote:
        return [Posting(account=seller_available(seller_id, currency), amount=amount)]
    settled = settled_amount(amount, fx)
    at_mid = convert(amount, fx.base, fx.quote, fx.mid_rate)
    candidates = [
        (fx_position(fx.base), amount),
        (fx_position(fx.quote), -at_mid),
        (seller_available(seller_id, fx.quote), settled),
        (fx_gain_loss(fx.quote), at_mid - settled),
    ]
    return [Posting(account=account, amount=value) for account, value in candidates if value]


def _fx_memo(fx: FxQuote | None) -> dict[str, Any] | None:
    return {"fx": fx.model_dump(mode="json")} if fx is not None and fx.base != fx.quote else None


def entry_key(workflow_id: str, step: str) -> str:
    return f"{workflow_id}:{step}"


def capture_entry(
    workflow_id: str, order_id: str, amount: int, currency: str, fx: FxQuote | None = None, seller_id: str | None = None
) -> EntryRequest:
    """The buyer's money into the order's escrow, which the capture opens for `seller_id`."""
    return EntryRequest(
        idempotency_key=entry_key(workflow_id, steps.RECORD_CAPTURE.key),
        order_id=order_id,
        kind=EntryKind.CAPTURE,
        memo=_fx_memo(fx),
        postings=[
            Posting(account=external_buyers(currency), amount=-amount),
            Posting(account=escrow(order_id, currency, seller_id), amount=amount),
        ],
    )


class ReserveHold(BaseModel):
    """Part of a release kept in the seller's reserve until `until` (in their settlement currency)."""

    model_config = ConfigDict(frozen=True)

    amount: int = Field(ge=0)
    currency: str
    until: datetime


def release_entry(
    workflow_id: str,
    order_id: str,
    seller_id: str,
    amount: int,
    fees: Fees,
    currency: str,
    fx: FxQuote | None = None,
    hold: ReserveHold | None = None,
) -> EntryRequest:
    """Escrow goes to the fee accounts and the seller's available balance (in their settlement currency), less the
    part `hold` keeps in the seller's reserve until its time."""
    seller_share = amount - fees.total
    postings = [Posting(account=escrow(order_id, currency), amount=-amount)]
    if fees.referral:
        postings.append(Posting(account=marketplace_fees(currency), amount=fees.referral))
    if fees.fulfillment:
        postings.append(Posting(account=fulfillment_fees_payable(currency), amount=fees.fulfillment))
    if seller_share:
        postings.extend(_to_seller(seller_id, seller_share, currency, fx))
    memo = _fx_memo(fx)
    if hold is not None and hold.amount:
        postings = _held_back(postings, seller_available(seller_id, hold.currency), hold, seller_reserve(seller_id, hold.currency))
        memo = {**(memo or {}), "reserve": hold.model_dump(mode="json")}
    return EntryRequest(
        idempotency_key=entry_key(workflow_id, steps.RELEASE.key),
        order_id=order_id,
        kind=EntryKind.RELEASE,
        postings=postings,
        memo=memo,
    )


def _held_back(postings: list[Posting], available: AccountSpec, hold: ReserveHold, reserve: AccountSpec) -> list[Posting]:
    kept = []
    for p in postings:
        if p.account == available:
            if p.amount > hold.amount:
                kept.append(Posting(account=available, amount=p.amount - hold.amount))
            elif p.amount < hold.amount:
                raise ValueError(f"a reserve of {hold.amount} exceeds the seller's share of {p.amount}")
        else:
            kept.append(p)
    return [*kept, Posting(account=reserve, amount=hold.amount)]


def payout_entry(workflow_id: str, order_id: str, seller_id: str, amount: int, currency: str, step: str = steps.PAYOUT.key) -> EntryRequest:
    """A payout in one entry, written after the provider paid (orders whose history predates Disbursement)."""
    return EntryRequest(
        idempotency_key=entry_key(workflow_id, step),
        order_id=order_id,
        kind=EntryKind.PAYOUT,
        postings=[
            Posting(account=seller_available(seller_id, currency), amount=-amount),
            Posting(account=external_payouts(currency), amount=amount),
        ],
    )


def refund_entry(workflow_id: str, order_id: str, amount: int, currency: str, step: str = steps.REFUND.key) -> EntryRequest:
    """A refund in one entry, written after the provider refunded (orders whose history predates Disbursement)."""
    return EntryRequest(
        idempotency_key=entry_key(workflow_id, step),
        order_id=order_id,
        kind=EntryKind.REFUND,
        postings=[
            Posting(account=escrow(order_id, currency), amount=-amount),
            Posting(account=external_buyers(currency), amount=amount),
        ],
    )


def reimbursement_entry(
    workflow_id: str, order_id: str, seller_id: str, amount: int, currency: str, fx: FxQuote | None = None
) -> EntryRequest:
    """The fulfillment network makes the seller whole for goods it lost or damaged."""
    return EntryRequest(
        idempotency_key=entry_key(workflow_id, steps.REIMBURSEMENT.key),
        order_id=order_id,
        kind=EntryKind.REIMBURSEMENT,
        postings=[Posting(account=fulfillment_reimbursements(currency), amount=-amount), *_to_seller(seller_id, amount, currency, fx)],
        memo=_fx_memo(fx),
    )


def compensation_entry(workflow_id: str, order_id: str, amount: int, currency: str) -> EntryRequest:
    """A late-delivery credit in one entry, written after the provider credited (histories before Disbursement)."""
    return EntryRequest(
        idempotency_key=entry_key(workflow_id, steps.LATE_DELIVERY_COMPENSATION.key),
        order_id=order_id,
        kind=EntryKind.COMPENSATION,
        postings=[
            Posting(account=fulfillment_reimbursements(currency), amount=-amount),
            Posting(account=external_buyers(currency), amount=amount),
        ],
    )


class Disbursement(BaseModel):
    """Money leaving the platform, in two entries around the provider call: `reserve` moves it from its
    source into the order's pending account before the provider is asked (so the ledger refuses a second,
    different disbursement of the same money before anything leaves), `settle` moves it out once the
    provider has done it. The reserve entry keeps the step's own key, `settle` adds `:settled`."""

    model_config = ConfigDict(frozen=True)

    reserve: EntryRequest
    settle: EntryRequest

    def returned(self) -> EntryRequest:
        """The provider refused for certain: the reserved money goes back to its source (the reserve's key + `:returned`)."""
        source, on_its_way = (p.account for p in self.reserve.postings)
        amount = self.reserve.postings[1].amount
        return EntryRequest(
            idempotency_key=self.reserve.idempotency_key + RETURNED_SUFFIX,
            order_id=self.reserve.order_id,
            kind=self.reserve.kind,
            postings=[Posting(account=on_its_way, amount=-amount), Posting(account=source, amount=amount)],
        )


# The key suffixes of a disbursement's settle entry (`order-<id>:<step>:settled`) and of its return.
SETTLED_SUFFIX = ":settled"
RETURNED_SUFFIX = ":returned"


def _disbursement(
    workflow_id: str, order_id: str, kind: EntryKind, step: str, source: AccountSpec, destination: AccountSpec, amount: int
) -> Disbursement:
    on_its_way = pending(order_id, kind, destination.currency)
    return Disbursement(
        reserve=EntryRequest(
            idempotency_key=entry_key(workflow_id, step),
            order_id=order_id,
            kind=kind,
            postings=[Posting(account=source, amount=-amount), Posting(account=on_its_way, amount=amount)],
        ),
        settle=EntryRequest(
            idempotency_key=entry_key(workflow_id, step) + SETTLED_SUFFIX,
            order_id=order_id,
            kind=kind,
            postings=[Posting(account=on_its_way, amount=-amount), Posting(account=destination, amount=amount)],
        ),
    )


def refund_disbursement(workflow_id: str, order_id: str, amount: int, currency: str, step: str = steps.REFUND.key) -> Disbursement:
    """Escrow goes back to the buyer."""
    return _disbursement(workflow_id, order_id, EntryKind.REFUND, step, escrow(order_id, currency), external_buyers(currency), amount)


def payout_disbursement(
    workflow_id: str, order_id: str, seller_id: str, amount: int, currency: str, step: str = steps.PAYOUT.key
) -> Disbursement:
    """The seller's available balance goes to their bank account."""
    return _disbursement(
        workflow_id, order_id, EntryKind.PAYOUT, step, seller_available(seller_id, currency), external_payouts(currency), amount
    )


def compensation_disbursement(workflow_id: str, order_id: str, amount: int, currency: str) -> Disbursement:
    """The fulfillment network compensates the buyer for late delivery (credited to the buyer's card)."""
    return _disbursement(
        workflow_id,
        order_id,
        EntryKind.COMPENSATION,
        steps.LATE_DELIVERY_COMPENSATION.key,
        fulfillment_reimbursements(currency),
        external_buyers(currency),
        amount,
    )
