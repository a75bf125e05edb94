"""`/runs stats [WHEN]` end to end: counts per status, the workflows failing most against the
period before, the failures per hour or day, in the asker's zone, within Block Kit's limits."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from handlers.blocks.stats import STATS_USAGE, sparkline
from store.stats import bar_length
from tests.fake_slack import FakeSlack, rendered_text
from tests.handlers.commands import ask, read
from tests.handlers.conftest import Runsbot, slack_settings, start_runsbot

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
USAGE = "Usage: `/runs stats [WHEN]`"
DATE_TOKEN = re.compile(r"<!date\^(\d+)\^")

# Failures per workflow: (how many in the last 24 hours, and how many hours ago (plus half
# an hour, so that a bar boundary is never near), how many in the 24 hours before).
FAILURES = {
    "wf-a": (6, 0, 2),
    "wf-b": (5, 1, 5),
    "wf-c": (4, 2, 8),
    "wf-d": (3, 5, 0),
    "wf-e": (2, 10, 0),
    "wf-f": (1, 20, 0),
    "wf-g": (0, 0, 3),
}
# The bars of the last 24 hours, oldest first: bar 23 - k holds what failed k hours ago.
HOURLY = "▁▁▁▃" + "▁" * 9 + "▄" + "▁" * 4 + "▅▁▁▆▇█"
# Workflows whose every name is as long and as awkward as the contract allows.
LONG = ("ש" * 120 + "<&>" + "x" * 132, "Ω&<b>" * 51, "@here " + "N" * 249)


def workflow(workflow_id: str) -> dict[str, str]:
    return {
        "id": workflow_id,
        "source": f"Source {workflow_id}",
        "destination": f"Destination {workflow_id}",
        "name": f"Name of {workflow_id}",
    }


def report(run_id: str, status: str, started: datetime, flow: dict[str, str]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": run_id,
        "workflow": flow,
        "reference": f"Deal {run_id}",
        "status": status,
        "started_at": started.isoformat(),
    }
    if status == "failed":
        fields["error"] = {"message": "504 Gateway Timeout", "step": "Create"}
    return fields


def dataset(now: datetime) -> list[dict[str, Any]]:
    runs = []
    for workflow_id, (recent, hours_ago, before) in FAILURES.items():
        flow = workflow(workflow_id)
        recent_at = now - hours_ago * HOUR - HOUR / 2
        runs += [report(f"{workflow_id}-n{n}", "failed", recent_at, flow) for n in range(recent)]
        before_at = now - 30 * HOUR
        runs += [report(f"{workflow_id}-b{n}", "failed", before_at, flow) for n in range(before)]
    others = workflow("wf-ok")
    for status, count in (("finished", 10), ("skipped", 2), ("running", 1), ("pending", 1)):
        runs += [report(f"ok-{status}-{n}", status, now - 3 * HOUR, others) for n in range(count)]
    runs += [report(f"ok-old-{n}", "finished", now - 40 * HOUR, others) for n in range(4)]
    # Far back, on a day of their own: failures of workflows with the longest names.
    for n, (source, destination, name) in enumerate(
        zip(LONG, LONG[1:] + LONG[:1], LONG[2:] + LONG[:2], strict=True)
    ):
        flow = {
            "id": f"long-{n}-" + "i" * 50,
            "source": source,
            "destination": destination,
            "name": name,
        }
        runs += [report(f"long-{n}-{k}", "failed", now - 100 * DAY, flow) for k in range(n + 1)]
    return runs


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stats_bot(
    fake_slack_server: FakeSlack, module_database_url: str
) -> AsyncIterator[tuple[Runsbot, datetime]]:
    """One runsbot for the module's reads, with the dataset reported `now`; no alert channel,
    so that the failures are only counted, never alerted."""
    settings = slack_settings(
        fake_slack_server, module_database_url, socket_mode=False, RUNSBOT_ALERT_CHANNEL=None
    )
    bot = await start_runsbot(settings, fake_slack_server)
    now = datetime.now(UTC)
    await bot.report_batch(dataset(now))
    yield bot, now
    await bot.api.close()


@pytest.fixture
def bot(stats_bot: tuple[Runsbot, datetime], fake_slack: FakeSlack) -> Runsbot:
    return stats_bot[0]


async def test_stats_count_the_last_24_hours_by_status(bot: Runsbot) -> None:
    answer = await ask(bot, "stats")
    text = rendered_text(answer)
    assert "*35 runs* started from <!date^" in text
    for line in ("Failed: *21*", "Finished: *10*", "Skipped: *2*", "Running: *1*", "Pending: *1*"):
        assert line in text
    since, until = (int(stamp) for stamp in DATE_TOKEN.findall(text)[:2])
    assert until - since == 24 * 3600
    assert abs(until - datetime.now(UTC).timestamp()) < 60


async def test_the_five_workflows_failing_most_with_the_change_against_the_day_before(
    bot: Runsbot,
) -> None:
    text = await read(bot, "stats")
    assert "*Failing most*, against the 24 hours before:" in text
    lines = [line for line in text.splitlines() if re.match(r"\d\. ", line)]
    assert lines == [
        "1. *Source wf-a → Destination wf-a* · Name of wf-a (`wf-a`): 6 failures, "
        "↑ +4 (+200 %) from 2",
        "2. *Source wf-b → Destination wf-b* · Name of wf-b (`wf-b`): 5 failures, "
        "as many as before (5)",
        "3. *Source wf-c → Destination wf-c* · Name of wf-c (`wf-c`): 4 failures, "
        "↓ −4 (−50 %) from 8",
        "4. *Source wf-d → Destination wf-d* · Name of wf-d (`wf-d`): 3 failures, none before",
        "5. *Source wf-e → Destination wf-e* · Name of wf-e (`wf-e`): 2 failures, none before",
    ]


async def test_failures_per_hour_as_a_sparkline_with_its_scale(bot: Runsbot) -> None:
    text = await read(bot, "stats")
    assert f"*Failures per hour*\n`{HOURLY}`" in text
    assert "One bar per hour, oldest first: █ 6 failures, ▁ none." in text


async def test_a_week_has_a_bar_a_day_and_compares_with_the_week_before(bot: Runsbot) -> None:
    text = await read(bot, "stats 7d")
    assert "*Failures per day*\n`▁▁▁▁▁▇█`" in text  # 18 the day before, 21 the last day
    assert "█ 21 failures" in text
    assert "*Failing most*, against the 7 days before:" in text
    assert (
        "1. *Source wf-c → Destination wf-c* · Name of wf-c (`wf-c`): 12 failures, none before"
        in text
    )
    # Three failures each: the workflow ID breaks the tie.
    assert text.index("(`wf-d`): 3 failures") < text.index("(`wf-g`): 3 failures")
    assert "(`wf-e`)" not in text


async def test_a_period_with_no_runs_says_so(bot: Runsbot) -> None:
    text = await read(bot, "stats 2020-01-01")
    assert text.startswith("No run started from <!date^")


async def test_a_period_without_failures_says_so(
    bot: Runsbot, stats_bot: tuple[Runsbot, datetime]
) -> None:
    now = stats_bot[1]
    moment = (now - 40 * HOUR).astimezone(ZoneInfo("Europe/Berlin"))  # ALICE's zone
    text = await read(bot, f"stats since:{moment:%Y-%m-%dT%H:%M}..{moment + HOUR:%Y-%m-%dT%H:%M}")
    assert "*4 runs* started" in text
    assert "No run failed in this period." in text
    assert "Failures per" not in text


async def test_the_longest_workflow_names_stay_within_block_kits_limits(
    bot: Runsbot, stats_bot: tuple[Runsbot, datetime]
) -> None:
    day = (stats_bot[1] - 100 * DAY).astimezone(ZoneInfo("Europe/Berlin")).date()
    answer = await ask(bot, f"stats {day}")
    text = rendered_text(answer)
    assert "Failed: *6*" in text
    assert "Ω&amp;&lt;b&gt;" in text and "<b>" not in text  # escaped, never markup
    assert "…" in text  # cut cleanly
    assert "1. *" in text and "3. *" in text
    # The fake Slack checked every limit (the autouse fixture fails the test otherwise).


@pytest.mark.parametrize(
    ("when", "sentence"),
    [
        ("since:notadate", "`since:notadate` is not a day or a time."),
        ("13x", "`13x` is not a day or a time."),
        ("7d today", "Give one period: a day like 2026-11-20, a duration like 7d"),
        ("2026-02-30", "`2026-02-30` is not a real day."),
        ("2099-01-01", "`2099-01-01` is in the future: pick a period that has begun."),
        ("until:yesterday", "`until:yesterday` has no start: a period needs one."),
        ('"7d', 'The quote in `"7d` is never closed'),
    ],
)
async def test_a_when_that_cannot_be_read_says_what_was_wrong_and_shows_the_usage(
    bot: Runsbot, when: str, sentence: str
) -> None:
    text = await read(bot, f"stats {when}")
    assert text.startswith(f"Could not read `/runs stats {when.replace('&', '&amp;')}`: ")
    assert sentence in text
    assert USAGE in text and STATS_USAGE in text


async def test_today_is_the_askers_today(fake_slack: FakeSlack, bot: Runsbot) -> None:
    """`stats today` starts at midnight in the asker's zone: UTC+14 and UTC−10 get other
    days, whatever the server's zone."""
    for user_id, zone in (("U0KIRITI1", "Pacific/Kiritimati"), ("U0HONOLU1", "Pacific/Honolulu")):
        fake_slack.add_user(user_id, user_id.lower(), real_name=zone, tz=zone)
        text = await read(bot, "stats today", user=user_id)
        local_midnight = datetime.now(ZoneInfo(zone)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        since = int(DATE_TOKEN.findall(text)[0])
        assert since == int(local_midnight.timestamp()), (zone, text)


def test_sparkline_scales_to_the_largest_count() -> None:
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline([0, 0]) == "▁▁"
    assert sparkline([1, 1000]) == "▂█"  # one failure is never drawn as none


@pytest.mark.parametrize(
    ("length", "bar"),
    [
        (timedelta(minutes=30), HOUR),
        (24 * HOUR, HOUR),
        (49 * HOUR, HOUR),  # yesterday and today across a DST change
        (3 * DAY, DAY),
        (62 * DAY, DAY),
        (90 * DAY, 2 * DAY),
        (365 * DAY, 6 * DAY),
    ],
)
def test_hours_up_to_about_two_days_then_days_and_never_more_than_62_bars(
    length: timedelta, bar: timedelta
) -> None:
    assert bar_length(length) == bar
    assert -(-length // bar) <= 62


async def test_half_an_hour_is_one_bar(bot: Runsbot) -> None:
    text = await read(bot, "stats 45m")
    assert "*Failures per hour*\n`█`" in text  # the 6 failures of wf-a, half an hour ago
    assert "against the 45 minutes before" in text


async def test_a_period_from_the_year_1_is_counted_not_an_error(bot: Runsbot) -> None:
    """The period before it would start before the year 1: it starts at the year 1."""
    text = await read(bot, "stats since:0001-01-02")
    assert "*Failing most*, against the " in text
    assert "Failed: *45*" in text  # 21 in the last day, 18 in the day before, 6 long ago
