"""Answering the person who clicked or used a shortcut, and only them, wherever they did it.

- in a channel message (an alert, or its thread): an ephemeral message there (in the thread
  when the message was a reply), through chat.postEphemeral;
- in an ephemeral message (a /runs answer): a new ephemeral line through the response_url,
  below the answer clicked, which stays as it was so its other rows can still be used;
- in a modal, which has neither: a small modal pushed over it (views.push). Its trigger_id
  lives 3 s; when it has expired (a very slow store), the answer goes to the person's direct
  messages with runsbot instead, so it is never lost.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks.message import SlackMessage
from handlers.blocks.retrigger import answer_modal
from handlers.commands.reply import reply

log = logging.getLogger(__name__)


async def answer_privately(
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond | None,
    message: SlackMessage,
) -> None:
    """Show `message` to the person behind `body` (a block_actions or message_action
    payload) where they acted."""
    user_id = str(body["user"]["id"])
    container = body.get("container") or {}
    if container.get("type") == "view":
        await _push_over_modal(client, str(body["trigger_id"]), user_id, message)
    elif container.get("is_ephemeral") and respond is not None:
        await reply(respond, message)
    else:
        channel_id = str(body["channel"]["id"])
        clicked = body.get("message") or {}
        thread_ts = clicked.get("thread_ts")
        in_thread = thread_ts is not None and thread_ts != clicked.get("ts")
        await client.chat_postEphemeral(
            channel=channel_id,
            user=user_id,
            **({"thread_ts": thread_ts} if in_thread else {}),
            **message.to_dict(),
        )


async def _push_over_modal(
    client: AsyncWebClient, trigger_id: str, user_id: str, message: SlackMessage
) -> None:
    try:
        await client.views_push(trigger_id=trigger_id, view=answer_modal(message))
    except SlackApiError as error:
        if error.response.get("error") not in ("expired_trigger_id", "invalid_trigger_id"):
            raise
        log.warning("the modal's trigger_id expired before the answer: sent as a message")
        await client.chat_postMessage(channel=user_id, **message.to_dict())
