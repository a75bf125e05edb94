"""Pieces the `/runs` answers share: a workflow as people name it, and mrkdwn sections whose
engine-supplied text never turns into links or mentions."""

from __future__ import annotations

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from store.records import WorkflowRecord

from .text import escape_and_truncate, one_line

__all__ = ["mrkdwn", "section", "workflow_label"]

# Display budgets in characters once escaped: a label stays under 400 whatever the engine sent.
_APP_NAME = 80
_WORKFLOW_NAME = 100
_WORKFLOW_ID = 70


def workflow_label(workflow: WorkflowRecord) -> str:
    """`*Source → Destination* · name (`id`)`, escaped and cut."""
    route = " → ".join(
        escape_and_truncate(one_line(part), _APP_NAME)
        for part in (workflow.source, workflow.destination)
    )
    name = escape_and_truncate(one_line(workflow.name or ""), _WORKFLOW_NAME)
    workflow_id = escape_and_truncate(workflow.id, _WORKFLOW_ID)
    return f"*{route}*" + (f" · {name}" if name else "") + f" (`{workflow_id}`)"


def mrkdwn(text: str) -> MarkdownTextObject:
    # verbatim: Slack leaves bare URLs, #channel and @here in the engine's text as they are;
    # our own <@U…> and <!date…> tokens still render.
    return MarkdownTextObject(text=text, verbatim=True)


def section(text: str) -> SectionBlock:
    return SectionBlock(text=mrkdwn(text))
