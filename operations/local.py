"""What operator commands fall back on where the environment sets nothing: `make run`'s secrets and database
(under SETTLEMENT_DATA_DIR, default .data)."""

import asyncio
import gc
import os
from collections.abc import Awaitable, Callable
from typing import TypeVar

from temporalio.client import Client
from temporalio.runtime import Runtime, TelemetryConfig

from runtime.settings import LocalData, Settings, load_settings

T = TypeVar("T")


def local_database_url() -> str | None:
    """make run's embedded PostgreSQL, as its owner, when it exists."""
    pg = LocalData().local_postgres_dir
    return f"postgresql://postgres:@/postgres?host={pg}" if (pg / "PG_VERSION").exists() else None


def local_settings() -> Settings:
    """The settings, with make run's (its secrets and payload key, its database) where the environment sets none."""
    local = {name: value for name, value in LocalData().local_secrets().items() if not os.environ.get(name.upper())}
    if not os.environ.get("DATABASE_URL") and (url := local_database_url()):
        local["database_url"] = url
    return load_settings(**local)


def payload_keys() -> str | None:
    """SETTLEMENT_PAYLOAD_KEYS, else make run's key: all that reading histories needs (no other secret)."""
    return os.environ.get("SETTLEMENT_PAYLOAD_KEYS") or LocalData().local_secrets().get("settlement_payload_keys")


def engine_database_url() -> str:
    return os.environ.get("DATABASE_URL") or local_settings().database_url or ""


def on_own_runtime(work: Callable[[Runtime], Awaitable[T]]) -> T:
    """work(runtime) on a Temporal runtime of the command's own, dropped before the interpreter exits: the default
    runtime's threads outlive the command and can abort the interpreter's finalization (temporalio/sdk-python#300)."""
    core = Runtime(telemetry=TelemetryConfig())
    try:
        return asyncio.run(work(core))
    finally:
        del core
        gc.collect()


def with_temporal(work: Callable[[Client], Awaitable[T]]) -> T:
    """work(client), connected on a runtime of the command's own."""
    from runtime.temporal_connection import connect

    async def main(core: Runtime) -> T:
        return await work(await connect(local_settings(), core))

    return on_own_runtime(main)
