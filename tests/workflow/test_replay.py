"""Recorded histories replay against the current code; a change made without workflow.patched would not."""

from pathlib import Path

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner
from temporalio.workflow import NondeterminismError

import workflows.patches
from domain import activity_names as act
from domain.order_actions import OPEN_DISPUTE
from domain.order_state import workflow_id_for
from operations.tools import load_history, replay
from tests.workflow.conftest import TASK_QUEUE, env_now, make_order, ship_and_deliver
from workflows.order import OrderWorkflow

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("*.json"))


def test_histories_are_committed():
    assert len(HISTORIES) >= 15


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays_on_the_current_code(path):
    [(workflow_id, failure)] = await replay([load_history(path)], pydantic_data_converter)
    assert failure is None, f"{workflow_id}: {failure}"


@pytest.mark.parametrize(
    "guard, unconditional",
    [("books_ride", lambda: True), ("applies", lambda patch_id: True)],
    ids=["books riding with the steps", "every earlier change"],
)
async def test_the_patched_changes_would_break_old_histories_without_their_guard(monkeypatch, guard, unconditional):
    """The changes behind patches, applied unconditionally, are nondeterministic for an old history."""
    history = load_history(next(p for p in HISTORIES if _settled(p) and "books-ride-with-steps" not in _markers(p)))
    monkeypatch.setattr(workflows.patches, guard, unconditional)
    replayer = Replayer(workflows=[OrderWorkflow], data_converter=pydantic_data_converter, workflow_runner=UnsandboxedWorkflowRunner())
    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(history)


async def test_a_new_history_with_the_patch_replays(env, worker):
    order = make_order(await env_now(env))
    handle = await env.client.start_workflow(OrderWorkflow.run, order, id=workflow_id_for(order.order_id), task_queue=TASK_QUEUE)
    await ship_and_deliver(env, handle, order)
    await handle.result()
    history = await handle.fetch_history()
    assert any(e.HasField("marker_recorded_event_attributes") for e in history.events)
    [(_, failure)] = await replay([history], pydantic_data_converter)
    assert failure is None


def _settled(path: Path) -> bool:
    return act.PAYOUT_SELLER in path.read_text()


@pytest.mark.parametrize(
    "module, constant",
    [
        ("workflows.patches", "LEDGER_BEFORE_PROVIDER"),
        ("workflows.patches", "KEEP_EARLY_EVENTS"),
        ("workflows.patches", "BOOKS_RIDE_WITH_STEPS"),
        ("workflows.patches", "POOLED_PAYOUTS"),
    ],
)
async def test_histories_of_the_newer_shapes_need_their_patch(monkeypatch, module, constant):
    """Money reserved before the provider call, and early events kept: histories recorded with each change
    replay only on the path their patch marker selects (renaming the patch sends them down the old path)."""
    import importlib

    patch_id = getattr(importlib.import_module(module), constant)
    recorded = [p for p in HISTORIES if f'"id":"{patch_id}"' in _markers(p)]
    assert recorded, f"no recorded history carries the {patch_id} patch"
    monkeypatch.setattr(importlib.import_module(module), constant, f"{patch_id}-renamed")
    replayer = Replayer(workflows=[OrderWorkflow], data_converter=pydantic_data_converter, workflow_runner=UnsandboxedWorkflowRunner())
    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(load_history(recorded[0]))


@pytest.mark.parametrize("arguments", [1, 2], ids=["one input model", "legacy actor and request"])
def test_dispute_updates_are_recorded_in_both_forms(arguments):
    """The replays above cover the dispute updates as sent now (one model) and as recorded before (two
    arguments, still accepted by workflows/update_inputs.py only for these histories)."""
    assert any(n == arguments for path in HISTORIES for name, n in _updates(path) if name == OPEN_DISPUTE)


def _updates(path: Path) -> list[tuple[str, int]]:
    """(update name, number of arguments) of every update a history accepted."""
    import json

    events = json.loads(path.read_text())["events"]
    accepted = [
        e["workflowExecutionUpdateAcceptedEventAttributes"]["acceptedRequest"]["input"]
        for e in events
        if "workflowExecutionUpdateAcceptedEventAttributes" in e
    ]
    return [(i["name"], len(i["args"]["payloads"])) for i in accepted]


def _markers(path: Path) -> str:
    """The decoded patch ids of a history's markers, as JSON text."""
    import base64
    import json

    events = json.loads(path.read_text())["events"]
    details = [e["markerRecordedEventAttributes"]["details"] for e in events if "markerRecordedEventAttributes" in e]
    return " ".join(base64.b64decode(p["data"]).decode() for d in details for v in d.values() for p in v["payloads"])
