"""An event loop on its own thread, so synchronous code (a hypothesis state machine) can drive asyncpg.

The loop never shares a thread with pytest-asyncio's loop, so it works whether or not another loop is running.
"""

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any


class BackgroundLoop:
    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self._loop = loop
        self._timeout = timeout

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run `coro` on the loop and wait for its result; a call that hangs fails after the timeout."""
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(self._timeout)
        except TimeoutError:
            future.cancel()
            raise


@contextmanager
def background_loop(timeout: float = 30.0) -> Iterator[BackgroundLoop]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="background-loop", daemon=True)
    thread.start()
    try:
        yield BackgroundLoop(loop, timeout)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
