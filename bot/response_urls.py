"""Answers to a response_url (the asker's private answers), over one long-lived HTTP session.

Bolt's own `respond` opens a new HTTP session for every answer: against Slack, a new TLS
connection before each `/runs` page or Next click. `ResponseUrls` keeps one session (and its
pooled connections) for the process; the Bolt middleware in bot/slack_app.py puts its
`respond` in each request's context, so listeners take `respond` as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.context.respond.internals import _build_message
from slack_sdk.models.attachments import Attachment
from slack_sdk.models.blocks import Block
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

__all__ = ["ResponseUrls"]

# As Slack's Web API calls: an answer that takes longer is not coming.
ANSWER_TIMEOUT = aiohttp.ClientTimeout(total=30)


class ResponseUrls:
    """Where listeners' `respond` sends from: one session, made on first use (inside the
    event loop) and closed with the Slack connection."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def respond(self, response_url: str) -> AsyncRespond:
        return _PooledRespond(response_url, self)

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=ANSWER_TIMEOUT)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class _PooledRespond(AsyncRespond):
    """Bolt's `respond`, the same message built by Bolt's own function, sent over the pool."""

    def __init__(self, response_url: str, pool: ResponseUrls) -> None:
        super().__init__(response_url=response_url)
        self._pool = pool

    async def __call__(
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[dict[str, Any] | Block] | None = None,
        attachments: Sequence[dict[str, Any] | Attachment] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> WebhookResponse:
        assert self.response_url is not None
        if isinstance(text, dict):
            message = _build_message(**text)
        else:
            message = _build_message(
                text=text,
                blocks=blocks,
                attachments=attachments,
                response_type=response_type,
                replace_original=replace_original,
                delete_original=delete_original,
                unfurl_links=unfurl_links,
                unfurl_media=unfurl_media,
                thread_ts=thread_ts,
                metadata=metadata,
            )
        client = AsyncWebhookClient(url=self.response_url, session=self._pool.session())
        return await client.send_dict(message)
