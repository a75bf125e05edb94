"""The one error handler: a listener's unexpected failure is logged with its request kind.

What the person sees of such a failure comes with the listeners that can fail (the /runs
command and the alert buttons), which are not built yet.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

log = logging.getLogger(__name__)


async def on_listener_error(error: Exception, body: dict[str, Any]) -> None:
    log.error("listener failed on a %s request", body.get("type", "Slack"), exc_info=error)


def register(app: AsyncApp) -> None:
    app.error(on_listener_error)
