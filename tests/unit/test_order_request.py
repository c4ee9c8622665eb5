"""domain/order_request.py: the order request's field validation and deadline resolution."""

from datetime import UTC, datetime, timedelta
from typing import get_args

import pytest
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from domain.after_sales import Resolution
from domain.currency import CONVERTIBLE, convertible
from domain.json_schema import EXACT_IN_A_FLOAT, WHOLE_NUMBER
from domain.order_request import Item, OrderRequest, PlacementPolicy, resolve_deadlines

PLACED_AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
POLICY = PlacementPolicy()


def request_data(**overrides) -> dict:
    data = {
        "order_id": "ord-1",
        "buyer_id": "buyer_1",
        "seller_id": "seller_1",
        "marketplace": "mkt",
        "currency": "USD",
        "items": [{"sku": "SKU-1", "quantity": 2, "unit_price": 1500}],
        "shipping_fee": 500,
        "payment_method": "pm_card_visa",
    }
    data.update(overrides)
    return data


def error_locations(exc: ValidationError) -> list[tuple]:
    return [tuple(e["loc"]) for e in exc.errors()]


def test_valid_request_totals():
    req = OrderRequest.model_validate(
        request_data(items=[{"sku": "a", "quantity": 2, "unit_price": 1500}, {"sku": "b", "quantity": 1, "unit_price": 99}])
    )
    assert req.units == 3
    assert req.total == 2 * 1500 + 99 + 500


@pytest.mark.parametrize("quantity", [0, -1, 10_001])
def test_quantity_out_of_range_is_rejected(quantity):
    with pytest.raises(ValidationError) as exc:
        OrderRequest.model_validate(request_data(items=[{"sku": "a", "quantity": quantity, "unit_price": 100}]))
    assert ("items", 0, "quantity") in error_locations(exc.value)


@pytest.mark.parametrize("unit_price", [0, -5, 1.5, "100"])
def test_bad_unit_price_is_rejected(unit_price):
    with pytest.raises(ValidationError) as exc:
        OrderRequest.model_validate(request_data(items=[{"sku": "a", "quantity": 1, "unit_price": unit_price}]))
    assert ("items", 0, "unit_price") in error_locations(exc.value)


@pytest.mark.parametrize("quantity", [2.5, "2", True])
def test_a_quantity_that_is_not_a_whole_number_is_rejected(quantity):
    with pytest.raises(ValidationError) as exc:
        Item.model_validate({"sku": "a", "quantity": quantity, "unit_price": 100})
    assert ("quantity",) in error_locations(exc.value)


def test_a_whole_number_written_with_a_fraction_is_that_integer():
    """JSON Schema's `integer` (what the OpenAPI document says): 2.0 is the integer 2, exactly."""
    item = Item.model_validate({"sku": "a", "quantity": 2.0, "unit_price": 1e3})
    assert (item.quantity, item.unit_price) == (2, 1000) and type(item.quantity) is int


@pytest.mark.parametrize("currency", ["ABC", "XAU", "XXX", "usd"])
def test_unknown_currency_is_rejected(currency):
    with pytest.raises(ValidationError) as exc:
        OrderRequest.model_validate(request_data(currency=currency))
    assert ("currency",) in error_locations(exc.value)


def test_unknown_settlement_currency_is_rejected():
    with pytest.raises(ValidationError) as exc:
        OrderRequest.model_validate(request_data(settlement_currency="XTS"))
    assert ("settlement_currency",) in error_locations(exc.value)


def test_the_schema_names_the_currencies_an_order_may_settle_in():
    """Placement refuses a pair the engine does not convert (api/placement.py); the schema says the same: the
    settlement currency left out, or both currencies among those the engine converts."""
    schema = OrderRequest.model_json_schema()
    assert schema["properties"]["settlement_currency"]["anyOf"][0]["enum"] == sorted(CONVERTIBLE)
    narrowed = [{name: spec["allOf"][1] for name, spec in variant["properties"].items() if "allOf" in spec} for variant in schema["anyOf"]]
    assert narrowed == [{"settlement_currency": {"type": "null"}}, {"currency": {"enum": sorted(CONVERTIBLE)}}]


@pytest.mark.parametrize(
    ("currency", "settlement_currency", "allowed"),
    [("USD", "EUR", True), ("NGN", "NGN", True), ("USD", "NGN", False), ("NGN", "EUR", False)],
)
def test_an_order_settles_in_its_own_currency_or_converts_between_the_engine_s_currencies(currency, settlement_currency, allowed):
    assert convertible(currency, settlement_currency) is allowed


def test_empty_items_are_rejected():
    with pytest.raises(ValidationError) as exc:
        OrderRequest.model_validate(request_data(items=[]))
    assert ("items",) in error_locations(exc.value)


def test_negative_shipping_fee_is_rejected():
    with pytest.raises(ValidationError) as exc:
        OrderRequest.model_validate(request_data(shipping_fee=-1))
    assert ("shipping_fee",) in error_locations(exc.value)


@pytest.mark.parametrize(
    "order_id", ["", "has space", " lead", "x" * 65, "-starts-with-dash", "semi;colon", "new\nline", "trailing\n", "ünicode"]
)
def test_bad_order_id_is_rejected(order_id):
    with pytest.raises(ValidationError) as exc:
        OrderRequest.model_validate(request_data(order_id=order_id))
    assert ("order_id",) in error_locations(exc.value)


@pytest.mark.parametrize("order_id", ["a", "x" * 64, "ORD_2025-03.01:7"])
def test_good_order_ids_are_accepted(order_id):
    assert OrderRequest.model_validate(request_data(order_id=order_id)).order_id == order_id


def test_unexpected_field_is_rejected():
    with pytest.raises(ValidationError):
        OrderRequest.model_validate(request_data(discount=100))


@pytest.mark.parametrize("gap", [timedelta(0), timedelta(hours=-1)])
def test_deliver_by_not_after_ship_by_is_rejected(gap):
    ship_by = PLACED_AT + timedelta(days=2)
    with pytest.raises(ValidationError, match="deliver_by must be after ship_by"):
        OrderRequest.model_validate(request_data(ship_by=ship_by.isoformat(), deliver_by=(ship_by + gap).isoformat()))


def test_naive_deadline_is_rejected():
    with pytest.raises(ValidationError) as exc:
        OrderRequest.model_validate(request_data(ship_by="2025-03-03T12:00:00"))
    assert ("ship_by",) in error_locations(exc.value)


@pytest.mark.parametrize("window", ["PT0S", "P91D", "-P1D", "P90DT1S"])
def test_confirmation_window_out_of_range_is_rejected(window):
    with pytest.raises(ValidationError, match="confirmation_window"):
        OrderRequest.model_validate(request_data(confirmation_window=window))


@pytest.mark.parametrize(("window", "expected"), [("P7D", timedelta(days=7)), ("P90D", timedelta(days=90)), ("PT1H", timedelta(hours=1))])
def test_confirmation_window_in_range_is_accepted(window, expected):
    assert OrderRequest.model_validate(request_data(confirmation_window=window)).confirmation_window == expected


def test_resolve_deadlines_defaults():
    req = OrderRequest.model_validate(request_data())
    ship_by, deliver_by, window = resolve_deadlines(req, PLACED_AT, POLICY)
    assert ship_by == PLACED_AT + timedelta(days=5)
    assert deliver_by == PLACED_AT + timedelta(days=5 + 9)
    assert window == timedelta(days=7)


def test_resolve_deadlines_keeps_requested_values():
    ship_by = PLACED_AT + timedelta(days=2)
    deliver_by = PLACED_AT + timedelta(days=4)
    req = OrderRequest.model_validate(request_data(ship_by=ship_by, deliver_by=deliver_by, confirmation_window="P3D"))
    assert resolve_deadlines(req, PLACED_AT, POLICY) == (ship_by, deliver_by, timedelta(days=3))


def test_resolve_deadlines_defaults_deliver_by_from_a_requested_ship_by():
    req = OrderRequest.model_validate(request_data(ship_by=PLACED_AT + timedelta(days=1)))
    _, deliver_by, _ = resolve_deadlines(req, PLACED_AT, POLICY)
    assert deliver_by == PLACED_AT + timedelta(days=10)


@pytest.mark.parametrize("offset", [timedelta(hours=-1), timedelta(0)])
def test_resolve_deadlines_refuses_ship_by_in_the_past(offset):
    req = OrderRequest.model_validate(request_data(ship_by=PLACED_AT + offset))
    with pytest.raises(ValueError, match="^ship_by: must be in the future"):
        resolve_deadlines(req, PLACED_AT, POLICY)


def test_resolve_deadlines_refuses_ship_by_beyond_the_authorization_life():
    req = OrderRequest.model_validate(request_data(ship_by=PLACED_AT + timedelta(days=7, seconds=1)))
    with pytest.raises(ValueError, match="^ship_by: .*authorization"):
        resolve_deadlines(req, PLACED_AT, POLICY)


def test_resolve_deadlines_accepts_ship_by_at_the_end_of_the_authorization_life():
    req = OrderRequest.model_validate(request_data(ship_by=PLACED_AT + timedelta(days=7)))
    assert resolve_deadlines(req, PLACED_AT, POLICY)[0] == PLACED_AT + timedelta(days=7)


def test_resolve_deadlines_refuses_deliver_by_before_the_default_ship_by():
    req = OrderRequest.model_validate(request_data(deliver_by=PLACED_AT + timedelta(days=3)))
    with pytest.raises(ValueError, match="^deliver_by:"):
        resolve_deadlines(req, PLACED_AT, POLICY)


@pytest.mark.parametrize("field", ["order_id", "buyer_id", "seller_id", "marketplace", "payment_method"])
@pytest.mark.parametrize("bad", ["pm_a\x00b", "pm_a\ud800", "pm_a\x1b", "pm_a\x85", "pm_a\t"])
def test_ids_refuse_what_postgresql_cannot_store(field, bad):
    with pytest.raises(ValidationError) as exc:
        OrderRequest.model_validate(request_data(**{field: bad}))
    assert (field,) in error_locations(exc.value)


@pytest.mark.parametrize("bad", ["a\x00", "a\udc00", "a\n", "a\x7f"])
def test_a_sku_refuses_what_postgresql_cannot_store(bad):
    with pytest.raises(ValidationError) as exc:
        OrderRequest.model_validate(request_data(items=[{"sku": bad, "quantity": 1, "unit_price": 100}]))
    assert ("items", 0, "sku") in error_locations(exc.value)


def test_an_item_refuses_unknown_properties():
    with pytest.raises(ValidationError) as exc:
        Item.model_validate({"sku": "a", "quantity": 1, "unit_price": 100, "discount": 5})
    assert ("discount",) in error_locations(exc.value)


def _constraints(field: FieldInfo) -> list:
    """A field's metadata, and that of the Annotated types in its union (e.g. `... | None`), FieldInfos unpacked."""
    found = list(field.metadata) + [m for arg in get_args(field.annotation) for m in getattr(arg, "__metadata__", ())]
    return [inner for m in found for inner in (m.metadata if isinstance(m, FieldInfo) else [m])]


@pytest.mark.parametrize("model", [Item, OrderRequest, Resolution])
def test_every_whole_number_has_an_upper_bound_a_float_holds_exactly(model):
    whole_numbers = {name: _constraints(field) for name, field in model.model_fields.items() if WHOLE_NUMBER in _constraints(field)}
    assert whole_numbers, f"{model.__name__} has no whole-number field"
    for name, constraints in whole_numbers.items():
        bounds = [c.le for c in constraints if getattr(c, "le", None) is not None]
        assert bounds and max(bounds) <= EXACT_IN_A_FLOAT, f"{model.__name__}.{name}"


def test_an_order_id_may_not_take_the_prefix_of_payout_ids():
    with pytest.raises(ValidationError, match="must not start with 'po:'"):
        OrderRequest.model_validate(request_data(order_id="po:seller:USD:1"))
    assert OrderRequest.model_validate(request_data(order_id="pos-1")).order_id == "pos-1"
