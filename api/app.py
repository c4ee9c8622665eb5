"""The FastAPI application: authenticates, validates, starts workflows and carries actions."""

from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from api import idempotency, log_context, metrics, openapi, problems
from api.body_limit import BodyLimit
from api.order_workflows import OrderWorkflows
from api.payout_workflows import PayoutWorkflows
from api.placement import placement_policy
from api.routers import (
    chargebacks,
    claims,
    dashboard,
    disputes,
    health,
    insights,
    orders,
    outbound_webhooks,
    payment_webhooks,
    payouts,
    reconciliations,
    sellers,
    stripe_webhooks,
    webhooks,
)
from api.routers import codec as codec_router
from db.dsn import database_url
from db.pool import create_pool
from runtime import tracing
from runtime.codec import EncryptionCodec, parse_keys
from runtime.settings import Settings, get_settings
from runtime.temporal_connection import connect


def create_app(settings: Settings | None = None, tracer_provider: TracerProvider | None = None) -> FastAPI:
    """The application; with a tracer provider it traces its requests and Temporal calls, and stops the provider at shutdown."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.settings = settings
        app.state.placement_policy = placement_policy(settings)
        app.state.codec = EncryptionCodec(*parse_keys(settings.settlement_payload_keys)) if settings.settlement_payload_keys else None
        app.state.pool = await create_pool(settings.database_url or database_url())
        client = await connect(settings, interceptors=tracing.temporal_interceptors(tracer_provider))
        app.state.orders = OrderWorkflows(client, settings.temporal_task_queue)
        app.state.payouts = PayoutWorkflows(client, settings.temporal_task_queue)
        yield
        await app.state.pool.close()
        tracing.stop(tracer_provider)

    app = FastAPI(
        title="Marketplace settlement engine",
        version="1.0.0",
        description="Escrow, fulfillment, payout and after-sales for marketplace orders. Errors are RFC 9457 problem documents.",
        lifespan=lifespan,
    )
    problems.install(app)
    idempotency.install(app)
    app.add_middleware(BodyLimit)  # outside the recorder: nothing reads a body past the cap
    metrics.install(app)
    log_context.install(app)  # outermost: every answer, a 500 included, and every log line carries the request id
    routers = (
        orders.router,
        disputes.router,
        claims.router,
        chargebacks.router,
        webhooks.router,
        payment_webhooks.router,
        stripe_webhooks.router,
        sellers.router,
        payouts.router,
        reconciliations.router,
        outbound_webhooks.router,
        insights.router,
        dashboard.router,
        health.router,
        codec_router.router,
    )
    for router in routers:
        app.include_router(router)
    openapi.install(app)
    tracing.instrument_app(app, tracer_provider)
    return app
