"""The grammar of the query language: one row per status word, filter key and time word.

The parser's own table (store/filters.py reads its keys through KEY_GRAMMAR); the help people
read is generated from GRAMMAR in handlers/blocks/help.py.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GRAMMAR", "KEY_GRAMMAR", "GrammarEntry"]


@dataclass(frozen=True)
class GrammarEntry:
    """One row of the help text: a status word, a filter key or a time word."""

    syntax: str
    meaning: str
    example: str


# By each key's main name, in the order the help lists them.
KEY_GRAMMAR: dict[str, GrammarEntry] = {
    "workflow": GrammarEntry(
        "workflow:NAME",
        "Runs of one workflow: its id, its name, or Source → Destination "
        "(also Source->Destination). Short form wf:. Quote a name with spaces.",
        'wf:"HubSpot → Salesforce"',
    ),
    "status": GrammarEntry(
        "status:STATUS",
        "The same as the status words; several, separated by commas, mean any of them.",
        "status:failed,skipped",
    ),
    "ref": GrammarEntry(
        "ref:TEXT", "Runs whose reference contains TEXT, in any case.", 'ref:"ACME Corp"'
    ),
    "id": GrammarEntry(
        "id:RUN_ID", "The run with exactly this ID.", "id:run_01JD3ZQ5N8W7X6Y5V4T3S2R1Q0"
    ),
    "since": GrammarEntry("since:WHEN", "Runs started at WHEN or later.", "since:2026-11-20T14:30"),
    "until": GrammarEntry(
        "until:WHEN", "Runs started at WHEN or earlier; a day counts whole.", "until:yesterday"
    ),
    "on": GrammarEntry("on:DAY", "Runs started on that day, in your time zone.", "on:2026-11-20"),
    "last": GrammarEntry("last:DURATION", "Runs started in the last 30m, 6h, 7d or 2w.", "last:6h"),
}

GRAMMAR: tuple[GrammarEntry, ...] = (
    GrammarEntry("failed", "Runs that did not complete.", "failed today"),
    GrammarEntry("finished", "Runs that moved the data as expected.", "finished last:6h"),
    GrammarEntry("running", "Runs in progress.", "running"),
    GrammarEntry("pending", "Runs queued and not started yet.", "pending running"),
    GrammarEntry(
        "skipped", "Runs not executed because a workflow condition was not met.", "skipped"
    ),
    *KEY_GRAMMAR.values(),
    GrammarEntry("today", "Runs started today, in your time zone: the same as on:today.", "today"),
    GrammarEntry("yesterday", "Runs started yesterday: the same as on:yesterday.", "yesterday"),
    GrammarEntry(
        "A..B",
        "A range, both ends included, after on:, since: or until:.",
        "on:2026-11-01..2026-11-07",
    ),
    GrammarEntry(
        "TEXT",
        "Any other word, matched against the reference and the run ID in any case; "
        "several words must all match. Quote a phrase to keep it one word; a quoted word is "
        'always text, even "failed" or "PO:4711".',
        '"ACME Corp" renewal',
    ),
)
