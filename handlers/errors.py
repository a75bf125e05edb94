"""Errors, told to people. A retrigger refused (not allowed, already in flight, not configured,
no such run) is told to the person privately where they clicked, the same on every surface
(`refusals_told`). Any other failure reaches the one error handler: it is logged with a short
reference, and the person who typed or clicked is told, privately, with that reference.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks.message import SlackMessage
from handlers.blocks.retrigger import already_retriggered, not_allowed, not_configured
from handlers.blocks.runs_page import run_not_found
from handlers.blocks.unexpected import went_wrong
from handlers.private_answers import answer_privately
from handlers.retrigger_access import NotAllowedToRetrigger, Verdict
from store.errors import RetriggerInFlight, RetriggerNotConfigured, RunNotFound

log = logging.getLogger(__name__)


# What a person may be refused, told by `refusal`.
Refusal = NotAllowedToRetrigger | RetriggerInFlight | RetriggerNotConfigured | RunNotFound


def refusal(error: Refusal) -> SlackMessage:
    """What the person is told when `error` refused what they asked."""
    if isinstance(error, NotAllowedToRetrigger):
        return not_allowed(unchecked=error.verdict is Verdict.UNCHECKED)
    if isinstance(error, RetriggerInFlight):
        return already_retriggered(error)
    if isinstance(error, RetriggerNotConfigured):
        return not_configured(error)
    return run_not_found(error.run_id)


@asynccontextmanager
async def refusals_told(
    body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond | None
) -> AsyncIterator[None]:
    """Around a listener's work after its ack: a refusal raised inside is told to the person
    behind `body` (a block_actions or message_action payload) where they acted.

    Caught here rather than left to the error handler: Bolt's AsyncApp forgets an ack when the
    listener raises soon after it (within its 10 ms poll), and Slack then waits 3 s and shows
    the person an error (slack_bolt/listener/asyncio_runner.py, `ack.response = response`).
    """
    try:
        yield
    except (NotAllowedToRetrigger, RetriggerInFlight, RetriggerNotConfigured, RunNotFound) as error:
        await answer_privately(body, client, respond, refusal(error))


async def on_listener_error(
    error: Exception, body: dict[str, Any], respond: AsyncRespond | None
) -> None:
    reference = secrets.token_hex(4)
    kind = body.get("type") or body.get("command") or "Slack"
    log.error("listener failed on a %s request (reference %s)", kind, reference, exc_info=error)
    # Commands and message buttons carry a response_url; events and modals have no one to tell.
    if body.get("response_url") and respond is not None:
        await respond(
            **went_wrong(reference).to_dict(), response_type="ephemeral", replace_original=False
        )


def register(app: AsyncApp) -> None:
    app.error(on_listener_error)
