"""Bounded polling: listeners finish after the ack, so tests wait for effects, never sleep."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# How long a wait may take before it fails. Only a failing test waits this long; a passing
# one goes on as soon as the effect shows. 3 s failed right tests on a busy 2-core machine
# running two xdist workers (a first alert took longer to reach the fake Slack).
WAIT_TIMEOUT = 10.0


async def wait_until(
    predicate: Callable[[], T | None],
    *,
    timeout: float = WAIT_TIMEOUT,
    interval: float = 0.01,
    message: str | Callable[[], str] = "",
) -> T:
    """Poll `predicate` until it returns something truthy, and return that (so
    `modal = await wait_until(lambda: slack.open_modal(ALICE))` gives the View, not None).

    Fails after `timeout` seconds with `message`: a string, or a function called at the deadline
    to describe what was seen instead."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if loop.time() >= deadline:
            detail = message() if callable(message) else message
            raise AssertionError(f"not true within {timeout} s: {detail}".rstrip(": "))
        await asyncio.sleep(interval)


async def holds_for(
    seconds: float,
    predicate: Callable[[], object],
    *,
    interval: float = 0.05,
    message: str | Callable[[], str] = "",
) -> None:
    """Poll `predicate` for `seconds`, failing as soon as it stops being true: for what must
    not happen (a retry loop, a second post) within a bounded window."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if not predicate():
            detail = message() if callable(message) else message
            raise AssertionError(f"stopped being true within {seconds} s: {detail}".rstrip(": "))
        await asyncio.sleep(interval)
