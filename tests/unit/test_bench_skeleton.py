"""bench/skeleton.py: the baselines B1 compares the engine with have the shape they are said to have."""

from collections import Counter

from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from bench.skeleton import STEPS, TASK_QUEUE, SkeletonInput, skeleton_worker
from runtime.binaries import executable


async def _shape(env: WorkflowEnvironment, workflow: str, *args: object) -> Counter:
    handle = await env.client.start_workflow(workflow, args=args, id=f"shape-{workflow}", task_queue=TASK_QUEUE)
    await handle.result()
    history = await handle.fetch_history()
    return Counter(EventType.Name(event.event_type) for event in history.events)


async def test_the_skeleton_settles_in_six_activities_two_signals_and_one_timer():
    async with await WorkflowEnvironment.start_time_skipping(test_server_existing_path=executable("temporal-test-server")) as env:
        async with skeleton_worker(env.client, ship_after=0.0, deliver_after=0.0):
            skeleton = await _shape(env, "BenchSkeleton", SkeletonInput(confirmation_window=60.0))
            noop = await _shape(env, "BenchNoop")
    assert skeleton["EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"] == len(STEPS) == 6
    assert skeleton["EVENT_TYPE_ACTIVITY_TASK_COMPLETED"] == 6
    assert skeleton["EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED"] == 2
    assert skeleton["EVENT_TYPE_TIMER_STARTED"] == skeleton["EVENT_TYPE_TIMER_FIRED"] == 1
    assert noop["EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"] == 1
    assert noop["EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED"] == noop["EVENT_TYPE_TIMER_STARTED"] == 0
