"""A settlement report: one pooled payout and the movements it settles, in the shape of a marketplace's flat-file
settlement report (a summary, then one line per order and transaction type).

A line's `amount` is what the movement adds to (or takes from) what the seller is owed: their available balance
and their debts together. A payout takes the whole available balance once what they owe is settled, and the
payout before it did the same, so the lines of a settlement add up to its total.
"""

from datetime import datetime
from itertools import groupby
from typing import Any

from pydantic import BaseModel

from domain.ledger import EntryKind


class SettlementLine(BaseModel):
    posted_at: datetime
    order_id: str
    transaction_type: str
    amount: int
    entry_id: int


class SettlementSummary(BaseModel):
    settlement_id: str
    seller_id: str
    currency: str
    period_start: datetime | None
    period_end: datetime
    deposit_date: datetime | None
    total: int
    status: str


class SettlementReport(SettlementSummary):
    lines: list[SettlementLine]


# Seller-account postings of these kinds, by what they are to the seller (the release is broken down instead).
ACCOUNT_LINES = {
    EntryKind.RESERVE_RELEASE: "reserve_released",
    EntryKind.CHARGEBACK: "chargeback",
    EntryKind.CHARGEBACK_REVERSAL: "chargeback_reversal",
    EntryKind.WRITE_OFF: "debt_written_off",
    EntryKind.LOSS_RECOVERED: "write_off_repaid",
    EntryKind.REIMBURSEMENT: "reimbursement",
    EntryKind.PAYOUT: "payout",
}
SELLER_ACCOUNTS = ("seller:", "owed:")


def settlement_lines(settlement_id: str, postings: list[dict[str, Any]]) -> list[SettlementLine]:
    """postings: every posting of the entries the settlement claimed (entry_id, kind, order_id, created_at, account,
    amount, currency), in entry order; the settlement's own payout is its total, not a line."""
    lines: list[SettlementLine] = []
    for _, rows in groupby(postings, key=lambda p: p["entry_id"]):
        entry = list(rows)
        if entry[0]["order_id"] != settlement_id:
            lines.extend(_entry_lines(entry))
    return lines


def _line(row: dict[str, Any], transaction_type: str, amount: int) -> SettlementLine:
    return SettlementLine(
        posted_at=row["created_at"], order_id=row["order_id"], transaction_type=transaction_type, amount=amount, entry_id=row["entry_id"]
    )


def _entry_lines(entry: list[dict[str, Any]]) -> list[SettlementLine]:
    kind = entry[0]["kind"]
    if kind == EntryKind.RELEASE:
        return _release_lines(entry)
    lines = []
    for p in entry:
        if p["account"].startswith(SELLER_ACCOUNTS) and kind != EntryKind.RECOVERY:
            lines.append(_line(p, _account_line(EntryKind(kind), p["amount"]), p["amount"]))
    return lines


def _release_lines(entry: list[dict[str, Any]]) -> list[SettlementLine]:
    """The sale and its fees in the order currency; a release converted to another currency is one `sale` line of
    what the seller received. What the reserve holds back is a line of its own."""
    first = entry[0]
    converted = any(p["account"].startswith("fx:position:") for p in entry)
    held = _sum(entry, "reserve:")
    if converted:
        lines = [_line(first, "sale", held + _sum(entry, "seller:"))]
    else:
        lines = [_line(first, "sale", -_sum(entry, "escrow:"))]
        for transaction_type, account in (("referral_fee", "platform:marketplace_fees:"), ("fulfillment_fee", "fulfillment:fees_payable:")):
            if fee := _sum(entry, account):
                lines.append(_line(first, transaction_type, -fee))
    if held:
        lines.append(_line(first, "reserve_held", -held))
    return lines


def _sum(entry: list[dict[str, Any]], account_prefix: str) -> int:
    return sum(p["amount"] for p in entry if p["account"].startswith(account_prefix))


def _account_line(kind: EntryKind, amount: int) -> str:
    """A seller-account posting's line: what comes back is named apart (a payout or a claim's refund refused)."""
    if kind == EntryKind.PAYOUT and amount > 0:
        return "payout_returned"
    if kind == EntryKind.REFUND:  # refunds reach a seller's accounts only as claims after the sale
        return "claim_refund" if amount < 0 else "claim_refund_returned"
    return ACCOUNT_LINES.get(kind, str(kind))
