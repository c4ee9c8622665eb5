"""Worker entry point: runs the order workflows and their activities until SIGTERM, then drains."""

import asyncio
import logging
import signal
from datetime import timedelta

import httpx
from temporalio.worker import Worker

from activities.bookkeeping import BookkeepingActivities
from activities.fulfillment import FulfillmentActivities
from activities.fx import FxActivities
from activities.payments import PaymentActivities
from adapters.fulfillment import SimulatedFulfillmentNetwork
from adapters.fx import SimulatedFxRates
from adapters.payments import SimulatedPaymentGateway
from db.dsn import database_url
from db.pool import create_pool
from runtime import logs, tracing
from runtime.settings import Settings, get_settings
from runtime.temporal_connection import connect
from runtime.worker_metrics import publish_orders_by_status, runtime_with_prometheus
from workflows.order import OrderWorkflow

log = logging.getLogger("settlement.worker")


def activities_for(pool, provider_client: httpx.AsyncClient) -> list:
    payments = PaymentActivities(SimulatedPaymentGateway(provider_client))
    fulfillment = FulfillmentActivities(SimulatedFulfillmentNetwork(provider_client))
    bookkeeping = BookkeepingActivities(pool)
    fx = FxActivities(SimulatedFxRates(provider_client))
    return [
        payments.authorize,
        payments.capture,
        payments.void,
        payments.payout,
        payments.refund,
        payments.credit,
        fulfillment.create_order,
        fulfillment.cancel_order,
        fulfillment.request_return,
        bookkeeping.post_ledger_entry,
        bookkeeping.record_order,
        fx.lock_fx_rate,
    ]


async def run_worker(settings: Settings) -> None:
    metrics_address = f"{settings.settlement_worker_metrics_host}:{settings.settlement_worker_metrics_port}"
    runtime = runtime_with_prometheus(metrics_address)
    tracer_provider = tracing.start("settlement-worker")
    client = await connect(settings, runtime, tracing.temporal_interceptors(tracer_provider))
    pool = await create_pool(database_url())
    async with httpx.AsyncClient(base_url=settings.settlement_sim_url, timeout=10.0) as provider_client:
        worker = Worker(
            client,
            task_queue=settings.temporal_task_queue,
            workflows=[OrderWorkflow],
            activities=activities_for(pool, provider_client),
            graceful_shutdown_timeout=timedelta(seconds=20),
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        gauges = asyncio.create_task(publish_orders_by_status(runtime, pool, stop))
        log.info("worker polling task queue %s; metrics on %s", settings.temporal_task_queue, metrics_address)
        async with worker:
            await stop.wait()
            log.info("draining")
        await gauges
    await pool.close()
    tracing.stop(tracer_provider)


def main() -> None:
    logs.configure()
    asyncio.run(run_worker(get_settings()))


if __name__ == "__main__":
    main()
