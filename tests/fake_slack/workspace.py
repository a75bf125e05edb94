"""The state of the fake Slack workspace, and what people see in it.

A `Workspace` holds what Slack holds for one workspace with one app installed: people, channels,
messages and threads, ephemeral messages, views, outstanding trigger_ids and response_urls, and
every call the app made. The Web API (`web_api.py`) and the server (`server.py`) build on it.
"""

from __future__ import annotations

import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from .limits import Violation, find_message_violations, find_view_violations
from .models import Call, Channel, Ephemeral, JsonDict, Message, ResponseUrl, User, View
from .render import rendered_text
from .waiting import wait_until

TEAM_ID = "T0RUNSBOT"
TEAM_DOMAIN = "runsbot-test"
APP_ID = "A0RUNSBOT"
BOT_USER_ID = "U0RUNSBOT"
BOT_ID = "B0RUNSBOT"

ALICE = "U0ALICE01"
BOB = "U0BOB0002"
CAROL = "U0CAROL03"
DAVE = "U0DAVE004"
ALERTS_CHANNEL = "C0ALERTS1"
OPS_CHANNEL = "C0OPS0001"
GENERAL_CHANNEL = "C0GENERAL"  # public, the bot is not a member: posting is `not_in_channel`
PRIVATE_CHANNEL = "G0SECRET1"  # private, the bot is not a member: it is `channel_not_found`
ONCALL_GROUP = "S0ONCALL1"

# Time zones cover both sides of UTC, a half-hour offset and the date line's neighbourhood.
_DEFAULT_USERS = (
    (ALICE, "alice", "Alice Adams", "Europe/Berlin"),
    (BOB, "bob", "Bob Brown", "America/Los_Angeles"),
    (CAROL, "carol", "Carol Chen", "Asia/Tokyo"),
    (DAVE, "dave", "Dave Das", "Asia/Kolkata"),
)
_DEFAULT_CHANNELS = (
    (ALERTS_CHANNEL, "run-alerts", False, True),
    (OPS_CHANNEL, "ops", False, True),
    (GENERAL_CHANNEL, "general", False, False),
    (PRIVATE_CHANNEL, "secret", True, False),
)
_DEFAULT_USERGROUPS = {ONCALL_GROUP: [ALICE, BOB]}

# https://docs.slack.dev/reference/methods/views.open: "Trigger IDs are valid for 3 seconds".
TRIGGER_TTL = 3.0
# https://docs.slack.dev/interactivity/handling-user-interaction: a response_url may be used
# "up to 5 times within 30 minutes".
RESPONSE_URL_USES = 5
RESPONSE_URL_TTL = 30 * 60.0
# https://docs.slack.dev/reference/methods/views.push: "Currently the limit is 3" views a stack.
VIEW_STACK_MAX = 3


class SlackApiFailure(Exception):
    """Raised inside a method handler: the answer Slack would give."""

    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        extra: JsonDict | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.extra = extra or {}
        self.headers = dict(headers or {})


@dataclass
class _Trigger:
    user_id: str
    issued_at: float
    used: bool = False


class Workspace:
    """One Slack workspace with the app installed. `clock` (monotonic seconds) drives trigger and
    response_url expiry, rate limits and `Call.received_at`."""

    def __init__(
        self, *, trigger_ttl: float = TRIGGER_TTL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.trigger_ttl = trigger_ttl
        self._clock = clock
        self.team_id = TEAM_ID
        self.team_domain = TEAM_DOMAIN
        self.app_id = APP_ID
        self.bot_user_id = BOT_USER_ID
        self.bot_id = BOT_ID
        self.bot_token = f"xoxb-fake-{secrets.token_hex(12)}"
        self.app_token = f"xapp-1-{APP_ID}-{secrets.token_hex(12)}"
        self.signing_secret = secrets.token_hex(16)
        # The legacy verification token Slack still puts in every payload (Bolt ignores it).
        self.verification_token = secrets.token_hex(12)
        self._last_ts = (0, 0)
        self.reset()

    def reset(self) -> None:
        """Forget everything a test did: people and channels back to the defaults, no messages,
        views or calls. Tokens stay."""
        self.users: dict[str, User] = {
            uid: User(uid, name, real, tz, TEAM_ID) for uid, name, real, tz in _DEFAULT_USERS
        }
        self.users[BOT_USER_ID] = User(BOT_USER_ID, "runsbot", "runsbot", "UTC", TEAM_ID, True)
        self.channels: dict[str, Channel] = {
            cid: Channel(cid, name, is_private=private, bot_is_member=member)
            for cid, name, private, member in _DEFAULT_CHANNELS
        }
        self.usergroups = {k: list(v) for k, v in _DEFAULT_USERGROUPS.items()}
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.views: dict[str, View] = {}
        self.post_times: dict[str, list[float]] = defaultdict(list)
        self._messages: dict[str, dict[str, Message]] = defaultdict(dict)
        self._ephemerals: list[Ephemeral] = []
        self._modal_stacks: dict[str, list[str]] = {}
        self._homes: dict[str, str] = {}
        self._triggers: dict[str, _Trigger] = {}
        self._response_urls: dict[str, ResponseUrl] = {}
        self._view_seq = 0

    # -- the workspace -----------------------------------------------------------------

    def add_channel(
        self, channel_id: str, name: str, *, private: bool = False, bot_is_member: bool = True
    ) -> Channel:
        channel = Channel(channel_id, name, is_private=private, bot_is_member=bot_is_member)
        self.channels[channel_id] = channel
        return channel

    def add_user(self, user_id: str, name: str, *, real_name: str, tz: str) -> User:
        user = User(user_id, name, real_name, tz, TEAM_ID)
        self.users[user_id] = user
        return user

    def user_id(self, name: str) -> str:
        """The ID of the user called `name` (`alice`, `bob`, ...)."""
        return next(u.id for u in self.users.values() if u.name == name)

    # -- what people see ---------------------------------------------------------------

    def messages(self, channel: str) -> list[Message]:
        """The channel as a person scrolls it: top-level messages and broadcast replies."""
        return [
            m
            for m in self._channel_messages(channel)
            if not m.is_reply or m.subtype == "thread_broadcast"
        ]

    def thread(self, channel: str, ts: str) -> list[Message]:
        """The parent message and its replies, oldest first (empty when `ts` is unknown)."""
        parent = self._messages[channel].get(ts)
        if parent is None:
            return []
        root = parent.thread_ts if parent.is_reply and parent.thread_ts else parent.ts
        return [m for m in self._channel_messages(channel) if m.ts == root or m.thread_ts == root]

    def thread_texts(self, channel: str) -> dict[str, str]:
        """Each top-level message's ts with what a person reads in it and its thread together
        (one alert: the message and the runs listed under it)."""
        return {
            message.ts: "\n".join(rendered_text(m) for m in self.thread(channel, message.ts))
            for message in self.messages(channel)
        }

    def message(self, channel: str, ts: str) -> Message:
        return self._messages[channel][ts]

    def ephemerals(self, *, channel: str | None = None, user: str | None = None) -> list[Ephemeral]:
        """Messages only one person sees, oldest first."""
        return [
            e
            for e in self._ephemerals
            if (channel is None or e.channel == channel) and (user is None or e.user == user)
        ]

    def modal_stack(self, user_id: str) -> list[View]:
        """The modals open for a person, root first."""
        return [self.views[view_id] for view_id in self._modal_stacks.get(user_id, [])]

    def open_modal(self, user_id: str) -> View | None:
        """The modal a person is looking at, if any."""
        stack = self.modal_stack(user_id)
        return stack[-1] if stack else None

    def home(self, user_id: str) -> View | None:
        view_id = self._homes.get(user_id)
        return self.views[view_id] if view_id else None

    # -- what the app did --------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def throttled(self) -> list[Call]:
        """Calls answered 429 (scripted or by a rate limit)."""
        return [call for call in self.calls if call.status == 429]

    def max_posts_in_window(self, channel: str, seconds: float = 1.0) -> int:
        """The most messages accepted into `channel` within any `seconds`-long window."""
        times = self.post_times.get(channel, [])
        best, start = 0, 0
        for end, at in enumerate(times):
            while at - times[start] >= seconds:
                start += 1
            best = max(best, end - start + 1)
        return best

    def assert_no_violations(self) -> None:
        """Fail with every Block Kit or protocol problem Slack would have rejected."""
        if self.violations:
            listing = "\n  ".join(self.violations)
            raise AssertionError(f"Slack would have rejected {len(self.violations)}:\n  {listing}")

    async def wait_for_calls(
        self, method: str, count: int = 1, *, timeout: float = 3.0
    ) -> list[Call]:
        """Wait (bounded) until `method` was called at least `count` times; return those calls."""
        await wait_until(
            lambda: len(self.calls_to(method)) >= count,
            timeout=timeout,
            message=lambda: f"{method} called {len(self.calls_to(method))} times, wanted {count}",
        )
        return self.calls_to(method)

    # -- what people do (the driver's side) --------------------------------------------

    def issue_trigger_id(self, user_id: str) -> str:
        """A trigger_id as an interaction carries it: one use, within `trigger_ttl` seconds."""
        trigger_id = f"{int(time.time())}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"
        self._triggers[trigger_id] = _Trigger(user_id, self._clock())
        return trigger_id

    def show_command_ack(self, response_url: str, body: JsonDict) -> None:
        """Show what a slash command's ack carried, as Slack does (to the asker, or to the channel
        with `response_type: in_channel`). Does not count as a use of the response_url."""
        entry = self._response_urls[response_url.rstrip("/").rsplit("/", 1)[-1]]
        if self._record_message_violations("ack of a slash command", entry.channel_id, body):
            return
        self._apply_response(entry, body, source="ack")

    def apply_view_submission_ack(self, view_id: str, body: JsonDict | None) -> None:
        """Do what Slack does with a view_submission ack: close, show errors, update, push."""
        view = self.views[view_id]
        stack = self._modal_stacks.get(view.user_id, [])
        action = (body or {}).get("response_action")
        if action == "errors":
            errors = dict(body.get("errors") or {}) if body else {}
            inputs = {b.get("block_id") for b in view.blocks if b.get("type") == "input"}
            for block_id in errors:
                if block_id not in inputs:
                    # Slack can only show an error under an input block of the submitted view.
                    self.violations.append(
                        f"view_submission ack of {view.callback_id!r}: error for `{block_id}`, "
                        "which is not an input block of the view"
                    )
            view.errors = errors
        elif action in ("update", "push") and body is not None:
            new_view = body.get("view")
            if not isinstance(new_view, dict) or self._record_view_violations(
                f"view_submission ack ({action})", new_view
            ):
                return
            if action == "update":
                view.payload = self._view_payload(new_view, view.id, view.payload)
                view.errors = {}
            else:
                pushed = self._create_view(view.user_id, new_view, root=stack[0] if stack else None)
                stack.append(pushed.id)
        elif action == "clear":
            self._close_views(view.user_id, len(stack))
        else:
            # No response_action: the submitted view closes, revealing the one below it.
            self._close_views(view.user_id, 1)

    def add_user_message(
        self, channel: str, user_id: str, text: str, *, thread_ts: str | None = None
    ) -> Message:
        """A person posts in Slack (the app learns of it through a `message` event)."""
        parent = self._thread_parent(channel, thread_ts)
        return self._store_message(
            channel, text=text, blocks=_rich_text(text), user=user_id, thread_ts=parent
        )

    def edit_user_message(self, channel: str, ts: str, text: str) -> tuple[Message, Message]:
        """A person edits a message: (before, after)."""
        message = self._messages[channel][ts]
        before = replace(
            message, reply_ts=list(message.reply_ts), reply_users=list(message.reply_users)
        )
        message.text, message.blocks = text, _rich_text(text)
        message.edited = {"user": message.user, "ts": self._next_ts()}
        return before, message

    def delete_user_message(self, channel: str, ts: str) -> Message:
        """A person deletes a message: returns it as it was."""
        message = self._messages[channel][ts]
        self._delete_message(message)
        return message

    # -- messages ----------------------------------------------------------------------

    def _next_ts(self) -> str:
        """A message ts like Slack's ("1732512345.000100"): wall-clock seconds and microseconds,
        strictly increasing within this workspace."""
        now = time.time()
        seconds, micros = int(now), int((now - int(now)) * 1_000_000)
        if (seconds, micros) <= self._last_ts:
            seconds, micros = self._last_ts
            micros += 1
            if micros == 1_000_000:
                seconds, micros = seconds + 1, 0
        self._last_ts = (seconds, micros)
        return f"{seconds}.{micros:06d}"

    def _channel_messages(self, channel: str) -> list[Message]:
        return sorted(self._messages[channel].values(), key=lambda m: _ts_key(m.ts))

    def _conversation(self, ref: object, *, must_be_member: bool) -> Channel:
        if not isinstance(ref, str) or not ref:
            raise SlackApiFailure("channel_not_found")
        channel = self.channels.get(ref)
        if channel is None:
            name = ref.removeprefix("#")
            channel = next((c for c in self.channels.values() if c.name == name), None)
        if channel is None and ref in self.users:
            # chat.postMessage to a user ID posts into the DM between the bot and that user.
            dm_id = "D" + ref[1:]
            channel = self.channels.setdefault(dm_id, Channel(dm_id, ref, im_user=ref))
        if channel is None or (channel.is_private and not channel.bot_is_member):
            raise SlackApiFailure("channel_not_found")
        if must_be_member and not channel.bot_is_member:
            raise SlackApiFailure("not_in_channel")
        return channel

    def _find_message(self, channel: str, ts: object) -> Message:
        message = self._messages[channel].get(ts) if isinstance(ts, str) else None
        if message is None:
            raise SlackApiFailure("message_not_found")
        return message

    def _thread_parent(self, channel: str, thread_ts: object) -> str | None:
        if not thread_ts:
            return None
        parent = self._messages[channel].get(str(thread_ts))
        if parent is None:
            # Slack's handling of an unknown thread_ts is undocumented; replying to a message
            # that does not exist is always a bug in the app, so the fake refuses it.
            raise SlackApiFailure("thread_not_found")
        # "Avoid using a reply's ts value; use its parent instead": Slack files it there.
        return parent.thread_ts if parent.is_reply else parent.ts

    def _store_message(
        self,
        channel: str,
        *,
        text: str,
        blocks: list[JsonDict],
        user: str,
        bot: bool = False,
        thread_ts: str | None = None,
        broadcast: bool = False,
        metadata: JsonDict | None = None,
    ) -> Message:
        message = Message(
            channel=channel,
            ts=self._next_ts(),
            text=text,
            blocks=blocks,
            user=user,
            team=self.team_id,
            bot_id=self.bot_id if bot else None,
            app_id=self.app_id if bot else None,
            thread_ts=thread_ts,
            subtype="thread_broadcast" if thread_ts and broadcast else None,
            metadata=metadata,
        )
        self._messages[channel][message.ts] = message
        if thread_ts is not None:
            parent = self._messages[channel][thread_ts]
            if parent.thread_ts is None:
                parent.thread_ts = parent.ts
            parent.reply_ts.append(message.ts)
            if user not in parent.reply_users:
                parent.reply_users.append(user)
        return message

    def _delete_message(self, message: Message) -> None:
        channel = self._messages[message.channel]
        if message.reply_ts and not message.is_reply:
            # A deleted parent stays as a tombstone so its thread can still be read.
            message.text, message.blocks, message.subtype = (
                "This message was deleted.",
                [],
                "tombstone",
            )
            return
        channel.pop(message.ts, None)
        if message.is_reply and message.thread_ts in channel:
            parent = channel[message.thread_ts]
            parent.reply_ts.remove(message.ts)

    def _record_message_violations(
        self, surface: str, where: str, payload: JsonDict
    ) -> list[Violation]:
        found = find_message_violations(payload)
        self.violations.extend(f"{surface} in {where}: {v}" for v in found)
        return found

    def _validate_message(self, surface: str, where: str, payload: JsonDict) -> None:
        found = self._record_message_violations(surface, where, payload)
        if not found:
            return
        special = next((v for v in found if v.error != "invalid_blocks"), None)
        if special is not None:
            raise SlackApiFailure(special.error)
        # The shape of real invalid_blocks answers: a list of problems, and the same problems
        # as "[ERROR] ..." lines in response_metadata.messages.
        raise SlackApiFailure(
            "invalid_blocks",
            extra={
                "errors": [str(v) for v in found],
                "response_metadata": {"messages": [f"[ERROR] {v}" for v in found]},
            },
        )

    # -- views -------------------------------------------------------------------------

    def _record_view_violations(self, surface: str, view: JsonDict) -> list[Violation]:
        found = find_view_violations(view)
        self.violations.extend(f"{surface}: {v}" for v in found)
        return found

    def _validate_view(self, surface: str, view: object) -> JsonDict:
        if not isinstance(view, dict):
            raise _invalid_arguments("missing required field: view [json-pointer:/view]")
        found = self._record_view_violations(surface, view)
        if found:
            # views.* report problems as invalid_arguments with "[ERROR] ..." messages.
            raise _invalid_arguments(*(str(v) for v in found))
        return view

    def _exchange_trigger(self, trigger_id: object) -> str:
        if not trigger_id:
            raise _invalid_arguments(
                "missing required field: trigger_id [json-pointer:/trigger_id]"
            )
        trigger = self._triggers.get(str(trigger_id))
        if trigger is None:
            raise SlackApiFailure("invalid_trigger_id")
        if trigger.used:
            raise SlackApiFailure("exchanged_trigger_id")
        if self._clock() - trigger.issued_at > self.trigger_ttl:
            raise SlackApiFailure("expired_trigger_id")
        trigger.used = True
        return trigger.user_id

    def _view_payload(self, view: JsonDict, view_id: str, previous: JsonDict | None) -> JsonDict:
        # The view object Slack answers with and sends back in interactions.
        before = previous or {}
        return {
            "id": view_id,
            "team_id": self.team_id,
            "type": view.get("type", "modal"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "title": view.get("title"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": before.get("previous_view_id"),
            "root_view_id": before.get("root_view_id", view_id),
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }

    def _create_view(self, user_id: str, view: JsonDict, *, root: str | None) -> View:
        self._view_seq += 1
        view_id = f"V0FAKE{self._view_seq:05d}"
        stack = self._modal_stacks.get(user_id, [])
        links = {"root_view_id": root or view_id, "previous_view_id": stack[-1] if root else None}
        stored = View(view_id, user_id, self._view_payload(view, view_id, links))
        self.views[view_id] = stored
        return stored

    def _close_views(self, user_id: str, count: int) -> None:
        stack = self._modal_stacks.get(user_id, [])
        for _ in range(min(count, len(stack))):
            self.views[stack.pop()].closed = True

    def _check_external_id(self, view: JsonDict, replacing: str | None = None) -> None:
        external_id = view.get("external_id")
        if external_id and any(
            v.payload.get("external_id") == external_id and v.id != replacing and not v.closed
            for v in self.views.values()
        ):
            raise SlackApiFailure("duplicate_external_id")

    # -- response_urls -----------------------------------------------------------------

    def _register_response_url(
        self, channel_id: str, user_id: str, original: Message | Ephemeral | None
    ) -> ResponseUrl:
        entry = ResponseUrl(secrets.token_hex(12), channel_id, user_id, self._clock(), original)
        self._response_urls[entry.id] = entry
        return entry

    def _use_response_url(self, url_id: str) -> ResponseUrl:
        # What Slack answers a spent or stale response_url with is undocumented; the fake uses
        # 404 with a telling error so that a test shows why.
        entry = self._response_urls.get(url_id)
        if entry is None:
            raise SlackApiFailure("no_service", status=404)
        if self._clock() - entry.issued_at > RESPONSE_URL_TTL:
            raise SlackApiFailure("expired_url", status=404)
        if entry.uses >= RESPONSE_URL_USES:
            raise SlackApiFailure("used_url", status=404)
        entry.uses += 1
        return entry

    def _apply_response(self, entry: ResponseUrl, body: JsonDict, *, source: str) -> None:
        original = entry.original
        text = str(body.get("text") or "")
        blocks = list(body.get("blocks") or [])
        if is_true(body.get("delete_original")):
            if isinstance(original, Message):
                self._delete_message(original)
            elif isinstance(original, Ephemeral) and original in self._ephemerals:
                self._ephemerals.remove(original)
            return
        if is_true(body.get("replace_original")) and original is not None:
            original.text, original.blocks = text, blocks
            if isinstance(original, Message):
                original.edited = {"user": self.bot_user_id, "ts": self._next_ts()}
            return
        thread_ts = optional_str(body.get("thread_ts"))
        if body.get("response_type") == "in_channel":
            self._store_message(
                entry.channel_id,
                text=text,
                blocks=blocks,
                user=self.bot_user_id,
                bot=True,
                thread_ts=self._thread_parent(entry.channel_id, thread_ts),
            )
        else:
            self._ephemerals.append(
                Ephemeral(
                    entry.channel_id,
                    entry.user_id,
                    self._next_ts(),
                    text,
                    blocks,
                    source,
                    thread_ts,
                )
            )


def _invalid_arguments(*messages: str) -> SlackApiFailure:
    return SlackApiFailure(
        "invalid_arguments",
        extra={"response_metadata": {"messages": [f"[ERROR] {m}" for m in messages]}},
    )


def is_true(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def optional_str(value: object) -> str | None:
    return str(value) if value else None


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    return int(seconds), int(micros or 0)


def _rich_text(text: str) -> list[JsonDict]:
    """The blocks Slack's clients attach to what a person types."""
    return [
        {
            "type": "rich_text",
            "block_id": secrets.token_hex(3),
            "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
            ],
        }
    ]
