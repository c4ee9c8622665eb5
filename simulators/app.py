"""The simulators' HTTP service: payment provider under /psp, fulfillment network under /fulfillment."""

import asyncio
import json
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, Request

from simulators import dispatcher, fulfillment, fx, psp
from simulators.config import SimulatorSettings
from simulators.faults import Faults


async def _init(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


def create_app(settings: SimulatorSettings | None = None) -> FastAPI:
    settings = settings or SimulatorSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.settings = settings
        app.state.faults = Faults(latency_ms=settings.settlement_sim_latency_ms, failure_rate=settings.settlement_sim_failure_rate)
        app.state.pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=5, init=_init)
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.run(app.state.pool, settings.settlement_api_url, settings.settlement_webhook_secret, stop))
        yield
        stop.set()
        await task
        await app.state.pool.close()

    app = FastAPI(title="Settlement simulators", lifespan=lifespan)
    app.include_router(psp.router)
    app.include_router(fulfillment.router)
    app.include_router(fx.router)

    @app.get("/sim/faults")
    async def get_faults(request: Request) -> Faults:
        return request.app.state.faults

    @app.put("/sim/faults")
    async def set_faults(new: Faults, request: Request) -> Faults:
        request.app.state.faults = new
        return new

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok"}

    return app
