"""The run detail modal, unit by unit: what a person reads and can click, secrets masked, and
that no run — however big or strange — breaks a modal's limits or is cut without saying so."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from handlers.blocks.run_detail import (
    run_detail_loading,
    run_detail_modal,
    run_detail_not_found,
)
from handlers.ids import Action, Block, View
from store.masking import MASK
from store.records import (
    NoteRecord,
    RetryLink,
    RunDetail,
    RunSummary,
    StepRecord,
    WorkflowRecord,
)
from store.types import RetriggerState, RunStatus
from tests.fake_slack import buttons, check_view, rendered_text

STARTED = datetime(2026, 11, 20, 10, 2, 3, tzinfo=UTC)
RUN_ID = "run_01JD3Z7X8Q9K2M4N6P8R0T2V4W"
WORKFLOW = WorkflowRecord(
    id="hubspot-salesforce",
    source="HubSpot",
    destination="Salesforce",
    name="Deals → Opportunities",
    trigger_url=None,
    alert_channel=None,
    created_at=STARTED,
    updated_at=STARTED,
)
SECRET = "hunter2-the-password"


def summary(**fields: Any) -> RunSummary:
    values: dict[str, Any] = {
        "id": RUN_ID,
        "workflow": WORKFLOW,
        "reference": "ACME Corp — Renewal 2027",
        "status": RunStatus.FAILED,
        "started_at": STARTED,
        "finished_at": STARTED + timedelta(seconds=6),
        "updated_at": STARTED,
        "created_at": STARTED,
        "error_message": "401 Unauthorized: token expired",
        "error_step": "Create opportunity",
        "skip_reason": None,
        "result": None,
        "retry_of": None,
        "note_count": 0,
    }
    values.update(fields)
    return RunSummary(**values)


def step(name: str, status: str = "finished", **fields: Any) -> StepRecord:
    values: dict[str, Any] = {
        "name": name,
        "status": status,
        "started_at": "2026-11-20T10:02:03Z",
        "finished_at": "2026-11-20T10:02:05.500Z",
        "detail": None,
        "error": None,
    }
    values.update(fields)
    return StepRecord(**values)


def note(number: int, text: str, author: str = "slack:U024BE7LH") -> NoteRecord:
    at = STARTED + timedelta(minutes=number)
    return NoteRecord(number, RUN_ID, author, text, "slack_modal", at, at)


def detail(**fields: Any) -> RunDetail:
    values: dict[str, Any] = {
        "summary": summary(),
        "payload": {
            "deal_id": 9918,
            "amount": 120000,
            "hubspot": {"portal": 4242, "auth": {"access_token": SECRET}},
            "contacts": [{"email": "jane.doe@acme.example.com", "password": SECRET}],
            "callback": "Bearer 9f8e7d6c5b4a39281706abc",
        },
        "steps": (
            step("Fetch deal", detail="Deal 9918 fetched"),
            step("Create opportunity", "failed", error=None),
        ),
        "notes": (note(1, "Token rotated, retrying"), note(2, "Still failing", "ops-cli")),
        "retried_as": ("run_again",),
        "retry_of": RetryLink(
            "run_first", RunStatus.FAILED, "slack:U0BOB", STARTED, RetriggerState.ENDED
        ),
        "retries": (
            RetryLink(
                "run_again",
                RunStatus.FAILED,
                "slack:U024BE7LH",
                STARTED + timedelta(hours=1),
                RetriggerState.GIVEN_UP,
                "engine answered 503 for 15 minutes",
            ),
        ),
    }
    values.update(fields)
    return RunDetail(**values)


def valid(view: Any) -> dict[str, Any]:
    """The view as sent to Slack: slack_sdk's validators and the fake Slack's limits pass."""
    payload: dict[str, Any] = view.to_dict()
    assert check_view(payload) == []
    return payload


def test_the_modal_shows_the_whole_run_log_with_secrets_masked() -> None:
    view = valid(run_detail_modal(detail()))
    assert view["callback_id"] == View.RUN_DETAIL and view["private_metadata"] == RUN_ID
    text = rendered_text(view)
    for expected in (
        "❌ *Failed*",
        "ACME Corp — Renewal 2027",
        "*HubSpot → Salesforce*",
        f"`{RUN_ID}`",
        "<!date^1795168923^",
        "took 6 s",
        "❌ *Error* at step *\u2068Create opportunity\u2069*",
        "401 Unauthorized: token expired",
        '"deal_id": 9918',
        "jane.doe@acme.example.com",
        f'"auth": "{MASK}"',
        f'"password": "{MASK}"',
        f"Bearer {MASK}",
        "3 values masked",
        "*Steps* (2)",
        "✅ *\u2068Fetch deal\u2069*",
        "2.5 s",
        "Deal 9918 fetched",
        "❌ *\u2068Create opportunity\u2069*",
        "*Notes* (2)",
        "<@U024BE7LH>",
        "Token rotated, retrying",
        "ops-cli",
        "*Retries*",
        "🔁 Retry of `run_first` (❌ failed) · asked by <@U0BOB>",
        "↪️ Retried as `run_again` (❌ failed; given up: the engine never accepted it "
        "(engine answered 503 for 15 minutes)) · asked by <@U024BE7LH>",
    ):
        assert expected in text, expected
    assert SECRET not in text and "9f8e7d6c5b4a39281706abc" not in text
    # The error shows at the step that failed, too.
    steps_text = text[text.index("*Steps*") :]
    assert "401 Unauthorized" in steps_text[: steps_text.index("*Notes*")]
    assert text.index("Token rotated") < text.index("Still failing"), "newest last"
    # Each run of the retry chain opens in the modal's place; the run's own actions last.
    assert [(b.text, b.action_id, b.value, b.block_id) for b in buttons(view)] == [
        ("View details", Action.VIEW_DETAILS, "run_first", f"{Block.DETAIL_RETRY}:run_first"),
        ("View details", Action.VIEW_DETAILS, "run_again", f"{Block.DETAIL_RETRY}:run_again"),
        ("Retrigger", Action.RETRIGGER, RUN_ID, Block.DETAIL_ACTIONS),
        ("Add note", Action.ADD_NOTE, RUN_ID, Block.DETAIL_ACTIONS),
    ]


def test_retrigger_is_offered_only_where_it_may_be_sent() -> None:
    in_flight = RetryLink("run_b", RunStatus.PENDING, "x", STARTED, RetriggerState.PENDING)
    recovered = RetryLink("run_c", RunStatus.FINISHED, "x", STARTED, RetriggerState.ENDED)
    for case in (
        detail(retries=(in_flight,)),
        detail(retries=(recovered,)),
        detail(summary=summary(status=RunStatus.FINISHED, error_message=None, error_step=None)),
        detail(summary=summary(status=RunStatus.RUNNING)),
    ):
        actions = [
            b.text
            for b in buttons(valid(run_detail_modal(case)))
            if b.block_id == Block.DETAIL_ACTIONS
        ]
        assert actions == ["Add note"]
    pending = rendered_text(valid(run_detail_modal(detail(retries=(in_flight,)))))
    assert "(⏳ pending; ⏳ waiting for the engine to accept it)" in pending


def test_an_empty_run_says_what_it_lacks() -> None:
    empty = detail(
        summary=summary(
            status=RunStatus.SKIPPED,
            error_message=None,
            error_step=None,
            finished_at=None,
            skip_reason="Deal stage is not Closed Won",
        ),
        payload=None,
        steps=(),
        notes=(),
        retry_of=None,
        retries=(),
        retried_as=(),
    )
    text = rendered_text(valid(run_detail_modal(empty)))
    for expected in (
        "⏭️ *Skipped:* \u2068Deal stage is not Closed Won\u2069",
        "*Payload:* none was reported.",
        "*Steps:* none were reported.",
        "*Notes:* none yet.",
    ):
        assert expected in text
    assert "Retries" not in text and "Finished" not in text


def test_a_huge_run_stays_inside_the_modal_limits_and_says_what_was_cut() -> None:
    rtl = "שלום עולם " * 30
    emoji = "👨\u200d👩\u200d👧🇫🇷 " * 40
    long_error = ("Traceback <frame> & `code` " * 400)[:10_000]
    payload = {
        f"field_{n}": {"text": rtl, "emoji": emoji, "token": SECRET, "n": n} for n in range(600)
    }
    steps = tuple(
        step(
            f"Step {n} {rtl[:40]}",
            "failed" if n == 59 else "finished",
            detail=f"{emoji}{'detail ' * 100}",
            error=long_error if n == 59 else f"warning {n} " * 100,
        )
        for n in range(60)
    )
    notes = (
        note(0, "line\n" * 2_000),
        *(note(n, f"note {n}: {rtl} {emoji} <!channel> & more " * 3) for n in range(1, 200)),
    )
    huge = detail(
        summary=summary(
            reference="A" * 255, error_message=long_error, error_step="Step 59", note_count=200
        ),
        payload=payload,
        steps=steps,
        notes=notes,
        retries=tuple(
            RetryLink(f"run_retry_{n}", RunStatus.FAILED, "ops", STARTED, RetriggerState.ENDED)
            for n in range(40)
        ),
    )
    view = valid(run_detail_modal(huge))
    assert len(view["blocks"]) <= 100
    text = rendered_text(view)
    assert SECRET not in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "more lines" in text and "characters) not shown" in text
    assert "earlier notes not shown" in text and "note 199" in text, "the newest note is shown"
    assert "more characters not shown" in text
    assert "30 earlier retries not shown" in text and "run_retry_39" in text
    assert "*Steps* (60)" in text
    # Every step is shown, or the modal says how many were not.
    shown_steps = sum(f"*\u2068Step {n} " in text for n in range(60))
    assert shown_steps == 60 or f"{60 - shown_steps} more steps not shown" in text

    many_steps = replace(huge, steps=steps * 20)
    text = rendered_text(valid(run_detail_modal(many_steps)))
    assert "more steps not shown" in text


def test_the_loading_and_not_found_modals() -> None:
    loading = valid(run_detail_loading(RUN_ID))
    assert f"Loading `{RUN_ID}`" in rendered_text(loading)
    assert loading["private_metadata"] == RUN_ID
    missing = valid(run_detail_not_found("run_<nope>" + "x" * 3000))
    text = rendered_text(missing)
    assert "No run has the ID `run_&lt;nope&gt;" in text
    assert buttons(missing) == []


def test_a_note_of_many_short_lines_stays_inside_a_section() -> None:
    # 600 one-letter lines fit the note's 1,200 characters, but not a section once quoted.
    view = valid(run_detail_modal(detail(notes=(note(1, "a\n" * 3_000),))))
    text = rendered_text(view)
    assert text.count("> \u2068a\u2069") == 15 and "> \u2068…\u2069" in text
