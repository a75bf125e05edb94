"""Buttons on runs, wherever a run shows them (an alert, a /runs answer, the run detail
modal): acked at once, then worked on, each answering the clicker where they clicked."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from handlers import ids
from handlers.blocks.modals import note_modal
from handlers.blocks.retrigger import retriggered
from handlers.blocks.runs_page import run_not_found
from handlers.commands.reply import reply
from handlers.errors import refusals_told
from handlers.note_modal import note_targets_in_time, show_modal
from handlers.private_answers import answer_privately
from handlers.retrigger_access import RetriggerAccess, check_may_retrigger
from store.run_store import RunStore


async def on_retrigger_button(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond | None,
    store: RunStore,
    retrigger_access: RetriggerAccess,
) -> None:
    # Slack's own confirm dialog has asked already.
    await ack()
    user_id = str(body["user"]["id"])
    async with refusals_told(body, client, respond):
        await check_may_retrigger(retrigger_access, user_id)
        done = await store.request_retrigger(
            str(action["value"]), requested_by=ids.slack_person(user_id)
        )
        message = retriggered(done.original.reference, done.new_run.id)
        await answer_privately(body, client, respond, message)


async def on_add_note_button(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    store: RunStore,
    respond: AsyncRespond | None,
) -> None:
    await ack()
    run_id = str(body["actions"][0]["value"])
    targets = await note_targets_in_time(store, [run_id])
    if targets == [] and respond is not None:
        await reply(respond, run_not_found(run_id))
        return
    # Inside a modal nobody can be answered privately: a vanished run is refused on submit.
    await show_modal(client, body, note_modal(targets[0] if targets else run_id))


def register(app: AsyncApp) -> None:
    app.action(ids.Action.RETRIGGER)(on_retrigger_button)
    app.action(ids.Action.ADD_NOTE)(on_add_note_button)
