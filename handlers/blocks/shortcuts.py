"""What the message shortcuts answer when they are used on a message that is no run alert."""

from __future__ import annotations

from .elements import section
from .message import SlackMessage


def not_a_run_alert(shortcut_name: str) -> SlackMessage:
    """`shortcut_name` ("Retrigger run", "Add note to run") was used on another message."""
    text = (
        f"*{shortcut_name}* works on runsbot's failure alerts, and this message is not one. "
        "Find the run with `/runs`, or use `/runs show RUN_ID`."
    )
    return SlackMessage(text=text, blocks=(section(text),))
