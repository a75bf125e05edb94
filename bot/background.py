"""What the outbox dispatchers (alerts to Slack, retriggers to the engine) share: the name
they hold their lease under, and their background tasks: started, paused between two steps,
waited for, and cut off at close."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any


def lease_holder() -> str:
    """This dispatcher's name on a lease: host and process, and a random part, since two apps
    in one process (tests) must not share a lease."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Background:
    """A dispatcher's tasks. Tasks stop between steps once closed (`pause` raises
    CancelledError); `close` waits for them a while, then cuts off the rest."""

    def __init__(self) -> None:
        self.closed = False
        self._closing = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._keyed: dict[str, asyncio.Task[None]] = {}

    def start(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def start_once(self, key: str, make: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Start `make()` as the task for `key` (a channel, a URL) unless one still runs."""
        task = self._keyed.get(key)
        if task is None or task.done():
            self._keyed[key] = self.start(make())

    async def pause(self, seconds: float) -> None:
        """Sleep; if closed meanwhile, stop the calling task here, between two steps."""
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), seconds)
        if self.closed:
            raise asyncio.CancelledError

    async def close(self, grace: float) -> None:
        """Stop starting anything; wait up to `grace` seconds, then cancel what still runs.

        Tasks are not cancelled in the middle of a store call when they end in time: a
        transaction cut short can leave SQLite locked. A task may start another while this
        waits (a worker its sends): those are waited for too, within the same `grace`."""
        self.closed = True
        self._closing.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while running := {task for task in self._tasks if not task.done()}:
            left = deadline - loop.time()
            if left <= 0:
                for task in running:
                    task.cancel()
                await asyncio.gather(*running, return_exceptions=True)
                return
            await asyncio.wait(running, timeout=left)

    async def idle(self, timeout: float, what: str) -> None:
        """Wait until no task runs (for tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        while any(not task.done() for task in self._tasks):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} still busy")
            await asyncio.sleep(0.01)
