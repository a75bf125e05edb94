"""The one error handler: a listener's unexpected failure is logged with a short reference,
and the person who typed or clicked is told, privately, with that reference.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond

from handlers.blocks.unexpected import went_wrong

log = logging.getLogger(__name__)


async def on_listener_error(error: Exception, body: dict[str, Any], respond: AsyncRespond) -> None:
    reference = secrets.token_hex(4)
    kind = body.get("type") or body.get("command") or "Slack"
    log.error("listener failed on a %s request (reference %s)", kind, reference, exc_info=error)
    # Commands and message buttons carry a response_url; events and modals have no one to tell.
    if body.get("response_url"):
        await respond(
            **went_wrong(reference).to_dict(), response_type="ephemeral", replace_original=False
        )


def register(app: AsyncApp) -> None:
    app.error(on_listener_error)
