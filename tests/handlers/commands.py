"""Typing `/runs …` in the fake Slack and reading the answer only the asker sees."""

from __future__ import annotations

from tests.fake_slack import ALICE, OPS_CHANNEL, Ephemeral, rendered_text, wait_until
from tests.handlers.conftest import Runsbot


async def ask(
    bot: Runsbot, text: str, *, user: str = ALICE, channel: str = OPS_CHANNEL
) -> Ephemeral:
    """`user` types `/runs {text}` in `channel`; the answer shown to them alone."""
    seen = len(bot.slack.ephemerals(user=user))
    async with bot.driver() as driver:
        ack = await driver.slash_command(text, user_id=user, channel_id=channel)
    assert ack.status == 200, ack.body
    answers = await wait_until(
        lambda: bot.slack.ephemerals(user=user)[seen:], message=f"no answer to /runs {text}"
    )
    assert len(answers) == 1, [rendered_text(answer) for answer in answers]
    return answers[0]


async def read(bot: Runsbot, text: str, **where: str) -> str:
    """What the asker reads in the answer to `/runs {text}`."""
    return rendered_text(await ask(bot, text, **where))
