"""manifest.yml declares exactly what the app answers, in both directions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.config import Settings
from bot.slack_app import create_slack_app, create_slack_client
from handlers.ids import Action, View
from store.run_store import RunStore

MANIFEST = Path(__file__).parent.parent / "manifest.yml"


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text())
    return loaded


def declared_requests(app_manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The part of a request Bolt's matchers read, for each thing the manifest says Slack sends."""
    features = app_manifest.get("features", {})
    bodies: list[dict[str, Any]] = [
        {"command": command["command"], "text": ""}
        for command in features.get("slash_commands", [])
    ]
    bodies += [
        {"type": "message_action", "callback_id": shortcut["callback_id"]}
        for shortcut in features.get("shortcuts", [])
        if shortcut["type"] == "message"
    ]
    events = app_manifest.get("settings", {}).get("event_subscriptions", {}).get("bot_events", [])
    bodies += [{"type": "event_callback", "event": {"type": event}} for event in events]
    if app_manifest["settings"].get("interactivity", {}).get("is_enabled"):
        bodies += [
            {"type": "block_actions", "actions": [{"action_id": action.value, "type": "button"}]}
            for action in Action
        ]
        bodies += [
            {"type": "view_submission", "view": {"callback_id": view.value}} for view in View
        ]
    return bodies


def test_the_manifest_is_a_complete_app(tmp_path: Path) -> None:
    app_manifest = manifest()
    assert app_manifest["features"]["bot_user"]["display_name"]
    scopes = set(app_manifest["oauth_config"]["scopes"]["bot"])
    assert {"chat:write", "channels:history", "groups:history"} <= scopes
    assert app_manifest["settings"]["socket_mode_enabled"] is True
    interactivity = app_manifest["settings"]["interactivity"]
    assert interactivity["is_enabled"] and interactivity["request_url"].endswith("/slack/events")


async def test_every_listener_is_declared_and_every_declaration_is_answered(tmp_path: Path) -> None:
    settings = Settings(
        SLACK_BOT_TOKEN="xoxb-manifest",
        SLACK_SIGNING_SECRET="s",
        RUNSBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/m.db",
    )
    store = RunStore.open(settings.database_url)
    client = create_slack_client(settings)
    app = create_slack_app(settings, store, client)
    requests = [
        AsyncBoltRequest(body=body, mode="socket_mode") for body in declared_requests(manifest())
    ]

    async def matched_by(listener: Any, request: AsyncBoltRequest) -> bool:
        for matcher in listener.matchers:
            if not await matcher.async_matches(request, BoltResponse(status=404)):
                return False
        return True

    for listener in app._async_listeners:
        assert [r for r in requests if await matched_by(listener, r)], (
            f"listener {listener.ack_function.__name__} answers nothing manifest.yml declares"
        )
    for request in requests:
        if request.body.get("type") in ("block_actions", "view_submission"):
            continue  # ids the builders use; their listeners arrive with their features
        assert [li for li in app._async_listeners if await matched_by(li, request)], (
            f"manifest.yml declares {request.body} but no listener answers it"
        )
    await store.close()
