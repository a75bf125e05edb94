"""What the /runs tests share: a settable clock, a runsbot on its own database for a whole
module, runs written straight to the store, and asking /runs as a person would."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from handlers.ids import Action
from store.reports import RunReport
from store.run_store import RunStore
from tests.fake_slack import Ephemeral, FakeSlack, Message, SlackDriver, buttons, wait_until
from tests.handlers.conftest import Runsbot, slack_settings, start_runsbot


class Clock:
    """The Slack listeners' "now": fixed, and set by each test that cares."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def at(text: str) -> datetime:
    """An aware UTC time from `2026-11-20T10:02`."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def copy_database(template: Path, folder: Path) -> str:
    path = folder / "runs.db"
    shutil.copyfile(template, path)
    return f"sqlite+aiosqlite:///{path}"


async def write_runs(database_url: str, reports: list[dict[str, Any]]) -> None:
    """Store the reports the way the run API does, without queueing alerts for the failures
    (these tests are about /runs; alerts would only add Slack calls)."""
    store = RunStore.open(database_url)
    outcomes = await store.report_runs([RunReport.model_validate(r) for r in reports])
    assert all(outcome.error is None for outcome in outcomes), outcomes
    await store.close()


async def serve(
    slack: FakeSlack, database_url: str, clock: Clock, *, socket_mode: bool = False
) -> Runsbot:
    settings = slack_settings(slack, database_url, socket_mode=socket_mode)
    return await start_runsbot(settings, slack, clock=clock)


async def ask(
    bot: Runsbot, text: str, *, user_id: str, channel_id: str, driver: SlackDriver | None = None
) -> Ephemeral:
    """`user_id` types `/runs {text}`; the answer they alone see."""
    fake = bot.slack
    seen = len(fake.ephemerals(user=user_id))
    async with driver or bot.driver() as sender:
        ack = await sender.slash_command(text, user_id=user_id, channel_id=channel_id)
    assert ack.status == 200 and ack.text == "", ack  # an empty ack: the answer follows
    answers = await wait_until(
        lambda: fake.ephemerals(user=user_id)[seen:],
        message=f"no answer to /runs {text!r}",
    )
    assert len(answers) == 1 and answers[0].source == "response_url", answers
    return answers[0]


def run_ids(surface: Message | Ephemeral) -> list[str]:
    """The runs a page lists, in order (each run's View details button carries its ID)."""
    return [b.value or "" for b in buttons(surface) if b.action_id == Action.VIEW_DETAILS]
