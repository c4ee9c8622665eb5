"""A seller's statement: every money movement of their orders, read off the ledger's postings.

`amount` is the size of the movement; `seller_effect` is how it changes what the seller holds (in
escrow, available, in reserve, less what they owe): a sale adds, fees, refunds, chargebacks and payouts take
away, a reimbursement, a chargeback won and a debt written off add (a chargeback won after its debt was written off
repays the write-off first), and a late-delivery compensation (paid by
the fulfillment network), a reserve held or released and a debt recovered from the balance leave it unchanged. When the seller
settles in another currency, the release shows an `fx_conversion` pair: the share leaving the order
currency and what it became in the settlement currency.
"""

from datetime import datetime
from itertools import groupby
from typing import Any

from pydantic import BaseModel

from domain.ledger import EntryKind
from domain.payouts import PAYOUT_ID_PREFIX


class StatementLine(BaseModel):
    at: datetime
    order_id: str
    kind: str
    amount: int
    currency: str
    seller_effect: int
    entry_id: int


def _line(row: dict[str, Any], kind: str, amount: int, effect: int) -> StatementLine:
    return StatementLine(
        at=row["created_at"],
        order_id=row["order_id"],
        kind=kind,
        amount=amount,
        currency=row["currency"],
        seller_effect=effect,
        entry_id=row["entry_id"],
    )


def statement_lines(postings: list[dict[str, Any]]) -> list[StatementLine]:
    """postings: rows with entry_id, kind, order_id, created_at, account, amount, currency, in entry order."""
    lines = []
    for _, entry in groupby(postings, key=lambda p: p["entry_id"]):
        lines.extend(_entry_lines(list(entry)))
    return lines


LINE_ORDER = [
    "sale",
    "refund",
    "referral_fee",
    "fulfillment_fee",
    "fx_conversion",
    "reserve_held",
    "reserve_released",
    "reimbursement",
    "late_delivery_compensation",
    "chargeback",
    "chargeback_reversal",
    "debt_recovered",
    "debt_written_off",
    "write_off_repaid",
    "claim_refund",
    "claim_refund_returned",
    "payout",
    "payout_returned",
]
# A claim after the sale's own pending account.
CLAIM_PENDING = "pending:claim:"
# A pooled payout's own pending account.
POOLED_PAYOUT = f"pending:payout:{PAYOUT_ID_PREFIX}"
# Entries between the seller's own accounts: (kind, account the line is read from) -> (line, sign of its effect).
OWN_ACCOUNT_LINES = {
    (EntryKind.RELEASE, "reserve:"): ("reserve_held", 0),
    (EntryKind.RESERVE_RELEASE, "seller:"): ("reserve_released", 0),
    (EntryKind.CHARGEBACK, "external:buyers:"): ("chargeback", -1),
    (EntryKind.CHARGEBACK_REVERSAL, "owed:"): ("chargeback_reversal", 1),
    (EntryKind.RECOVERY, "owed:"): ("debt_recovered", 0),
    (EntryKind.WRITE_OFF, "owed:"): ("debt_written_off", 1),
    (EntryKind.LOSS_RECOVERED, "platform:"): ("write_off_repaid", -1),
}


def _entry_lines(postings: list[dict[str, Any]]) -> list[StatementLine]:
    if any(p["account"].startswith(CLAIM_PENDING) for p in postings):
        return _claim_lines(postings)
    converted = any(p["account"].startswith("fx:position:") for p in postings)
    from_or_to_seller = any(p["account"].startswith("seller:") for p in postings)
    lines = []
    for p in postings:
        account, amount, kind = p["account"], p["amount"], p["kind"]
        if kind == EntryKind.RELEASE and converted and account.startswith("fx:position:") and amount > 0:
            lines.append(_line(p, "fx_conversion", amount, -amount))
        elif kind == EntryKind.RELEASE and converted and account.startswith("seller:"):
            lines.append(_line(p, "fx_conversion", amount, amount))
        elif kind == EntryKind.CAPTURE and account.startswith("escrow:"):
            lines.append(_line(p, "sale", amount, amount))
        elif kind == EntryKind.RELEASE and account.startswith("platform:marketplace_fees:"):
            lines.append(_line(p, "referral_fee", amount, -amount))
        elif kind == EntryKind.RELEASE and account.startswith("fulfillment:fees_payable:"):
            lines.append(_line(p, "fulfillment_fee", amount, -amount))
        elif kind == EntryKind.REFUND and account.startswith("external:buyers:"):
            lines.append(_line(p, "refund", amount, -amount))
        elif kind == EntryKind.REIMBURSEMENT and account.startswith("seller:"):
            lines.append(_line(p, "reimbursement", amount, amount))
        elif kind == EntryKind.COMPENSATION and account.startswith("external:buyers:"):
            lines.append(_line(p, "late_delivery_compensation", amount, 0))
        elif kind == EntryKind.PAYOUT and account.startswith("external:payouts:") and not p["order_id"].startswith(PAYOUT_ID_PREFIX):
            lines.append(_line(p, "payout", amount, -amount))
        elif kind == EntryKind.PAYOUT and account.startswith(POOLED_PAYOUT) and from_or_to_seller:
            lines.append(_line(p, "payout", amount, -amount) if amount > 0 else _line(p, "payout_returned", -amount, -amount))
        elif (kind, _prefix(account)) in OWN_ACCOUNT_LINES and amount > 0:
            line, sign = OWN_ACCOUNT_LINES[(kind, _prefix(account))]
            lines.append(_line(p, line, amount, sign * amount))
    return sorted(lines, key=lambda line: (LINE_ORDER.index(line.kind), line.seller_effect))


def _prefix(account: str) -> str:
    """`external:buyers:` of `external:buyers:USD`, `reserve:` of `reserve:<seller>:USD`."""
    return "external:buyers:" if account.startswith("external:buyers:") else account.split(":", 1)[0] + ":"


def _claim_lines(postings: list[dict[str, Any]]) -> list[StatementLine]:
    """A claim's refund, read where its money comes from: the seller's debt account when they were at fault (it takes
    from what they hold), the fulfillment network's otherwise (it leaves that unchanged); its settling shows nothing
    more."""
    lines = []
    for p in postings:
        seller_pays = p["account"].startswith("owed:")
        if seller_pays or p["account"].startswith("fulfillment:reimbursements:"):
            line = "claim_refund" if p["amount"] < 0 else "claim_refund_returned"
            lines.append(_line(p, line, abs(p["amount"]), p["amount"] if seller_pays else 0))
    return lines
