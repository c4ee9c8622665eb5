"""What one workflow history costs on Temporal Cloud: billable Actions, history events and history bytes.

Actions are counted the way Temporal Cloud bills them, from the history events its documentation maps each Action
type to (docs.temporal.io/cloud/actions, "Temporal Cloud Actions": Action type, metric name, History Event Type):

- workflow started: WORKFLOW_EXECUTION_STARTED (a client start, a Continue-As-New run or a child's own run, each
  counted in the history of the run it starts: CONTINUED_AS_NEW itself is not counted again);
- activity: ACTIVITY_TASK_SCHEDULED, one per activity, and each retry: ACTIVITY_TASK_STARTED.attempt - 1
  (intermediate attempts write no events; the last attempt's STARTED carries the count);
- local activity retries: WORKFLOW_TASK_COMPLETED.metering_metadata.nonfirst_local_activity_execution_attempts;
- markers: all MARKER_RECORDED of one workflow task are one Action (record_activity_markers). That includes the
  `core_patch` markers `workflow.patched` writes; they are listed apart (`marker tasks`) so they can be told from the
  rest;
- timer: TIMER_STARTED, including the implicit timer of `wait_condition(..., timeout=...)`; a timer cancelled
  before it fires still counts;
- search attributes: each UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, except one that sets only TemporalChangeVersion
  (the attribute `workflow.patched` maintains, exempt); those given at start are free;
- signal: WORKFLOW_EXECUTION_SIGNALED; update: WORKFLOW_EXECUTION_UPDATE_ACCEPTED (a rejected update is billed
  too but never written to history, so it cannot be counted here);
- child workflow: START_CHILD_WORKFLOW_EXECUTION_INITIATED, two Actions; reset: WORKFLOW_TASK_FAILED with cause
  RESET_WORKFLOW; options updated: WORKFLOW_EXECUTION_OPTIONS_UPDATED; Nexus: NEXUS_OPERATION_SCHEDULED and
  NEXUS_OPERATION_CANCEL_REQUESTED.

Not in a history and so not counted: queries, activity heartbeats, rejected updates, export, schedules.

History bytes are the serialized size of the history's events (the protobuf History message Temporal stores and
limits), history events their number.
"""

from collections import Counter
from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.history.v1 import History, HistoryEvent
from temporalio.client import WorkflowHistory

CHANGE_VERSION = "TemporalChangeVersion"  # maintained by workflow.patched; exempt from billing

# Events that are one Action each, by the Action kind they are reported under.
ONE_ACTION = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: "workflow started",
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: "activities",
    EventType.EVENT_TYPE_TIMER_STARTED: "timers",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: "signals",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: "updates",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED: "options updated",
    EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED: "nexus",
    EventType.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUESTED: "nexus",
}
PATCH_MARKER = "core_patch"


@dataclass(frozen=True)
class HistoryCost:
    actions: Counter[str]  # billable Actions by kind
    activities: Counter[str]  # activity Actions (schedules and retries) by activity type
    events: int
    bytes: int

    @property
    def total(self) -> int:
        return sum(self.actions.values())


def history_cost(history: WorkflowHistory) -> HistoryCost:
    actions: Counter[str] = Counter()
    activities: Counter[str] = Counter()
    scheduled_types: dict[int, str] = {}
    marker_tasks: dict[int, bool] = {}  # workflow task completed event id → only patch markers
    for event in history.events:
        kind = ONE_ACTION.get(event.event_type)
        if kind is not None:
            actions[kind] += 1
        match event.event_type:
            case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                activity = event.activity_task_scheduled_event_attributes.activity_type.name
                scheduled_types[event.event_id] = activity
                activities[activity] += 1
            case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                started = event.activity_task_started_event_attributes
                if started.attempt > 1:
                    actions["activity retries"] += started.attempt - 1
                    activities[scheduled_types.get(started.scheduled_event_id, "?")] += started.attempt - 1
            case EventType.EVENT_TYPE_MARKER_RECORDED:
                marker = event.marker_recorded_event_attributes
                task = marker.workflow_task_completed_event_id
                marker_tasks[task] = marker_tasks.get(task, True) and marker.marker_name == PATCH_MARKER
            case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
                if set(_upserted(event)) - {CHANGE_VERSION}:
                    actions["search attribute upserts"] += 1
            case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                metering = event.workflow_task_completed_event_attributes.metering_metadata
                actions["local activity retries"] += metering.nonfirst_local_activity_execution_attempts
            case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
                actions["child workflows"] += 2
            case EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                if event.workflow_task_failed_event_attributes.cause == WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW:
                    actions["resets"] += 1
    actions["marker tasks (patches)"] += sum(only_patches for only_patches in marker_tasks.values())
    actions["marker tasks (other)"] += sum(not only_patches for only_patches in marker_tasks.values())
    return HistoryCost(+actions, activities, len(history.events), History(events=history.events).ByteSize())


def _upserted(event: HistoryEvent) -> list[str]:
    return list(event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields)
