"""The steps of an order, one row each: the idempotency-key suffix it works under (`order-<id>:<key>`, at
the provider and in the ledger), the label operators see in `needs_attention` when it fails for good, and
the activity type it runs. All three are on the wire (keys on providers' records and ledger entries, labels
in stored orders, activity types in histories), so where a step's key and label differ both stay as they
are: renaming a key would move money twice for orders in flight."""

from dataclasses import dataclass

from domain import activity_names as act


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    activity: str


AUTHORIZE = Step(key="authorize", label="authorize", activity=act.AUTHORIZE_PAYMENT)
CREATE_FULFILLMENT = Step(key="fulfillment", label="create_fulfillment_order", activity=act.CREATE_FULFILLMENT_ORDER)
CAPTURE = Step(key="capture", label="capture", activity=act.CAPTURE_PAYMENT)
RECORD_CAPTURE = Step(key=CAPTURE.key, label="record_capture", activity=act.POST_LEDGER_ENTRY)
LOCK_FX = Step(key="fx-lock", label="lock_fx_rate", activity=act.LOCK_FX_RATE)
CANCEL_FULFILLMENT = Step(key="fulfillment-cancel", label="cancel_fulfillment_order", activity=act.CANCEL_FULFILLMENT_ORDER)
VOID = Step(key="void", label="void", activity=act.VOID_AUTHORIZATION)
RELEASE = Step(key="release", label="release", activity=act.POST_LEDGER_ENTRY)
REIMBURSEMENT = Step(key="reimbursement", label="reimbursement", activity=act.POST_LEDGER_ENTRY)
REQUEST_RETURN = Step(key="return", label="request_return", activity=act.REQUEST_RETURN)
# The read model is written by order id, not under a key.
RECORD_ORDER = Step(key="", label="record_order", activity=act.RECORD_ORDER)

# Steps whose lasting refusal an operator may settle by cancelling the order instead of retrying.
CANCELLABLE = frozenset({AUTHORIZE.label, CREATE_FULFILLMENT.label, CAPTURE.label})


@dataclass(frozen=True)
class MoneyOut:
    """Money leaving the platform, three steps under one key: reserved in the ledger, paid by the provider,
    then settled in the ledger under `<key>:settled` (domain.ledger.Disbursement; orders from before the reservation existed
    recorded the payment in one entry after the provider had paid, labelled as `settle`)."""

    key: str
    activity: str

    @property
    def reserve(self) -> Step:
        return Step(key=self.key, label=f"reserve_{self.key}", activity=act.POST_LEDGER_ENTRY)

    @property
    def pay(self) -> Step:
        return Step(key=self.key, label=self.key, activity=self.activity)

    @property
    def settle(self) -> Step:
        return Step(key=self.key, label=f"record_{self.key}", activity=act.POST_LEDGER_ENTRY)


PAYOUT = MoneyOut(key="payout", activity=act.PAYOUT_SELLER)
REIMBURSEMENT_PAYOUT = MoneyOut(key="reimbursement-payout", activity=act.PAYOUT_SELLER)
REFUND = MoneyOut(key="refund", activity=act.REFUND_PAYMENT)
PARTIAL_REFUND = MoneyOut(key="partial-refund", activity=act.REFUND_PAYMENT)
LATE_DELIVERY_COMPENSATION = MoneyOut(key="late-delivery-compensation", activity=act.CREDIT_BUYER)
