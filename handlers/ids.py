"""Every id Slack hands back to us, in one place: builders and `register(app)` both use these."""

from __future__ import annotations

from enum import StrEnum


class Command(StrEnum):
    """Slash commands (they must match manifest.yml)."""

    RUNS = "/runs"


class Action(StrEnum):
    """`action_id`s of buttons; a run's buttons carry its run ID as `value`, a /runs page's
    paging and share buttons a handlers/page_state.py PageState."""

    RETRIGGER = "run_retrigger"
    VIEW_DETAILS = "run_view_details"
    ADD_NOTE = "run_add_note"
    NEXT_PAGE = "runs_next_page"
    PREVIOUS_PAGE = "runs_previous_page"
    SHARE = "runs_share"


class Block(StrEnum):
    """`block_id`s the builders set (unique within one message or view)."""

    ALERT_ACTIONS = "alert_actions"
    DETAIL_ACTIONS = "detail_actions"  # the run detail modal's Retrigger and Add note
    DETAIL_RETRY = "detail_retry"  # a run of the detail's retry chain, suffixed `:RUN_ID`
    NOTE_TEXT = "note_text"
    NOTE_RUN = "note_run"  # the Add note modal's choice of run, for a group alert
    RUN_ACTIONS = "run_actions"  # one per run on a /runs page, suffixed `:RUN_ID`
    RUNS_PAGING = "runs_paging"
    RETRIGGER_ACTIONS = "retrigger_actions"  # one per run offered to retrigger, `:RUN_ID`


class View(StrEnum):
    """`callback_id`s of modals."""

    ADD_NOTE = "note_submit"
    RUN_DETAIL = "run_detail"
    RETRIGGER_ANSWER = "retrigger_answer"  # what a Retrigger click in a modal answered


class Shortcut(StrEnum):
    """`callback_id`s of message shortcuts (they must match manifest.yml)."""

    RETRIGGER_MESSAGE = "retrigger_from_message"
    ADD_NOTE_MESSAGE = "add_note_from_message"


def slack_person(user_id: str) -> str:
    """How a Slack user is recorded as a note's author or a retrigger's requester
    (CONTRACT.md section 5: `"requested_by": "slack:U024BE7LH"`); shown by elements.person."""
    return f"slack:{user_id}"
