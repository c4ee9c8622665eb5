"""The worker's Prometheus endpoint: Temporal SDK metrics plus the engine's own (orders by status)."""

import asyncio
import logging

import asyncpg
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from db.read_model import count_by_status
from domain.statuses import OrderStatus
from runtime.stopping import pause_unless_stopped

log = logging.getLogger("settlement.worker")

REFRESH_SECONDS = 15


def runtime_with_prometheus(bind_address: str) -> Runtime:
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=bind_address)))


async def publish_orders_by_status(runtime: Runtime, pool: asyncpg.Pool, stop: asyncio.Event) -> None:
    """settlement_orders{status}: the number of orders in each status, from the read model."""
    gauge = runtime.metric_meter.create_gauge("settlement_orders", "orders by status", "orders")
    while not stop.is_set():
        try:
            counts = await count_by_status(pool)
            for status in OrderStatus:  # statuses no order is in any more go back to zero
                gauge.set(counts.get(status.value, 0), {"status": status.value})
        except Exception:  # metrics must never take the worker down
            log.exception("could not refresh settlement_orders")
        await pause_unless_stopped(stop, REFRESH_SECONDS)
