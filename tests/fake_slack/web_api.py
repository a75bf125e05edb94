"""The Slack Web API methods runsbot uses, answered from the workspace's state as Slack answers.

Errors are raised as `SlackApiFailure` and turned into `{"ok": false, "error": ...}` by the
server; each method's errors are the ones its reference page documents.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from .faults import RateLimit, TokenBucket
from .models import Ephemeral, JsonDict
from .workspace import (
    TEAM_DOMAIN,
    TRIGGER_TTL,
    VIEW_STACK_MAX,
    SlackApiFailure,
    Workspace,
    is_true,
    optional_str,
)

# `.test` is reserved (RFC 2606): no permalink can ever reach a real host.
_PERMALINK_HOST = f"https://{TEAM_DOMAIN}.slack.test"

TokenKind = Literal["bot", "app", "none"]


@dataclass(frozen=True)
class Route:
    handler: Callable[[JsonDict], Awaitable[JsonDict]]
    token: TokenKind = "bot"


class WebApi(Workspace):
    """The workspace behind Slack's Web API: `routes` maps a method name to its handler.

    `post_limit_per_channel` enforces chat.postMessage's limit per channel, and `method_limits`
    a Web API tier per method (both off by default)."""

    def __init__(
        self,
        *,
        post_limit_per_channel: RateLimit | None = None,
        method_limits: Mapping[str, RateLimit] | None = None,
        trigger_ttl: float = TRIGGER_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.post_limit_per_channel = post_limit_per_channel
        self.method_limits = dict(method_limits or {})
        super().__init__(trigger_ttl=trigger_ttl, clock=clock)
        self.routes: dict[str, Route] = {
            "api.test": Route(self._api_test, token="none"),  # needs no token at all
            "auth.test": Route(self._auth_test),
            "chat.postMessage": Route(self._chat_post_message),
            "chat.update": Route(self._chat_update),
            "chat.delete": Route(self._chat_delete),
            "chat.postEphemeral": Route(self._chat_post_ephemeral),
            "chat.getPermalink": Route(self._chat_get_permalink),
            "conversations.info": Route(self._conversations_info),
            "conversations.history": Route(self._conversations_history),
            "conversations.replies": Route(self._conversations_replies),
            "users.info": Route(self._users_info),
            "usergroups.users.list": Route(self._usergroups_users_list),
            "views.open": Route(self._views_open),
            "views.push": Route(self._views_push),
            "views.update": Route(self._views_update),
            "views.publish": Route(self._views_publish),
        }

    def reset(self) -> None:
        super().reset()
        self._post_buckets: dict[str, TokenBucket] = {}
        self._method_buckets: dict[str, TokenBucket] = {}

    def _authenticate(self, token: str | None, kind: TokenKind) -> None:
        # Errors every method documents (e.g. https://docs.slack.dev/reference/methods/views.open):
        # `not_authed` without a token, `invalid_auth` with a wrong one, and
        # `not_allowed_token_type` with a real token of the wrong kind (xapp- vs xoxb-).
        if kind == "none":
            return
        if not token:
            raise SlackApiFailure("not_authed")
        if token not in (self.bot_token, self.app_token):
            raise SlackApiFailure("invalid_auth")
        if token != (self.app_token if kind == "app" else self.bot_token):
            raise SlackApiFailure("not_allowed_token_type")

    def _throttle(self, method: str) -> None:
        """Answer 429 when `method` is over its configured tier."""
        limit = self.method_limits.get(method)
        if limit is not None:
            bucket = self._method_buckets.setdefault(method, TokenBucket(limit, self._clock()))
            _raise_if_limited(bucket, self._clock())

    # -- methods -----------------------------------------------------------------------

    async def _api_test(self, params: JsonDict) -> JsonDict:
        return {"ok": True, "args": {k: v for k, v in params.items() if isinstance(v, str)}}

    async def _auth_test(self, params: JsonDict) -> JsonDict:
        return {
            "ok": True,
            "url": f"{_PERMALINK_HOST}/",
            "team": "Runsbot Test",
            "user": "runsbot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    async def _chat_post_message(self, params: JsonDict) -> JsonDict:
        channel = self._conversation(params.get("channel"), must_be_member=True)
        if self.post_limit_per_channel is not None:
            bucket = self._post_buckets.setdefault(
                channel.id, TokenBucket(self.post_limit_per_channel, self._clock())
            )
            _raise_if_limited(bucket, self._clock())
        self._validate_message("chat.postMessage", channel.id, _message_fields(params))
        message = self._store_message(
            channel.id,
            text=str(params.get("text") or ""),
            blocks=list(params.get("blocks") or []),
            user=self.bot_user_id,
            bot=True,
            thread_ts=self._thread_parent(channel.id, params.get("thread_ts")),
            broadcast=is_true(params.get("reply_broadcast")),
            metadata=params.get("metadata") if isinstance(params.get("metadata"), dict) else None,
        )
        self.post_times[channel.id].append(self._clock())
        return {"ok": True, "channel": channel.id, "ts": message.ts, "message": message.to_dict()}

    async def _chat_update(self, params: JsonDict) -> JsonDict:
        channel = self._conversation(params.get("channel"), must_be_member=True)
        message = self._find_message(channel.id, params.get("ts"))
        if message.user != self.bot_user_id:
            raise SlackApiFailure("cant_update_message")
        # chat.update keeps the previous blocks when `blocks` is left out; [] removes them.
        text = str(params["text"]) if "text" in params else message.text
        blocks = list(params["blocks"]) if "blocks" in params else message.blocks
        self._validate_message("chat.update", channel.id, {"text": text, "blocks": blocks})
        message.text, message.blocks = text, blocks
        if isinstance(params.get("metadata"), dict):
            message.metadata = params["metadata"]
        message.edited = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {
            "ok": True,
            "channel": channel.id,
            "ts": message.ts,
            "text": message.text,
            "message": message.to_dict(),
        }

    async def _chat_delete(self, params: JsonDict) -> JsonDict:
        channel = self._conversation(params.get("channel"), must_be_member=True)
        message = self._find_message(channel.id, params.get("ts"))
        if message.user != self.bot_user_id:
            raise SlackApiFailure("cant_delete_message")
        self._delete_message(message)
        return {"ok": True, "channel": channel.id, "ts": message.ts}

    async def _chat_post_ephemeral(self, params: JsonDict) -> JsonDict:
        channel = self._conversation(params.get("channel"), must_be_member=True)
        user = params.get("user")
        if user not in self.users:
            raise SlackApiFailure("user_not_found")
        self._validate_message("chat.postEphemeral", channel.id, _message_fields(params))
        ephemeral = Ephemeral(
            channel.id,
            str(user),
            self._next_ts(),
            str(params.get("text") or ""),
            list(params.get("blocks") or []),
            "chat.postEphemeral",
            optional_str(params.get("thread_ts")),
        )
        self._ephemerals.append(ephemeral)
        return {"ok": True, "message_ts": ephemeral.ts}

    async def _chat_get_permalink(self, params: JsonDict) -> JsonDict:
        channel = self._conversation(params.get("channel"), must_be_member=False)
        message = self._find_message(channel.id, params.get("message_ts"))
        link = f"{_PERMALINK_HOST}/archives/{channel.id}/p{message.ts.replace('.', '')}"
        if message.is_reply:
            link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
        return {"ok": True, "channel": channel.id, "permalink": link}

    async def _conversations_info(self, params: JsonDict) -> JsonDict:
        channel = self._conversation(params.get("channel"), must_be_member=False)
        return {"ok": True, "channel": channel.to_dict()}

    async def _conversations_history(self, params: JsonDict) -> JsonDict:
        # Newest first, top-level messages only (replies live in conversations.replies):
        # https://docs.slack.dev/reference/methods/conversations.history
        channel = self._conversation(params.get("channel"), must_be_member=True)
        oldest = float(params.get("oldest") or 0)
        limit = int(params.get("limit") or 100)
        newer = [m for m in self.messages(channel.id) if float(m.ts) > oldest]
        page = list(reversed(newer))[:limit]
        return {"ok": True, "messages": [m.to_dict() for m in page], "has_more": len(newer) > limit}

    async def _conversations_replies(self, params: JsonDict) -> JsonDict:
        channel = self._conversation(params.get("channel"), must_be_member=True)
        thread = self.thread(channel.id, str(params.get("ts") or ""))
        if not thread:
            raise SlackApiFailure("thread_not_found")
        limit = int(params.get("limit") or 1000)
        start = int(params.get("cursor") or 0)
        page = thread[start : start + limit]
        more = start + limit < len(thread)
        return {
            "ok": True,
            "messages": [m.to_dict() for m in page],
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    async def _users_info(self, params: JsonDict) -> JsonDict:
        user = self.users.get(str(params.get("user") or ""))
        if user is None:
            raise SlackApiFailure("user_not_found")
        return {"ok": True, "user": user.to_dict()}

    async def _usergroups_users_list(self, params: JsonDict) -> JsonDict:
        members = self.usergroups.get(str(params.get("usergroup") or ""))
        if members is None:
            raise SlackApiFailure("no_such_subteam")
        return {"ok": True, "users": list(members)}

    async def _views_open(self, params: JsonDict) -> JsonDict:
        view = self._validate_view("views.open", params.get("view"))
        user_id = self._exchange_trigger(params.get("trigger_id"))
        self._check_external_id(view)
        self._close_views(user_id, VIEW_STACK_MAX)
        stored = self._create_view(user_id, view, root=None)
        self._modal_stacks[user_id] = [stored.id]
        return {"ok": True, "view": stored.payload}

    async def _views_push(self, params: JsonDict) -> JsonDict:
        view = self._validate_view("views.push", params.get("view"))
        user_id = self._exchange_trigger(params.get("trigger_id"))
        stack = self._modal_stacks.get(user_id, [])
        if not stack:
            raise SlackApiFailure("not_found")
        if len(stack) >= VIEW_STACK_MAX:
            raise SlackApiFailure("push_limit_reached")
        self._check_external_id(view)
        stored = self._create_view(user_id, view, root=stack[0])
        stack.append(stored.id)
        return {"ok": True, "view": stored.payload}

    async def _views_update(self, params: JsonDict) -> JsonDict:
        view = self._validate_view("views.update", params.get("view"))
        view_id, external_id = params.get("view_id"), params.get("external_id")
        stored = (
            self.views.get(str(view_id))
            if view_id
            else next(
                (
                    v
                    for v in self.views.values()
                    if external_id and v.payload.get("external_id") == external_id
                ),
                None,
            )
        )
        if stored is None or stored.closed:
            raise SlackApiFailure("not_found")
        expected_hash = params.get("hash")
        if expected_hash and expected_hash != stored.payload.get("hash"):
            # The view changed since the app read it (views.update reference, `hash`).
            raise SlackApiFailure("hash_conflict")
        self._check_external_id(view, replacing=stored.id)
        stored.payload = self._view_payload(view, stored.id, stored.payload)
        return {"ok": True, "view": stored.payload}

    async def _views_publish(self, params: JsonDict) -> JsonDict:
        view = self._validate_view("views.publish", params.get("view"))
        user_id = str(params.get("user_id") or "")
        if user_id not in self.users:
            raise SlackApiFailure("user_not_found")
        existing = self.home(user_id)
        if existing is not None:
            existing.payload = self._view_payload(view, existing.id, existing.payload)
            return {"ok": True, "view": existing.payload}
        stored = self._create_view(user_id, view, root=None)
        self._homes[user_id] = stored.id
        return {"ok": True, "view": stored.payload}


def _raise_if_limited(bucket: TokenBucket, now: float) -> None:
    wait = bucket.take(now)
    if wait > 0:
        retry_after = max(1, math.ceil(wait))
        raise SlackApiFailure("ratelimited", status=429, headers={"Retry-After": str(retry_after)})


def _message_fields(params: JsonDict) -> JsonDict:
    return {key: params[key] for key in ("text", "blocks", "attachments") if key in params}
