"""Buttons on runs, wherever a run shows them (alerts, /runs rows, the run detail modal):
each listener is a module-level function, and `register(app)` maps the ids to them."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks.modals import note_modal
from handlers.blocks.runs_page import run_not_found
from handlers.commands.reply import reply
from handlers.ids import Action
from handlers.note_modal import note_targets_in_time, show_modal
from store.run_store import RunStore


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
    app.action(Action.ADD_NOTE)(on_add_note_button)
