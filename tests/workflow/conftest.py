
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from binaries import executable
from tests.search_attributes import register_search_attributes

from domain.fees import compute_fees
from domain.order_request import Item
from domain.order_state import OrderInput
from tests.workflow.fakes import FakeProviders
from workflows.order import OrderWorkflow

TASK_QUEUE = "wf-test"


@pytest.fixture
async def env():
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=executable("temporal-test-server"), data_converter=pydantic_data_converter
    ) as env:
        await register_search_attributes(env.client)
        yield env


@pytest.fixture
def providers() -> FakeProviders:
    return FakeProviders()


@pytest.fixture
async def worker(env, providers):
    async with Worker(env.client, task_queue=TASK_QUEUE, workflows=[OrderWorkflow], activities=providers.activities()):
        yield


def make_order(now: datetime, payment_method: str = "pm_card_visa", **overrides) -> OrderInput:
    items = [Item(sku="sku-1", quantity=2, unit_price=1500)]
    fields = dict(
        order_id=f"o-{uuid.uuid4().hex[:8]}",
        buyer_id="buyer_1",
        seller_id="seller_1",
        marketplace="mk",
        currency="USD",
        settlement_currency="USD",
        items=items,
        shipping_fee=500,
        payment_method=payment_method,
        placed_at=now,
        ship_by=now + timedelta(days=5),
        deliver_by=now + timedelta(days=14),
        confirmation_window=timedelta(days=7),
        fees=compute_fees(3500, 2, "USD"),
    )
    fields.update(overrides)
    return OrderInput(**fields)


async def env_now(env: WorkflowEnvironment) -> datetime:
    return (await env.get_current_time()).astimezone(timezone.utc)
