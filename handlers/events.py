"""Events: a person's reply in an alert's thread is a note on its run (in a group alert's
thread, on each run it names); editing or deleting the reply edits or deletes the notes.

Bolt acks events before the listener runs. Slack may deliver an event twice: the notes of a
reply are unique per (channel, ts, run), so a redelivery adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks.notes import name_a_run
from handlers.blocks.text import unescape_mrkdwn
from handlers.ids import slack_person
from store.notes import runs_named
from store.run_store import RunStore

# A person's message: plain, or a reply also sent to the channel. Joins, bot messages and the
# like are never notes.
_PERSON_SUBTYPES = (None, "thread_broadcast")


@dataclass(frozen=True)
class ThreadReply:
    channel_id: str
    user_id: str
    ts: str
    thread_ts: str
    text: str


async def on_message(
    event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient, store: RunStore
) -> None:
    channel_id = str(event.get("channel") or "")
    subtype = event.get("subtype")
    if subtype == "message_deleted":
        await store.delete_thread_notes(channel_id, str(event.get("deleted_ts") or ""))
        return
    edited = subtype == "message_changed"
    message = (event.get("message") or {}) if edited else event
    reply = _thread_reply(channel_id, message, context)
    if reply is None or (not edited and subtype not in _PERSON_SUBTYPES):
        return
    alert = await store.alerted_runs(channel_id, reply.thread_ts)
    if alert is None:
        return  # a thread, but not under one of runsbot's alerts
    if alert.single_run_id is not None:
        run_ids: tuple[str, ...] = (alert.single_run_id,)
    else:
        run_ids = runs_named(reply.text, alert.run_ids)
    author = slack_person(reply.user_id)
    if edited:
        await store.edit_thread_notes(channel_id, reply.ts, run_ids, author=author, text=reply.text)
    elif run_ids:
        await store.add_thread_notes(channel_id, reply.ts, run_ids, author=author, text=reply.text)
    else:
        hint = name_a_run(alert.run_ids)
        await client.chat_postEphemeral(
            channel=channel_id, user=reply.user_id, thread_ts=reply.thread_ts, **hint.to_dict()
        )


def _thread_reply(
    channel_id: str, message: dict[str, Any], context: AsyncBoltContext
) -> ThreadReply | None:
    """The message as a person's reply in a thread; None for top-level messages (a thread's
    parent included) and for anything a bot posted, runsbot above all."""
    user_id, ts, thread_ts = message.get("user"), message.get("ts"), message.get("thread_ts")
    if message.get("bot_id") or message.get("subtype") == "bot_message":
        return None
    if not user_id or user_id == context.bot_user_id or not ts or not thread_ts:
        return None
    if thread_ts == ts:
        return None
    text = unescape_mrkdwn(str(message.get("text") or ""))
    return ThreadReply(channel_id, str(user_id), str(ts), str(thread_ts), text)


def register(app: AsyncApp) -> None:
    app.event("message")(on_message)
