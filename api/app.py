"""The FastAPI application: authenticates, validates, starts workflows and carries actions."""

from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import metrics, problems
from api.order_workflows import OrderWorkflows
from api.routers import health, orders, sellers, webhooks
from db.dsn import database_url
from db.pool import create_pool
from domain.order_request import PlacementPolicy
from settings import Settings, get_settings
from temporal_connection import connect


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.settings = settings
        app.state.placement_policy = PlacementPolicy(
            ship_within=settings.settlement_default_ship_within,
            deliver_within_after_ship_by=settings.settlement_default_deliver_within,
            confirmation_window=settings.settlement_default_confirmation_window,
        )
        app.state.pool = await create_pool(settings.database_url or database_url())
        app.state.orders = OrderWorkflows(await connect(settings), settings.temporal_task_queue)
        yield
        await app.state.pool.close()

    app = FastAPI(
        title="Marketplace settlement engine",
        version="1.0.0",
        description="Escrow, fulfillment, payout and after-sales for marketplace orders. Errors are RFC 9457 problem documents.",
        lifespan=lifespan,
    )
    problems.install(app)
    metrics.install(app)
    for router in (orders.router, webhooks.router, sellers.router, health.router):
        app.include_router(router)
    return app
