"""Every Slack surface runsbot answers, registered in one place."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers import actions, commands, errors


def register_all(app: AsyncApp) -> None:
    errors.register(app)
    commands.register(app)
    actions.register(app)
