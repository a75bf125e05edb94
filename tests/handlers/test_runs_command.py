"""`/runs` end to end: typed in the fake Slack, answered by the real app over real HTTP (and
Socket Mode), read as the asker sees it. One runsbot and one database serve the whole module:
these tests only read."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from handlers.ids import Action
from store.grammar import GRAMMAR
from store.run_store import RunStore
from tests.fake_slack import (
    ALICE,
    BOB,
    GENERAL_CHANNEL,
    OPS_CHANNEL,
    PRIVATE_CHANNEL,
    Ephemeral,
    FakeSlack,
    buttons,
    rendered_text,
    wait_until,
)
from tests.handlers.conftest import Runsbot
from tests.handlers.runs_support import Clock, ask, at, copy_database, run_ids, serve, write_runs
from tests.support.many_runs import ManyRuns, newest_first

NOW = at("2026-11-20T12:00")  # Alice is in Berlin: 13:00 there, UTC+1

HUBSPOT = {
    "id": "hubspot-salesforce",
    "source": "HubSpot",
    "destination": "Salesforce",
    "name": "Deals → Opportunities",
}
SHOPIFY = {"id": "shopify-netsuite", "source": "Shopify", "destination": "NetSuite"}
STRIPE = {"id": "stripe-quickbooks", "source": "Stripe", "destination": "QuickBooks"}
BULK = {"id": "bulk-sync", "source": "Airtable", "destination": "Postgres"}
STRESS = {"id": "stress", "source": "Ünïcödé & <Co>" * 8, "destination": "مصدر" * 30}

# (run ID, workflow, status, reference, started at UTC)
RUNS = [
    ("run_a01", HUBSPOT, "failed", "ACME Corp — Renewal 2027", "2026-11-20T10:02"),
    ("run_a02", HUBSPOT, "finished", "ACME Corp — New logo", "2026-11-20T09:00"),
    ("run_a03", SHOPIFY, "failed", "Order #1001 Müller GmbH", "2026-11-19T22:30"),
    ("run_a04", SHOPIFY, "running", "Order #1002", "2026-11-20T11:50"),
    ("run_a05", STRIPE, "pending", "Invoice INV-7", "2026-11-20T11:59"),
    ("run_a06", STRIPE, "skipped", "Invoice INV-8", "2026-11-18T08:00"),
    ("run_a07", HUBSPOT, "failed", "Globex renewal", "2026-11-19T23:30"),
    ("run_a08", HUBSPOT, "finished", "שלום עולם — הזמנה", "2026-11-13T10:00"),
    ("run_a09", SHOPIFY, "finished", "Order #0999", "2026-11-01T12:00"),
]
BULK_IDS = [f"run_b{n:02d}" for n in range(25, 0, -1)]  # newest first
STARTED = {run_id: at(started) for run_id, *_, started in RUNS} | {
    f"run_b{n:02d}": at("2026-09-01T10:00") + timedelta(minutes=n) for n in range(1, 26)
}
STRESS_IDS = [f"run_s{n:02d}" for n in range(10, 0, -1)]  # failed, in August
STARTED |= {f"run_s{n:02d}": at(f"2026-08-01T10:{n:02d}") for n in range(1, 11)}


def report(run_id: str, workflow: dict[str, str], status: str, reference: str, started: str):
    body: dict[str, Any] = {
        "id": run_id,
        "workflow": workflow,
        "status": status,
        "reference": reference,
        "started_at": f"{started}:00Z",
    }
    if status == "failed":
        body["error"] = {"message": "401 Unauthorized: token expired", "step": "Create deal"}
    return body


def stress_report(n: int) -> dict[str, Any]:
    """Everything at Slack's edges: a 255-character reference of characters that grow when
    escaped, right-to-left and combining text, a 10,000-character error."""
    reference = ("&<>" * 40 + "שלום" * 20 + "e\u0301" * 30 + "😀" * 20)[:255]
    return {
        "id": f"run_s{n:02d}",
        "workflow": STRESS,
        "status": "failed",
        "reference": reference,
        "started_at": f"2026-08-01T10:{n:02d}:00Z",
        "error": {"message": "<b>&amp;</b> `tick` " * 500, "step": "ß" * 255},
    }


@pytest.fixture(scope="module")
async def bot(
    fake_slack_server: FakeSlack, sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Runsbot]:
    url = copy_database(sqlite_template, tmp_path_factory.mktemp("runs_command"))
    reports = [report(*run) for run in RUNS]
    reports += [
        report(run_id, BULK, "finished", f"Row {run_id[-2:]}", f"{STARTED[run_id]:%Y-%m-%dT%H:%M}")
        for run_id in BULK_IDS
    ]
    reports += [stress_report(n) for n in range(1, 11)]
    await write_runs(url, reports)
    store = RunStore.open(url)
    for n in range(1, 11):
        for note in ("Looked at it", "Token renewed, שלום") * n:
            await store.add_note(f"run_s{n:02d}", author="alice", text=note, source="api")
    await store.add_note("run_a01", author="alice", text="Renewing the token", source="api")
    await store.close()
    runsbot = await serve(fake_slack_server, url, Clock(NOW))
    yield runsbot
    await runsbot.api.close()


def page_of(*run_ids: str) -> tuple[list[str], int]:
    """The first page (ten runs, newest first) and the total, for the runs that match."""
    newest_first = sorted(run_ids, key=lambda run_id: (STARTED[run_id], run_id), reverse=True)
    return newest_first[:10], len(run_ids)


MAIN = [run[0] for run in RUNS]
HUBSPOT_RUNS = ("run_a01", "run_a02", "run_a07", "run_a08")
FAILED = ("run_a01", "run_a03", "run_a07", *STRESS_IDS)

# Each form of the grammar, as Alice types it in Berlin at NOW, and the runs it must find.
GRAMMAR_CASES: dict[str, tuple[str, ...]] = {
    "": (*MAIN, *BULK_IDS, *STRESS_IDS),
    "failed": FAILED,
    "FAILED": FAILED,
    "failed skipped": (*FAILED, "run_a06"),
    "status:failed,skipped": (*FAILED, "run_a06"),
    "running pending": ("run_a04", "run_a05"),
    "finished": ("run_a02", "run_a08", "run_a09", *BULK_IDS),
    "wf:hubspot-salesforce": HUBSPOT_RUNS,
    "workflow:HUBSPOT-SALESFORCE": HUBSPOT_RUNS,
    'wf:"HubSpot → Salesforce"': HUBSPOT_RUNS,
    "wf:HubSpot->Salesforce": HUBSPOT_RUNS,
    "wf:HubSpot>Salesforce": HUBSPOT_RUNS,
    'workflow:"Deals → Opportunities"': HUBSPOT_RUNS,
    "failed wf:shopify-netsuite": ("run_a03",),
    'ref:"ACME Corp"': ("run_a01", "run_a02"),
    "ref:acme": ("run_a01", "run_a02"),
    "id:run_a05": ("run_a05",),
    # Berlin's 2026-11-20 runs from 23:00 UTC the day before: run_a07 is today there.
    "today": ("run_a01", "run_a02", "run_a04", "run_a05", "run_a07"),
    "yesterday": ("run_a03",),
    "on:2026-11-18": ("run_a06",),
    "on:2026-11-18..2026-11-19": ("run_a03", "run_a06"),
    "on:yesterday": ("run_a03",),
    "since:2026-11-20T11:00": ("run_a01", "run_a04", "run_a05"),
    "until:2026-11-18": ("run_a06", "run_a08", "run_a09", *BULK_IDS, *STRESS_IDS),
    "since:2026-11-13 until:2026-11-18": ("run_a06", "run_a08"),
    "since:2026-11-13..2026-11-18": ("run_a06", "run_a08"),
    "since:2d": ("run_a01", "run_a02", "run_a03", "run_a04", "run_a05", "run_a07"),
    "last:6h": ("run_a01", "run_a02", "run_a04", "run_a05"),
    "last:7d": ("run_a01", "run_a02", "run_a03", "run_a04", "run_a05", "run_a06", "run_a07"),
    "renewal": ("run_a01", "run_a07"),
    '"ACME Corp" renewal': ("run_a01",),
    "failed renewal today": ("run_a01", "run_a07"),
    "müller": ("run_a03",),
    "שלום": ("run_a08", *STRESS_IDS),
    "a05": ("run_a05",),
    "Invoice": ("run_a05", "run_a06"),
}


@pytest.mark.parametrize("query", GRAMMAR_CASES, ids=lambda query: query or "(nothing)")
async def test_every_form_of_the_grammar_is_answered_in_slack(
    bot: Runsbot, fake_slack: FakeSlack, query: str
) -> None:
    answer = await ask(bot, query, user_id=ALICE, channel_id=OPS_CHANNEL)
    first_page, total = page_of(*GRAMMAR_CASES[query])
    assert run_ids(answer) == first_page
    text = rendered_text(answer)
    assert f"{total:,} run{'s' if total > 1 else ''}*" in text
    assert f"`/runs {query}`" in text.replace("&gt;", ">") or not query


async def test_a_page_shows_each_run_with_its_actions(bot: Runsbot, fake_slack: FakeSlack) -> None:
    answer = await ask(bot, "wf:hubspot-salesforce", user_id=ALICE, channel_id=OPS_CHANNEL)
    text = rendered_text(answer)
    assert "*4 runs* match `/runs wf:hubspot-salesforce`" in text
    first = text.split("\n")[2:4]  # after the total and the "newest first" line
    assert "❌ *Failed*" in first[0] and "ACME Corp — Renewal 2027" in first[0]
    assert "HubSpot → Salesforce" in first[1] and "`run_a01`" in first[1]
    assert f"<!date^{int(STARTED['run_a01'].timestamp())}^" in first[1]
    assert "💬 1 note" in first[1]
    assert "401 Unauthorized: token expired" in text
    actions = {(b.action_id, b.value) for b in buttons(answer) if b.value and b.value[:4] == "run_"}
    assert {(Action.VIEW_DETAILS, "run_a01"), (Action.RETRIGGER, "run_a01")} <= actions
    assert (Action.ADD_NOTE, "run_a02") in actions
    # A finished run's data moved: it is not offered to be sent again.
    assert (Action.RETRIGGER, "run_a02") not in actions
    # Four runs fit one page: nothing to turn, something to share.
    assert [b.action_id for b in buttons(answer) if b.action_id.startswith("runs_")] == [
        Action.SHARE
    ]


async def test_paging_goes_forward_to_the_end_and_back_to_the_start(
    bot: Runsbot, fake_slack: FakeSlack
) -> None:
    answer = await ask(bot, "wf:bulk-sync", user_id=ALICE, channel_id=OPS_CHANNEL)
    pages = [run_ids(answer)]
    async with bot.driver() as driver:
        while Action.NEXT_PAGE in actions_of(answer):
            await turn(driver, answer, Action.NEXT_PAGE, pages[-1])
            pages.append(run_ids(answer))
        assert "21–25" in rendered_text(answer) and "*25 runs*" in rendered_text(answer)
        back = [run_ids(answer)]
        while Action.PREVIOUS_PAGE in actions_of(answer):
            await turn(driver, answer, Action.PREVIOUS_PAGE, back[-1])
            back.append(run_ids(answer))
    assert [len(page) for page in pages] == [10, 10, 5]
    assert sum(pages, []) == BULK_IDS  # every run once, newest first
    assert back == pages[::-1]
    assert "1–10" in rendered_text(answer) and Action.NEXT_PAGE in actions_of(answer)
    assert len(fake_slack.ephemerals(user=ALICE)) == 1  # turned in place


async def test_answers_go_to_slack_over_one_connection(bot: Runsbot, fake_slack: FakeSlack) -> None:
    # Bolt's own respond opened a new connection (against Slack, a TLS handshake) per answer.
    answered = len(fake_slack.calls_to("response_url"))
    answer = await ask(bot, "wf:bulk-sync", user_id=ALICE, channel_id=OPS_CHANNEL)
    await ask(bot, "failed", user_id=ALICE, channel_id=OPS_CHANNEL)
    async with bot.driver() as driver:
        await turn(driver, answer, Action.NEXT_PAGE, run_ids(answer))
    calls = fake_slack.calls_to("response_url")[answered:]
    assert len(calls) == 3 and all(call.ok for call in calls)
    assert len({call.connection for call in calls}) == 1, [call.connection for call in calls]


def actions_of(answer: Ephemeral) -> list[str]:
    return [button.action_id for button in buttons(answer)]


async def turn(driver: Any, answer: Ephemeral, action_id: str, before: list[str]) -> None:
    ack = await driver.block_action(action_id, user_id=ALICE, message=answer)
    assert ack.status == 200
    await wait_until(lambda: run_ids(answer) != before, message=f"{action_id} turned nothing")


async def test_share_posts_the_page_to_the_channel_saying_who_shared_it(
    bot: Runsbot, fake_slack: FakeSlack
) -> None:
    answer = await ask(bot, "failed", user_id=ALICE, channel_id=OPS_CHANNEL)
    async with bot.driver() as driver:
        await driver.block_action(Action.SHARE, user_id=ALICE, message=answer)
    (shared,) = await wait_until(lambda: fake_slack.messages(OPS_CHANNEL))
    assert f"<@{ALICE}> shared `/runs failed`: *13 runs*" in rendered_text(shared)
    assert run_ids(shared) == run_ids(answer)
    # Anyone in the channel can act on a run; paging and sharing stay the asker's.
    assert not {b.action_id for b in buttons(shared)} & {
        Action.NEXT_PAGE,
        Action.PREVIOUS_PAGE,
        Action.SHARE,
    }
    assert fake_slack.ephemerals(user=ALICE) == [answer]


@pytest.mark.parametrize("channel_id", [GENERAL_CHANNEL, PRIVATE_CHANNEL])
async def test_share_where_the_bot_is_not_a_member_tells_the_asker_how_to_invite_it(
    bot: Runsbot, fake_slack: FakeSlack, channel_id: str
) -> None:
    answer = await ask(bot, "failed", user_id=ALICE, channel_id=channel_id)
    async with bot.driver() as driver:
        await driver.block_action(Action.SHARE, user_id=ALICE, message=answer)
    await wait_until(lambda: len(fake_slack.ephemerals(user=ALICE)) == 2)
    told = fake_slack.ephemerals(user=ALICE)[-1]
    assert "/invite @runsbot" in rendered_text(told)
    assert fake_slack.messages(channel_id) == []
    assert fake_slack.ephemerals(user=BOB) == []


async def test_help_lists_every_form_of_the_grammar_and_the_sub_commands(
    bot: Runsbot, fake_slack: FakeSlack
) -> None:
    answer = await ask(bot, "HELP", user_id=ALICE, channel_id=OPS_CHANNEL)
    text = rendered_text(answer).replace("&gt;", ">")
    for entry in GRAMMAR:
        assert f"`{entry.syntax}`" in text and f"`{entry.example}`" in text
    assert "`/runs show RUN_ID`" in text and "`/runs help`" in text
    assert "Usage: `/runs [STATUS…] [FILTER…] [TEXT]`" in text


async def test_show_gives_the_run_with_its_actions(bot: Runsbot, fake_slack: FakeSlack) -> None:
    answer = await ask(bot, "show run_a03", user_id=ALICE, channel_id=OPS_CHANNEL)
    text = rendered_text(answer)
    assert "Order #1001 Müller GmbH" in text and "Shopify → NetSuite" in text
    assert {b.text: b.value for b in buttons(answer)} == {
        "View details": "run_a03",
        "Retrigger": "run_a03",
        "Add note": "run_a03",
    }


@pytest.mark.parametrize("text", ["show run_nope", "show", "show run_a01 run_a02"])
async def test_show_without_one_known_id_says_so(
    bot: Runsbot, fake_slack: FakeSlack, text: str
) -> None:
    answer = await ask(bot, text, user_id=ALICE, channel_id=OPS_CHANNEL)
    said = rendered_text(answer)
    assert "No run has the ID `run_nope`" in said or "takes one run ID" in said
    assert buttons(answer) == []


@pytest.mark.parametrize(
    "query",
    ["since:notadate", "wf:", "'; DROP TABLE runs; --", "x" * 3_000],
)
async def test_a_search_that_cannot_be_answered_says_why_and_how_to_write_one(
    bot: Runsbot, fake_slack: FakeSlack, query: str
) -> None:
    answer = await ask(bot, query, user_id=ALICE, channel_id=OPS_CHANNEL)
    text = rendered_text(answer)
    assert "Usage: `/runs [STATUS…] [FILTER…] [TEXT]`" in text
    assert text.split("\n")[0].strip()  # a sentence first
    assert run_ids(answer) == []


async def test_ten_runs_at_slacks_limits_are_shown_and_shared_within_them(
    bot: Runsbot, fake_slack: FakeSlack
) -> None:
    """255-character references that grow fivefold when escaped, right-to-left and combining
    text, 10,000-character errors and many notes, on one page: the autouse fixture fails the
    test if Slack would have rejected any of it."""
    answer = await ask(bot, "wf:stress", user_id=ALICE, channel_id=OPS_CHANNEL)
    assert run_ids(answer) == STRESS_IDS
    assert "💬 20 notes" in rendered_text(answer)
    async with bot.driver() as driver:
        await driver.block_action(Action.SHARE, user_id=ALICE, message=answer)
    (shared,) = await wait_until(lambda: fake_slack.messages(OPS_CHANNEL))
    assert run_ids(shared) == STRESS_IDS


async def test_a_search_too_long_for_a_button_is_answered_without_paging(
    bot: Runsbot, fake_slack: FakeSlack
) -> None:
    # 2,600 characters of words that all match every bulk run: more than a button can carry.
    query = "wf:bulk-sync " + " ".join(["row"] * 650)
    answer = await ask(bot, query, user_id=ALICE, channel_id=OPS_CHANNEL)
    assert run_ids(answer) == BULK_IDS[:10]
    assert "too long to page through or share" in rendered_text(answer)
    assert not [b for b in buttons(answer) if b.action_id.startswith("runs_")]


async def test_socket_mode_answers_runs_failed_and_turns_its_page(
    fake_slack: FakeSlack, bot: Runsbot
) -> None:
    database_url = str(bot.store.engine.url)
    socket_bot = await serve(fake_slack, database_url, Clock(NOW), socket_mode=True)
    try:
        answer = await ask(socket_bot, "failed", user_id=ALICE, channel_id=OPS_CHANNEL)
        first = run_ids(answer)
        assert first == page_of(*FAILED)[0]
        async with socket_bot.driver() as driver:
            await turn(driver, answer, Action.NEXT_PAGE, first)
    finally:
        await socket_bot.api.close()
    newest_first = sorted(FAILED, key=lambda run_id: STARTED[run_id], reverse=True)
    assert run_ids(answer) == newest_first[10:]


async def test_when_runsbot_itself_fails_the_asker_is_told_with_a_reference(
    fake_slack: FakeSlack,
    sqlite_template: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = await serve(fake_slack, copy_database(sqlite_template, tmp_path), Clock(NOW))
    try:
        async with broken.store.engine.begin() as connection:
            await connection.execute(text("DROP TABLE runs"))
        answer = await ask(broken, "failed", user_id=ALICE, channel_id=OPS_CHANNEL)
    finally:
        await broken.api.close()
    found = re.search(r"give reference `([0-9a-f]{8})`", rendered_text(answer))
    assert found is not None, rendered_text(answer)
    assert f"(reference {found[1]})" in caplog.text


async def test_a_total_past_1000_reads_1000_plus_through_slack(
    fake_slack: FakeSlack, many_runs: ManyRuns
) -> None:
    many = await serve(fake_slack, many_runs.url, Clock(NOW))
    try:
        capped = await ask(many, "renewal", user_id=ALICE, channel_id=OPS_CHANNEL)
        exact = await ask(many, "wf:hubspot-salesforce", user_id=ALICE, channel_id=OPS_CHANNEL)
    finally:
        await many.api.close()
    assert rendered_text(capped).startswith("*1,000+ runs* match `/runs renewal`")
    assert run_ids(capped) == newest_first()[:10]
    assert rendered_text(exact).startswith("*1,000 runs* match")
