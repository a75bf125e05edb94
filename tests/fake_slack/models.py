"""What the fake Slack remembers: the workspace, its messages and views, and every call."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from .faults import Fault

JsonDict = dict[str, Any]


@dataclass
class Call:
    """One request the fake received, as the app sent it (JSON strings such as `blocks` and
    `view` already decoded), and how the fake answered it. `fault` is the scripted fault it
    met, set as soon as it meets it (a call held by `Slow` shows it while still unanswered).
    `connection` tells the app's TCP connections apart (its address and port)."""

    method: str
    params: JsonDict
    token: str | None
    received_at: float
    status: int = 200
    error: str | None = None
    fault: Fault | None = None
    connection: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None


@dataclass
class User:
    id: str
    name: str
    real_name: str
    tz: str
    team_id: str
    is_bot: bool = False

    @property
    def tz_offset(self) -> int:
        """Seconds east of UTC now, as `users.info` reports it (it follows daylight saving)."""
        offset = dt.datetime.now(ZoneInfo(self.tz)).utcoffset()
        return int(offset.total_seconds()) if offset is not None else 0

    @property
    def tz_label(self) -> str:
        return dt.datetime.now(ZoneInfo(self.tz)).tzname() or self.tz

    def to_dict(self) -> JsonDict:
        # Shape of https://docs.slack.dev/reference/methods/users.info
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": False,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": self.tz_label,
            "tz_offset": self.tz_offset,
            "is_bot": self.is_bot,
            "is_admin": False,
            "is_app_user": False,
            "profile": {
                "real_name": self.real_name,
                "display_name": self.name,
                "real_name_normalized": self.real_name,
                "display_name_normalized": self.name,
                "team": self.team_id,
            },
        }


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    bot_is_member: bool = True
    im_user: str | None = None

    @property
    def is_im(self) -> bool:
        return self.im_user is not None

    def to_dict(self) -> JsonDict:
        # Shape of https://docs.slack.dev/reference/methods/conversations.info
        info: JsonDict = {
            "id": self.id,
            "is_channel": not self.is_private and not self.is_im,
            "is_group": False,
            "is_im": self.is_im,
            "is_private": self.is_private or self.is_im,
            "is_archived": False,
            "is_member": self.bot_is_member,
        }
        if self.is_im:
            info["user"] = self.im_user
        else:
            info["name"] = self.name
            info["name_normalized"] = self.name
        return info


@dataclass
class Message:
    """A message as everyone in the channel sees it."""

    channel: str
    ts: str
    text: str
    blocks: list[JsonDict]
    user: str
    team: str
    bot_id: str | None = None
    app_id: str | None = None
    thread_ts: str | None = None
    subtype: str | None = None
    metadata: JsonDict | None = None
    edited: JsonDict | None = None
    reply_ts: list[str] = field(default_factory=list)
    reply_users: list[str] = field(default_factory=list)

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def reply_count(self) -> int:
        return len(self.reply_ts)

    def to_dict(self) -> JsonDict:
        """The message object as Slack's Web API and interaction payloads carry it."""
        data: JsonDict = {"type": "message", "user": self.user, "text": self.text, "ts": self.ts}
        data["team"] = self.team
        if self.bot_id is not None:
            data["bot_id"] = self.bot_id
            data["app_id"] = self.app_id
        if self.blocks:
            data["blocks"] = self.blocks
        if self.subtype is not None:
            data["subtype"] = self.subtype
        if self.thread_ts is not None:
            data["thread_ts"] = self.thread_ts
        if self.reply_ts:
            data["reply_count"] = len(self.reply_ts)
            data["reply_users_count"] = len(self.reply_users)
            data["latest_reply"] = self.reply_ts[-1]
            data["reply_users"] = list(self.reply_users)
        if self.metadata is not None:
            data["metadata"] = self.metadata
        if self.edited is not None:
            data["edited"] = self.edited
        return data


@dataclass
class Ephemeral:
    """A message only `user` sees ("Only visible to you"); `source` says how it got there:
    `chat.postEphemeral`, `response_url`, or `ack` (the body of a slash command's ack)."""

    channel: str
    user: str
    ts: str
    text: str
    blocks: list[JsonDict]
    source: str
    thread_ts: str | None = None

    def to_dict(self) -> JsonDict:
        data: JsonDict = {"type": "message", "text": self.text, "ts": self.ts}
        if self.blocks:
            data["blocks"] = self.blocks
        if self.thread_ts is not None:
            data["thread_ts"] = self.thread_ts
        return data


@dataclass
class View:
    """A modal or Home tab as Slack stores it (`payload` is the `view` object Slack returns and
    sends back in interactions). `errors` holds the last `response_action: errors` shown."""

    id: str
    user_id: str
    payload: JsonDict
    errors: dict[str, str] = field(default_factory=dict)
    closed: bool = False

    @property
    def callback_id(self) -> str:
        return str(self.payload.get("callback_id", ""))

    @property
    def private_metadata(self) -> str:
        return str(self.payload.get("private_metadata", ""))

    @property
    def blocks(self) -> list[JsonDict]:
        return list(self.payload.get("blocks", []))

    @property
    def title(self) -> str:
        title = self.payload.get("title") or {}
        return str(title.get("text", ""))


@dataclass
class ResponseUrl:
    """A response_url the driver handed to the app, and what it may still do."""

    id: str
    channel_id: str
    user_id: str
    issued_at: float
    original: Message | Ephemeral | None = None
    uses: int = 0
