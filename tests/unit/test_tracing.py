"""runtime/tracing.py: off by default; when on, an order request is one trace from the API's server span through the
workflow start, the workflow and its activities (the span context travels in Temporal's headers). The real
application and worker wiring, on the time-skipping test server, with an in-memory exporter."""

import asyncio
import secrets

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import ConsoleSpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from api.auth import Principal, current_principal
from api.order_workflows import OrderWorkflows
from api.placement import placement_policy
from db import read_model, seller_payouts
from domain import activity_names as act
from domain.order_actions import WORKFLOW_TYPE
from domain.payouts import PayoutTerms
from runtime import tracing
from runtime.binaries import executable
from runtime.settings import Settings
from runtime.temporal_connection import connect
from tests.integration.stack import new_order
from tests.search_attributes import register_search_attributes
from tests.workflow.fakes import FakeProviders
from workflows.order import OrderWorkflow

SETTINGS = Settings(
    settlement_jwt_secret=secrets.token_hex(32), settlement_webhook_secret=secrets.token_hex(32), temporal_task_queue="tracing-test"
)


def test_tracing_is_off_by_default():
    assert tracing.exporters_from_environment({}) == []
    assert tracing.exporters_from_environment({"OTEL_TRACES_EXPORTER": "none"}) == []
    assert tracing.exporters_from_environment({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}) == []
    assert tracing.start("settlement-test", []) is None
    assert tracing.temporal_interceptors(None) == []


def test_the_exporters_otel_traces_exporter_names():
    [otlp] = tracing.exporters_from_environment({"OTEL_TRACES_EXPORTER": "otlp"})
    assert isinstance(otlp, OTLPSpanExporter)
    both = tracing.exporters_from_environment({"OTEL_TRACES_EXPORTER": "console, otlp"})
    assert sorted(type(e).__name__ for e in both) == ["ConsoleSpanExporter", "OTLPSpanExporter"]
    assert isinstance(tracing.exporters_from_environment({"OTEL_TRACES_EXPORTER": "console"})[0], ConsoleSpanExporter)


@pytest.mark.parametrize(
    "env", [{"OTEL_TRACES_EXPORTER": "jaeger"}, {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}]
)
def test_an_exporter_this_engine_does_not_have_refuses_to_start(env):
    with pytest.raises(SystemExit, match="^settlement: refusing to start: "):
        tracing.exporters_from_environment(env)


@pytest.fixture
async def temporal(monkeypatch):
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=executable("temporal-test-server"), data_converter=pydantic_data_converter
    ) as env:
        await register_search_attributes(env.client)
        monkeypatch.setenv("TEMPORAL_ADDRESS", env.client.service_client.config.target_host)
        yield env


@pytest.fixture
def spans(monkeypatch):
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    exporter = InMemorySpanExporter()
    provider = tracing.start("settlement-test", [exporter])
    yield provider, exporter
    tracing.stop(provider)


@pytest.fixture
async def worker(temporal, spans):
    """The worker's own client, as in runtime/worker_process.py: connected with the tracing interceptors, which its workers inherit."""
    client = await connect(SETTINGS, interceptors=tracing.temporal_interceptors(spans[0]))
    async with Worker(client, task_queue=SETTINGS.temporal_task_queue, workflows=[OrderWorkflow], activities=FakeProviders().activities()):
        yield


@pytest.fixture
async def api(temporal, spans, monkeypatch):
    """The real application, traced, with the API's own Temporal client; no read model (a new order is not in it)."""

    async def no_order(pool, order_id):
        return None

    async def per_order(pool, seller_id):
        return PayoutTerms()

    monkeypatch.setattr(read_model, "get_order", no_order)
    monkeypatch.setattr(seller_payouts, "placement_terms", per_order)
    app = create_app(SETTINGS, tracer_provider=spans[0])
    app.state.settings, app.state.pool, app.state.placement_policy = SETTINGS, None, placement_policy(SETTINGS)
    client = await connect(SETTINGS, interceptors=tracing.temporal_interceptors(spans[0]))
    app.state.orders = OrderWorkflows(client, SETTINGS.temporal_task_queue)
    app.dependency_overrides[current_principal] = lambda: Principal(role="marketplace", sub="market_a")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


async def finished_spans(spans, name: str, timeout: float = 15.0):
    provider, exporter = spans
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        provider.force_flush()
        finished = exporter.get_finished_spans()
        if any(span.name == name for span in finished):
            return finished
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no span {name}; spans: {[span.name for span in finished]}")
        await asyncio.sleep(0.1)


async def test_an_order_request_is_one_trace_through_its_workflow_and_activities(api, worker, spans):
    response = await api.post("/v1/orders", json=new_order())
    assert response.status_code == 201, response.text

    finished = await finished_spans(spans, f"RunActivity:{act.booked(act.CREATE_FULFILLMENT_ORDER)}")
    [request] = [span for span in finished if span.instrumentation_scope.name.startswith("opentelemetry.instrumentation.fastapi")]
    assert (request.name, request.kind) == ("POST /v1/orders", SpanKind.SERVER)
    assert request.resource.attributes["service.name"] == "settlement-test"
    by_name = {span.name: span for span in finished}
    chain = [
        f"StartWorkflow:{WORKFLOW_TYPE}",
        f"RunWorkflow:{WORKFLOW_TYPE}",
        f"StartActivity:{act.booked(act.AUTHORIZE_PAYMENT)}",
        f"RunActivity:{act.booked(act.AUTHORIZE_PAYMENT)}",
        f"RunActivity:{act.booked(act.CREATE_FULFILLMENT_ORDER)}",
    ]
    assert set(chain) <= set(by_name), sorted(by_name)
    assert {by_name[name].context.trace_id for name in chain} == {request.context.trace_id}
    assert by_name[f"StartWorkflow:{WORKFLOW_TYPE}"].parent.span_id == request.context.span_id
    assert (
        by_name[f"RunActivity:{act.booked(act.AUTHORIZE_PAYMENT)}"].parent.span_id
        == by_name[f"StartActivity:{act.booked(act.AUTHORIZE_PAYMENT)}"].context.span_id
    )
