"""Plays the Slack side of a conversation with the app: what people type and click.

The same methods work over HTTP (signed requests to the app's `POST /slack/events`) and over
Socket Mode (envelopes on the fake's websocket). Each returns the app's ack as an `AckResult`,
and afterwards does what Slack does with that ack: shows a slash command's answer, closes a
submitted modal or shows its errors.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Self
from urllib.parse import urlencode

import aiohttp

from . import payloads
from .models import Ephemeral, JsonDict, Message, View
from .server import FakeSlack

# Slack waits 3 s for an ack of a command, interaction or event, then shows the person an
# error (or retries the event): https://docs.slack.dev/interactivity/handling-user-interaction
ACK_DEADLINE = 3.0

EnvelopeType = Literal["slash_commands", "interactive", "events_api"]


@dataclass(frozen=True)
class AckResult:
    """How the app answered: HTTP status (200 for a Socket Mode ack), raw body, the body as
    JSON (a plain-text body becomes `{"text": body}`, as Bolt's Socket Mode adapter sends it),
    and the seconds it took."""

    status: int
    body: str
    payload: JsonDict | None
    elapsed: float

    @property
    def text(self) -> str:
        return str((self.payload or {}).get("text", ""))


def sign(signing_secret: str, timestamp: str, body: str) -> str:
    """`X-Slack-Signature` for a request body (https://docs.slack.dev/authentication/
    verifying-requests-from-slack): `v0=` + HMAC-SHA256 of `v0:{timestamp}:{body}`."""
    basestring = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(signing_secret.encode(), basestring, hashlib.sha256).hexdigest()


class SlackDriver:
    """Sends what Slack sends, as `fake`'s workspace, to the app under test."""

    def __init__(
        self,
        fake: FakeSlack,
        *,
        events_url: str | None,
        signing_secret: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._fake = fake
        self._events_url = events_url
        self._signing_secret = signing_secret or fake.signing_secret
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def http(
        cls,
        events_url: str,
        fake: FakeSlack,
        *,
        signing_secret: str | None = None,
        timeout: float = 10.0,
    ) -> SlackDriver:
        """Drive an app in HTTP mode at `events_url` (its `POST /slack/events`). Requests are
        signed with the fake's signing secret unless `signing_secret` says otherwise."""
        return cls(fake, events_url=events_url, signing_secret=signing_secret, timeout=timeout)

    @classmethod
    def socket(cls, fake: FakeSlack, *, timeout: float = 10.0) -> SlackDriver:
        """Drive an app connected to the fake over Socket Mode."""
        return cls(fake, events_url=None, timeout=timeout)

    @property
    def events_url(self) -> str | None:
        """Where HTTP requests go (None in Socket Mode)."""
        return self._events_url

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- what people do ---------------------------------------------------------------------

    async def slash_command(
        self, text: str, *, user_id: str, channel_id: str, command: str = "/runs"
    ) -> AckResult:
        """`user_id` types `{command} {text}` in `channel_id`."""
        fake = self._fake
        response_url = fake.issue_response_url(channel_id=channel_id, user_id=user_id)
        form = payloads.slash_command_form(
            fake,
            command=command,
            text=text,
            user_id=user_id,
            channel_id=channel_id,
            trigger_id=fake.issue_trigger_id(user_id),
            response_url=response_url,
        )
        result = await self._send("slash_commands", form, True, f"{command} {text!r}")
        if result.status == 200 and result.payload:
            fake.show_command_ack(response_url, result.payload)
        return result

    async def block_action(
        self,
        action_id: str,
        value: str | None = None,
        *,
        user_id: str,
        channel_id: str | None = None,
        message: Message | Ephemeral | None = None,
        view: View | None = None,
        block_id: str | None = None,
    ) -> AckResult:
        """`user_id` clicks (or picks `value` in) the element `action_id` of `message` or `view`
        as it is now; a button's own value is sent when `value` is None. Raises LookupError when
        that element is not there for a person to click."""
        fake = self._fake
        current: Message | Ephemeral | None = message
        if isinstance(message, Message):
            current = fake.message(message.channel, message.ts)
        elif isinstance(message, Ephemeral) and message not in fake.ephemerals(user=user_id):
            raise LookupError(f"{user_id} no longer sees that ephemeral message")
        current_view = fake.views[view.id] if view is not None else None
        source = current_view or current
        if source is not None:
            found = payloads.find_element(source.blocks, action_id, block_id)
            if found is None:
                raise LookupError(f"no element `{action_id}` for {user_id} to click")
            found_block_id, element = found
        else:
            found_block_id, element = block_id or "", {"type": "button", "action_id": action_id}
        response_url = None
        if current_view is None and (current is not None or channel_id is not None):
            response_url = fake.issue_response_url(
                channel_id=current.channel if current is not None else str(channel_id),
                user_id=user_id,
                original=current,
            )
        payload = payloads.block_actions_payload(
            fake,
            action=payloads.action_of(element, found_block_id, value),
            user_id=user_id,
            trigger_id=fake.issue_trigger_id(user_id),
            channel_id=channel_id,
            message=current,
            view=current_view,
            response_url=response_url,
        )
        return await self._send("interactive", payload, False, f"block_actions `{action_id}`")

    async def view_submission(
        self, view: View, values: dict[str, dict[str, object]], *, user_id: str
    ) -> AckResult:
        """`user_id` fills in the modal (`values`: block_id → action_id → entry, see
        `payloads.state_values`) and presses its submit button."""
        current = self._fake.views[view.id]
        if current.closed:
            raise LookupError(f"modal {current.callback_id!r} is closed: nobody can submit it")
        payload = payloads.view_submission_payload(
            self._fake,
            view=current,
            values=values,
            user_id=user_id,
            trigger_id=self._fake.issue_trigger_id(user_id),
        )
        result = await self._send(
            "interactive", payload, True, f"view_submission {current.callback_id!r}"
        )
        if result.status == 200:
            self._fake.apply_view_submission_ack(current.id, result.payload)
        return result

    async def message_shortcut(
        self, callback_id: str, message: Message, *, user_id: str, channel_id: str | None = None
    ) -> AckResult:
        """`user_id` picks the message shortcut `callback_id` on `message`."""
        fake = self._fake
        current = fake.message(message.channel, message.ts)
        payload = payloads.message_action_payload(
            fake,
            callback_id=callback_id,
            message=current,
            user_id=user_id,
            trigger_id=fake.issue_trigger_id(user_id),
            response_url=fake.issue_response_url(
                channel_id=channel_id or current.channel, user_id=user_id, original=current
            ),
        )
        return await self._send("interactive", payload, False, f"message shortcut {callback_id!r}")

    async def event(self, event: JsonDict) -> AckResult:
        """Deliver one event inside an `event_callback` envelope."""
        envelope = payloads.event_callback(self._fake, event)
        return await self._send("events_api", envelope, False, f"{event.get('type')} event")

    async def user_posts(
        self, channel_id: str, user_id: str, text: str, *, thread_ts: str | None = None
    ) -> tuple[Message, AckResult]:
        """A person posts (in a thread with `thread_ts`); the app gets the `message` event."""
        message = self._fake.add_user_message(channel_id, user_id, text, thread_ts=thread_ts)
        return message, await self.event(payloads.message_event(self._fake, message))

    async def user_edits(self, message: Message, text: str) -> AckResult:
        """A person edits their message; the app gets `message_changed`."""
        before, after = self._fake.edit_user_message(message.channel, message.ts, text)
        return await self.event(payloads.message_changed_event(self._fake, before, after))

    async def user_deletes(self, message: Message) -> AckResult:
        """A person deletes their message; the app gets `message_deleted`."""
        deleted = self._fake.delete_user_message(message.channel, message.ts)
        return await self.event(payloads.message_deleted_event(self._fake, deleted))

    # -- transport --------------------------------------------------------------------------

    async def _send(
        self, kind: EnvelopeType, payload: JsonDict, accepts_response_payload: bool, what: str
    ) -> AckResult:
        loop = asyncio.get_running_loop()
        started = loop.time()
        if self._events_url is None:
            ack = await self._fake.send_envelope(
                kind,
                payload,
                accepts_response_payload=accepts_response_payload,
                timeout=self._timeout,
            )
            result = AckResult(200, json.dumps(ack) if ack else "", ack, loop.time() - started)
        else:
            status, body = await self._post(kind, payload)
            result = AckResult(status, body, _parse_ack(body), loop.time() - started)
        if result.elapsed > ACK_DEADLINE:
            self._fake.violations.append(
                f"{what} acked after {result.elapsed:.2f} s: Slack gives up after "
                f"{ACK_DEADLINE:.0f} s and shows the person an error"
            )
        return result

    async def _post(self, kind: EnvelopeType, payload: JsonDict) -> tuple[int, str]:
        assert self._events_url is not None
        if kind == "slash_commands":
            body, content_type = urlencode(payload), "application/x-www-form-urlencoded"
        elif kind == "interactive":
            body = urlencode({"payload": json.dumps(payload)})
            content_type = "application/x-www-form-urlencoded"
        else:
            body, content_type = json.dumps(payload), "application/json"
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": sign(self._signing_secret, timestamp, body),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.post(
            self._events_url,
            data=body.encode(),
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=self._timeout),
        ) as response:
            return response.status, await response.text()


def _parse_ack(body: str) -> JsonDict | None:
    if not body:
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return {"text": body}
    return parsed if isinstance(parsed, dict) else {"text": body}
