"""The help of `/runs`, generated from the query language's one grammar table.

Plain mrkdwn lines, ready for a section block: nothing renders them in Slack yet.
"""

from __future__ import annotations

from store.grammar import GRAMMAR, GrammarEntry

from .text import escape_mrkdwn

__all__ = ["help_lines", "help_text"]

USAGE = "Usage: `/runs [STATUS…] [FILTER…] [TEXT]`, in any order; every word given must match."


def _entry_line(entry: GrammarEntry) -> str:
    return (
        f"• `{escape_mrkdwn(entry.syntax)}`: {escape_mrkdwn(entry.meaning)} "
        f"For example `{escape_mrkdwn(entry.example)}`."
    )


def help_lines() -> list[str]:
    """The usage line, then one line per grammar entry, in the grammar's order."""
    return [USAGE, *(_entry_line(entry) for entry in GRAMMAR)]


def help_text() -> str:
    """The whole help, one entry per line."""
    return "\n".join(help_lines())
