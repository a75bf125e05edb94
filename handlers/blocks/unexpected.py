"""What a person sees when runsbot itself failed to answer them: a sentence and a reference."""

from __future__ import annotations

from .elements import section
from .message import SlackMessage


def went_wrong(reference: str) -> SlackMessage:
    """`reference` is logged with the failure, so that whoever runs runsbot can find it."""
    text = (
        "Something went wrong on runsbot's side, and this could not be answered. Try again "
        f"in a moment; if it keeps failing, give reference `{reference}` to whoever runs runsbot."
    )
    return SlackMessage(text=text, blocks=(section(text),))
