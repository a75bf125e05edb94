"""Answering the person who typed or clicked, and only them, through the response_url."""

from __future__ import annotations

import logging

from slack_bolt.context.respond.async_respond import AsyncRespond

from handlers.blocks.message import SlackMessage

log = logging.getLogger(__name__)


async def reply(respond: AsyncRespond, message: SlackMessage, *, replace: bool = False) -> None:
    """Show `message` to the asker alone: a new ephemeral message, or in place of the one
    clicked (`replace`). Slack refusing it is logged, as nobody else could tell."""
    response = await respond(
        **message.to_dict(), response_type="ephemeral", replace_original=replace
    )
    if response.status_code != 200:
        log.warning("the response_url refused an answer: HTTP %s", response.status_code)
