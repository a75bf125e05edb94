"""The one error handler: what a person sees when a listener fails unexpectedly."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt.async_app import AsyncApp

log = logging.getLogger(__name__)


async def on_listener_error(error: Exception, body: dict[str, Any]) -> None:
    # A short reference ties what the person is told to the log line.
    reference = uuid.uuid4().hex[:8]
    log.error("listener failed (ref %s, type %s)", reference, body.get("type"), exc_info=error)


def register(app: AsyncApp) -> None:
    app.error(on_listener_error)
