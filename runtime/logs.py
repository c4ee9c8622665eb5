"""Structured JSON logs: every line carries the order id and workflow id when there is one.

Used by the worker (configure()) and by the uvicorn processes (`--log-config logging.json`).
"""

import contextvars
import json
import logging
import logging.config
from pathlib import Path

from temporalio import activity

CONFIG_FILE = Path(__file__).resolve().parent / "logging.json"

# Set by the API for the order a request is about.
current_order_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_order_id", default=None)


class OrderContext(logging.Filter):
    """Adds order_id and workflow_id, from the activity, workflow or request the record belongs to."""

    def filter(self, record: logging.LogRecord) -> bool:
        workflow_id = None
        if activity.in_activity():
            workflow_id = activity.info().workflow_id
        elif isinstance(getattr(record, "temporal_workflow", None), dict):
            workflow_id = record.temporal_workflow.get("workflow_id")
        order_id = current_order_id.get()
        if workflow_id and workflow_id.startswith("order-"):
            order_id = order_id or workflow_id.removeprefix("order-")
        record.order_id = order_id
        record.workflow_id = workflow_id or (f"order-{order_id}" if order_id else None)
        return True


def configure() -> None:
    logging.config.dictConfig(json.loads(CONFIG_FILE.read_text()))
