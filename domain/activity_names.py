"""Activity types: the workflow refers to activities by these, never by importing them. Each takes the
request of the same name in domain/providers.py (the ledger's an EntryRequest, the read model's an
OrderState). On the wire: renaming one breaks the replay of every history that ran it."""

AUTHORIZE_PAYMENT = "authorize_payment"
CAPTURE_PAYMENT = "capture_payment"
VOID_AUTHORIZATION = "void_authorization"
PAYOUT_SELLER = "payout_seller"
REFUND_PAYMENT = "refund_payment"
CREDIT_BUYER = "credit_buyer"
CREATE_FULFILLMENT_ORDER = "create_fulfillment_order"
CANCEL_FULFILLMENT_ORDER = "cancel_fulfillment_order"
REQUEST_RETURN = "request_return"
POST_LEDGER_ENTRY = "post_ledger_entry"
RECORD_ORDER = "record_order"
LOCK_FX_RATE = "lock_fx_rate"

# Provider calls that can carry their own bookkeeping (domain/books.py) have a second activity type for that; runs
# that began before it existed (workflows/patches.py BOOKS_RIDE_WITH_STEPS) call the plain one.
BOOKABLE = (AUTHORIZE_PAYMENT, CREATE_FULFILLMENT_ORDER, CAPTURE_PAYMENT, PAYOUT_SELLER, REFUND_PAYMENT, CREDIT_BUYER)


def booked(activity: str) -> str:
    """The activity type of `activity` with its bookkeeping."""
    if activity not in BOOKABLE:
        raise ValueError(f"{activity} carries no bookkeeping")
    return f"{activity}_booked"


# The seller payouts workflow's activities (workflows/seller_payouts.py).
READ_PAYOUT_SETTINGS = "read_payout_settings"
CUT_SELLER_PAYOUTS = "cut_seller_payouts"
FINISH_SELLER_PAYOUT = "finish_seller_payout"
RECORD_CHARGEBACK = "record_chargeback"
SUBMIT_CHARGEBACK_EVIDENCE = "submit_chargeback_evidence"

# The daily reconciliation's (workflows/reconciliation.py).
RECONCILE_BOOKS = "reconcile_books"
