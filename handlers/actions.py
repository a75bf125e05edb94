"""Buttons on runs, wherever a run shows them (an alert, a /runs answer, `/runs show`, the run
detail modal): acked at once, then worked on, each answering the clicker where they clicked.

View details opens the run's detail modal within the 3 s a trigger_id lives, even when the
store is slow: the detail is read for DETAIL_WAIT_SECONDS at most; past that a "Loading"
modal opens at once and is updated with the detail when the read finishes. Clicked on a run
of a detail modal's retry chain, it shows that run in the same modal.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from handlers import ids
from handlers.blocks.modals import note_modal
from handlers.blocks.retrigger import retriggered
from handlers.blocks.run_detail import run_detail_loading, run_detail_modal, run_detail_not_found
from handlers.blocks.runs_page import run_not_found
from handlers.commands.reply import reply
from handlers.errors import refusals_told
from handlers.note_modal import note_targets_in_time, show_modal
from handlers.private_answers import answer_privately
from handlers.retrigger_access import RetriggerAccess, check_may_retrigger
from handlers.store_reads import read_in_time, start_reading
from store.records import RunDetail
from store.run_store import RunStore

# What is left of the trigger_id's 3 s after this wait is for Slack's round trip of views.open.
DETAIL_WAIT_SECONDS = 1.2


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
        message = retriggered(done.reference, done.new_run_id)
        await answer_privately(body, client, respond, message)
    shown_in = body.get("view") or {}
    if shown_in.get("callback_id") == ids.View.RUN_DETAIL:
        # The detail under the answer now shows the new run in its retry chain (and no
        # Retrigger button while it is in flight), for whoever closes the answer.
        await _show_detail_in(shown_in["id"], str(action["value"]), client, store)


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


async def on_view_details_button(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    store: RunStore,
) -> None:
    await ack()
    run_id = str(action.get("value") or "")
    shown_in = body.get("view") or {}
    if shown_in.get("type") == "modal":
        # A run of a detail modal's retry chain: shown in its place (no trigger_id is needed,
        # and no stack of modals grows past Slack's three).
        await _show_detail_in(shown_in["id"], run_id, client, store)
        return
    await _open_detail(body["trigger_id"], run_id, client, store)


async def _show_detail_in(
    view_id: str, run_id: str, client: AsyncWebClient, store: RunStore
) -> None:
    detail = await store.get_run(run_id)
    await client.views_update(view_id=view_id, view=_detail_view(run_id, detail))


async def _open_detail(
    trigger_id: str, run_id: str, client: AsyncWebClient, store: RunStore
) -> None:
    """Opens the detail modal while `trigger_id` is valid: at once if the store answers
    within DETAIL_WAIT_SECONDS, else as "Loading", updated when it answers."""
    reading = start_reading(store.get_run(run_id))
    if await read_in_time(reading, DETAIL_WAIT_SECONDS):
        await client.views_open(trigger_id=trigger_id, view=_detail_view(run_id, reading.result()))
        return
    opened = await client.views_open(trigger_id=trigger_id, view=run_detail_loading(run_id))
    loading = opened["view"]
    detail = await reading
    # With the hash, an update never overwrites what changed the modal meanwhile.
    await client.views_update(
        view_id=loading["id"], hash=loading["hash"], view=_detail_view(run_id, detail)
    )


def _detail_view(run_id: str, detail: RunDetail | None) -> View:
    return run_detail_not_found(run_id) if detail is None else run_detail_modal(detail)


def register(app: AsyncApp) -> None:
    app.action(ids.Action.RETRIGGER)(on_retrigger_button)
    app.action(ids.Action.ADD_NOTE)(on_add_note_button)
    app.action(ids.Action.VIEW_DETAILS)(on_view_details_button)
