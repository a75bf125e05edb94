"""The /runs page's Block Kit, unit by unit: what the asker reads and can click, the state its
buttons carry, and that no data breaks Slack's limits or escapes into mrkdwn."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from handlers.blocks.help import help_message
from handlers.blocks.message import SlackMessage
from handlers.blocks.runs_page import run_not_found, run_shown, runs_page, shared_page
from handlers.blocks.text import excerpt
from handlers.ids import Action
from handlers.page_state import BUTTON_VALUE_MAX, NotAPageState, PageState
from store.records import RunPage, RunSummary, WorkflowRecord
from store.types import RunStatus
from tests.fake_slack import buttons, check_message, rendered_text

STARTED = datetime(2026, 11, 20, 10, 2, 3, tzinfo=UTC)
WORKFLOW = WorkflowRecord(
    id="hubspot-salesforce",
    source="HubSpot",
    destination="Salesforce",
    name=None,
    trigger_url=None,
    alert_channel=None,
    created_at=STARTED,
    updated_at=STARTED,
)
CURSOR = "eyJ0IjoiMjAyNi0xMS0yMFQxMDowMjowMyswMDowMCIsImkiOiJydW5fMDEifQ" * 4  # cursor-sized
# Our own tokens; anything else left in a rendered text must be escaped.
OUR_TOKENS = re.compile(r"<!date\^\d+\^[^|<>]*\|[^<>]*>|<@[UW][A-Z0-9]+>")


def run(n: int, **fields: object) -> RunSummary:
    summary = RunSummary(
        id=f"run_{n:02d}",
        workflow=WORKFLOW,
        reference=f"ACME Corp — Renewal {n}",
        status=RunStatus.FAILED,
        started_at=STARTED - timedelta(minutes=n),
        finished_at=None,
        updated_at=STARTED,
        created_at=STARTED,
        error_message="401 Unauthorized: token expired",
        error_step="Create opportunity",
        skip_reason=None,
        result=None,
        retry_of=None,
        note_count=0,
    )
    return replace(summary, **fields)  # type: ignore[arg-type]


def page(runs: list[RunSummary], **fields: object) -> RunPage:
    values: dict[str, object] = {
        "runs": tuple(runs),
        "total": len(runs),
        "next_cursor": None,
        "total_exact": True,
        "previous_cursor": None,
    }
    return RunPage(**(values | fields))  # type: ignore[arg-type]


def within_limits(message: SlackMessage) -> SlackMessage:
    assert check_message(message.to_dict()) == []
    return message


def test_a_page_counts_lists_and_offers_its_buttons() -> None:
    first = page([run(n) for n in range(10)], total=42, next_cursor=CURSOR)
    message = within_limits(runs_page(first, PageState("failed today")))
    text = rendered_text(message.to_dict())
    assert text.startswith("*42 runs* match `/runs failed today`\nNewest first · 1–10")
    assert message.text == "42 runs match /runs failed today"
    by_action = [(b.action_id, b.value) for b in buttons(message.to_dict())]
    assert by_action[:3] == [
        (Action.VIEW_DETAILS, "run_00"),
        (Action.RETRIGGER, "run_00"),
        (Action.ADD_NOTE, "run_00"),
    ]
    paging = [(b.action_id, b.value) for b in buttons(message.to_dict())][-2:]
    assert paging == [
        (Action.NEXT_PAGE, PageState("failed today", CURSOR, 2).encode()),
        (Action.SHARE, PageState("failed today").encode()),
    ]


def test_a_middle_page_goes_both_ways_and_counts_from_where_it_is() -> None:
    middle = page([run(n) for n in range(10)], total=25, next_cursor="n", previous_cursor="p")
    message = runs_page(middle, PageState("", "c", 2))
    assert "*25 runs* match `/runs`\nNewest first · 11–20" in rendered_text(message.to_dict())
    states = {
        b.action_id: PageState.decode(b.value or "")
        for b in buttons(message.to_dict())
        if b.action_id.startswith("runs_")
    }
    assert states[Action.PREVIOUS_PAGE] == PageState("", "p", 1)
    assert states[Action.NEXT_PAGE] == PageState("", "n", 3)
    assert states[Action.SHARE] == PageState("", "c", 2)


def test_a_total_the_store_stopped_counting_is_shown_as_1000_plus() -> None:
    many = page([run(n) for n in range(10)], total=1_000, total_exact=False, next_cursor="n")
    message = runs_page(many, PageState("renewal"))
    assert rendered_text(message.to_dict()).startswith("*1,000+ runs* match")
    assert message.text.startswith("1,000+ runs")
    assert rendered_text(runs_page(page([run(1)]), PageState("x")).to_dict()).startswith(
        "*1 run* match"
    )


@pytest.mark.parametrize("status", list(RunStatus))
def test_each_status_is_shown_by_emoji_and_word_and_only_failures_can_be_retriggered(
    status: RunStatus,
) -> None:
    message = runs_page(page([run(1, status=status, error_message=None)]), PageState(""))
    row = rendered_text(message.to_dict()).split("\n")[2]
    assert f"*{status.value.capitalize()}*" in row
    offered = {b.action_id for b in buttons(message.to_dict())}
    assert (Action.RETRIGGER in offered) is (status in (RunStatus.FAILED, RunStatus.SKIPPED))


def test_ten_runs_at_every_limit_stay_within_slacks() -> None:
    reference = ("&<>" * 40 + "שלום" * 20 + "e\u0301" * 30 + "👨\u200d👩\u200d👧" * 10)[:255]
    heavy = [
        run(
            n,
            id=f"run_{'x' * 58}{n:02d}",
            reference=reference,
            error_message="<b>&amp;</b> `tick`\n" * 2_000,
            note_count=10_000,
            workflow=replace(WORKFLOW, source="&" * 255, destination="مصدر" * 60),
        )
        for n in range(10)
    ]
    query = "wf:" + "<&>" * 500
    message = within_limits(runs_page(page(heavy, total=10**6), PageState(query)))
    within_limits(shared_page(page(heavy), PageState(query), shared_by="U0ALICE01"))
    text = rendered_text(message.to_dict())
    assert "<&>" not in text and "<b>" not in text
    assert not re.search(r"[<>]", OUR_TOKENS.sub("", text).replace("\n> ", "\n"))
    assert "💬 10000 notes" in text or "💬 10,000 notes" in text
    assert "\u2068" in text  # references and errors are bidi isolates


def test_a_search_too_long_for_a_button_gets_no_paging_and_says_why() -> None:
    query = "wf:bulk " + "ß" * 1_900
    assert PageState(query, CURSOR).encode() is None
    message = runs_page(page([run(1)], next_cursor=CURSOR), PageState(query))
    assert "too long to page through or share" in rendered_text(message.to_dict())
    assert not [b for b in buttons(message.to_dict()) if b.action_id.startswith("runs_")]


def test_a_page_state_fits_a_button_as_long_as_it_can_and_reads_back() -> None:
    longest = PageState("w" * 1_600, CURSOR, 7)
    value = longest.encode()
    assert value is not None and len(value) <= BUTTON_VALUE_MAX
    assert PageState.decode(value) == longest
    assert PageState.decode(PageState('שלום "quoted" ‘x’').encode() or "").query == (
        'שלום "quoted" ‘x’'
    )
    for forged in ["", "run_01", '{"q": 1, "c": null, "n": 1}', '{"q": "", "c": null, "n": 0}']:
        with pytest.raises(NotAPageState):
            PageState.decode(forged)


def test_a_shared_page_names_who_shared_it_and_keeps_the_paging_private() -> None:
    shared = page([run(n) for n in range(10)], total=12, next_cursor="n")
    message = within_limits(shared_page(shared, PageState("failed"), shared_by="U0ALICE01"))
    assert rendered_text(message.to_dict()).startswith(
        "<@U0ALICE01> shared `/runs failed`: *12 runs*"
    )
    assert {b.action_id for b in buttons(message.to_dict())} == {
        Action.VIEW_DETAILS,
        Action.RETRIGGER,
        Action.ADD_NOTE,
    }


def test_show_and_its_unknown_id() -> None:
    shown = within_limits(run_shown(run(3, note_count=2)))
    assert "💬 2 notes" in rendered_text(shown.to_dict())
    assert {b.value for b in buttons(shown.to_dict())} == {"run_03"}
    missing = within_limits(run_not_found("run_<nope>`" + "x" * 3_000))
    assert rendered_text(missing.to_dict()).startswith("No run has the ID `run_&lt;nope&gt;ˋ")


def test_the_help_lists_the_sub_commands_it_is_given() -> None:
    text = rendered_text(within_limits(help_message({"help", "show"})).to_dict())
    assert "`/runs show RUN_ID`" in text and "`/runs help`" in text
    assert "stats" not in text
    assert "`/runs stats [WHEN]`" in rendered_text(help_message({"stats"}).to_dict())


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("401 Unauthorized:\n  token expired", "401 Unauthorized: t…"),
        ("<&>", "&lt;&amp;&gt;"),
        ("x" * 100_000, "x" * 19 + "…"),
        ("Traceback" + " " * 500 + "more", "Traceback …"),  # what follows is not lost silently
        ("done" + " " * 500, "done"),
    ],
)
def test_an_excerpt_reads_only_the_start_of_a_long_text(text: str, shown: str) -> None:
    assert excerpt(text, 20) == shown
