"""bench/history_costs.py: billable Actions, events and bytes of a history, checked against hand counts."""

from pathlib import Path

from temporalio.api.common.v1 import Payload, SearchAttributes
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.history.v1 import (
    ActivityTaskScheduledEventAttributes,
    ActivityTaskStartedEventAttributes,
    History,
    HistoryEvent,
    MarkerRecordedEventAttributes,
    UpsertWorkflowSearchAttributesEventAttributes,
    WorkflowTaskFailedEventAttributes,
)
from temporalio.client import WorkflowHistory

from bench.history_costs import history_cost
from operations.tools import load_history

HISTORIES = Path(__file__).parent.parent / "histories"


def test_a_recorded_confirmed_order_counts_as_by_hand():
    """order-o-5fdfc193 (tests/histories/README.md: authorize → fulfillment → capture → ledger → confirm_receipt →
    release → reserve → payout → settle), counted by hand from its events:
    - 1 start (event 1);
    - 15 activities, each on its first attempt: record_order ×7 (events 5, 22, 35, 66, 84, 100, 137),
      post_ledger_entry ×4 (59, 110, 118, 130), authorize_payment, create_fulfillment_order, capture_payment,
      payout_seller (14, 28, 50, 124);
    - 5 upserts of OrderStatus (34, 65, 83, 99, 136); the 3 of TemporalChangeVersion alone (21, 82, 117) are free;
    - 3 timers (ship-by 41, deliver-by 72, confirmation window 93), each cancelled, each billed;
    - 2 signals (shipped 45, delivered 76), 1 update accepted (confirm_receipt 97);
    - 3 workflow tasks recording patch markers (events 20, 81, 116, one per task).
    30 Actions in all, 143 events."""
    cost = history_cost(load_history(HISTORIES / "order-o-5fdfc193.json"))
    assert dict(cost.actions) == {
        "workflow started": 1,
        "activities": 15,
        "search attribute upserts": 5,
        "timers": 3,
        "signals": 2,
        "updates": 1,
        "marker tasks (patches)": 3,
    }
    assert cost.total == 30
    assert cost.activities["record_order"] == 7 and cost.activities["post_ledger_entry"] == 4
    assert cost.events == 143
    assert cost.bytes == History(events=load_history(HISTORIES / "order-o-5fdfc193.json").events).ByteSize() > 20_000


def _event(event_id: int, event_type: EventType.ValueType, **attributes) -> HistoryEvent:
    return HistoryEvent(event_id=event_id, event_type=event_type, **attributes)


def _upsert(event_id: int, *keys: str) -> HistoryEvent:
    fields = {key: Payload(data=b'"x"') for key in keys}
    attributes = UpsertWorkflowSearchAttributesEventAttributes(search_attributes=SearchAttributes(indexed_fields=fields))
    return _event(
        event_id, EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, upsert_workflow_search_attributes_event_attributes=attributes
    )


def _marker(event_id: int, name: str, task: int) -> HistoryEvent:
    attributes = MarkerRecordedEventAttributes(marker_name=name, workflow_task_completed_event_id=task)
    return _event(event_id, EventType.EVENT_TYPE_MARKER_RECORDED, marker_recorded_event_attributes=attributes)


def test_retries_markers_children_resets_and_exempt_upserts():
    scheduled = ActivityTaskScheduledEventAttributes()
    scheduled.activity_type.name = "payout_seller"
    reset = WorkflowTaskFailedEventAttributes(cause=WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW)
    events = [
        _event(1, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED),
        _event(2, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, activity_task_scheduled_event_attributes=scheduled),
        _event(
            3,
            EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED,
            activity_task_started_event_attributes=ActivityTaskStartedEventAttributes(scheduled_event_id=2, attempt=4),
        ),
        _marker(4, "core_patch", task=3),
        _marker(5, "core_patch", task=3),  # the same workflow task: one Action
        _marker(6, "core_local_activity", task=7),
        _upsert(8, "TemporalChangeVersion"),  # exempt
        _upsert(9, "OrderStatus", "TemporalChangeVersion"),
        _event(10, EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED),
        _event(11, EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED, workflow_task_failed_event_attributes=reset),
        _event(12, EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED),  # an ordinary failure: free
        _event(13, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED),
    ]
    cost = history_cost(WorkflowHistory("wf", events))
    assert dict(cost.actions) == {
        "workflow started": 1,
        "activities": 1,
        "activity retries": 3,
        "marker tasks (patches)": 1,
        "marker tasks (other)": 1,
        "search attribute upserts": 1,
        "child workflows": 2,
        "resets": 1,
    }
    assert cost.activities == {"payout_seller": 4}
    assert cost.total == 11 and cost.events == 12
