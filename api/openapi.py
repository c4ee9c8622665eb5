"""The OpenAPI document, exact: clients generate their SDKs from it and the fuzz test holds the API to it.

- Every error answer is a `Problem` (RFC 9457, `application/problem+json`). An operation lists the statuses
  its kind implies (`_implied`: credentials, a body, parameters) and those its route names with `problems()`.
- Operation ids are explicit on each route (`operation_id=`); `_LINKS` lead from a created order to the
  operations on it (the fuzzer's stateful phase follows them).
- Schemas pydantic nests under `$defs` (a body documented by hand) move to the components, where `$ref`s
  point.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from api.body_limit import MAX_BODY_BYTES
from api.problems import PROBLEM_JSON, ProblemDocument

REF = "#/components/schemas/"
_PROBLEM = "Problem"

_DESCRIPTIONS = {
    400: "The body is not UTF-8 text",
    401: "Credentials missing or refused",
    403: "The caller's role may not do this",
    404: "No such resource, or not one the caller may see",
    409: "The request conflicts with the resource's state (an order's status, an existing order with another payload, "
    "an `Idempotency-Key` used for another request or still running)",
    413: f"The body exceeds {MAX_BODY_BYTES} bytes",
    422: "Invalid input, malformed JSON included; `errors` names each field (an empty `field`: the body as a whole)",
    503: "A backing service (Temporal, PostgreSQL, the identity provider) is unavailable; try again after `Retry-After` seconds",
}
_RETRY_AFTER = {"description": "seconds to wait before trying again", "schema": {"type": "string", "pattern": "^[0-9]+$"}}
_HEADERS = {
    409: {"Retry-After": _RETRY_AFTER},
    503: {"Retry-After": {**_RETRY_AFTER, "required": True}},
}
_BEARER_CHALLENGE = {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}, "required": True}}

_ORDER_OPERATIONS = ("getOrder", "confirmReceipt", "cancelOrder", "retryOrder", "openDispute", "respondToDispute", "resolveDispute")
_SELLER_OPERATIONS = ("sellerBalance", "sellerStatement")


def _links_from_an_order() -> dict[str, dict]:
    links = {op: {"operationId": op, "parameters": {"order_id": "$response.body#/order_id"}} for op in _ORDER_OPERATIONS}
    links |= {op: {"operationId": op, "parameters": {"seller_id": "$response.body#/seller_id"}} for op in _SELLER_OPERATIONS}
    return links


_LINKS = {("createOrder", "201"): _links_from_an_order(), ("createOrder", "200"): _links_from_an_order()}


def problem(status: int, description: str | None = None, headers: dict | None = None) -> dict[str, Any]:
    """An error answer of the OpenAPI document: a `Problem` document."""
    answer: dict[str, Any] = {
        "description": description or _DESCRIPTIONS[status],
        "content": {PROBLEM_JSON: {"schema": {"$ref": REF + _PROBLEM}}},
    }
    if all_headers := {**_HEADERS.get(status, {}), **(headers or {})}:
        answer["headers"] = all_headers
    return answer


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for the errors a route gives beyond those its kind implies."""
    return {status: problem(status) for status in statuses}


def _implied(route: RouteContext, operation: dict) -> dict[int, dict]:
    implied = {}
    if operation.get("security"):
        implied |= {401: problem(401, headers=_BEARER_CHALLENGE), 503: problem(503)}
    if "POST" in route.methods:
        implied[413] = problem(413)  # the cap applies to any body, even one the operation does not read
    if route.body_field is not None:
        implied[400] = problem(400)
    if operation.get("parameters") or route.body_field is not None:
        implied[422] = problem(422)
    return implied


def _hoist_defs(node: Any, components: dict) -> None:
    if isinstance(node, dict):
        for name, schema in node.pop("$defs", {}).items():
            if components.setdefault(name, schema) != schema:
                raise ValueError(f"two different schemas named {name}")
        for value in list(node.values()):
            _hoist_defs(value, components)
    elif isinstance(node, list):
        for value in node:
            _hoist_defs(value, components)


def build(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for fastapi_default in ("HTTPValidationError", "ValidationError"):
        schemas.pop(fastapi_default, None)
    schemas[_PROBLEM] = ProblemDocument.model_json_schema(ref_template=REF + "{model}")
    for route in iter_route_contexts(app.routes):
        if not (isinstance(route.original_route, APIRoute) and route.include_in_schema):
            continue
        for method in route.methods:
            operation = document["paths"][route.path_format][method.lower()]
            responses = operation["responses"]
            for status, answer in _implied(route, operation).items():
                if status == 422 or str(status) not in responses:  # FastAPI's own 422 is not what the API sends
                    responses[str(status)] = answer
            for (operation_id, status), links in _LINKS.items():
                if operation.get("operationId") == operation_id:
                    responses[status]["links"] = links
            operation["responses"] = dict(sorted(responses.items()))
    _hoist_defs(document, schemas)
    return document


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi
