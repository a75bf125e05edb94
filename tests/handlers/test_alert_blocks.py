"""Failure-alert Block Kit, unit by unit: what a person reads and can click, and that no input
from the engine breaks Slack's limits, escapes into mrkdwn, or is cut mid-character."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from handlers.blocks.alert import alert_message, group_alert_message, group_thread_message
from handlers.blocks.causes import cause_label, likely_cause
from handlers.blocks.message import SlackMessage
from handlers.blocks.text import (
    escape_and_truncate,
    escape_mrkdwn,
    isolate,
    one_line,
    slack_date,
    truncate,
    utc_text,
)
from handlers.ids import Action
from store.alerts import AlertRun, GroupAlert, RetryView, SingleAlert
from store.causes import FailureCause
from store.records import WorkflowRecord
from store.types import RunStatus
from tests.fake_slack import buttons, check_message, rendered_text

STARTED = datetime(2026, 11, 20, 10, 2, 3, tzinfo=UTC)
STARTED_TOKEN = "<!date^1795168923^{date_short_pretty} at {time}|2026-11-20 10:02 UTC>"
RUN_ID = "run_01JD3Z7X8Q9K2M4N6P8R0T2V4W"
NEW_RUN_ID = "run_01JD3ZA1B2C3D4E5F6G7H8J9K0"
ALICE = "U024BE7LH"

FAMILY = "👨\u200d👩\u200d👧"  # one person-visible character, five code points
FRANCE = "🇫🇷"  # one flag, two regional indicators
E_ACUTE = "e\u0301"  # e + combining acute accent
FSI, PDI = "\u2068", "\u2069"
ISOLATE_OPENERS = {"\u2066", "\u2067", "\u2068"}

# What is left of a rendered text once our own tokens are taken out must hold no raw `<` or `>`,
# and every `&` must start one of the three entities.
OUR_TOKENS = re.compile(r"<!date\^\d+\^[^|<>]*\|[^<>]*>|<@[UW][A-Z0-9]+>")
LOOSE_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")


def workflow(
    source: str = "HubSpot", destination: str = "Salesforce", name: str | None = None
) -> WorkflowRecord:
    return WorkflowRecord(
        id="hubspot-salesforce",
        source=source,
        destination=destination,
        name=name,
        trigger_url=None,
        alert_channel=None,
        created_at=STARTED,
        updated_at=STARTED,
    )


def failed_run(**changes: Any) -> AlertRun:
    run = AlertRun(
        id=RUN_ID,
        workflow=workflow(),
        reference="ACME Corp — Q4 renewal",
        status=RunStatus.FAILED,
        started_at=STARTED,
        error_message="401 Unauthorized: token expired",
        error_step="Create opportunity",
        cause=FailureCause.CREDENTIAL,
    )
    return replace(run, **changes)


def retry(status: RunStatus, requested_by: str = f"slack:{ALICE}") -> RetryView:
    return RetryView(
        new_run_id=NEW_RUN_ID,
        requested_by=requested_by,
        status=status,
        requested_at=STARTED + timedelta(minutes=5),
    )


def group(latest: AlertRun | None = None, **changes: Any) -> GroupAlert:
    latest = latest or failed_run(cause=FailureCause.OUTAGE, error_message="504 Gateway Timeout")
    alert = GroupAlert(
        alert_id=7,
        channel_id="C0ALERTS",
        workflow=latest.workflow,
        failure_count=12,
        first_failed_at=STARTED,
        last_failed_at=STARTED + timedelta(minutes=9),
        latest=latest,
        causes=((FailureCause.OUTAGE, 7), (FailureCause.LOGIC, 4), (FailureCause.CREDENTIAL, 1)),
    )
    return replace(alert, **changes)


def posted(message: SlackMessage) -> dict[str, Any]:
    """The message as chat.postMessage would carry it: slack_sdk's validators ran (to_dict) and
    the fake Slack's Block Kit limits find nothing wrong."""
    payload = message.to_dict()
    assert check_message(payload) == []
    assert payload["text"].strip(), "the fallback text is what notifications show"
    return payload


def posted_alert(run: AlertRun) -> dict[str, Any]:
    return posted(alert_message(SingleAlert(alert_id=1, channel_id="C0ALERTS", run=run)))


def text_objects(payload: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every text object in the blocks, confirm dialogs included."""

    def walk(node: object) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and "text" in node:
                yield node
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    return walk(payload["blocks"])


def all_texts(payload: dict[str, Any]) -> list[str]:
    return [payload["text"], *(obj["text"] for obj in text_objects(payload))]


def assert_escaped(payload: dict[str, Any]) -> None:
    """No engine text reaches mrkdwn as markup: only our own date and mention tokens remain."""
    for text in all_texts(payload):
        rest = OUR_TOKENS.sub("", text)
        assert "<" not in rest and ">" not in rest, text
        assert not LOOSE_AMPERSAND.search(rest), text
    for obj in text_objects(payload):
        if obj["type"] == "mrkdwn":
            # verbatim: bare URLs, #channel and @here in the engine's text stay plain text.
            assert obj.get("verbatim") is True, obj


def assert_bidi_contained(payload: dict[str, Any]) -> None:
    """Every isolate we open is closed by our own PDI, so a right-to-left (or hostile) reference
    cannot reorder the run ID or anything else after it on the line."""
    for text in all_texts(payload):
        depth = 0
        for char in text:
            if char in ISOLATE_OPENERS:
                depth += 1
            elif char == PDI:
                assert depth > 0, f"a stray PDI closes an isolate it did not open: {text!r}"
                depth -= 1
        assert depth == 0, f"an isolate is left open: {text!r}"


def isolated_spans(payload: dict[str, Any]) -> list[str]:
    """What each isolate holds (references, as the builders show them)."""
    return [span for text in all_texts(payload) for span in re.findall(f"{FSI}(.*?){PDI}", text)]


def retrigger_element(payload: dict[str, Any]) -> dict[str, Any]:
    elements: list[dict[str, Any]] = [
        element
        for block in payload["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == Action.RETRIGGER
    ]
    (element,) = elements
    return element


def labels(payload: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return [(button.text, button.action_id, button.value) for button in buttons(payload)]


# --- a single alert ----------------------------------------------------------------------------


def test_an_alert_shows_what_it_takes_to_act() -> None:
    payload = posted_alert(failed_run(workflow=workflow(name="Deals to opportunities")))
    text = rendered_text(payload)

    assert "HubSpot → Salesforce" in text
    assert "Deals to opportunities" in text
    assert f"{FSI}ACME Corp — Q4 renewal{PDI}" in text
    assert f"`{RUN_ID}`" in text
    assert f"*Started*\n{STARTED_TOKEN}" in text
    assert "*Failed step*\nCreate opportunity" in text
    assert "```401 Unauthorized: token expired```" in text
    assert "*Likely cause:* Expired or revoked credential" in text
    assert "Reconnect the Salesforce or HubSpot app" in text
    assert labels(payload) == [
        ("Retrigger", Action.RETRIGGER, RUN_ID),
        ("View details", Action.VIEW_DETAILS, RUN_ID),
        ("Add note", Action.ADD_NOTE, RUN_ID),
    ]
    assert payload["text"] == (
        f"❌ HubSpot → Salesforce failed: {FSI}ACME Corp — Q4 renewal{PDI} ({RUN_ID}): "
        "401 Unauthorized: token expired"
    )
    assert_escaped(payload)


def test_retrigger_asks_to_confirm() -> None:
    confirm = retrigger_element(posted_alert(failed_run()))["confirm"]
    assert confirm["title"]["text"] == "Retrigger this run?"
    assert f"A new run of {FSI}ACME Corp — Q4 renewal{PDI}" in confirm["text"]["text"]
    assert confirm["confirm"]["text"] == "Retrigger"
    assert confirm["deny"]["text"] == "Cancel"


@pytest.mark.parametrize(
    ("cause", "error", "headline", "fix"),
    [
        (
            FailureCause.CREDENTIAL,
            "invalid_grant",
            "Expired or revoked credential",
            "Reconnect the Salesforce or HubSpot app in the workflow's connections, then retrigger.",
        ),
        (
            FailureCause.MISSING_FIELD,
            "Required field 'Email' is missing",
            "A required field is missing",
            "Fix the source record in HubSpot, then retrigger.",
        ),
        (
            FailureCause.OUTAGE,
            "429 Too Many Requests",
            "Salesforce is down or rate-limiting",
            "Retrigger later: the data is fine.",
        ),
        (
            FailureCause.LOGIC,
            "KeyError: 'line_items'",
            "A gap in the workflow's logic",
            "Check the workflow's mapping for this record; retriggering alone will fail again.",
        ),
    ],
)
def test_an_alert_names_the_likely_cause_and_its_fix(
    cause: FailureCause, error: str, headline: str, fix: str
) -> None:
    payload = posted_alert(failed_run(cause=cause, error_message=error))
    assert f"*Likely cause:* {headline}\n{fix}" in rendered_text(payload)


@pytest.mark.parametrize(
    ("step", "app"),
    [
        ("Create opportunity in Salesforce", "Salesforce"),
        ("Read contact from hubspot", "HubSpot"),
        ("Copy HubSpot deal to Salesforce", "Salesforce or HubSpot"),
        (None, "Salesforce or HubSpot"),
    ],
)
def test_an_expired_credential_names_the_app_the_failed_step_used(
    step: str | None, app: str
) -> None:
    _, fix = likely_cause(FailureCause.CREDENTIAL, workflow(), step=step)
    assert fix == f"Reconnect the {app} app in the workflow's connections, then retrigger."


def test_the_cause_copy_escapes_the_workflow_names() -> None:
    names = workflow(source="R&D <sandbox>", destination="<!channel>")
    for cause in FailureCause:
        headline, fix = likely_cause(cause, names)
        for text in (headline, fix):
            assert "<" not in text and not LOOSE_AMPERSAND.search(text)
    assert likely_cause(FailureCause.MISSING_FIELD, names)[1] == (
        "Fix the source record in R&amp;D &lt;sandbox&gt;, then retrigger."
    )


def test_each_cause_has_its_own_label() -> None:
    assert {cause: cause_label(cause) for cause in FailureCause} == {
        FailureCause.CREDENTIAL: "Expired or revoked credential",
        FailureCause.MISSING_FIELD: "Missing required field",
        FailureCause.OUTAGE: "Downstream outage",
        FailureCause.LOGIC: "Workflow logic",
    }


# --- a retriggered alert -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "progress"),
    [
        (RunStatus.PENDING, "⏳ Waiting for the engine to start the new run…"),
        (RunStatus.RUNNING, "🔄 The new run is running…"),
    ],
)
def test_a_retrigger_in_flight_says_who_and_offers_no_second_one(
    status: RunStatus, progress: str
) -> None:
    payload = posted_alert(failed_run(retry=retry(status)))
    text = rendered_text(payload)
    assert f"🔁 Retriggered by <@{ALICE}> as `{NEW_RUN_ID}`" in text
    assert progress in text
    assert "❌ *HubSpot → Salesforce* failed" in text
    assert labels(payload) == [
        ("View details", Action.VIEW_DETAILS, RUN_ID),
        ("Add note", Action.ADD_NOTE, RUN_ID),
    ]
    assert_escaped(payload)


@pytest.mark.parametrize(
    ("requested_by", "shown"),
    [
        (f"slack:{ALICE}", f"<@{ALICE}>"),
        ("ci-pipeline", "ci-pipeline"),
        ("Ann <ann@acme.example>", "Ann &lt;ann@acme.example&gt;"),
        ("slack:<!channel>", "slack:&lt;!channel&gt;"),
        (f"slack:{ALICE} <!here>", f"slack:{ALICE} &lt;!here&gt;"),
        ("ops\nbot", "ops bot"),
        ("   ", "someone"),
    ],
)
def test_only_a_slack_user_id_becomes_a_mention(requested_by: str, shown: str) -> None:
    payload = posted_alert(failed_run(retry=retry(RunStatus.PENDING, requested_by)))
    assert f"Retriggered by {shown} as `{NEW_RUN_ID}`" in rendered_text(payload)
    assert_escaped(payload)


def test_a_finished_retrigger_resolves_the_alert() -> None:
    payload = posted_alert(failed_run(retry=retry(RunStatus.FINISHED)))
    text = rendered_text(payload)
    assert text.startswith("✅ *Resolved by retrigger* · HubSpot → Salesforce")
    assert "✅ Retrigger finished" in text
    assert f"Retriggered by <@{ALICE}> as `{NEW_RUN_ID}`" in text
    assert "Retrigger" not in {button.text for button in buttons(payload)}
    assert payload["text"].startswith("✅ HubSpot → Salesforce resolved by retrigger")


def test_a_retrigger_that_failed_again_can_be_retriggered_again() -> None:
    payload = posted_alert(failed_run(retry=retry(RunStatus.FAILED)))
    text = rendered_text(payload)
    assert f"❌ Still failing (`{NEW_RUN_ID}`)" in text
    assert "❌ *HubSpot → Salesforce* failed" in text
    assert [button.text for button in buttons(payload)] == ["Retrigger", "View details", "Add note"]


def test_a_run_that_finished_since_shows_as_resolved_without_retrigger() -> None:
    payload = posted_alert(failed_run(status=RunStatus.FINISHED))
    text = rendered_text(payload)
    assert text.startswith("✅ *Resolved — now finished* · HubSpot → Salesforce")
    assert labels(payload) == [
        ("View details", Action.VIEW_DETAILS, RUN_ID),
        ("Add note", Action.ADD_NOTE, RUN_ID),
    ]
    assert payload["text"].startswith("✅ HubSpot → Salesforce resolved (now finished)")
    assert "401 Unauthorized" not in payload["text"]


# --- hostile and huge input --------------------------------------------------------------------

HOSTILE_RUNS = {
    "100k error": failed_run(error_message="Stack trace: " + "x" * 100_000),
    "100k error of & < >": failed_run(error_message="&<>" * 33_334),
    "255 & < > reference": failed_run(reference="&<>" * 85),
    "family emoji": failed_run(reference=FAMILY * 51, error_message=FAMILY * 20_000),
    "flags": failed_run(reference="x" + FRANCE * 127, error_message="y" + FRANCE * 50_000),
    "combining marks": failed_run(reference=E_ACUTE * 127, error_message=E_ACUTE * 50_000),
    "zalgo": failed_run(reference="Z" + "\u0336" * 254, error_message="a" + "\u0301" * 99_999),
    "right to left": failed_run(
        reference="שלום עולם " * 25, error_message="خطأ: الحقل مطلوب " * 6_000
    ),
    "bidi overrides": failed_run(reference="\u202eevil\u2069\u2067 ref\u2066", error_step="\u202e"),
    "newlines and backticks": failed_run(
        reference="line one\nline two\r\n```code``` `x`", error_message="```\n</pre>`"
    ),
    "mentions and links": failed_run(
        reference="@here <!channel> <@U0123ABCD>",
        error_message="@channel <!here> <https://evil.example|click me> <#C0123|general>",
        error_step="<!subteam^S123>",
    ),
    "empty error": failed_run(error_message="", error_step=""),
    "whitespace error": failed_run(error_message=" \n\t ", error_step=None),
    "no error": failed_run(error_message=None, error_step=None, reference=""),
    "huge everything": failed_run(
        reference="&" * 255,
        error_message="<" * 100_000,
        error_step="&" * 100_000,
        workflow=workflow(source="<" * 255, destination="&" * 255, name=">" * 255),
        retry=retry(RunStatus.FAILED, requested_by="&" * 10_000),
    ),
}


def hostile_messages(run: AlertRun) -> list[dict[str, Any]]:
    """The run as every message that can show it: its alert, a group alert, a thread line."""
    return [
        posted_alert(run),
        posted(group_alert_message(group(latest=run))),
        posted(group_thread_message([run])),
    ]


@pytest.mark.parametrize("run", HOSTILE_RUNS.values(), ids=HOSTILE_RUNS.keys())
def test_no_input_breaks_slacks_limits_or_escapes_into_mrkdwn(run: AlertRun) -> None:
    for payload in hostile_messages(run):
        assert_escaped(payload)
        assert_bidi_contained(payload)
        assert RUN_ID in rendered_text(payload)
        assert RUN_ID in payload["text"]
        for span in isolated_spans(payload):
            assert "\n" not in span, "a reference is shown on one line"


@pytest.mark.parametrize("run", HOSTILE_RUNS.values(), ids=HOSTILE_RUNS.keys())
def test_the_buttons_carry_the_run_id_whatever_the_input(run: AlertRun) -> None:
    for button in buttons(posted_alert(run)):
        assert button.value == RUN_ID


def test_engine_text_does_not_mention_anyone() -> None:
    payload = posted_alert(HOSTILE_RUNS["mentions and links"])
    text = rendered_text(payload)
    for live in ("<!channel>", "<!here>", "<@U0123ABCD>", "<https://", "<#C0123", "<!subteam"):
        assert live not in text and live not in payload["text"]
    assert "&lt;!channel&gt;" in text
    assert "&lt;https://evil.example|click me&gt;" in text


def test_a_huge_error_is_cut_to_a_readable_block_ending_in_an_ellipsis() -> None:
    payload = posted_alert(HOSTILE_RUNS["100k error of & < >"])
    (error,) = [text for text in all_texts(payload) if text.startswith("*Error*")]
    assert error.endswith("…```")
    assert len(error) <= 3_000
    assert error.count("```") == 2
    assert payload["text"].endswith("…")


def test_backticks_in_the_error_cannot_close_its_code_block() -> None:
    payload = posted_alert(HOSTILE_RUNS["newlines and backticks"])
    (error,) = [text for text in all_texts(payload) if text.startswith("*Error*")]
    assert error.count("`") == 6


def test_a_reference_with_newlines_is_shown_on_one_line() -> None:
    text = rendered_text(posted_alert(HOSTILE_RUNS["newlines and backticks"]))
    assert f"{FSI}line one line two ```code``` `x`{PDI}" in text


@pytest.mark.parametrize("name", ["empty error", "whitespace error", "no error"])
def test_an_alert_without_an_error_message_says_so(name: str) -> None:
    payload = posted_alert(HOSTILE_RUNS[name])
    text = rendered_text(payload)
    assert "*Error*\nThe engine reported no error message." in text
    assert "*Failed step*\nNot reported" in text
    assert payload["text"].endswith(f"({RUN_ID})")


@pytest.mark.parametrize(
    ("name", "grapheme", "prefix"),
    [("family emoji", FAMILY, ""), ("flags", FRANCE, "x"), ("combining marks", E_ACUTE, "")],
)
def test_a_cut_reference_keeps_every_character_whole(name: str, grapheme: str, prefix: str) -> None:
    cut = 0
    for payload in hostile_messages(HOSTILE_RUNS[name]):
        for span in isolated_spans(payload):
            shown = span.removesuffix("…")
            cut += shown != span
            body = shown.removeprefix(prefix)
            assert body == grapheme * (len(body) // len(grapheme)), span
    assert cut >= 3, "the fallback, confirm and thread budgets cut the reference"


@pytest.mark.parametrize("char", ["&", "<", "é", "x"])
def test_an_alert_shows_any_reference_the_api_takes_whole(char: str) -> None:
    reference = char * 255  # the longest the run API takes; & escapes to 5 characters
    spans = isolated_spans(posted_alert(failed_run(reference=reference)))
    assert escape_mrkdwn(reference) in spans


def test_a_cut_error_keeps_every_character_whole() -> None:
    payload = posted_alert(HOSTILE_RUNS["flags"])
    (error,) = [text for text in all_texts(payload) if text.startswith("*Error*")]
    body = error.removeprefix("*Error*\n```y").removesuffix("…```")
    assert body == FRANCE * (len(body) // 2)


def test_a_stray_isolate_in_the_reference_cannot_reorder_the_run_id() -> None:
    run = HOSTILE_RUNS["bidi overrides"]
    line = rendered_text(posted(group_thread_message([run])))
    assert line.startswith(f"❌ {FSI}\u202eevil ref{PDI} `{RUN_ID}`")


# --- a group alert -----------------------------------------------------------------------------


def test_a_group_alert_keeps_count_and_sorts_causes_most_frequent_first() -> None:
    payload = posted(group_alert_message(group()))
    text = rendered_text(payload)
    assert text.startswith(f"🔥 *HubSpot → Salesforce*: 12 failures since {STARTED_TOKEN}")
    assert "*Latest failure*" in text and f"`{RUN_ID}`" in text
    assert "```504 Gateway Timeout```" in text
    assert (
        "*By cause:* 7 × Downstream outage · 4 × Workflow logic · "
        "1 × Expired or revoked credential\n"
        "*Most likely:* Salesforce is down or rate-limiting\nRetrigger later: the data is fine."
    ) in text
    assert "The runs are listed in this thread." in text
    assert labels(payload) == [
        ("View details", Action.VIEW_DETAILS, RUN_ID),
        ("Retrigger", Action.RETRIGGER, RUN_ID),
        ("Add note", Action.ADD_NOTE, RUN_ID),
    ]
    assert payload["text"] == (
        "🔥 HubSpot → Salesforce: 12 failures since 2026-11-20 10:02 UTC; "
        f"latest: {FSI}ACME Corp — Q4 renewal{PDI} ({RUN_ID}): 504 Gateway Timeout"
    )
    assert_escaped(payload)


def test_a_group_alert_of_one_failure_and_no_breakdown_yet() -> None:
    payload = posted(group_alert_message(group(failure_count=1, causes=())))
    text = rendered_text(payload)
    assert ": 1 failure since" in text
    assert "*By cause:* 1 × Downstream outage\n*Most likely:* Salesforce is down" in text


def test_a_group_alert_shows_its_latest_run_retriggered() -> None:
    latest = failed_run(retry=retry(RunStatus.RUNNING, "slack:W0ENTERPRISE1"))
    payload = posted(group_alert_message(group(latest=latest)))
    assert "Retriggered by <@W0ENTERPRISE1>" in rendered_text(payload)
    assert "Retrigger" not in {button.text for button in buttons(payload)}


@pytest.mark.parametrize("source_length", range(75, 80))
def test_a_group_alerts_fallback_never_ends_in_half_an_entity(source_length: int) -> None:
    # Every budget full at once, the cut landing at each offset of an `&amp;`.
    run = failed_run(
        id="run_" + "K" * 60,
        reference="&" * 255,
        error_message="&" * 1_000,
        workflow=workflow(source="S" * source_length, destination="&" * 255),
    )
    payload = posted(group_alert_message(group(latest=run, failure_count=123_456)))
    assert payload["text"].endswith("&amp;…")
    assert not LOOSE_AMPERSAND.search(payload["text"])


# --- the runs in a group alert's thread --------------------------------------------------------


def thread_runs(count: int) -> list[AlertRun]:
    return [
        failed_run(
            id=f"run_{index:03d}" + "K" * 57,
            reference=f"Customer {index} " + "&<>" * 80,
            error_step="Step " + "<" * 300,
            error_message="Error " + "&" * 5_000,
            started_at=STARTED + timedelta(minutes=index),
        )
        for index in range(count)
    ]


def test_a_thread_message_lists_100_runs_each_exactly_once_within_slacks_limits() -> None:
    runs = thread_runs(100)
    payload = posted(group_thread_message(runs))
    assert len(payload["blocks"]) <= 50
    sections = [block["text"]["text"] for block in payload["blocks"]]
    assert all(len(section) <= 3_000 for section in sections)
    lines = [line for section in sections for line in section.split("\n")]
    assert len(lines) == 100, "one line per run, never split across sections"
    named = Counter(re.findall(r"run_\d{3}K{57}", rendered_text(payload)))
    assert named == Counter(run.id for run in runs)
    assert payload["text"].startswith(f"100 runs: {runs[0].id}, {runs[1].id}")
    assert_escaped(payload)


def test_a_thread_line_shows_the_run() -> None:
    payload = posted(group_thread_message([failed_run()]))
    assert rendered_text(payload) == (
        f"❌ {FSI}ACME Corp — Q4 renewal{PDI} `{RUN_ID}` · {STARTED_TOKEN} · "
        "Create opportunity: 401 Unauthorized: token expired"
    )
    assert payload["text"] == f"1 run: {RUN_ID}"


@pytest.mark.parametrize("count", [0, 101])
def test_a_thread_message_lists_1_to_100_runs(count: int) -> None:
    with pytest.raises(ValueError, match="at least one|at most 100"):
        group_thread_message(thread_runs(count))


# --- text helpers ------------------------------------------------------------------------------


def test_escape_mrkdwn_escapes_the_three_reserved_characters_once() -> None:
    assert escape_mrkdwn("R&D <b> &amp; >") == "R&amp;D &lt;b&gt; &amp;amp; &gt;"


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 5, "short"),
        ("abcdef", 4, "abc…"),
        ("hello world", 7, "hello…"),
        ("ab" + FAMILY, 5, "ab…"),
        ("ab" + FAMILY + "cd", 8, "ab" + FAMILY + "…"),
        ("ab" + FRANCE + "🇩🇪", 5, "ab" + FRANCE + "…"),
        ("ab" + FRANCE + "🇩🇪", 4, "ab…"),
        ("x" + FRANCE * 3, 5, "x" + FRANCE + "…"),
        ("caf" + E_ACUTE + " au lait", 5, "caf…"),
        ("👍🏽👍🏽", 3, "👍🏽…"),
        ("#️⃣ tag", 4, "#️⃣…"),
    ],
)
def test_truncate_cuts_between_characters_and_ends_in_an_ellipsis(
    text: str, limit: int, expected: str
) -> None:
    assert truncate(text, limit) == expected
    assert len(truncate(text, limit)) <= limit


@pytest.mark.parametrize("limit", range(1, 40))
def test_escape_and_truncate_never_leaves_half_an_entity(limit: int) -> None:
    shown = escape_and_truncate("<&>" * 20, limit)
    assert len(shown) <= limit
    assert shown.endswith("…")
    assert not LOOSE_AMPERSAND.search(shown)
    assert re.fullmatch(r"(&lt;|&amp;|&gt;)*…", shown)


def test_escape_and_truncate_keeps_text_that_fits() -> None:
    assert escape_and_truncate("R&D", 7) == "R&amp;D"
    assert escape_and_truncate("R&D", 6) == "R…"


def test_one_line_and_isolate() -> None:
    assert one_line(" a\nb\r\n\tc  d ") == "a b c d"
    assert isolate("שלום") == f"{FSI}שלום{PDI}"


def test_slack_date_renders_in_each_readers_zone_with_a_utc_fallback() -> None:
    paris = STARTED.astimezone(timezone(timedelta(hours=1)))
    assert slack_date(paris) == STARTED_TOKEN
    assert slack_date(STARTED, "{date_num}") == "<!date^1795168923^{date_num}|2026-11-20 10:02 UTC>"
    assert utc_text(paris) == "2026-11-20 10:02 UTC"


@pytest.mark.parametrize("render", [slack_date, utc_text])
def test_a_naive_datetime_is_refused(render: Callable[[datetime], str]) -> None:
    with pytest.raises(ValueError, match="naive"):
        render(datetime(2026, 11, 20, 10, 2, 3))
