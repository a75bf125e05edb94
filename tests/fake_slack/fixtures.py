"""pytest fixtures: one fake Slack for the session, reset before each test that asks for it.

A conftest can load them with `pytest_plugins = ["tests.fake_slack.fixtures"]`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from .server import FakeSlack


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def fake_slack_server() -> AsyncIterator[FakeSlack]:
    """The session's fake Slack server (state shared across tests: prefer `fake_slack`)."""
    async with FakeSlack() as slack:
        yield slack


@pytest_asyncio.fixture(loop_scope="session")
async def fake_slack(fake_slack_server: FakeSlack) -> FakeSlack:
    """The session's fake Slack, with this test's own empty workspace state."""
    fake_slack_server.reset()
    return fake_slack_server
