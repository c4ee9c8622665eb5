from datetime import datetime, timezone

from domain.order_state import FulfillmentEvent, OrderState
from domain.statuses import OrderStatus
from tests.workflow.conftest import TASK_QUEUE, env_now, make_order
from workflows.order import OrderWorkflow


async def test_confirmation_window_lapses_and_seller_is_paid(env, worker, providers):
    now = await env_now(env)
    order = make_order(now)
    handle = await env.client.start_workflow(OrderWorkflow.run, order, id=f"order-{order.order_id}", task_queue=TASK_QUEUE)
    for i, kind in enumerate(["shipped", "delivered"]):
        await handle.signal(OrderWorkflow.on_fulfillment_event, FulfillmentEvent(event_id=f"e{i}", order_id=order.order_id, type=kind, occurred_at=now))
    result: OrderState = await handle.result()
    assert result.status == OrderStatus.SETTLED
    assert result.amounts.paid_out == 3500 - order.fees.total
    print(result.timeline)
