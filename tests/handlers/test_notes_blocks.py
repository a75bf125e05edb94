"""The notes builders within Slack's limits, whatever people and the engine wrote."""

from __future__ import annotations

from datetime import UTC, datetime

from handlers.blocks.modals import MAX_NOTE_LENGTH, group_note_modal, note_modal
from handlers.blocks.notes import name_a_run
from handlers.blocks.thread_lines import note_line, retry_ended_line, retry_given_up_line
from handlers.ids import Block
from store.deliveries import RetryOutcome
from store.records import NoteRecord, NoteTarget, WorkflowRecord
from store.types import RunStatus
from tests.fake_slack import check_message, check_view, rendered_text

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
WORKFLOW = WorkflowRecord("hubspot-salesforce", "HubSpot", "Salesforce", None, None, None, T0, T0)


def target(number: int, reference: str = "ACME Corp") -> NoteTarget:
    return NoteTarget("run_" + str(number).zfill(60), reference, WORKFLOW, T0)  # 64 characters


def test_a_note_line_escapes_and_cuts_the_longest_note_of_ampersands() -> None:
    note = NoteRecord(1, "run_a", "slack:U0ALICE01", "&<>" * 1000, "api", T0, T0)
    message = note_line(note).to_dict()
    assert check_message(message) == []
    assert rendered_text(message).startswith("📝 <@U0ALICE01> added a note: &amp;&lt;&gt;")
    assert rendered_text(message).endswith("…")
    api_author = NoteRecord(2, "run_a", "<!channel> ops", "fine", "api", T0, T0)
    assert "&lt;!channel&gt; ops added a note: fine" in rendered_text(
        note_line(api_author).to_dict()
    )


def test_retry_lines_say_how_the_new_run_went_and_who_asked() -> None:
    outcome = RetryOutcome("run_new", RunStatus.SKIPPED, None, None, "Closed Lost", None, None)
    assert "`run_new` was skipped: Closed Lost" in rendered_text(
        retry_ended_line(outcome).to_dict()
    )
    given_up = RetryOutcome(
        "run_new", RunStatus.FAILED, "never accepted", None, None, "slack:U0BOB0002", "x" * 5000
    )
    message = retry_given_up_line(given_up).to_dict()
    assert check_message(message) == []
    assert rendered_text(message).startswith("⚠️ <@U0BOB0002>: the engine never accepted")


def test_the_note_modals_hold_to_slacks_limits() -> None:
    single = note_modal(target(1, "ß" * 5000)).to_dict()
    assert check_view(single) == []
    (text_input,) = [b for b in single["blocks"] if b.get("block_id") == Block.NOTE_TEXT]
    assert text_input["element"]["max_length"] == MAX_NOTE_LENGTH
    assert check_view(note_modal("run_slow").to_dict()) == []

    runs = [target(n, "R" * 300) for n in range(150)]
    group = group_note_modal(runs, total=150).to_dict()
    assert check_view(group) == []
    (select,) = [b for b in group["blocks"] if b.get("block_id") == Block.NOTE_RUN]
    assert len(select["element"]["options"]) == 100
    assert "The 100 newest of this alert's 150 runs" in rendered_text(group)


def test_the_hint_names_a_run_of_the_group() -> None:
    hint = name_a_run(("run_a", "run_b")).to_dict()
    assert check_message(hint) == [] and "`run_b`" in rendered_text(hint)
