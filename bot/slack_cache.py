"""What Slack says about a person or a group, kept in this process for a while.

Listeners ask Slack things that rarely change (a person's time zone, who is in a user group)
before they answer, so each answer is cached: for long when Slack answered, briefly when it
could not, so a failure is asked again soon. However many listeners want one key at once, one
call is made and all of them wait for it (single-flight); a caller that stops waiting leaves
the call running for the others and for the cache. Nothing here needs to outlive the process
or be shared between replicas: each replica fills its own cache.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SlackAnswers(Generic[K, V]):
    """`get(key)`: `look_up(key)`'s answer, cached for `seconds_for(answer)`; None when it
    did not come within `wait_seconds` (it still fills the cache when it comes). `look_up`
    must not raise: it turns Slack's failures into an answer of its own. At most
    `max_entries` keys are kept, the least recently refreshed dropped first. Safe for any
    number of concurrent callers on one event loop."""

    def __init__(
        self,
        look_up: Callable[[K], Awaitable[V]],
        *,
        seconds_for: Callable[[V], float],
        wait_seconds: float,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._look_up, self._seconds_for = look_up, seconds_for
        self._wait_seconds, self._max_entries = wait_seconds, max_entries
        self._clock = clock
        self._answers: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self.in_flight: dict[K, asyncio.Task[V]] = {}

    async def get(self, key: K) -> V | None:
        cached = self._answers.get(key)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        lookup = self.in_flight.get(key)
        if lookup is None:
            lookup = self.in_flight[key] = asyncio.create_task(self._fill(key))
            lookup.add_done_callback(lambda _: self.in_flight.pop(key, None))
        try:
            # shield: a caller that stops waiting leaves the lookup running for the others.
            return await asyncio.wait_for(asyncio.shield(lookup), self._wait_seconds)
        except TimeoutError:
            return None

    async def _fill(self, key: K) -> V:
        answer = await self._look_up(key)
        self._answers[key] = (self._clock() + self._seconds_for(answer), answer)
        self._answers.move_to_end(key)
        while len(self._answers) > self._max_entries:
            self._answers.popitem(last=False)  # the longest unrefreshed
        return answer
