"""/runs when a query cannot be read or matches nothing, through the fake Slack.

Every answer says exactly what went wrong and offers a command that works; the suggested
commands are typed back and find runs. Odd inputs (SQL, emoji, right-to-left text, 3,000
characters) are only text: they get an answer within Block Kit's limits and change nothing.
One runsbot and its runs serve every test that only reads; the tests whose answer comes from
the database run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from handlers.blocks.help import USAGE
from handlers.blocks.query_failures import no_runs_matched
from handlers.commands.failures import could_not_read
from store.errors import FilterSyntaxError
from store.filters import parse_filter
from store.models import Run, Workflow
from store.records import WorkflowRecord
from store.suggestions import MAX_TRIES, Suggestion, corrected_status_word, word_spans
from store.words import tokenize
from tests.fake_slack import (
    ALICE,
    OPS_CHANNEL,
    FakeSlack,
    check_message,
    rendered_text,
    wait_until,
)
from tests.handlers.conftest import Runsbot, slack_settings, start_runsbot
from tests.support.postgres import PostgresServer

# id: (source, destination, name)
WORKFLOWS = {
    "hubspot-salesforce": ("HubSpot", "Salesforce", "Deals → Opportunities"),
    "stripe-netsuite": ("Stripe", "NetSuite", "Payments → Invoices"),
    "zendesk-jira": ("Zendesk", "Jira", "Tickets → Issues"),
}
# (workflow, reference, status, started_at): all days before any "today" the tests see.
RUNS = [
    ("hubspot-salesforce", "ACME Corp — Renewal 2027", "failed", "2026-11-20T10:02:03Z"),
    ("hubspot-salesforce", "ACME Corp — Upsell", "finished", "2026-11-19T09:00:00Z"),
    ("stripe-netsuite", "Müller GmbH — Invoice 4711", "failed", "2026-11-18T08:30:00Z"),
    ("stripe-netsuite", "שלום עולם — הזמנה", "finished", "2026-11-17T12:00:00Z"),
    ("zendesk-jira", "🔥 Outage ticket 88", "skipped", "2026-11-16T07:45:00Z"),
]


def _report(workflow_id: str, reference: str, status: str, started_at: str) -> dict[str, Any]:
    source, destination, name = WORKFLOWS[workflow_id]
    workflow = {"id": workflow_id, "source": source, "destination": destination, "name": name}
    report = {"workflow": workflow, "reference": reference, "status": status}
    if status == "failed":
        report["error"] = {"message": "401 Unauthorized: token expired"}
    return {**report, "started_at": started_at}


async def _started(slack: FakeSlack, database_url: str, workdir: Path) -> Runsbot:
    """runsbot holding RUNS. Module fixtures start before the autouse clean_environ: what it
    does for a test is done here for the settings."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(("SLACK_", "RUNSBOT_")):
                patch.delenv(name)
        patch.chdir(workdir)
        settings = slack_settings(slack, database_url, socket_mode=False)
    bot = await start_runsbot(settings, slack)
    await bot.report_batch([_report(*run) for run in RUNS])
    return bot


@pytest.fixture(scope="module")
async def sqlite_bot(
    fake_slack_server: FakeSlack,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Runsbot]:
    """runsbot on a SQLite file holding RUNS, for the whole module."""
    workdir = tmp_path_factory.mktemp("failures")
    shutil.copyfile(sqlite_template, workdir / "runs.db")
    bot = await _started(fake_slack_server, f"sqlite+aiosqlite:///{workdir}/runs.db", workdir)
    yield bot
    await bot.api.close()


@pytest.fixture(scope="module")
async def postgres_bot(
    fake_slack_server: FakeSlack,
    postgres: PostgresServer,
    postgres_template: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Runsbot]:
    """runsbot on a PostgreSQL database holding RUNS, for the whole module."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    postgres.psql(f"CREATE DATABASE {name} TEMPLATE {postgres_template} STRATEGY FILE_COPY")
    workdir = tmp_path_factory.mktemp("failures")
    bot = await _started(fake_slack_server, postgres.url_for(name), workdir)
    yield bot
    await bot.api.close()


@pytest.fixture
def bot(fake_slack: FakeSlack, sqlite_bot: Runsbot) -> Runsbot:
    """The module's runsbot on SQLite, its Slack reset for this test."""
    return sqlite_bot


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def either_bot(request: pytest.FixtureRequest, fake_slack: FakeSlack) -> Runsbot:
    """The module's runsbot on each database, its Slack reset for this test."""
    found: Runsbot = request.getfixturevalue(f"{request.param}_bot")
    return found


async def ask(bot: Runsbot, text: str, *, user_id: str = ALICE) -> str:
    """`user_id` types `/runs {text}`; what they read in the answer only they see."""
    seen = len(bot.slack.ephemerals(user=user_id))
    async with bot.driver() as driver:
        ack = await driver.slash_command(text, user_id=user_id, channel_id=OPS_CHANNEL)
    assert ack.status == 200
    answers = await wait_until(
        lambda: bot.slack.ephemerals(user=user_id)[seen:],
        message=f"no answer to /runs {text[:80]!r}",
    )
    assert len(answers) == 1
    return rendered_text(answers[0])


def suggested(answer: str) -> str:
    """The words after `/runs` in the command the answer offers to copy."""
    command = answer.split("```")[1]
    assert command.startswith("/runs")
    return command.removeprefix("/runs").strip()


async def stored_rows(bot: Runsbot) -> tuple[int, int]:
    async with bot.store.engine.connect() as connection:
        runs = await connection.scalar(select(func.count()).select_from(Run))
        workflows = await connection.scalar(select(func.count()).select_from(Workflow))
    return int(runs or 0), int(workflows or 0)


USAGE_LINE = f"{USAGE} `/runs help` lists every filter, with examples."


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        pytest.param(
            "failed since:notadate",
            [
                ":warning: `since:notadate` is not a day or a time. `since:` needs a day like "
                "2026-11-20, a time like 2026-11-20T14:30, today, yesterday or a duration like 6h.",
                "In your command: `/runs failed` *`since:notadate`*",
                "For example: `since:2026-11-20T14:30`",
            ],
            id="not-a-date",
        ),
        pytest.param(
            "workflow: HubSpot failed",
            [
                ":warning: `workflow:` is empty: put a workflow id, name or Source → Destination "
                "right after the colon, with no space.",
                "In your command: `/runs` *`workflow:`* `HubSpot failed`",
                "For example: `workflow:HubSpot`",
            ],
            id="empty-workflow",
        ),
        pytest.param(
            "failed colour:red",
            [
                ":warning: Unknown filter `colour:` — did you mean `status:`? Filters are "
                "workflow: (or wf:), status:, ref: (or reference:), id:, since:, until:, on: "
                'and last:. To look for text with a colon, quote it: `"colour:red"`.',
                "In your command: `/runs failed` *`colour:red`*",
                'For example: `"colour:red"`',
            ],
            id="unknown-key",
        ),
        pytest.param(
            'failed "ACME Corp',
            [
                ':warning: The quote in `"ACME` is never closed: end the phrase with a quote too.',
                'In your command: `/runs failed` *`"ACME Corp`*',
                'For example: `"ACME Corp"`',
            ],
            id="unclosed-quote",
        ),
        pytest.param(
            "status:faild today",
            [
                ":warning: `status:faild` is not a status. `status:` needs failed, finished, "
                "running, pending or skipped, several separated by commas.",
                "In your command: `/runs` *`status:faild`* `today`",
                "Did you mean `status:failed`?",
                "For example: `status:failed,skipped`",
            ],
            id="unknown-status",
        ),
    ],
)
async def test_a_word_it_cannot_read_is_pointed_at_with_its_right_form_and_the_usage(
    bot: Runsbot, text: str, lines: list[str]
) -> None:
    stored = await stored_rows(bot)
    assert (await ask(bot, text)).splitlines() == [*lines, USAGE_LINE]
    assert await stored_rows(bot) == stored


async def test_the_word_at_fault_is_shown_with_a_few_words_either_side() -> None:
    text = "one two three four since:never five six seven eight"
    error = _error_of(text)
    answer = rendered_text(could_not_read(text, error).to_dict())
    assert "In your command: `/runs … two three four` *`since:never`* `five six seven …`" in answer


def _error_of(text: str) -> FilterSyntaxError:
    with pytest.raises(FilterSyntaxError) as caught:
        parse_filter(text, tz=UTC, now=datetime.now(UTC))
    return caught.value


async def shows_runs(bot: Runsbot, text: str, *references: str) -> None:
    """`/runs {text}` answers with runs, among them those with these references."""
    answer = await ask(bot, text)
    assert not answer.startswith("No runs match"), answer
    for reference in references:
        assert reference in answer


@pytest.mark.parametrize(
    ("text", "says", "suggestion", "references"),
    [
        pytest.param(
            "failed today", [], "failed", ["ACME Corp — Renewal 2027"], id="time-word-dropped"
        ),
        # The time word goes first even where dropping the status would also find runs.
        pytest.param(
            "finished acme on:2026-11-20",
            [],
            "finished acme",
            ["ACME Corp — Upsell"],
            id="time-before-status",
        ),
        pytest.param(
            "skipped acme since:2026-11-01",
            [],
            "acme since:2026-11-01",
            ["ACME Corp — Renewal 2027", "ACME Corp — Upsell"],
            id="status-after-time",
        ),
        pytest.param(
            "failed acme müller",
            [],
            "failed müller",
            ["Müller GmbH — Invoice 4711"],
            id="text-word-dropped",
        ),
        pytest.param(
            "wf:hubspott failed",
            [
                "No workflow is named `hubspott`. The closest: `hubspot-salesforce` "
                "(HubSpot → Salesforce, Deals → Opportunities)."
            ],
            "wf:hubspot-salesforce failed",
            ["ACME Corp — Renewal 2027"],
            id="unknown-workflow",
        ),
        pytest.param(
            'wf:"Stripe > Netsuit"',
            [
                "No workflow is named `Stripe &gt; Netsuit`. The closest: `stripe-netsuite` "
                "(Stripe → NetSuite, Payments → Invoices)."
            ],
            "wf:stripe-netsuite",
            ["Müller GmbH — Invoice 4711"],
            id="unknown-route",
        ),
        # Far from every name: all are offered, closest first.
        pytest.param(
            "wf:qwerty",
            [
                "No workflow is named `qwerty`. The closest: `hubspot-salesforce` "
                "(HubSpot → Salesforce, Deals → Opportunities); `stripe-netsuite` "
                "(Stripe → NetSuite, Payments → Invoices); `zendesk-jira` "
                "(Zendesk → Jira, Tickets → Issues)."
            ],
            "wf:hubspot-salesforce",
            ["ACME Corp — Upsell"],
            id="far-workflow",
        ),
        pytest.param(
            "faild",
            ["`faild` is read as text: did you mean `failed`?"],
            "failed",
            ["ACME Corp — Renewal 2027", "Müller GmbH — Invoice 4711"],
            id="status-typo",
        ),
        pytest.param(
            "Finshed tody",
            [
                "`Finshed` is read as text: did you mean `finished`?\n"
                "`tody` is read as text: did you mean `today`?"
            ],
            "finished",
            ["ACME Corp — Upsell"],
            id="status-and-day-typos",
        ),
    ],
)
async def test_nothing_matched_says_so_and_suggests_the_nearest_query_that_finds_runs(
    either_bot: Runsbot, text: str, says: list[str], suggestion: str, references: list[str]
) -> None:
    stored = await stored_rows(either_bot)
    answer = await ask(either_bot, text)
    assert answer.splitlines()[0] == f"No runs match `/runs {text}`.".replace(">", "&gt;")
    for sentence in says:
        assert sentence in answer
    assert suggested(answer) == suggestion
    assert answer.splitlines()[-1] == USAGE_LINE
    await shows_runs(either_bot, suggestion, *references)
    assert await stored_rows(either_bot) == stored


async def test_the_wider_queries_are_read_in_the_askers_time_zone(bot: Runsbot) -> None:
    # ACME's renewal started 2026-11-20 10:02 UTC: on the 20th in Berlin, the 21st at UTC+14.
    kiritimati = bot.slack.add_user("U0KIRI001", "kiri", real_name="Kiri", tz="Pacific/Kiritimati")
    text = "skipped acme on:2026-11-20"
    assert suggested(await ask(bot, text, user_id=ALICE)) == "acme on:2026-11-20"
    assert suggested(await ask(bot, text, user_id=kiritimati.id)) == "acme"


async def test_when_no_run_is_stored_it_says_so(fake_slack: FakeSlack, database_url: str) -> None:
    empty = await start_runsbot(
        slack_settings(fake_slack, database_url, socket_mode=False), fake_slack
    )
    try:
        assert (await ask(empty, "failed wf:hubspot")).splitlines() == [
            "No runs match `/runs failed wf:hubspot`.",
            "No workflow is named `hubspot`. No workflow is registered yet.",
            "No runs are stored yet: they show here once the engine reports them.",
            USAGE_LINE,
        ]
    finally:
        await empty.api.close()


SQL = "'; DROP TABLE runs; --"


@pytest.mark.parametrize(
    ("text", "first_line"),
    [
        pytest.param(
            SQL,
            ":warning: The quote in `';` is never closed: end the phrase with a quote too.",
            id="sql-unclosed-quote",
        ),
        pytest.param(
            f"acme{SQL}", "No runs match `/runs acme'; DROP TABLE runs; --`.", id="sql-text"
        ),
        pytest.param(
            f'wf:"x{SQL}"',
            'No runs match `/runs wf:"x\'; DROP TABLE runs; --"`.',
            id="sql-workflow",
        ),
        pytest.param(
            "🔥💥 <!channel> & co",
            "No runs match `/runs 🔥💥 &lt;!channel&gt; &amp; co`.",
            id="emoji-and-mrkdwn",
        ),
        pytest.param("مرحبا بالعالم", "No runs match `/runs مرحبا بالعالم`.", id="right-to-left"),
    ],
)
async def test_odd_inputs_are_only_text_and_change_nothing(
    bot: Runsbot, text: str, first_line: str
) -> None:
    stored = await stored_rows(bot)
    assert (await ask(bot, text)).splitlines()[0] == first_line
    assert await stored_rows(bot) == stored


async def test_emoji_and_right_to_left_words_find_their_runs(bot: Runsbot) -> None:
    await shows_runs(bot, "🔥", "🔥 Outage ticket 88")
    await shows_runs(bot, "שלום", "שלום עולם — הזמנה")


@pytest.mark.parametrize(
    ("text", "first_line"),
    [
        pytest.param("a" * 3000, f"No runs match `/runs {'a' * 293}…`.", id="one-word"),
        pytest.param(
            " ".join(["zz"] * 1000)[:3000],
            f"No runs match `/runs {' '.join(['zz'] * 98)}…`.",
            id="many-words",
        ),
        pytest.param(
            "wf:" + "hubspot" * 428,
            f"No runs match `/runs wf:{'hubspot' * 41}hub…`.",
            id="workflow",
        ),
        pytest.param(
            "failed since:" + "x" * 2987,
            f":warning: `since:{'x' * 73}…` is not a day or a time. `since:` needs a day like "
            "2026-11-20, a time like 2026-11-20T14:30, today, yesterday or a duration like 6h.",
            id="unreadable",
        ),
    ],
)
async def test_3000_characters_get_an_answer_within_block_kit_limits(
    bot: Runsbot, text: str, first_line: str
) -> None:
    stored = await stored_rows(bot)
    answer = await ask(bot, text)
    assert answer.splitlines()[0] == first_line
    assert len(answer) < 1500
    assert await stored_rows(bot) == stored


async def test_the_queries_asked_for_a_suggestion_are_bounded(bot: Runsbot) -> None:
    text = " ".join(f"w{index}" for index in range(700))
    flt = parse_filter(text, tz=UTC, now=datetime.now(UTC))
    suggestion = await bot.store.suggest_query(text, flt, tz=UTC, now=datetime.now(UTC))
    assert suggestion.tried <= MAX_TRIES
    assert suggestion.query == ""


NASTY = [
    "&" * 3000,
    "`" * 3000,
    "```" + "<!here>" * 400,
    "e\u0301" * 1500,
    "👩🏽‍🚒" * 600,
    "\u202eשלום\u2066" * 500,
]


@pytest.mark.parametrize(
    "word", NASTY, ids=["amp", "backtick", "fence", "combining", "zwj", "bidi"]
)
def test_failure_answers_stay_within_block_kit_limits_whatever_was_typed(word: str) -> None:
    workflow = WorkflowRecord(
        word, word, word, word, None, None, datetime.now(UTC), datetime.now(UTC)
    )
    suggestion = Suggestion(word, (workflow,) * 3, ((word, "failed"),) * 5, word, 1)
    answers = [no_runs_matched(word, suggestion), no_runs_matched(f"wf:{word}", suggestion)]
    for text in (f"since:{word}", f"wf:{word} status:{word}", f'"{word}'):
        with pytest.raises(FilterSyntaxError) as caught:
            parse_filter(text, tz=UTC, now=datetime.now(UTC))
        answers.append(could_not_read(text, caught.value))
    for answer in answers:
        assert check_message(answer.to_dict()) == []


@pytest.mark.parametrize(
    "text",
    [
        'failed  wf:"HubSpot → Salesforce"   "ACME Corp" ref:\'O"Brien\' x',
        '“curly quotes” ‘single’ O\'Brien ref:"a b"c',
        "\u00a0failed\u00a0today\u00a0",
        'failed "never closed and more',
    ],
)
def test_each_word_is_found_where_it_was_typed(text: str) -> None:
    spans = word_spans(text)
    try:
        words = tokenize(text)
    except FilterSyntaxError as error:
        assert error.position == len(spans) - 1
        assert text[slice(*spans[-1])] == '"never closed and more'
        return
    # Read again, each word as typed is the word tokenize read there.
    assert [tokenize(text[start:end]) for start, end in spans] == [[word] for word in words]
    assert [w.quoted for start, end in spans for w in tokenize(text[start:end])] == [
        w.quoted for w in words
    ]


@pytest.mark.parametrize(
    ("word", "meant"),
    [
        ("status:faild", "status:failed"),
        ("Status:faild,skiped", "Status:failed,skipped"),
        ("status:failed,runing", "status:failed,running"),
        ("status:failed", None),  # nothing to correct
        ("status:xyz", None),  # close to no status
        ("wf:faild", None),
    ],
)
def test_a_misspelt_status_is_corrected_to_the_closest(word: str, meant: str | None) -> None:
    assert corrected_status_word(word) == meant
