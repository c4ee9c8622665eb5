"""What operators do to orders through Temporal: find stuck ones, retry, refresh the read model, export and replay histories."""

from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.runtime import Runtime
from temporalio.worker import Replayer

from domain import order_actions as msg
from domain.order_state import OrderState, workflow_id_for
from domain.search_attributes import ORDER_STATUS
from workflows.order import OrderWorkflow
from workflows.seller_payouts import SellerPayoutsWorkflow


async def find_orders(client: Client, query: str, limit: int = 100) -> list[tuple[str, str]]:
    """(workflow id, OrderStatus) of the workflows matching a visibility query."""
    found = []
    async for execution in client.list_workflows(query, limit=limit):
        found.append((execution.id, execution.typed_search_attributes.get(ORDER_STATUS) or "?"))
    return found


async def retry_order(client: Client, order_id: str, operator: str) -> OrderState:
    handle = client.get_workflow_handle(workflow_id_for(order_id))
    return await handle.execute_update(msg.RETRY, msg.Actor(role=msg.Role.OPERATOR, sub=operator), result_type=OrderState)


async def refresh_read_model(client: Client, pool, order_id: str) -> OrderState:
    """Write the current run's state to the read model (after a reset, before the new run moves)."""
    from db import read_model

    handle = client.get_workflow_handle(workflow_id_for(order_id))
    run_id = (await handle.describe()).run_id
    state = await client.get_workflow_handle(workflow_id_for(order_id), run_id=run_id).query(msg.STATE_QUERY, result_type=OrderState)
    await read_model.record_order(pool, state, run_id=run_id)
    return state


async def fetch_histories(client: Client, workflow_ids: list[str], query: str | None) -> list[WorkflowHistory]:
    histories = [await client.get_workflow_handle(wid).fetch_history() for wid in workflow_ids]
    if query:
        async for history in client.list_workflows(query).map_histories():
            histories.append(history)
    return histories


def export_history(history: WorkflowHistory, directory: Path) -> Path:
    path = directory / f"{history.workflow_id}.json"
    path.write_text(history.to_json())
    return path


def load_history(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text())


async def replay(histories: list[WorkflowHistory], data_converter, runtime: Runtime | None = None) -> list[tuple[str, str | None]]:
    """Replay each history against the current workflow code: (workflow id, failure or None)."""
    replayer = Replayer(workflows=[OrderWorkflow, SellerPayoutsWorkflow], data_converter=data_converter, runtime=runtime)
    results = []
    for history in histories:
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        results.append((history.workflow_id, None if result.replay_failure is None else str(result.replay_failure)))
    return results
