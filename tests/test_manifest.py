"""manifest.yml declares exactly what the app answers, in both directions, and grants the
scopes that what the app calls and receives needs, no more."""

from __future__ import annotations

import ast
import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.slack_app import create_slack_app, create_slack_client
from handlers.ids import Action, Command, Shortcut, View
from store.run_store import RunStore

ROOT = Path(__file__).parent.parent
MANIFEST = ROOT / "manifest.yml"

# Bot scopes each Web API method needs, from its page at https://docs.slack.dev/reference/methods/.
# History: channels:history for public channels, groups:history for private ones (alerts go to
# either; never to DMs, which would need im:history and mpim:history).
METHOD_SCOPES: dict[str, set[str]] = {
    "auth.test": set(),
    # Called with the app-level token, whose connections:write is no bot scope.
    "apps.connections.open": set(),
    "chat.postMessage": {"chat:write"},
    "chat.update": {"chat:write"},
    "chat.delete": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "chat.getPermalink": set(),
    "conversations.history": {"channels:history", "groups:history"},
    "conversations.replies": {"channels:history", "groups:history"},
    "conversations.info": {"channels:read", "groups:read"},
    "users.info": {"users:read"},
    "usergroups.users.list": {"usergroups:read"},
    "views.open": set(),
    "views.push": set(),
    "views.update": set(),
    "views.publish": set(),
}
# Bot scopes each event subscription needs (https://docs.slack.dev/reference/events/).
EVENT_SCOPES: dict[str, set[str]] = {
    "app_mention": {"app_mentions:read"},
    "message.channels": {"channels:history"},
    "message.groups": {"groups:history"},
    "message.im": {"im:history"},
    "message.mpim": {"mpim:history"},
}
# Slack sends `message.channels` and its kin as `message` events with this channel_type.
CHANNEL_TYPES = {"channels": "channel", "groups": "group", "im": "im", "mpim": "mpim"}


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text())
    return loaded


def event_body(subscription: str) -> dict[str, Any]:
    """The event Slack sends for a `bot_events` subscription (`message.channels` → `message`)."""
    event_type, _, kind = subscription.partition(".")
    event: dict[str, Any] = {"type": event_type}
    if kind:
        event["channel_type"] = CHANNEL_TYPES[kind]
    return {"type": "event_callback", "event": event}


def declared_requests(app_manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The part of a request Bolt's matchers read, for each thing the manifest says Slack sends."""
    features = app_manifest.get("features", {})
    bodies: list[dict[str, Any]] = [
        {"command": command["command"], "text": ""}
        for command in features.get("slash_commands", [])
    ]
    bodies += [
        {
            "type": "message_action" if shortcut["type"] == "message" else "shortcut",
            "callback_id": shortcut["callback_id"],
        }
        for shortcut in features.get("shortcuts", [])
    ]
    events = app_manifest.get("settings", {}).get("event_subscriptions", {}).get("bot_events", [])
    bodies += [event_body(event) for event in events]
    if app_manifest["settings"].get("interactivity", {}).get("is_enabled"):
        bodies += [
            {"type": "block_actions", "actions": [{"action_id": action.value, "type": "button"}]}
            for action in Action
        ]
        bodies += [
            {"type": "view_submission", "view": {"type": "modal", "callback_id": view.value}}
            for view in View
        ]
    return bodies


async def answers(listener: Any, body: dict[str, Any]) -> bool:
    request = AsyncBoltRequest(body=body, mode="socket_mode")
    for matcher in listener.matchers:
        if not await matcher.async_matches(request, BoltResponse(status=404)):
            return False
    return True


async def unanswered(app: AsyncApp, app_manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """What the manifest says Slack sends (commands, shortcuts, events) that no listener answers.

    Button clicks and modal submissions are left out: their ids come with the builders, and
    their listeners with the features behind them.
    """
    missing = []
    for body in declared_requests(app_manifest):
        if body.get("type") in ("block_actions", "view_submission"):
            continue
        if not [li for li in app._async_listeners if await answers(li, body)]:
            missing.append(body)
    return missing


async def undeclared(app: AsyncApp, app_manifest: dict[str, Any]) -> list[str]:
    """Listeners that answer nothing the manifest says Slack sends."""
    bodies = declared_requests(app_manifest)
    return [
        listener.ack_function.__name__
        for listener in app._async_listeners
        if not [body for body in bodies if await answers(listener, body)]
    ]


def web_api_methods_called(*packages: str) -> set[str]:
    """Every Web API method the code calls through a client (`client.chat_postMessage(…)` is
    `chat.postMessage`), read from its source."""
    methods = set()
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and not node.func.attr.startswith("_")
                    and node.func.attr != "api_call"
                    and callable(getattr(AsyncWebClient, node.func.attr, None))
                ):
                    methods.add(node.func.attr.replace("_", "."))
    return methods


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[AsyncApp]:
    """The real Bolt app with every listener runsbot registers."""
    settings = Settings(
        SLACK_BOT_TOKEN="xoxb-manifest",
        SLACK_SIGNING_SECRET="s",
        RUNSBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/m.db",
    )
    store = RunStore.open(settings.database_url)
    yield create_slack_app(settings, store, create_slack_client(settings))
    await store.close()


def test_the_manifest_is_a_complete_app(tmp_path: Path) -> None:
    app_manifest = manifest()
    assert app_manifest["features"]["bot_user"]["display_name"]
    scopes = set(app_manifest["oauth_config"]["scopes"]["bot"])
    assert {"chat:write", "channels:history", "groups:history"} <= scopes
    assert app_manifest["settings"]["socket_mode_enabled"] is True
    interactivity = app_manifest["settings"]["interactivity"]
    assert interactivity["is_enabled"] and interactivity["request_url"].endswith("/slack/events")
    shortcuts = app_manifest["features"].get("shortcuts", [])
    assert {s["callback_id"] for s in shortcuts} == {shortcut.value for shortcut in Shortcut}
    assert all(s["type"] == "message" and s["name"] and s["description"] for s in shortcuts)
    commands = {c["command"]: c for c in app_manifest["features"]["slash_commands"]}
    assert set(commands) == {command.value for command in Command}
    for declared in commands.values():
        # What Slack shows while typing it; the words arrive as typed, mentions unescaped.
        assert declared["description"] and declared["usage_hint"]
        assert declared["should_escape"] is False
        assert declared["url"] == interactivity["request_url"]


async def test_every_listener_is_declared_and_every_declaration_is_answered(
    app: AsyncApp,
) -> None:
    missing = await unanswered(app, manifest())
    assert missing == [], f"manifest.yml declares these but no listener answers them: {missing}"
    extra = await undeclared(app, manifest())
    assert extra == [], f"these listeners answer nothing manifest.yml declares: {extra}"


async def on_anything(ack: Any) -> None:
    await ack()


async def test_a_declared_command_shortcut_or_event_is_named_until_a_listener_answers_it(
    app: AsyncApp,
) -> None:
    grown = copy.deepcopy(manifest())
    grown["features"]["slash_commands"].append({"command": "/runs-later", "description": "Later"})
    grown["features"]["shortcuts"] = [
        *grown["features"].get("shortcuts", []),
        {"name": "Later", "type": "message", "callback_id": "later_from_message"},
        {"name": "Find runs", "type": "global", "callback_id": "find_runs"},
    ]
    grown["settings"]["event_subscriptions"]["bot_events"] += ["app_mention"]
    missing = await unanswered(app, grown)
    assert [
        body.get("command") or body.get("callback_id") or body["event"] for body in missing
    ] == [
        "/runs-later",
        "later_from_message",
        "find_runs",
        {"type": "app_mention"},
    ]
    for register in (
        app.command("/runs-later"),
        app.shortcut("later_from_message"),
        app.shortcut("find_runs"),
        app.event("app_mention"),
        app.action(Action.RETRIGGER.value),  # declared by interactivity
    ):
        register(on_anything)
    assert await unanswered(app, grown) == []
    assert await undeclared(app, grown) == []


async def test_a_listener_for_something_undeclared_is_named(app: AsyncApp) -> None:
    async def on_undeclared_command(ack: Any) -> None:
        await ack()

    app.command("/undeclared")(on_undeclared_command)
    app.event("app_mention")(on_anything)
    assert await undeclared(app, manifest()) == ["on_undeclared_command", "on_anything"]


def test_the_bot_scopes_are_what_its_calls_and_events_need_no_more() -> None:
    app_manifest = manifest()
    called = web_api_methods_called("bot", "handlers")
    assert "chat.postMessage" in called  # the scan finds the calls it is about
    unknown = called - set(METHOD_SCOPES)
    assert not unknown, f"add the bot scopes of {sorted(unknown)} to METHOD_SCOPES"
    needed = set().union(*(METHOD_SCOPES[method] for method in called))
    events = app_manifest["settings"].get("event_subscriptions", {}).get("bot_events", [])
    needed |= set().union(*(EVENT_SCOPES[event] for event in events))
    features = app_manifest["features"]
    if features.get("slash_commands") or features.get("shortcuts"):
        needed.add("commands")
    assert set(app_manifest["oauth_config"]["scopes"]["bot"]) == needed
