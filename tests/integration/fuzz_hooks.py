"""Schemathesis hooks of tests/integration/test_api_fuzz.py (loaded through SCHEMATHESIS_HOOKS).

Some rules of the API depend on the server's clock, on arithmetic across fields or on the caller, which JSON
Schema cannot state: an order's deadlines, its total, the length of its confirmation window, its subdivision, an
insights period or surge interval, a statement's period, a marketplace creating orders for itself only. The OpenAPI document states them in its descriptions;
here the cases schemathesis generates as valid are brought within them, so that the API refusing a "valid"
case still means the document says something untrue, and a marketplace's run reaches the orders it creates.
Invalid (negative) cases are left alone, and the contract tests cover these rules' refusals. Rewrites of every case
keep the fuzzer from changing other tests' sellers (payout settings only for sellers of its own, claims only on an
order that does not exist) and from sending events off this machine (webhook endpoints only on the loopback).
"""

import os
import re
from datetime import UTC, datetime, timedelta

import schemathesis
from pydantic import TypeAdapter, ValidationError

from domain.order_request import IDENTIFIER_PATTERN, MAX_CONFIRMATION_WINDOW, MAX_DELIVERY_TIME, MAX_ORDER_TOTAL, Duration
from domain.ship_to import SUBDIVISIONS

_DURATION = TypeAdapter(Duration)
# Well inside the API's windows: the request reaches the server a moment after the hook runs.
_MARGIN = timedelta(hours=1)
_AUTHORIZATION_LIFE = timedelta(days=7)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))


def _within(value: str | None, earliest: datetime, latest: datetime) -> bool:
    return value is not None and earliest + _MARGIN <= _time(value) <= latest - _MARGIN


def _order_within_rules(body: dict) -> None:
    if marketplace := os.environ.get("FUZZ_MARKETPLACE"):  # the caller's own marketplace, when it is one
        body["marketplace"] = marketplace
    now = datetime.now(UTC)
    if "ship_by" in body or "deliver_by" in body:
        if not _within(body.get("ship_by"), now, now + _AUTHORIZATION_LIFE):
            body["ship_by"] = (now + timedelta(days=3)).isoformat()
        ship_by = _time(body["ship_by"])
        if "deliver_by" in body and not _within(body["deliver_by"], ship_by, ship_by + MAX_DELIVERY_TIME):
            body["deliver_by"] = (ship_by + timedelta(days=10)).isoformat()
    window = body.get("confirmation_window")
    if window is not None:
        try:
            fits = timedelta(0) < _DURATION.validate_python(window) <= MAX_CONFIRMATION_WINDOW
        except (ValidationError, OverflowError):
            fits = False
        if not fits:
            body["confirmation_window"] = "P7D"
    ship_to = body.get("ship_to")
    subdivision = ship_to.get("subdivision") if isinstance(ship_to, dict) else None
    if subdivision is not None and not (subdivision in SUBDIVISIONS and subdivision.startswith(f"{ship_to.get('country')}-")):
        del ship_to["subdivision"]  # the schema's pattern cannot say which codes exist, nor in which country
    items = body.get("items", [])
    if sum(i["quantity"] * i["unit_price"] for i in items) + body.get("shipping_fee", 0) > MAX_ORDER_TOTAL:
        for item in items:  # 100 items of at most 10**12 each, plus shipping, stay far below the cap
            item["quantity"] = 1


def _period_within_rules(query: dict) -> None:
    start, end = query.get("from"), query.get("to")
    if start is not None and _time(start) >= (_time(end) if end is not None else datetime.now(UTC) - _MARGIN):
        del query["from"]  # the default period, 31 days before `to`


_INSIGHT_SPAN = timedelta(days=400)
_BY_MINUTE_SPAN = timedelta(days=2)


def _insight_query_within_rules(query: dict) -> None:
    """An insights period: `since` before `until`, at most 400 days apart (2 days by the minute); a surge interval of
    whole minutes from one minute to a day."""
    until = _time(query["until"]) if query.get("until") else datetime.now(UTC)
    since = _time(query["since"]) if query.get("since") else until - timedelta(days=7)
    longest = _BY_MINUTE_SPAN if query.get("step") == "minute" else _INSIGHT_SPAN
    if not timedelta(0) < until - since <= longest - _MARGIN:
        query.pop("since", None)
        query.pop("until", None)
        if query.get("step") == "minute":
            query["since"] = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    interval = query.get("interval")
    if interval is not None:
        try:
            fits = timedelta(minutes=1) <= _DURATION.validate_python(interval) <= timedelta(days=1)
            fits = fits and _DURATION.validate_python(interval).total_seconds() % 60 == 0
        except (ValidationError, OverflowError):
            fits = False
        if not fits:
            query["interval"] = "PT1H"


# The fuzzer sets payout schedules only for sellers of its own: another test's seller put on a pooled schedule would
# see its orders credited to a balance instead of paid out (the fuzzer takes seller ids from the orders it reads).
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)


def _own_seller(path: dict) -> None:
    seller = path.get("seller_id")
    if isinstance(seller, str) and _IDENTIFIER.fullmatch(seller) and not seller.startswith("fuzz_"):
        path["seller_id"] = ("fuzz_" + seller)[:64]


# Nor does it accept claims on other tests' orders: a claim makes the seller owe it, and a seller who owes has their
# next orders credited to their balance. Its claims go to an order that does not exist (404); the end-to-end tests
# accept claims.
_NO_ORDER = "fuzz-no-such-order"

# And the webhook endpoints it registers are all on this machine, where nothing listens (the discard port): the worker
# would otherwise deliver other tests' order events to whatever host the fuzzer made up.
_NOWHERE = "http://127.0.0.1:9/fuzz"


@schemathesis.hook
def map_case(context, case):
    if case.operation.label == "PUT /v1/sellers/{seller_id}/payout-settings" and case.path_parameters:
        _own_seller(case.path_parameters)
    if case.operation.label == "POST /v1/orders/{order_id}/claims" and case.path_parameters:
        if _IDENTIFIER.fullmatch(str(case.path_parameters.get("order_id"))):
            case.path_parameters["order_id"] = _NO_ORDER
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return case
    if case.operation.label == "POST /v1/orders" and isinstance(case.body, dict):
        _order_within_rules(case.body)
    elif case.operation.label == "GET /v1/sellers/{seller_id}/statement" and case.query:
        _period_within_rules(case.query)
    elif case.operation.label.startswith("GET /v1/insights/") and case.query:
        _insight_query_within_rules(case.query)
    elif case.operation.label == "POST /v1/webhook-endpoints" and isinstance(case.body, dict):
        case.body["url"] = _NOWHERE  # an invalid case never registers: only the valid ones are kept on the loopback
    return case
