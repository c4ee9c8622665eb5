"""The HTTP metrics' labels (api/metrics.py) on the real application: a method outside the standard set is counted
as `other`, so a client cannot grow the label set by inventing methods."""

import secrets

import httpx
import pytest
from prometheus_client import REGISTRY

from api.app import create_app
from runtime.settings import Settings

MADE_UP = "BREW"


@pytest.fixture
async def api():
    settings = Settings(settlement_jwt_secret=secrets.token_hex(32), settlement_webhook_secret=secrets.token_hex(32))
    app = create_app(settings)
    app.state.settings = settings  # the lifespan (Temporal, PostgreSQL) does not run here
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


def count(method: str, route: str, status: str) -> float:
    labels = {"method": method, "route": route, "status": status}
    return REGISTRY.get_sample_value("settlement_http_requests_total", labels) or 0.0


def methods_seen() -> set[str]:
    return {
        sample.labels["method"] for metric in REGISTRY.collect() for sample in metric.samples if sample.name.startswith("settlement_http_")
    }


async def test_a_made_up_method_is_counted_as_other(api):
    before = count("other", "/healthz", "405")
    response = await api.request(MADE_UP, "/healthz")
    assert response.status_code == 405
    assert count("other", "/healthz", "405") == before + 1
    assert MADE_UP not in methods_seen()


async def test_a_standard_method_keeps_its_name(api):
    before = count("DELETE", "/healthz", "405")
    assert (await api.delete("/healthz")).status_code == 405
    assert count("DELETE", "/healthz", "405") == before + 1
