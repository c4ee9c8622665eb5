"""The simulators' HTTP service: payment provider under /psp (its disputes under /psp/disputes), fulfillment network
under /fulfillment, Amazon's fulfillment network (Login with Amazon and the SP-API's Fulfillment Outbound) under /amazon."""

import asyncio
import json
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI

from simulators import amazon, dispatcher, disputes, faults, fulfillment, fx, migrate, psp
from simulators.config import SimulatorSettings, load_simulator_settings
from simulators.faults import FaultInjection, Faults, InjectedFaults, quiet_lost_answers


async def _init(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


def create_app(settings: SimulatorSettings | None = None) -> FastAPI:
    settings = settings or load_simulator_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.settings = settings
        app.state.faults = Faults(
            latency_ms=settings.settlement_sim_latency_ms,
            failure_rate=settings.settlement_sim_failure_rate,
            ambiguous_rate=settings.settlement_sim_ambiguous_rate,
        )
        app.state.injected_faults = InjectedFaults()
        quiet_lost_answers()
        await asyncio.to_thread(migrate.upgrade, settings.database_url)  # alembic's env.py runs its own event loop
        app.state.pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=5, init=_init)
        stop = asyncio.Event()
        secrets = settings.settlement_webhook_secret, settings.settlement_payments_webhook_secret
        task = asyncio.create_task(dispatcher.run(app.state.pool, settings.settlement_api_url, *secrets, stop))
        yield
        stop.set()
        await task
        await app.state.pool.close()

    app = FastAPI(title="Settlement simulators", lifespan=lifespan)
    app.include_router(psp.router)
    app.include_router(disputes.router)
    app.include_router(fulfillment.router)
    app.include_router(amazon.router)
    app.include_router(fx.router)
    app.include_router(faults.router)
    app.add_middleware(FaultInjection)

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok"}

    return app
