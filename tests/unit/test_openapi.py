"""api/openapi.py: the OpenAPI document clients generate SDKs from says what the API does (the fuzz test,
tests/integration/test_api_fuzz.py, holds the running API to it)."""

import re
import secrets

import jsonschema_rs
import pytest

from api.app import create_app
from api.problems import PROBLEM_JSON
from domain.statuses import OrderStatus
from runtime.settings import Settings

OPERATION_IDS = {
    "createOrder",
    "getOrder",
    "listOrders",
    "confirmReceipt",
    "cancelOrder",
    "retryOrder",
    "openDispute",
    "respondToDispute",
    "resolveDispute",
    "fulfillmentWebhook",
    "sellerBalance",
    "sellerStatement",
    "getPayoutSettings",
    "putPayoutSettings",
    "requestPayout",
    "listSettlements",
    "getSettlement",
    "paymentsWebhook",
    "listReconciliations",
    "acceptClaim",
    "listChargebacks",
    "getChargeback",
    "submitChargebackEvidence",
    "createWebhookEndpoint",
    "listWebhookEndpoints",
    "disableWebhookEndpoint",
    "listWebhookEvents",
    "replayWebhookEvent",
    "insightVolume",
    "insightFunnel",
    "insightDisputes",
    "insightSurges",
    "stripeWebhook",
    "putPaymentAccount",
    "getPaymentAccount",
    "healthz",
    "readyz",
    "metrics",
    "encodePayloads",
    "decodePayloads",
}
PROBLEM = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture(scope="module")
def spec() -> dict:
    app = create_app(Settings(settlement_jwt_secret=secrets.token_hex(32), settlement_webhook_secret=secrets.token_hex(32)))
    return app.openapi()


def _operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def _resolve(spec: dict, ref: str) -> dict:
    node = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_operation_has_a_stable_camel_case_id(spec):
    ids = [op.get("operationId") for _, _, op in _operations(spec)]
    assert set(ids) == OPERATION_IDS and len(ids) == len(OPERATION_IDS)
    assert all(re.fullmatch(r"[a-z][A-Za-z]+", i) for i in ids)


def test_every_error_answer_is_a_problem_document(spec):
    for path, method, operation in _operations(spec):
        for status, answer in operation["responses"].items():
            if int(status) >= 400:
                assert answer["content"] == {PROBLEM_JSON: {"schema": PROBLEM}}, (method, path, status)
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["properties"]) == {"type", "title", "status", "detail", "instance", "request_id", "errors"}
    assert set(problem["required"]) == {"type", "title", "status", "detail", "instance"}
    assert set(spec["components"]["schemas"]["FieldError"]["properties"]) == {"field", "message"}
    assert not {"HTTPValidationError", "ValidationError"} & set(spec["components"]["schemas"])


@pytest.mark.parametrize(
    ("operation_id", "statuses"),
    [
        ("createOrder", {"400", "401", "403", "409", "413", "422", "503"}),
        ("getOrder", {"401", "404", "422", "503"}),
        ("listOrders", {"401", "422", "503"}),
        ("confirmReceipt", {"401", "403", "404", "409", "413", "422", "503"}),
        ("resolveDispute", {"400", "401", "403", "404", "409", "413", "422", "503"}),
        ("fulfillmentWebhook", {"401", "404", "413", "422", "503"}),
        ("sellerStatement", {"401", "403", "404", "422", "503"}),
        ("readyz", {"503"}),
        ("healthz", set()),
        ("decodePayloads", {"400", "401", "403", "404", "413", "422", "503"}),
    ],
)
def test_each_operation_lists_the_errors_it_can_give(spec, operation_id, statuses):
    operation = next(op for _, _, op in _operations(spec) if op["operationId"] == operation_id)
    assert {s for s in operation["responses"] if int(s) >= 400} == statuses


def test_unavailable_says_when_to_retry_and_unauthorized_how_to_authenticate(spec):
    for path, method, operation in _operations(spec):
        responses = operation["responses"]
        if "503" in responses:
            assert responses["503"]["headers"]["Retry-After"]["required"] is True
        if operation.get("security"):
            assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True, (method, path)


def test_every_reference_resolves(spec):
    assert "$defs" not in str(spec)
    for ref in _refs(spec):
        assert ref.startswith("#/components/schemas/") and _resolve(spec, ref), ref


def test_request_bodies_refuse_unknown_properties(spec):
    for path, method, operation in _operations(spec):
        if "requestBody" not in operation or path.startswith("/codec/"):  # the codec's payloads ignore unknown properties
            continue
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        branches = schema.get("anyOf", [schema])
        objects = [_resolve(spec, b["$ref"]) if "$ref" in b else b for b in branches if b.get("type") != "null"]
        assert objects and all(o["additionalProperties"] is False for o in objects), (method, path)


def test_the_order_status_is_an_enum_in_answers_and_filters(spec):
    schemas = spec["components"]["schemas"]
    assert schemas["OrderView"]["properties"]["status"] == {"$ref": "#/components/schemas/OrderStatus"}
    assert schemas["OrderStatus"]["enum"] == [s.value for s in OrderStatus]
    list_orders = spec["paths"]["/v1/orders"]["get"]
    status = next(p for p in list_orders["parameters"] if p["name"] == "status")
    assert {"$ref": "#/components/schemas/OrderStatus"} in status["schema"]["anyOf"]


def test_creation_is_201_or_200_for_a_repeat_with_the_location_and_links_to_the_order(spec):
    responses = spec["paths"]["/v1/orders"]["post"]["responses"]
    for status in ("201", "200"):
        assert responses[status]["headers"]["Location"]["required"] is True
        assert responses[status]["links"]["getOrder"] == {"operationId": "getOrder", "parameters": {"order_id": "$response.body#/order_id"}}
    assert spec["paths"]["/v1/orders/{order_id}/disputes"]["post"]["responses"].keys() >= {"201"}


def test_the_statement_is_json_or_csv(spec):
    content = spec["paths"]["/v1/sellers/{seller_id}/statement"]["get"]["responses"]["200"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/Statement"}
    assert content["text/csv"]["schema"]["type"] == "string"


@pytest.mark.parametrize(
    ("schema", "property", "good", "bad"),
    [
        ("DisputeRequest", "description", "line one\r\n\tline two", "bell\x07"),
        ("CancelBody", "reason", "changed my mind", "c1\x85"),
    ],
)
def test_text_rules_are_patterns(spec, schema, property, good, bad):
    rule = jsonschema_rs.validator_for(spec["components"]["schemas"][schema]["properties"][property])
    assert rule.is_valid(good) and not rule.is_valid(bad)


def test_rules_between_fields_are_stated(spec):
    resolution = spec["components"]["schemas"]["Resolution"]
    check = jsonschema_rs.validator_for({**resolution, "components": spec["components"]})
    assert check.is_valid({"outcome": "partial_refund", "refund_amount": 100})
    assert check.is_valid({"outcome": "refund", "note": "ok"})
    assert not check.is_valid({"outcome": "partial_refund"})
    assert not check.is_valid({"outcome": "refund", "refund_amount": 100})
    assert not check.is_valid({"outcome": "refund", "extra": 1})
    response = jsonschema_rs.validator_for(spec["components"]["schemas"]["SellerResponse"])
    assert response.is_valid({"accept_refund": True}) and response.is_valid({"evidence": "photo"})
    assert not response.is_valid({"accept_refund": True, "evidence": "photo"}) and not response.is_valid({})
