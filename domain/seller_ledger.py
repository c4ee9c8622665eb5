"""The entries of a seller's own money after the sale: reserves coming due, chargebacks and their outcome, debts
recovered or written off, and payouts of a pooled balance (db/seller_payouts.py writes them).

A seller holds four kinds of account per currency: escrow of their open orders, `seller:` (available),
`reserve:` (released but held back until its time) and `owed:` (what they owe the platform after a chargeback;
never positive for long: the next payout cut moves it back to available). Their net balance is the sum of the
last three and may be negative; only `owed:` may go negative, so a payout can still never take more than is
available.
"""

from typing import Any

from domain.ledger import (
    SETTLED_SUFFIX,
    AccountSpec,
    Disbursement,
    EntryKind,
    EntryRequest,
    Posting,
    external_buyers,
    external_payouts,
    fulfillment_reimbursements,
    platform_losses,
    seller_available,
    seller_owed,
    seller_reserve,
)


def pending_payout(payout_id: str, currency: str) -> AccountSpec:
    """A pooled payout on its way to the seller's bank account."""
    return AccountSpec(code=f"pending:payout:{payout_id}:{currency}", owner=f"payout:{payout_id}", currency=currency)


def _entry(
    key: str, subject: str, kind: EntryKind, source: AccountSpec, destination: AccountSpec, amount: int, memo: dict[str, Any] | None = None
) -> EntryRequest:
    return EntryRequest(
        idempotency_key=key,
        order_id=subject,
        kind=kind,
        postings=[Posting(account=source, amount=-amount), Posting(account=destination, amount=amount)],
        memo=memo,
    )


def reserve_release_entry(release_key: str, order_id: str, seller_id: str, amount: int, currency: str) -> EntryRequest:
    """A release's reserve, come due, becomes available."""
    return _entry(
        f"{release_key}:reserve-released",
        order_id,
        EntryKind.RESERVE_RELEASE,
        seller_reserve(seller_id, currency),
        seller_available(seller_id, currency),
        amount,
    )


def chargeback_key(dispute_id: str) -> str:
    return f"chargeback:{dispute_id}"


def chargeback_entry(dispute_id: str, order_id: str, seller_id: str, amount: int, currency: str) -> EntryRequest:
    """The card network took the buyer's money back from the platform; the seller owes it."""
    return _entry(
        chargeback_key(dispute_id),
        order_id,
        EntryKind.CHARGEBACK,
        seller_owed(seller_id, currency),
        external_buyers(currency),
        amount,
        memo={"dispute_id": dispute_id},
    )


def chargeback_reversal_entry(dispute_id: str, order_id: str, seller_id: str, amount: int, currency: str) -> EntryRequest:
    """A chargeback the seller won: the money comes back and is theirs again."""
    return _entry(
        chargeback_key(dispute_id) + ":won",
        order_id,
        EntryKind.CHARGEBACK_REVERSAL,
        external_buyers(currency),
        seller_owed(seller_id, currency),
        amount,
        memo={"dispute_id": dispute_id},
    )


def recovery_entry(cut_id: str, seller_id: str, amount: int, currency: str) -> EntryRequest:
    """Settle what the seller owes against what is available: `amount` > 0 pays a debt from the available balance,
    < 0 returns a credit (a chargeback won after its debt was recovered) to it."""
    available, owed = seller_available(seller_id, currency), seller_owed(seller_id, currency)
    source, destination = (available, owed) if amount > 0 else (owed, available)
    return _entry(f"{cut_id}:recovery", cut_id, EntryKind.RECOVERY, source, destination, abs(amount))


def loss_recovered_entry(cut_id: str, seller_id: str, amount: int, currency: str) -> EntryRequest:
    """A chargeback won after its debt was written off: the platform's loss is repaid first."""
    return _entry(
        f"{cut_id}:loss-recovered", cut_id, EntryKind.LOSS_RECOVERED, seller_owed(seller_id, currency), platform_losses(currency), amount
    )


# The keys a cut writes under, after its id (`po:<seller>:<CUR>:<time>`; the payout's own reserve entry has no suffix).
CUT_SUFFIXES = ("", ":recovery", ":write-off", ":loss-recovered")


def write_off_entry(cut_id: str, seller_id: str, amount: int, currency: str) -> EntryRequest:
    """A debt unrecovered for too long becomes the platform's loss."""
    return _entry(f"{cut_id}:write-off", cut_id, EntryKind.WRITE_OFF, platform_losses(currency), seller_owed(seller_id, currency), amount)


def pooled_payout(payout_id: str, seller_id: str, amount: int, currency: str) -> Disbursement:
    """The seller's available balance to their bank account, reserved before the provider is asked (keyed by the
    payout's own id) and settled once it has paid."""
    available, on_its_way = seller_available(seller_id, currency), pending_payout(payout_id, currency)
    return Disbursement(
        reserve=_entry(payout_id, payout_id, EntryKind.PAYOUT, available, on_its_way, amount),
        settle=_entry(payout_id + SETTLED_SUFFIX, payout_id, EntryKind.PAYOUT, on_its_way, external_payouts(currency), amount),
    )


def claim_key(claim_id: str) -> str:
    return f"claim:{claim_id}"


def claim_refund(claim_id: str, order_id: str, seller_id: str, amount: int, currency: str, seller_pays: bool) -> Disbursement:
    """A refund after the sale, from the seller's debt account (their fault) or the fulfillment network's (its fault):
    reserved in the claim's pending account before the provider is asked, settled to the buyer after."""
    source = seller_owed(seller_id, currency) if seller_pays else fulfillment_reimbursements(currency)
    on_its_way = AccountSpec(code=f"pending:claim:{claim_id}:{currency}", owner=f"claim:{claim_id}", currency=currency)
    key = claim_key(claim_id)
    return Disbursement(
        reserve=_entry(key, order_id, EntryKind.REFUND, source, on_its_way, amount, memo={"claim_id": claim_id}),
        settle=_entry(key + SETTLED_SUFFIX, order_id, EntryKind.REFUND, on_its_way, external_buyers(currency), amount),
    )
