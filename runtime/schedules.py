"""The Temporal Schedules the engine runs on: made by the worker when it starts, if they do not exist yet (an
operator may pause or change them in the Temporal UI; the worker leaves an existing one as it is)."""

import logging

from temporalio.client import Client, Schedule, ScheduleActionStartWorkflow, ScheduleAlreadyRunningError, ScheduleSpec
from temporalio.service import RPCError

from domain.reconciliation import RECONCILIATION_CRON, RECONCILIATION_SCHEDULE_ID, RECONCILIATION_WORKFLOW_TYPE

log = logging.getLogger("settlement.schedules")


async def ensure_schedules(client: Client, task_queue: str) -> None:
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(RECONCILIATION_WORKFLOW_TYPE, id="daily-reconciliation-run", task_queue=task_queue),
        spec=ScheduleSpec(cron_expressions=[RECONCILIATION_CRON]),
    )
    try:
        await client.create_schedule(RECONCILIATION_SCHEDULE_ID, schedule)
        log.info("schedule %s created (%s UTC)", RECONCILIATION_SCHEDULE_ID, RECONCILIATION_CRON)
    except ScheduleAlreadyRunningError:
        pass
    except RPCError as err:  # Temporal is away for a moment: the next worker to start makes it
        log.warning("schedule %s not ensured: %s", RECONCILIATION_SCHEDULE_ID, err)
