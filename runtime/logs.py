"""Structured JSON logs: every line carries the order id and workflow id when there is one, and the API's lines the
request id (api/log_context.py).

Used by the worker (configure()) and by `settlement api` and `settlement simulators` (their uvicorn logging config).
"""

import contextvars
import json
import logging
import logging.config
from pathlib import Path

from asgi_correlation_id import correlation_id
from opentelemetry import trace
from temporalio import activity

from domain.order_state import order_id_of, workflow_id_for

CONFIG_FILE = Path(__file__).resolve().parent / "logging.json"

# Set by the API for the order a request is about.
current_order_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_order_id", default=None)


class LogContext(logging.Filter):
    """Adds order_id and workflow_id, from the activity, workflow or request the record belongs to, request_id (the
    API's), and trace_id when the process is traced (runtime/tracing.py): the trace links the API's lines to the worker's."""

    def filter(self, record: logging.LogRecord) -> bool:
        workflow_id = None
        if activity.in_activity():
            workflow_id = activity.info().workflow_id
        elif isinstance(getattr(record, "temporal_workflow", None), dict):
            workflow_id = record.temporal_workflow.get("workflow_id")
        order_id = current_order_id.get() or (order_id_of(workflow_id) if workflow_id else None)
        record.order_id = order_id
        record.workflow_id = workflow_id or (workflow_id_for(order_id) if order_id else None)
        record.request_id = correlation_id.get()
        span = trace.get_current_span().get_span_context()
        record.trace_id = trace.format_trace_id(span.trace_id) if span.is_valid else None
        return True


def configure() -> None:
    logging.config.dictConfig(json.loads(CONFIG_FILE.read_text()))
