"""Block Kit pieces the builders share: verbatim mrkdwn, sections and contexts, and a run's
buttons (View details, Retrigger with its confirmation, Add note), each carrying the run ID."""

from __future__ import annotations

import re

from slack_sdk.models.blocks import (
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from handlers import ids
from store.records import RunSummary, WorkflowRecord
from store.types import RunStatus

from .text import escape_and_truncate, isolate, one_line

_CONFIRM_REFERENCE = 120  # the confirm dialog's text holds 300 characters in all
# Display budgets in characters once escaped: a label stays under 400 whatever the engine sent.
_APP_NAME = 80
_WORKFLOW_NAME = 100
_WORKFLOW_ID = 70
_PERSON = 100
# How runsbot records a Slack user as a note's author or a retrigger's requester.
_SLACK_PERSON = re.compile(r"slack:([UW][A-Z0-9]{2,30})")


def mrkdwn(text: str) -> MarkdownTextObject:
    # verbatim: Slack does not turn bare URLs, #channel or @here in the engine's text into
    # links or mentions; our own <@U…> and <!date…> tokens still render.
    return MarkdownTextObject(text=text, verbatim=True)


def section(text: str) -> SectionBlock:
    return SectionBlock(text=mrkdwn(text))


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[mrkdwn(text)])


def route(workflow: WorkflowRecord) -> str:
    """`Source → Destination`, each app's name escaped and cut."""
    return " → ".join(
        escape_and_truncate(one_line(app), _APP_NAME)
        for app in (workflow.source, workflow.destination)
    )


def workflow_name(workflow: WorkflowRecord) -> str:
    """The workflow's own name, escaped and cut ("" when it has none)."""
    return escape_and_truncate(one_line(workflow.name or ""), _WORKFLOW_NAME)


def workflow_label(workflow: WorkflowRecord) -> str:
    """`*Source → Destination* · name (`id`)`, escaped and cut."""
    name = workflow_name(workflow)
    workflow_id = escape_and_truncate(workflow.id, _WORKFLOW_ID)
    return f"*{route(workflow)}*" + (f" · {name}" if name else "") + f" (`{workflow_id}`)"


def person(name: str) -> str:
    """Who asked or wrote: a Slack user ("slack:U…") as a mention, anyone else (as the API
    named them) escaped and cut."""
    match = _SLACK_PERSON.fullmatch(name)
    if match:
        return f"<@{match.group(1)}>"
    return escape_and_truncate(one_line(name), _PERSON) or "someone"


def is_retriggerable(run: RunSummary) -> bool:
    """Whether runsbot offers to retrigger the run (its /runs row, `/runs retrigger`, its
    detail): failed or skipped runs; a finished one would send its data twice."""
    return run.status in (RunStatus.FAILED, RunStatus.SKIPPED)


def view_details_button(run_id: str) -> ButtonElement:
    return ButtonElement(text="View details", action_id=ids.Action.VIEW_DETAILS, value=run_id)


def note_button(run_id: str) -> ButtonElement:
    return ButtonElement(text="Add note", action_id=ids.Action.ADD_NOTE, value=run_id)


def retrigger_button(run_id: str, reference: str, *, primary: bool = False) -> ButtonElement:
    """Retrigger, asking first: the confirmation names the run by its reference."""
    shown = escape_and_truncate(one_line(reference), _CONFIRM_REFERENCE) or "this run"
    return ButtonElement(
        text="Retrigger",
        action_id=ids.Action.RETRIGGER,
        value=run_id,
        style="primary" if primary else None,
        confirm=ConfirmObject(
            title=PlainTextObject(text="Retrigger this run?"),
            text=mrkdwn(
                f"A new run of {isolate(shown)} with the original payload "
                "will be sent to the engine."
            ),
            confirm=PlainTextObject(text="Retrigger"),
            deny=PlainTextObject(text="Cancel"),
        ),
    )
