"""The worker process (`settlement worker`): runs the order workflows and their activities until SIGTERM, then
drains. Its Prometheus endpoint serves the Temporal SDK's metrics and the engine's own; tracing is on when the
environment names an exporter."""

import asyncio
import logging
import signal
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import asyncpg
import httpx
from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.worker import Worker

from activities.booked import booked_activities
from activities.bookkeeping import BookkeepingActivities
from activities.chargeback_evidence import ChargebackEvidenceActivities
from activities.fulfillment import FulfillmentActivities
from activities.fx import FxActivities
from activities.payments import PaymentActivities
from activities.reconciliation import ReconciliationActivities
from activities.seller_payouts import SellerPayoutActivities, seller_payout_activities
from adapters.amazon_fulfillment import AmazonFulfillmentNetwork, LwaCredentials
from adapters.fulfillment import FulfillmentNetwork, SimulatedFulfillmentNetwork
from adapters.fx import FxRateSource, SimulatedFxRates
from adapters.payments import PaymentGateway, SimulatedPaymentGateway
from adapters.stripe_payments import StripePaymentGateway, stripe_client
from db.dsn import database_url
from db.payment_accounts import payment_account
from db.pool import create_pool
from domain import activity_names as act
from runtime import logs, tracing
from runtime.fulfillment_polling import PolledNetwork, Tell, read_parcels_until_stopped, signaller
from runtime.reference_rates import keep_rates_until_stopped
from runtime.schedules import ensure_schedules
from runtime.settings import Settings, get_settings
from runtime.surge_watch import watch_surges
from runtime.temporal_connection import connect
from runtime.webhook_delivery import deliver_until_stopped
from runtime.worker_metrics import publish_orders_by_status, runtime_with_prometheus
from workflows.order import OrderWorkflow
from workflows.reconciliation import DailyReconciliationWorkflow
from workflows.seller_payouts import SellerPayoutsWorkflow

log = logging.getLogger("settlement.worker")

# How long the worker lets its running activities finish after SIGTERM; the container's stop grace period is longer.
GRACEFUL_SHUTDOWN = timedelta(seconds=20)


def payment_gateway(settings: Settings, pool: asyncpg.Pool, provider_client: httpx.AsyncClient) -> PaymentGateway:
    """The simulated provider, or Stripe Connect (sellers paid to the connected accounts operators set)."""
    if settings.settlement_payments_provider == "stripe" and settings.settlement_stripe_api_key:
        return StripePaymentGateway(stripe_client(settings.settlement_stripe_api_key), partial(payment_account, pool))
    return SimulatedPaymentGateway(provider_client)


def amazon_network(settings: Settings, client: httpx.AsyncClient) -> AmazonFulfillmentNetwork:
    """Amazon's network, reached through `client` (whose base URL is the SP-API endpoint)."""
    assert settings.settlement_amazon_lwa_client_id and settings.settlement_amazon_lwa_client_secret
    assert settings.settlement_amazon_lwa_refresh_token
    credentials = LwaCredentials(
        client_id=settings.settlement_amazon_lwa_client_id,
        client_secret=settings.settlement_amazon_lwa_client_secret,
        refresh_token=settings.settlement_amazon_lwa_refresh_token,
        token_url=settings.settlement_amazon_lwa_token_url,
    )
    return AmazonFulfillmentNetwork(client, credentials, settings.settlement_amazon_marketplace_id)


def activities_for(
    pool: asyncpg.Pool, provider_client: httpx.AsyncClient, client: Client, payments_gateway: PaymentGateway, network: FulfillmentNetwork
) -> list:
    payments = PaymentActivities(payments_gateway)
    fulfillment = FulfillmentActivities(network)
    bookkeeping = BookkeepingActivities(pool)
    fx = FxActivities(SimulatedFxRates(provider_client))
    bookable = {
        act.AUTHORIZE_PAYMENT: payments.authorize,
        act.CAPTURE_PAYMENT: payments.capture,
        act.PAYOUT_SELLER: payments.payout,
        act.REFUND_PAYMENT: payments.refund,
        act.CREDIT_BUYER: payments.credit,
        act.CREATE_FULFILLMENT_ORDER: fulfillment.create_order,
    }
    return [
        *bookable.values(),
        *booked_activities(bookable, bookkeeping.post_ledger_entry, bookkeeping.record_order),
        payments.void,
        fulfillment.cancel_order,
        fulfillment.request_return,
        bookkeeping.post_ledger_entry,
        bookkeeping.record_order,
        fx.lock_fx_rate,
        *seller_payout_activities(SellerPayoutActivities(pool)),
        ChargebackEvidenceActivities(pool, payments_gateway).submit_chargeback_evidence,
        ReconciliationActivities(pool, payments_gateway, client).reconcile_books,
    ]


async def run_worker(settings: Settings) -> None:
    """Until SIGTERM or SIGINT; the pool is closed and tracing flushed however it ends."""
    metrics_address = f"{settings.settlement_worker_metrics_host}:{settings.settlement_worker_metrics_port}"
    runtime = runtime_with_prometheus(metrics_address)
    tracer_provider = tracing.start("settlement-worker")
    try:
        client = await connect(settings, runtime, tracing.temporal_interceptors(tracer_provider))
        pool = await create_pool(database_url())
        try:
            async with (
                httpx.AsyncClient(base_url=settings.settlement_sim_url, timeout=10.0) as provider_client,
                httpx.AsyncClient(base_url=settings.settlement_amazon_endpoint, timeout=10.0) as amazon_client,
            ):
                amazon = amazon_network(settings, amazon_client) if settings.settlement_fulfillment_network == "amazon" else None
                network = amazon or SimulatedFulfillmentNetwork(provider_client)
                worker = Worker(
                    client,
                    task_queue=settings.temporal_task_queue,
                    workflows=[OrderWorkflow, SellerPayoutsWorkflow, DailyReconciliationWorkflow],
                    activities=activities_for(pool, provider_client, client, payment_gateway(settings, pool, provider_client), network),
                    graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
                    max_cached_workflows=settings.settlement_worker_max_cached_workflows,
                )
                await ensure_schedules(client, settings.temporal_task_queue)
                log.info("worker polling task queue %s; metrics on %s", settings.temporal_task_queue, metrics_address)
                polling = (
                    PollingNetwork(
                        amazon, signaller(client), settings.settlement_amazon_poll_interval, settings.settlement_amazon_reads_per_second
                    )
                    if amazon
                    else None
                )
                await poll_until_stopped(worker, runtime, pool, settings, polling, SimulatedFxRates(provider_client))
        finally:
            await pool.close()
    finally:
        tracing.stop(tracer_provider)


@dataclass(frozen=True)
class PollingNetwork:
    """A fulfillment network that pushes nothing, and how its news reaches the orders."""

    network: PolledNetwork
    tell: Tell
    interval: timedelta
    reads_per_second: float


async def poll_until_stopped(
    worker: Worker, runtime: Runtime, pool: asyncpg.Pool, settings: Settings, polling: PollingNetwork | None, rates: FxRateSource
) -> None:
    """Runs the worker, the orders-by-status gauge, the surge watch, the reference rates, the webhook deliveries and
    the reading of a polled fulfillment network until SIGTERM or SIGINT, then drains."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    gauges = asyncio.create_task(publish_orders_by_status(runtime, pool, stop))
    interval = settings.settlement_surge_interval
    surges = asyncio.create_task(watch_surges(runtime, pool, interval, settings.surge_rule(interval), stop))
    reference = asyncio.create_task(keep_rates_until_stopped(pool, rates, settings.settlement_reporting_currency, stop))
    webhooks = asyncio.create_task(deliver_until_stopped(pool, stop, settings.webhook_private_urls_allowed))
    parcels = (
        asyncio.create_task(
            read_parcels_until_stopped(pool, polling.network, polling.tell, polling.interval, polling.reads_per_second, stop)
        )
        if polling
        else None
    )
    try:
        async with worker:
            await stop.wait()
            log.info("draining")
    finally:
        stop.set()
        await gauges
        await surges
        await reference
        await webhooks
        if parcels:
            await parcels
        for sig in signals:
            loop.remove_signal_handler(sig)


def main() -> None:
    logs.configure()
    asyncio.run(run_worker(get_settings()))
