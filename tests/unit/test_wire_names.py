"""Wire names, written out: a renamed key suffix moves money twice for orders in flight, a renamed activity type,
message or failure type breaks the replay of recorded histories or the clients that send it. The literals below are
the values the code had before the names were declared once (issue 9); every test here also fails when a module
declares a name this file does not list, so a new name is written out here too."""

from datetime import UTC, datetime
from types import ModuleType
from typing import TypeVar

from temporalio import workflow
from temporalio.common import SearchAttributeIndexedValueType, SearchAttributeKey

from domain import activity_names, failures, order_actions, order_steps, search_attributes
from domain.ledger import SETTLED_SUFFIX, entry_key
from domain.order_actions import Role
from domain.order_state import order_id_of, workflow_id_for
from domain.order_steps import MoneyOut, Step
from domain.payouts import payout_id, payouts_workflow_id
from domain.seller_ledger import chargeback_key
from workflows import patches
from workflows.order import OrderWorkflow
from workflows.seller_payouts import SellerPayoutsWorkflow

T = TypeVar("T")

# name: (key suffix, operator label, activity type)
STEPS = {
    "AUTHORIZE": ("authorize", "authorize", "authorize_payment"),
    "CREATE_FULFILLMENT": ("fulfillment", "create_fulfillment_order", "create_fulfillment_order"),
    "CAPTURE": ("capture", "capture", "capture_payment"),
    "RECORD_CAPTURE": ("capture", "record_capture", "post_ledger_entry"),
    "LOCK_FX": ("fx-lock", "lock_fx_rate", "lock_fx_rate"),
    "CANCEL_FULFILLMENT": ("fulfillment-cancel", "cancel_fulfillment_order", "cancel_fulfillment_order"),
    "VOID": ("void", "void", "void_authorization"),
    "RELEASE": ("release", "release", "post_ledger_entry"),
    "REIMBURSEMENT": ("reimbursement", "reimbursement", "post_ledger_entry"),
    "REQUEST_RETURN": ("return", "request_return", "request_return"),
    "RECORD_ORDER": ("", "record_order", "record_order"),
}

# name: (key suffix, provider activity type, reserve label, pay label, settle label)
MONEY_OUT = {
    "PAYOUT": ("payout", "payout_seller", "reserve_payout", "payout", "record_payout"),
    "REIMBURSEMENT_PAYOUT": (
        "reimbursement-payout",
        "payout_seller",
        "reserve_reimbursement-payout",
        "reimbursement-payout",
        "record_reimbursement-payout",
    ),
    "REFUND": ("refund", "refund_payment", "reserve_refund", "refund", "record_refund"),
    "PARTIAL_REFUND": ("partial-refund", "refund_payment", "reserve_partial-refund", "partial-refund", "record_partial-refund"),
    "LATE_DELIVERY_COMPENSATION": (
        "late-delivery-compensation",
        "credit_buyer",
        "reserve_late-delivery-compensation",
        "late-delivery-compensation",
        "record_late-delivery-compensation",
    ),
}

# Labels of the steps an operator may settle by cancelling the order instead of retrying.
CANCELLABLE = {"authorize", "create_fulfillment_order", "capture"}

ACTIVITY_NAMES = {
    "AUTHORIZE_PAYMENT": "authorize_payment",
    "CAPTURE_PAYMENT": "capture_payment",
    "VOID_AUTHORIZATION": "void_authorization",
    "PAYOUT_SELLER": "payout_seller",
    "REFUND_PAYMENT": "refund_payment",
    "CREDIT_BUYER": "credit_buyer",
    "CREATE_FULFILLMENT_ORDER": "create_fulfillment_order",
    "CANCEL_FULFILLMENT_ORDER": "cancel_fulfillment_order",
    "REQUEST_RETURN": "request_return",
    "POST_LEDGER_ENTRY": "post_ledger_entry",
    "RECORD_ORDER": "record_order",
    "LOCK_FX_RATE": "lock_fx_rate",
    # new in issue 10: these provider calls also run with their bookkeeping, as `<name>_booked`
    "BOOKABLE": ("authorize_payment", "create_fulfillment_order", "capture_payment", "payout_seller", "refund_payment", "credit_buyer"),
    # new in issue 11: the seller payouts workflow's
    "READ_PAYOUT_SETTINGS": "read_payout_settings",
    "CUT_SELLER_PAYOUTS": "cut_seller_payouts",
    "FINISH_SELLER_PAYOUT": "finish_seller_payout",
    "RECORD_CHARGEBACK": "record_chargeback",
    "SUBMIT_CHARGEBACK_EVIDENCE": "submit_chargeback_evidence",  # new in issue 11
    "RECONCILE_BOOKS": "reconcile_books",
}

FAILURES = {
    "INVALID_TRANSITION": "InvalidTransition",
    "INVALID_UPDATE_INPUT": "InvalidUpdateInput",  # new in issue 9
    "PROVIDER_REJECTED": "ProviderRejected",
    "PROVIDER_UNAVAILABLE": "ProviderUnavailable",
    "LEDGER_CONFLICT": "LedgerConflict",
    "LEDGER_UNBALANCED": "LedgerUnbalanced",
    "LEDGER_OVERDRAWN": "LedgerOverdrawn",
    "LEDGER_REJECTED": "LedgerRejected",
    "READ_MODEL_REJECTED": "ReadModelRejected",
    "BOOKS_UNFINISHED": "BooksUnfinished",  # new in issue 10
    "BOOKS_UNSTARTED": "BooksUnstarted",  # new in issue 10
    "BOOKS_DIFFER": "BooksDiffer",  # new in issue 11
}

WORKFLOW_TYPE = "OrderWorkflow"
STATE_QUERY = "state"
FULFILLMENT_EVENT_SIGNAL = "fulfillment_event"
BOOKS_DIFFER_SIGNAL = "books_differ"
UPDATES = {
    "CONFIRM_RECEIPT": "confirm_receipt",
    "RETRY": "retry",
    "CANCEL": "cancel",
    "OPEN_DISPUTE": "open_dispute",
    "RESPOND_TO_DISPUTE": "respond_to_dispute",
    "RESOLVE_DISPUTE": "resolve_dispute",
}
ROLES = {"BUYER": "buyer", "SELLER": "seller", "OPERATOR": "operator", "MARKETPLACE": "marketplace"}

# Patch ids: recorded as markers in the histories of the orders that ran the patched code.
PATCHES = {
    "RECORD_AUTHORIZATION": "record-authorization",
    "LEDGER_BEFORE_PROVIDER": "ledger-before-provider",
    "CANCEL_AT_NETWORK_FIRST": "cancel-at-network-first",
    "CONFIRM_WINDOW_FROM_LEARNING": "confirm-window-from-learning",
    "KEEP_EARLY_EVENTS": "keep-early-events",
    "BOOKS_RIDE_WITH_STEPS": "books-ride-with-steps",  # new in issue 10
    "POOLED_PAYOUTS": "pooled-payouts",  # new in issue 11
}

# name: (attribute name, indexed type)
SEARCH_ATTRIBUTES = {
    "ORDER_STATUS": ("OrderStatus", SearchAttributeIndexedValueType.KEYWORD),
    "SELLER_ID": ("SellerId", SearchAttributeIndexedValueType.KEYWORD),
    "BUYER_ID": ("BuyerId", SearchAttributeIndexedValueType.KEYWORD),
    "MARKETPLACE": ("Marketplace", SearchAttributeIndexedValueType.KEYWORD),
}


def declared(module: ModuleType, kind: type[T]) -> dict[str, T]:
    """The module's public constants of this kind."""
    return {name: value for name, value in vars(module).items() if name.isupper() and isinstance(value, kind)}


def test_steps() -> None:
    assert {name: (s.key, s.label, s.activity) for name, s in declared(order_steps, Step).items()} == STEPS


def test_money_out() -> None:
    found = {name: (m.key, m.activity, m.reserve.label, m.pay.label, m.settle.label) for name, m in declared(order_steps, MoneyOut).items()}
    assert found == MONEY_OUT
    for m in declared(order_steps, MoneyOut).values():
        assert m.reserve.key == m.pay.key == m.settle.key == m.key
        assert m.reserve.activity == m.settle.activity == "post_ledger_entry"
        assert m.pay.activity == m.activity


def test_order_steps_declares_nothing_else() -> None:
    assert order_steps.CANCELLABLE == CANCELLABLE
    assert set(declared(order_steps, object)) == set(STEPS) | set(MONEY_OUT) | {"CANCELLABLE"}


def test_activity_names() -> None:
    assert declared(activity_names, object) == ACTIVITY_NAMES
    assert [activity_names.booked(name) for name in ACTIVITY_NAMES["BOOKABLE"]] == [
        "authorize_payment_booked",
        "create_fulfillment_order_booked",
        "capture_payment_booked",
        "payout_seller_booked",
        "refund_payment_booked",
        "credit_buyer_booked",
    ]


def test_failure_types() -> None:
    assert declared(failures, object) == FAILURES


def test_messages() -> None:
    expected = {
        "WORKFLOW_TYPE": WORKFLOW_TYPE,
        "STATE_QUERY": STATE_QUERY,
        "FULFILLMENT_EVENT_SIGNAL": FULFILLMENT_EVENT_SIGNAL,
        "BOOKS_DIFFER_SIGNAL": BOOKS_DIFFER_SIGNAL,
    } | UPDATES
    assert declared(order_actions, object) == expected
    assert {role.name: role.value for role in Role} == ROLES


def test_the_workflow_registers_exactly_these_messages() -> None:
    definition = workflow._Definition.must_from_class(OrderWorkflow)
    assert definition.name == WORKFLOW_TYPE
    assert set(definition.queries) == {STATE_QUERY}
    assert set(definition.signals) == {FULFILLMENT_EVENT_SIGNAL, BOOKS_DIFFER_SIGNAL}
    assert set(definition.updates) == set(UPDATES.values())


def test_search_attributes() -> None:
    found = {name: (k.name, k.indexed_value_type) for name, k in declared(search_attributes, SearchAttributeKey).items()}
    assert found == SEARCH_ATTRIBUTES
    assert set(declared(search_attributes, object)) == set(SEARCH_ATTRIBUTES) | {"ALL"}
    assert {k.name for k in search_attributes.ALL} == {name for name, _ in SEARCH_ATTRIBUTES.values()}


def test_workflow_ids_and_ledger_keys() -> None:
    assert workflow_id_for("o-1") == "order-o-1"
    assert order_id_of("order-o-1") == "o-1"
    assert order_id_of("reconcile-o-1") is None and order_id_of("order-") is None
    assert entry_key(workflow_id_for("o-1"), "payout") == "order-o-1:payout"
    assert SETTLED_SUFFIX == ":settled"


def test_seller_payouts_messages() -> None:
    definition = workflow._Definition.must_from_class(SellerPayoutsWorkflow)
    assert (definition.name, set(definition.queries), set(definition.signals), set(definition.updates)) == (
        "SellerPayouts",
        {"payouts_state"},
        {"chargeback", "claim", "chargeback_evidence", "payout_settings_changed"},
        {"request_payout"},
    )
    assert payouts_workflow_id("s-1") == "seller-payouts-s-1"
    assert payout_id("s-1", "USD", datetime(2026, 6, 1, tzinfo=UTC)) == "po:s-1:USD:20260601T000000000000"
    assert chargeback_key("dp-1") == "chargeback:dp-1"


def test_patch_ids() -> None:
    found = {name: value for name, value in vars(patches).items() if name.isupper()}
    assert found == PATCHES
