"""What a person who replied in a group alert's thread is told when the reply names no run."""

from __future__ import annotations

from collections.abc import Sequence

from .elements import section
from .message import SlackMessage
from .text import escape_mrkdwn


def name_a_run(group_run_ids: Sequence[str]) -> SlackMessage:
    """The reply became no note: say how to name a run, with one of the group's IDs."""
    example = escape_mrkdwn(group_run_ids[-1]) if group_run_ids else "run_…"
    text = (
        "Your reply is not a note yet: this alert is about several runs, so name the ones "
        f"it is about by their IDs, for example `{example}`. Edit the reply to add them "
        "(each run named gets the note), or use *Add note to run* on the alert."
    )
    return SlackMessage(text=text, blocks=(section(text),))
