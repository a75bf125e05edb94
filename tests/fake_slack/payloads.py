"""Requests as Slack shapes them for an app: slash commands, interactions and events.

Field for field these follow Slack's reference payloads and the ones in bolt-python's scenario
tests (`tests/scenario_tests_async/`): the slash command form, `block_actions`,
`view_submission`, `message_action` and the `event_callback` envelope.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .models import Ephemeral, JsonDict, Message, View

if TYPE_CHECKING:
    from .server import FakeSlack

_INPUT_VALUE_KEYS = {
    "plain_text_input": "value",
    "email_text_input": "value",
    "url_text_input": "value",
    "number_input": "value",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "users_select": "selected_user",
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
    "multi_users_select": "selected_users",
    "multi_conversations_select": "selected_conversations",
    "multi_channels_select": "selected_channels",
}


def action_ts() -> str:
    now = time.time()
    return f"{int(now)}.{int((now % 1) * 1_000_000):06d}"


def slash_command_form(
    fake: FakeSlack,
    *,
    command: str,
    text: str,
    user_id: str,
    channel_id: str,
    trigger_id: str,
    response_url: str,
) -> dict[str, str]:
    """The form fields of a slash command request (https://docs.slack.dev/interactivity/
    implementing-slash-commands), in Slack's order."""
    channel = fake.channels.get(channel_id)
    user = fake.users.get(user_id)
    return {
        "token": fake.verification_token,
        "team_id": fake.team_id,
        "team_domain": fake.team_domain,
        "channel_id": channel_id,
        "channel_name": channel.name if channel else "directmessage",
        "user_id": user_id,
        "user_name": user.name if user else user_id,
        "command": command,
        "text": text,
        "api_app_id": fake.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def _team(fake: FakeSlack) -> JsonDict:
    return {"id": fake.team_id, "domain": fake.team_domain}


def _user(fake: FakeSlack, user_id: str) -> JsonDict:
    user = fake.users.get(user_id)
    name = user.name if user else user_id
    return {"id": user_id, "username": name, "name": name, "team_id": fake.team_id}


def _channel(fake: FakeSlack, channel_id: str) -> JsonDict:
    channel = fake.channels.get(channel_id)
    return {"id": channel_id, "name": channel.name if channel else "directmessage"}


def find_element(
    blocks: list[JsonDict], action_id: str, block_id: str | None = None
) -> tuple[str, JsonDict] | None:
    """The (block_id, element) a person can click for `action_id`, searching actions blocks,
    section accessories and input elements."""
    for block in blocks:
        if block_id is not None and block.get("block_id") != block_id:
            continue
        candidates: list[Any] = []
        if block.get("type") == "actions":
            candidates = list(block.get("elements") or [])
        elif block.get("type") == "section" and block.get("accessory"):
            candidates = [block["accessory"]]
        elif block.get("type") == "input" and block.get("element"):
            candidates = [block["element"]]
        for element in candidates:
            if isinstance(element, Mapping) and element.get("action_id") == action_id:
                return str(block.get("block_id", "")), dict(element)
    return None


def action_of(element: JsonDict, block_id: str, value: str | None) -> JsonDict:
    """The `actions[0]` entry Slack sends for a click on `element` (with `value` chosen)."""
    element_type = element.get("type", "button")
    action: JsonDict = {
        "action_id": element.get("action_id"),
        "block_id": block_id,
        "type": element_type,
        "action_ts": action_ts(),
    }
    if element_type == "button":
        action["text"] = element.get("text", {"type": "plain_text", "text": "", "emoji": True})
        chosen = value if value is not None else element.get("value")
        if chosen is not None:
            action["value"] = chosen
        if element.get("style"):
            action["style"] = element["style"]
    elif element_type in ("static_select", "overflow", "radio_buttons", "external_select"):
        action["selected_option"] = _option(element, value)
    elif element_type in ("multi_static_select", "checkboxes"):
        action["selected_options"] = [_option(element, value)] if value is not None else []
    elif element_type in _INPUT_VALUE_KEYS:
        action[_INPUT_VALUE_KEYS[element_type]] = value
    else:
        action["value"] = value
    return action


def _option(element: Mapping[str, Any], value: str | None) -> JsonDict:
    """The option a person picks; only an offered option can be picked (external selects offer
    whatever the app's options listener returned, so any value goes there)."""
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    for option in options:
        if option.get("value") == value:
            return dict(option)
    if element.get("type") != "external_select":
        raise LookupError(f"`{element.get('action_id')}` offers no option with value {value!r}")
    return {"text": {"type": "plain_text", "text": str(value)}, "value": value}


def block_actions_payload(
    fake: FakeSlack,
    *,
    action: JsonDict,
    user_id: str,
    trigger_id: str,
    channel_id: str | None = None,
    message: Message | Ephemeral | None = None,
    view: View | None = None,
    response_url: str | None = None,
) -> JsonDict:
    """A `block_actions` payload (https://docs.slack.dev/reference/interaction-payloads/
    block_actions-payload): from a message, an ephemeral message, or a view."""
    payload: JsonDict = {
        "type": "block_actions",
        "user": _user(fake, user_id),
        "api_app_id": fake.app_id,
        "token": fake.verification_token,
        "trigger_id": trigger_id,
        "team": _team(fake),
        "enterprise": None,
        "is_enterprise_install": False,
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.id}
        payload["view"] = view.payload
    elif message is not None:
        is_ephemeral = isinstance(message, Ephemeral)
        payload["container"] = {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": message.channel,
            "is_ephemeral": is_ephemeral,
        }
        if message.thread_ts:
            payload["container"]["thread_ts"] = message.thread_ts
        payload["channel"] = _channel(fake, message.channel)
        if not is_ephemeral:
            # Slack leaves `message` out for clicks in ephemeral messages.
            payload["message"] = message.to_dict()
        payload["state"] = {"values": {}}
    elif channel_id is not None:
        payload["channel"] = _channel(fake, channel_id)
    if response_url is not None:
        payload["response_url"] = response_url
    payload["actions"] = [action]
    return payload


def state_values(view: View, values: Mapping[str, Mapping[str, object]]) -> JsonDict:
    """`view.state.values` as Slack builds it: `{block_id: {action_id: {"type": ..., ...}}}`.

    `values` maps block_id → action_id → what the person entered: a string (or list, for multi
    selects) for the element found in the view, or an already-shaped dict used as is."""
    state: JsonDict = {}
    for block_id, by_action in values.items():
        state[block_id] = {}
        for action_id, entered in by_action.items():
            if isinstance(entered, Mapping):
                state[block_id][action_id] = dict(entered)
                continue
            found = find_element(view.blocks, action_id, block_id)
            element = found[1] if found else {"type": "plain_text_input"}
            element_type = str(element.get("type", "plain_text_input"))
            shaped: JsonDict = {"type": element_type}
            if element_type in ("static_select", "radio_buttons", "external_select"):
                shaped["selected_option"] = _option(element, str(entered))
            elif element_type in ("multi_static_select", "checkboxes"):
                chosen = entered if isinstance(entered, list) else [entered]
                shaped["selected_options"] = [_option(element, str(v)) for v in chosen]
            else:
                shaped[_INPUT_VALUE_KEYS.get(element_type, "value")] = entered
            state[block_id][action_id] = shaped
    return state


def view_submission_payload(
    fake: FakeSlack,
    *,
    view: View,
    values: Mapping[str, Mapping[str, object]],
    user_id: str,
    trigger_id: str,
) -> JsonDict:
    """A `view_submission` payload (https://docs.slack.dev/reference/interaction-payloads/
    view-interactions-payload)."""
    submitted = dict(view.payload)
    submitted["state"] = {"values": state_values(view, values)}
    return {
        "type": "view_submission",
        "team": _team(fake),
        "user": _user(fake, user_id),
        "api_app_id": fake.app_id,
        "token": fake.verification_token,
        "trigger_id": trigger_id,
        "view": submitted,
        "response_urls": [],
        "enterprise": None,
        "is_enterprise_install": False,
    }


def message_action_payload(
    fake: FakeSlack,
    *,
    callback_id: str,
    message: Message,
    user_id: str,
    trigger_id: str,
    response_url: str,
) -> JsonDict:
    """A message shortcut (`message_action`) payload."""
    return {
        "type": "message_action",
        "token": fake.verification_token,
        "action_ts": action_ts(),
        "team": _team(fake),
        "user": {"id": user_id, "name": _user(fake, user_id)["name"], "team_id": fake.team_id},
        "channel": _channel(fake, message.channel),
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
        "message_ts": message.ts,
        "message": message.to_dict(),
        "response_url": response_url,
    }


def event_callback(fake: FakeSlack, event: JsonDict) -> JsonDict:
    """The Events API envelope around one event (https://docs.slack.dev/apis/events-api)."""
    channel = event.get("channel", "")
    return {
        "token": fake.verification_token,
        "team_id": fake.team_id,
        "api_app_id": fake.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{secrets.token_hex(5).upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": fake.team_id,
                "user_id": fake.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-message-{fake.team_id}-{channel}",
    }


def _channel_type(fake: FakeSlack, channel_id: str) -> str:
    channel = fake.channels.get(channel_id)
    if channel is not None and channel.is_im:
        return "im"
    return "group" if channel is not None and channel.is_private else "channel"


def _human_message(message: Message) -> JsonDict:
    data = message.to_dict()
    data["client_msg_id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{message.channel}/{message.ts}"))
    return data


def message_event(fake: FakeSlack, message: Message) -> JsonDict:
    """The `message` event for a message a person posted (a thread reply has `thread_ts` and
    `parent_user_id`)."""
    event = _human_message(message)
    event.update({"channel": message.channel, "event_ts": message.ts})
    event["channel_type"] = _channel_type(fake, message.channel)
    if message.is_reply and message.thread_ts:
        parent = fake.message(message.channel, message.thread_ts)
        event["parent_user_id"] = parent.user
    return event


def message_changed_event(fake: FakeSlack, before: Message, after: Message) -> JsonDict:
    """The `message_changed` event for an edit (bolt-python's `test_message_changed.py` shape)."""
    event_ts = action_ts()
    return {
        "type": "message",
        "subtype": "message_changed",
        "message": _human_message(after),
        "previous_message": _human_message(before),
        "channel": after.channel,
        "hidden": True,
        "ts": event_ts,
        "event_ts": event_ts,
        "channel_type": _channel_type(fake, after.channel),
    }


def message_deleted_event(fake: FakeSlack, deleted: Message) -> JsonDict:
    """The `message_deleted` event (bolt-python's `test_message_deleted.py` shape)."""
    event_ts = action_ts()
    event: JsonDict = {
        "type": "message",
        "subtype": "message_deleted",
        "previous_message": _human_message(deleted),
        "channel": deleted.channel,
        "hidden": True,
        "deleted_ts": deleted.ts,
        "event_ts": event_ts,
        "ts": event_ts,
        "channel_type": _channel_type(fake, deleted.channel),
    }
    if deleted.is_reply:
        event["thread_ts"] = deleted.thread_ts
    return event
