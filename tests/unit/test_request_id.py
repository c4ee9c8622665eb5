"""The request id (api/log_context.py) and the HTTP metrics (api/metrics.py), on the real application: every answer
carries an X-Request-ID, every problem document and log line the same id; a hostile X-Request-ID is replaced, never
echoed; every answer is counted, an unhandled error's 500 included."""

import logging
import re
import secrets

import httpx
import pytest
from prometheus_client import REGISTRY

from api.app import create_app
from runtime.logs import LogContext
from runtime.settings import Settings

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
async def api():
    settings = Settings(settlement_jwt_secret=secrets.token_hex(32), settlement_webhook_secret=secrets.token_hex(32))
    app = create_app(settings)
    app.state.settings = settings  # the lifespan (Temporal, PostgreSQL) does not run here

    async def boom():
        raise RuntimeError("secret internals")

    app.add_api_route("/boom", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
def api_log_records():
    """The API logger's records, through the same filter as the JSON log lines."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.addFilter(LogContext())
    handler.emit = records.append
    logger = logging.getLogger("settlement.api")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def _count(route: str, status: str) -> float:
    return REGISTRY.get_sample_value("settlement_http_requests_total", {"method": "GET", "route": route, "status": status}) or 0.0


async def test_an_unhandled_error_is_a_counted_500_whose_problem_and_log_line_carry_the_request_id(api, api_log_records):
    before = _count("/boom", "500")
    response = await api.get("/boom")
    assert response.status_code == 500
    assert _count("/boom", "500") == before + 1
    [request_id] = response.headers.get_list("x-request-id")
    assert GENERATED.fullmatch(request_id)
    assert response.json()["request_id"] == request_id
    assert "secret internals" not in response.text
    assert [record.request_id for record in api_log_records] == [request_id]


async def test_every_answer_is_counted_by_route_template_and_exact_status(api):
    before = _count("/v1/orders/{order_id}", "401"), _count("none", "404")
    await api.get("/v1/orders/o-1")
    await api.get("/no/such/path")
    assert (_count("/v1/orders/{order_id}", "401"), _count("none", "404")) == (before[0] + 1, before[1] + 1)


async def test_a_well_formed_request_id_is_honoured_in_the_header_and_the_problem_document(api):
    request_id = "edge-7f3a.01:req_42"
    response = await api.get("/v1/orders/o-1", headers={"X-Request-ID": request_id})
    assert response.status_code == 401
    assert response.headers.get_list("x-request-id") == [request_id]
    assert response.json()["request_id"] == request_id


async def test_an_answer_that_is_not_a_problem_carries_a_request_id_too(api):
    response = await api.get("/healthz")
    assert response.status_code == 200 and GENERATED.fullmatch(response.headers["x-request-id"])


@pytest.mark.parametrize("hostile", ["abc\x00def", "id\x1b[31mred", "tab\tseparated", "x" * 10_240, "a b", "é-accent"])
async def test_a_hostile_request_id_is_replaced_not_echoed(api, hostile):
    response = await api.get("/v1/orders/o-1", headers=[(b"X-Request-ID", hostile.encode("latin-1"))])
    request_id = response.headers["x-request-id"]
    assert request_id != hostile and GENERATED.fullmatch(request_id)
    assert response.json()["request_id"] == request_id
    assert hostile not in response.text
