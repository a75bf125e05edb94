"""Reading the store while a trigger_id (3 s) or an ack waits: a listener waits for a read
a while, then goes on without it (a "Loading" modal, a modal naming the run by ID alone)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def start_reading(read: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """`read` (a store call) running on its own: a listener may stop waiting for it, but it is
    never cancelled (a store call cut short can leave its connection unreturned)."""
    task = asyncio.ensure_future(read)
    task.add_done_callback(_retrieved)
    return task


async def read_in_time(reading: asyncio.Task[Any], seconds: float) -> bool:
    """True when `reading` finished within `seconds`."""
    done, _ = await asyncio.wait({reading}, timeout=seconds)
    return bool(done)


def _retrieved(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log one nobody waited for as lost
