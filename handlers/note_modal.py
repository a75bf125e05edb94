"""Opening the Add note modal from a click or a shortcut, inside the trigger_id's 3 s.

The modal names the run by reference and route, read from the store; when the store is too
slow to answer in time, the modal opens anyway with the run's ID alone (the read goes on
and is dropped): a modal that never opens is worse than a plain one. The submission's ack
uses the same bounded read to refuse a run that vanished.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from handlers.store_reads import read_in_time, start_reading
from store.records import NoteTarget
from store.run_store import RunStore

# trigger_id (and an ack) lives 3 s from the click; views.open or the ack needs the rest.
STORE_BUDGET = 1.5


async def note_targets_in_time(
    store: RunStore, run_ids: Sequence[str], *, limit: int = 100
) -> list[NoteTarget] | None:
    """The runs as the modal names them, or None when the store did not answer in time."""
    reading = start_reading(store.note_targets(run_ids, limit=limit))
    return reading.result() if await read_in_time(reading, STORE_BUDGET) else None


async def show_modal(client: AsyncWebClient, body: dict[str, Any], view: View) -> None:
    """Open `view`; over a modal (a click inside one), push it onto that modal's stack."""
    if body.get("view") is not None and body.get("container", {}).get("type") == "view":
        await client.views_push(trigger_id=body["trigger_id"], view=view)
    else:
        await client.views_open(trigger_id=body["trigger_id"], view=view)
