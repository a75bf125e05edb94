"""Scripted answers of the fake engine's trigger URLs: each request to a URL takes the next one
queued for it, in order; with none queued, the engine answers normally (202)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Status:
    """Answer this HTTP status (500, 503, 429, 400, ...), with `Retry-After: <seconds>` when
    `retry_after` is given, as an engine that is down or shedding load does."""

    status: int
    retry_after: int | None = None


@dataclass(frozen=True)
class Slow:
    """Wait `seconds`, then answer normally (for the sender's timeout). The wait ends early,
    answering 503, when the engine is reset, released or stopped, so no test waits on it."""

    seconds: float


@dataclass(frozen=True)
class Hang:
    """Never answer: hold the request until the test ends (the `fake_engine` fixture releases
    it), or the engine is reset, released or stopped; then 503."""


Fault = Status | Slow | Hang
