"""Waiting in the worker's background loops: a pause that ends early when the worker is asked to stop."""

import asyncio


async def pause_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    """Returns after `seconds`, or as soon as `stop` is set."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass
