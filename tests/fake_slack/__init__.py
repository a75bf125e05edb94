"""A fake Slack for end-to-end tests: the real Bolt app talks to it over real HTTP and Socket
Mode (pointed at it with `base_url` / SLACK_API_URL), and tests read what people would see.

    async with FakeSlack() as slack:                      # or the `fake_slack` fixture
        ...start runsbot with SLACK_API_URL=slack.api_url, slack.bot_token, slack.signing_secret
        async with SlackDriver.http(events_url, slack) as driver:
            ack = await driver.slash_command("failed today", user_id=ALICE, channel_id=OPS_CHANNEL)
        (answer,) = slack.ephemerals(user=ALICE)
        assert "HubSpot" in rendered_text(answer)
        slack.assert_no_violations()

Modules: `server` (FakeSlack: HTTP server, scripting, Socket Mode), `web_api` (the methods),
`workspace` (state and what people see), `limits` (Block Kit limits), `driver` (SlackDriver),
`payloads` (what Slack sends apps), `render` (text and buttons of a surface), `fixtures`.
"""

from __future__ import annotations

from .driver import ACK_DEADLINE, AckResult, SlackDriver, sign
from .faults import Error, Fault, RateLimit, RateLimited, ServerError, Slow
from .limits import Violation, check_message, check_view
from .models import Call, Channel, Ephemeral, Message, User, View
from .render import Button, buttons, rendered_text
from .server import FakeSlack
from .socket_mode import AckTimeout
from .waiting import wait_until
from .workspace import (
    ALERTS_CHANNEL,
    ALICE,
    BOB,
    CAROL,
    DAVE,
    GENERAL_CHANNEL,
    ONCALL_GROUP,
    OPS_CHANNEL,
    PRIVATE_CHANNEL,
)

__all__ = [
    "ACK_DEADLINE",
    "ALERTS_CHANNEL",
    "ALICE",
    "BOB",
    "CAROL",
    "DAVE",
    "GENERAL_CHANNEL",
    "ONCALL_GROUP",
    "OPS_CHANNEL",
    "PRIVATE_CHANNEL",
    "AckResult",
    "AckTimeout",
    "Button",
    "Call",
    "Channel",
    "Ephemeral",
    "Error",
    "FakeSlack",
    "Fault",
    "Message",
    "RateLimit",
    "RateLimited",
    "ServerError",
    "SlackDriver",
    "Slow",
    "User",
    "View",
    "Violation",
    "buttons",
    "check_message",
    "check_view",
    "rendered_text",
    "sign",
    "wait_until",
]
