"""The help of `/runs`, generated from the query language's one grammar table, and the usage
shown under every answer that could not be given.
"""

from __future__ import annotations

from collections.abc import Collection

from slack_sdk.models.blocks import Block, ContextBlock

from store.grammar import GRAMMAR, GrammarEntry

from .elements import context as _context
from .elements import section as _section
from .message import SlackMessage
from .text import escape_mrkdwn, packed

__all__ = ["SUBCOMMANDS", "help_lines", "help_message", "help_text", "usage_block", "usage_message"]

USAGE = "Usage: `/runs [STATUS…] [FILTER…] [TEXT]`, in any order; every word given must match."
SECTION_TEXT_MAX = 3_000

# The sub-commands, each by the word that starts it; the help lists those /runs answers.
SUBCOMMANDS: tuple[GrammarEntry, ...] = (
    GrammarEntry("help", "This help.", "help"),
    GrammarEntry(
        "show RUN_ID", "One run, with its actions.", "show run_01JD3ZQ5N8W7X6Y5V4T3S2R1Q0"
    ),
    GrammarEntry(
        "retrigger RUN_ID",
        "Retrigger one failed run with its original payload, once you confirm.",
        "retrigger run_01JD3ZQ5N8W7X6Y5V4T3S2R1Q0",
    ),
    GrammarEntry(
        "stats [WHEN]",
        "Runs by status, the workflows failing most and failures over time; "
        "the last 24 hours unless WHEN says otherwise.",
        "stats 7d",
    ),
    GrammarEntry(
        "subscribe [WORKFLOW]",
        "Send the failure alerts of one workflow, or of all, to this channel.",
        "subscribe hubspot-salesforce",
    ),
    GrammarEntry(
        "unsubscribe [WORKFLOW]",
        "Stop sending them here.",
        "unsubscribe hubspot-salesforce",
    ),
    GrammarEntry("subscriptions", "The alert subscriptions of this channel.", "subscriptions"),
)


def _entry_line(entry: GrammarEntry, prefix: str = "") -> str:
    return (
        f"• `{prefix}{escape_mrkdwn(entry.syntax)}`: {escape_mrkdwn(entry.meaning)} "
        f"For example `{prefix}{escape_mrkdwn(entry.example)}`."
    )


def help_lines() -> list[str]:
    """The usage line, then one line per grammar entry, in the grammar's order."""
    return [USAGE, *(_entry_line(entry) for entry in GRAMMAR)]


def help_text() -> str:
    """The whole help, one entry per line."""
    return "\n".join(help_lines())


def help_message(subcommands: Collection[str]) -> SlackMessage:
    """`/runs help`: the query language line by line, then the sub-commands among
    `subcommands` (the words /runs answers), each with an example."""
    others = [
        _entry_line(entry, "/runs ")
        for entry in SUBCOMMANDS
        if entry.syntax.split()[0] in subcommands
    ]
    blocks: list[Block] = [_section(text) for text in packed(help_lines(), SECTION_TEXT_MAX)]
    if others:
        blocks += [
            _section(text) for text in packed(["*Other commands*", *others], SECTION_TEXT_MAX)
        ]
    blocks.append(_context("Days and times are read in the time zone of your Slack profile."))
    return SlackMessage(text=USAGE, blocks=tuple(blocks))


def usage_block() -> ContextBlock:
    """How to write a search, and where the help is: the last block of an answer that failed."""
    return _context(f"{USAGE} `/runs help` lists every filter, with examples.")


def usage_message(sentence: str) -> SlackMessage:
    """`sentence` (mrkdwn, already escaped), then the usage."""
    return SlackMessage(text=sentence, blocks=(_section(sentence), usage_block()))
