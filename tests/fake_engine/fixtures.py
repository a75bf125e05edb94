"""pytest fixtures: one fake engine for the session, reset before each test that asks for it.

A conftest loads them with `pytest_plugins = ["tests.fake_engine.fixtures"]`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from .server import FakeEngine

TRIGGER_SECRET = "test-trigger-secret"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def fake_engine_server() -> AsyncIterator[FakeEngine]:
    """The session's fake engine (state shared across tests: prefer `fake_engine`)."""
    async with FakeEngine(TRIGGER_SECRET) as engine:
        yield engine


@pytest_asyncio.fixture(loop_scope="session")
async def fake_engine(fake_engine_server: FakeEngine) -> AsyncIterator[FakeEngine]:
    """The session's fake engine, with nothing received, scripted or connected yet; what it
    still holds (Hang, Slow) is let go when the test ends."""
    fake_engine_server.reset()
    yield fake_engine_server
    fake_engine_server.release()
