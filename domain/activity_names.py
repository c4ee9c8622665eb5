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
