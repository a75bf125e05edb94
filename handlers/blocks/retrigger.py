"""What a person sees around a retrigger from Slack: the confirmation a typed command or a
shortcut shows (the run's row and a Retrigger button that asks first), a group alert's runs
still to recover, and every answer to a click: retriggered, already in flight, not allowed,
not configured. A click in a modal gets its answer as a small modal of its own.

Pure functions over the store's records and errors; every engine or person string escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block
from slack_sdk.models.views import View

from handlers import ids
from store.errors import RetriggerInFlight, RetriggerNotConfigured
from store.records import RunSummary

from .elements import context, is_retriggerable, person, retrigger_button, section
from .message import SlackMessage
from .runs_page import run_row
from .text import escape_and_truncate, escape_mrkdwn, isolate, one_line, slack_date

# An ephemeral message holds 50 blocks: a heading, two blocks a run, and a closing line.
GROUP_RUNS_SHOWN = 20
_REFERENCE = 120
_VARIABLE = "RUNSBOT_RETRIGGER_USERS"
_SECRET = "RUNSBOT_TRIGGER_SECRET"
_EXAMPLE_ID = "run_01JD3ZQ5N8W7X6Y5V4T3S2R1Q0"


def _code(text: str) -> str:
    return "`" + escape_and_truncate(one_line(text), 100).replace("`", "ˋ") + "`"


def _reference(reference: str) -> str:
    return isolate(escape_and_truncate(one_line(reference), _REFERENCE) or "(no reference)")


def _message(text: str, *more: Block) -> SlackMessage:
    return SlackMessage(text=text, blocks=(section(text), *more))


def _retrigger_row(run: RunSummary) -> tuple[Block, ...]:
    buttons = ActionsBlock(
        block_id=f"{ids.Block.RETRIGGER_ACTIONS}:{run.id}",
        elements=[retrigger_button(run.id, run.reference, primary=True)],
    )
    return run_row(run), buttons


def confirm_retrigger(run: RunSummary) -> SlackMessage:
    """`/runs retrigger RUN_ID`, or the shortcut on a run's alert: the run, and a Retrigger
    button whose own dialog asks to confirm; nothing is sent before that click."""
    if not is_retriggerable(run):
        return _message(
            f"{_reference(run.reference)} ({_code(run.id)}) is {run.status.value}: only "
            "failed and skipped runs are retriggered."
        )
    heading = section("Retrigger this run with its original payload? Press *Retrigger* to confirm.")
    return SlackMessage(
        text=f"Retrigger {_reference(run.reference)} ({run.id})?",
        blocks=(heading, *_retrigger_row(run)),
    )


def group_to_recover(runs: Sequence[RunSummary], total: int) -> SlackMessage:
    """The shortcut on a group alert (or its thread's listing): its failed runs not yet
    recovered, each with its Retrigger button, the first GROUP_RUNS_SHOWN of `total`."""
    if total == 0:
        return _message(
            "Every run of this alert has been retriggered or has recovered: there is nothing "
            "left to retrigger here."
        )
    plural = "run" if total == 1 else "runs"
    blocks: list[Block] = [
        section(f"*{total} {plural}* of this alert failed and are not recovered yet:")
    ]
    for run in runs[:GROUP_RUNS_SHOWN]:
        blocks += _retrigger_row(run)
    if total > len(runs[:GROUP_RUNS_SHOWN]):
        more = total - len(runs[:GROUP_RUNS_SHOWN])
        blocks.append(
            context(
                f"…and {more} more, listed in this alert's thread: retrigger one with "
                "`/runs retrigger RUN_ID`."
            )
        )
    return SlackMessage(text=f"{total} {plural} of this alert to retrigger", blocks=tuple(blocks))


def retriggered(reference: str, new_run_id: str) -> SlackMessage:
    """The click worked: the new run exists and is on its way to the engine."""
    return _message(
        f"🔁 Retriggered {_reference(reference)} as {_code(new_run_id)}; the engine gets it "
        "now, and the run's alert shows how it goes."
    )


def already_retriggered(error: RetriggerInFlight) -> SlackMessage:
    """Someone (perhaps this person, a moment ago) retriggered the run first."""
    return _message(
        f"{person(error.requested_by)} already retriggered this run as "
        f"{_code(error.new_run_id)} {slack_date(error.requested_at)}, and it has not ended "
        "yet: nothing new was sent."
    )


def not_allowed(*, unchecked: bool) -> SlackMessage:
    """The person may not retrigger, or Slack could not say whether: nothing was sent."""
    if unchecked:
        return _message(
            "Slack could not say whether you are in a user group allowed to retrigger, so "
            "nothing was sent. Try again in a minute."
        )
    return _message(
        "You are not allowed to retrigger runs, so nothing was sent. Whoever runs runsbot "
        f"decides who may, in `{_VARIABLE}`."
    )


def not_configured(error: RetriggerNotConfigured) -> SlackMessage:
    """Retriggers cannot be sent yet: what whoever runs runsbot has to set."""
    if error.variable == _SECRET:
        fix = f"set `{_SECRET}`, the key that signs retrigger requests"
    else:
        workflow = escape_mrkdwn(error.workflow_id or "WORKFLOW_ID")
        fix = (
            f"give the workflow a `trigger_url` (`PUT /api/v1/workflows/{workflow}`) or set "
            "`RUNSBOT_TRIGGER_URL`"
        )
    return _message(
        f"runsbot cannot send retriggers yet, so nothing was sent: whoever runs runsbot must {fix}."
    )


def retrigger_usage(words: str) -> SlackMessage:
    """`/runs retrigger` with anything but one run ID."""
    if words.strip():
        first = "Retriggering every run a search matches is not available yet. "
    else:
        first = ""
    return _message(
        f"{first}`/runs retrigger` takes one run ID, like `/runs retrigger {_EXAMPLE_ID}`; "
        "find it with `/runs failed`, or use the Retrigger button on its alert."
    )


def answer_modal(message: SlackMessage) -> View:
    """An answer to a click inside a modal, pushed over it (a modal has no channel to answer
    an ephemeral message in)."""
    return View(
        type="modal",
        callback_id=ids.View.RETRIGGER_ANSWER,
        title="Retrigger",
        close="Close",
        blocks=list(message.blocks),
    )
