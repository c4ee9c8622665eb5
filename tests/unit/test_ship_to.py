"""Where an order ships to (domain/ship_to.py), and placement's rule that Amazon's network needs a street address
(api/placement.py)."""

import hashlib
import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from api.placement import order_input, request_fingerprint
from api.problems import Problem
from domain.order_request import OrderRequest, PlacementPolicy
from domain.ship_to import COUNTRIES, ShipTo
from tests.unit.test_order_request import request_data

PLACED_AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
STREET = {"name": "Ada Buyer", "address_line1": "1 Main St", "city": "Troy", "postal_code": "48084"}


def order(**overrides) -> OrderRequest:
    return OrderRequest.model_validate(request_data(**overrides))


@pytest.mark.parametrize(
    "ship_to", [{"country": "DE"}, {"country": "DE", "subdivision": "DE-BY"}, {"country": "US", "subdivision": "US-MI", **STREET}]
)
def test_a_country_alone_or_with_its_subdivision_and_street_is_taken(ship_to):
    taken = order(ship_to=ship_to).ship_to

    assert taken is not None and taken.region == (ship_to.get("subdivision") or ship_to["country"])


@pytest.mark.parametrize(
    "ship_to, field, message",
    [
        ({"country": "XX"}, "country", "ISO 3166-1 alpha-2"),
        ({"country": "de"}, "country", "ISO 3166-1 alpha-2"),
        ({"country": "DE", "subdivision": "US-CA"}, "subdivision", "US-CA is not in DE"),
        ({"country": "DE", "subdivision": "DE-ZZ"}, "subdivision", "not an ISO 3166-2 code"),
        ({"country": "DE", "subdivision": "Bavaria"}, "subdivision", "pattern"),
        ({"country": "DE", "name": ""}, "name", "at least 1"),
        ({"country": "DE", "address_line1": "1 Main St\n2nd floor"}, "address_line1", "control character"),
        ({"country": "DE", "city": "x" * 51}, "city", "at most 50"),
        ({"country": "DE", "floor": 2}, "floor", "Extra inputs"),
        ({"subdivision": "DE-BY"}, "country", "Field required"),
    ],
)
def test_a_place_that_does_not_exist_is_refused_naming_its_field(ship_to, field, message):
    with pytest.raises(ValidationError) as refused:
        order(ship_to=ship_to)

    error = refused.value.errors()[0]
    assert error["loc"] == ("ship_to", field) and message in error["msg"]


def test_the_schema_lists_every_country():
    schema = OrderRequest.model_json_schema()
    ship_to = schema["$defs"]["ShipTo"]["properties"]

    assert ship_to["country"]["enum"] == COUNTRIES and "DE" in COUNTRIES and len(COUNTRIES) > 240
    assert ship_to["subdivision"]["anyOf"][0]["pattern"]


def test_what_a_street_address_lacks():
    assert ShipTo(country="US", subdivision="US-MI", **STREET).missing_for_delivery == []
    assert ShipTo(country="US").missing_for_delivery == ["name", "address_line1", "city", "postal_code", "subdivision"]
    tokyo = ShipTo(country="JP", subdivision="JP-13", name="Aiko", address_line1="1-1 Chiyoda", postal_code="100-0001")
    assert tokyo.missing_for_delivery == []  # Amazon's addresses in Japan carry no city


@pytest.mark.parametrize(
    "ship_to, missing",
    [
        (None, "country, name, address_line1, city, postal_code, subdivision"),
        ({"country": "US", "subdivision": "US-MI", "name": "Ada", "postal_code": "48084"}, "address_line1, city"),
    ],
)
def test_amazons_network_refuses_an_order_without_a_street_address(ship_to, missing):
    amazon = PlacementPolicy(street_address_required=True)

    with pytest.raises(Problem) as refused:
        order_input(order(ship_to=ship_to), PLACED_AT, amazon, "fp")

    assert refused.value.status == 422
    assert refused.value.errors == [
        {"field": "ship_to", "message": f"the fulfillment network delivers to a street address: give {missing}"}
    ]


def test_the_simulated_network_needs_no_address_and_the_workflow_gets_the_one_given():
    assert order_input(order(), PLACED_AT, PlacementPolicy(), "fp").ship_to is None
    full = {"country": "US", "subdivision": "US-MI", **STREET}
    placed = order_input(order(ship_to=full), PLACED_AT, PlacementPolicy(street_address_required=True), "fp")
    assert placed.ship_to == ShipTo(**full)


def test_an_order_without_ship_to_has_the_fingerprint_it_had_before_ship_to_existed():
    """A create sent before the upgrade and repeated after it is a repeat, not a conflict."""
    document_before = {
        "order_id": "ord-1",
        "buyer_id": "buyer_1",
        "seller_id": "seller_1",
        "marketplace": "mkt",
        "currency": "USD",
        "items": [{"sku": "SKU-1", "quantity": 2, "unit_price": 1500}],
        "shipping_fee": 500,
        "payment_method": "pm_card_visa",
        "settlement_currency": None,
        "ship_by": None,
        "deliver_by": None,
        "confirmation_window": None,
    }
    canonical = json.dumps(document_before, sort_keys=True, separators=(",", ":"))

    assert request_fingerprint(order()) == hashlib.sha256(canonical.encode()).hexdigest()
    assert request_fingerprint(order(ship_to={"country": "DE"})) != request_fingerprint(order())
