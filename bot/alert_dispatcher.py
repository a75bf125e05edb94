"""Alert delivery: plan, post, record the message ts, retry; once, whatever happens.

One dispatcher per deployment holds the lease and does the work, woken at once
when a failure is stored and swept by the scheduler for retries and leftovers.
Each channel has one worker that posts in order, at most one message a second
(Slack's per-channel rate), and backs off on errors. A post is marked as
attempted before Slack is called; if its answer is lost (timeout, crash), the
next attempt first looks for the message in the channel by its metadata. Once
Slack refuses the bot token, nothing more is asked of it until a restart: the
deliveries wait, their attempts uncounted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.background import Background, lease_holder
from bot.metrics import Metrics
from bot.post_lookup import find_earlier_post
from bot.slack_errors import Uncertain, backoff, slack_error_code, slack_retry_after
from bot.slack_health import SlackHealth
from handlers.blocks.alert import (
    MAX_RUNS_PER_THREAD_MESSAGE,
    alert_message,
    group_alert_message,
    group_thread_message,
)
from handlers.blocks.message import SlackMessage
from handlers.blocks.thread_lines import thread_line
from store.alert_planning import GroupingRules
from store.alerts import GroupAlert, SingleAlert
from store.deliveries import AlertPost, AlertUpdate, PostTarget, ThreadLine, ThreadPost
from store.run_store import RunStore

log = logging.getLogger(__name__)

LEASE = "alert-dispatcher"
# Renewed by every sweep (bot/scheduler.py); after a crash, another process takes over
# once it expires.
LEASE_TTL = timedelta(seconds=15)
# Slack allows about one message a second per channel (chat.postMessage).
POST_INTERVAL = 1.0
# chat.update is Tier 3 (50+ a minute): a message is re-rendered at most this often,
# and all updates together stay under one a second.
UPDATE_INTERVAL = timedelta(seconds=5)
UPDATE_SPACING = 1.2
# A refused post is tried again after 2 s, doubling up to 5 minutes.
FIRST_BACKOFF = 2.0
MAX_BACKOFF = 300.0
ALERT_EVENT = "runsbot_alert"
THREAD_EVENT = "runsbot_alert_thread"
LINE_EVENT = "runsbot_thread_line"
# On close, how long a Slack call in flight may take to answer before it is cut off.
CLOSE_GRACE = 5.0


def render(alert: SingleAlert | GroupAlert) -> SlackMessage:
    return alert_message(alert) if isinstance(alert, SingleAlert) else group_alert_message(alert)


class AlertDispatcher:
    """Delivers the alert outbox to Slack. `wake()` on new failures; `dispatch()` to sweep."""

    def __init__(
        self,
        store: RunStore,
        client: AsyncWebClient,
        *,
        health: SlackHealth,
        metrics: Metrics,
        rules: GroupingRules | None = None,
        post_interval: float = POST_INTERVAL,
    ) -> None:
        self._store = store
        self._client = client
        self._health = health
        self._metrics = metrics
        self._rules = rules or GroupingRules()
        self._post_interval = post_interval
        self._holder = lease_holder()
        self._lock = asyncio.Lock()
        self._again = False
        self._tasks = Background()
        self._kicked: set[str] = set()
        self._next_post: dict[str, float] = {}
        self._next_update = 0.0

    def queued(self, count: int) -> None:
        """`count` failures were queued for alerts: count them and dispatch soon."""
        self._metrics.alerts_queued.inc(count)
        self.wake()

    def wake(self) -> None:
        """Dispatch soon; safe to call from any coroutine, any number of times."""
        if self._halted:
            return
        self._tasks.start(self.dispatch())

    async def dispatch(self) -> None:
        """Plan pending deliveries and start a worker for each channel with due work."""
        self._again = True
        if self._lock.locked():
            return  # the running pass will go round once more
        async with self._lock:
            while self._again and not self._halted:
                self._again = False
                if not await self._store.acquire_lease(LEASE, self._holder, ttl=LEASE_TTL):
                    return
                await self._store.plan_alerts(
                    self._rules, runs_per_thread_post=MAX_RUNS_PER_THREAD_MESSAGE
                )
                channels = await self._store.channels_with_due_alerts(
                    min_update_interval=UPDATE_INTERVAL
                )
                for channel_id in channels:
                    self._kick(channel_id)

    async def close(self) -> None:
        """Stop after the step each task is in, then give up the lease.

        Tasks are not cancelled in the middle of a store call: a transaction cut short can
        leave SQLite locked, and the lease could then not be released. A task waiting for its
        turn stops at once; a Slack call in flight gets CLOSE_GRACE seconds to answer, else
        it is cut off (the post is then found again by its metadata).
        """
        await self._tasks.close(CLOSE_GRACE)
        async with self._lock:  # a sweep's planning pass ends at its next check
            await self._store.release_lease(LEASE, self._holder)

    async def idle(self, timeout: float = 30.0) -> None:
        """Wait until no worker is busy (for tests and benchmarks)."""
        await self._tasks.idle(timeout, "alert dispatcher")

    @property
    def _halted(self) -> bool:
        """Closed, or Slack refused the bot token: nothing more is asked of Slack."""
        return self._tasks.closed or self._health.bot_token_refused

    def _kick(self, channel_id: str) -> None:
        self._kicked.add(channel_id)
        self._tasks.start_once(channel_id, lambda: self._channel_worker(channel_id))

    async def _channel_worker(self, channel_id: str) -> None:
        while channel_id in self._kicked and not self._halted:
            self._kicked.discard(channel_id)
            try:
                if await self._work_channel(channel_id):
                    self._kicked.add(channel_id)
            except Exception:
                # The store or Slack failed in a way not foreseen: the sweep retries.
                log.exception("alert delivery to %s failed; will retry", channel_id)
                return

    async def _work_channel(self, channel_id: str) -> bool:
        """Post what is due in one channel, in order; True when anything was due."""
        posts = await self._store.due_alert_posts(channel_id)
        for post in posts:
            await self._deliver_alert(post)
        threads = await self._store.due_thread_posts(channel_id)
        for thread_post in threads:
            await self._deliver_thread_post(thread_post)
        # After the alerts: a line replies to its alert's ts, so it waits for it.
        lines = await self._store.due_thread_lines(channel_id)
        for line in lines:
            await self._deliver_thread_line(line)
        updates = await self._store.due_alert_updates(channel_id, min_interval=UPDATE_INTERVAL)
        for alert_update in updates:
            await self._update(alert_update)
        return bool(posts or threads or lines or updates)

    # Posting ----------------------------------------------------------------------

    async def _deliver_alert(self, post: AlertPost) -> None:
        message = render(post.alert)
        metadata = {"event_type": ALERT_EVENT, "event_payload": {"alert_id": post.alert_id}}
        posted = await self._post_once(
            PostTarget.ALERT,
            post.alert_id,
            post.attempts,
            post.uncertain_since,
            channel_id=post.channel_id,
            message=message,
            metadata=metadata,
            revision=post.revision,
        )
        if posted and isinstance(post.alert, GroupAlert):
            self.wake()  # its runs can now be listed in its thread

    async def _deliver_thread_post(self, post: ThreadPost) -> None:
        message = group_thread_message(post.runs)
        metadata = {"event_type": THREAD_EVENT, "event_payload": {"thread_post_id": post.post_id}}
        await self._post_once(
            PostTarget.THREAD,
            post.post_id,
            post.attempts,
            post.uncertain_since,
            channel_id=post.channel_id,
            message=message,
            metadata=metadata,
            thread_ts=post.thread_ts,
        )

    async def _deliver_thread_line(self, line: ThreadLine) -> None:
        # A plain reply (never reply_broadcast): the channel is not told again.
        await self._post_once(
            PostTarget.LINE,
            line.line_id,
            line.attempts,
            line.uncertain_since,
            channel_id=line.channel_id,
            message=thread_line(line),
            metadata={"event_type": LINE_EVENT, "event_payload": {"line_id": line.line_id}},
            thread_ts=line.thread_ts,
        )

    async def _post_once(
        self,
        target: PostTarget,
        row_id: int,
        attempts: int,
        uncertain_since: datetime | None,
        *,
        channel_id: str,
        message: SlackMessage,
        metadata: dict[str, Any],
        thread_ts: str | None = None,
        revision: int = 0,
    ) -> bool:
        """Post unless an earlier, unanswered attempt already did; record the outcome."""
        try:
            if uncertain_since is not None:
                found = await find_earlier_post(
                    self._client,
                    self._health,
                    channel_id=channel_id,
                    metadata=metadata,
                    since=uncertain_since,
                    thread_ts=thread_ts,
                )
                if found is not None:
                    # It shows what was true at that earlier attempt: re-render it once.
                    await self._record_posted(target, row_id, found, revision=-1)
                    return True
            if self._halted:
                return False
            await self._store.record_post_attempt(target, row_id)
            await self._wait_for_turn(channel_id)
            try:
                response = await self._client.chat_postMessage(
                    channel=channel_id,
                    thread_ts=thread_ts,
                    text=message.text,
                    blocks=message.to_dict()["blocks"],
                    metadata=metadata,
                    unfurl_links=False,
                    unfurl_media=False,
                )
            finally:
                # Counted from the answer: Slack sees posts at least this far apart however
                # long each one was in flight (a 429 sets a later turn in _failed).
                self._next_post[channel_id] = time.monotonic() + self._post_interval
        except SlackApiError as error:
            if self._health.bot_token_refused:
                # Nothing was posted. The post waits for a restart with a new token, its
                # attempts uncounted (that restart looks for it first, and finds nothing).
                return False
            await self._failed(target, row_id, attempts, channel_id, error)
            return False
        except Uncertain as error:
            if error.retry_after is not None:
                self._next_post[channel_id] = time.monotonic() + error.retry_after
            await self._record_failure(
                target, row_id, attempts, str(error), uncertain=True, delay=error.retry_after
            )
            return False
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            log.warning(
                "post to %s got no answer (%s); will look for it before retrying",
                channel_id,
                type(error).__name__,
            )
            await self._record_failure(target, row_id, attempts, repr(error), uncertain=True)
            return False
        await self._record_posted(target, row_id, str(response["ts"]), revision=revision)
        return True

    async def _record_posted(
        self, target: PostTarget, row_id: int, message_ts: str, *, revision: int
    ) -> None:
        await self._store.record_posted(target, row_id, message_ts, revision=revision)
        self._metrics.alerts_posted.inc()

    async def _wait_for_turn(self, channel_id: str) -> None:
        await self._tasks.pause(self._next_post.get(channel_id, 0.0) - time.monotonic())

    async def _failed(
        self, target: PostTarget, row_id: int, attempts: int, channel_id: str, error: SlackApiError
    ) -> None:
        status = error.response.status_code
        code = slack_error_code(error)
        if (retry_after := slack_retry_after(error)) is not None:
            self._next_post[channel_id] = time.monotonic() + retry_after
            await self._record_failure(
                target, row_id, attempts, "ratelimited", uncertain=False, delay=retry_after
            )
            return
        # A 5xx may or may not have posted; an ok:false answer did not.
        uncertain = status >= 500
        log.warning("Slack refused a post to %s: %s", channel_id, code or status)
        await self._record_failure(
            target, row_id, attempts, f"{status} {code}", uncertain=uncertain
        )

    async def _record_failure(
        self,
        target: PostTarget,
        row_id: int,
        attempts: int,
        error: str,
        *,
        uncertain: bool,
        delay: float | None = None,
    ) -> None:
        retry_in = timedelta(
            seconds=delay
            if delay is not None
            else backoff(attempts, first=FIRST_BACKOFF, longest=MAX_BACKOFF)
        )
        await self._store.record_post_failure(
            target, row_id, error=error, retry_in=retry_in, uncertain=uncertain
        )
        self._metrics.alerts_retried.inc()

    # Keeping alerts true ------------------------------------------------------------

    async def _update(self, alert_update: AlertUpdate) -> None:
        if self._halted:
            return
        message = render(alert_update.alert)
        now = time.monotonic()
        await self._tasks.pause(self._next_update - now)
        self._next_update = max(self._next_update, now) + UPDATE_SPACING
        try:
            await self._client.chat_update(
                channel=alert_update.channel_id,
                ts=alert_update.message_ts,
                text=message.text,
                blocks=message.to_dict()["blocks"],
            )
        except SlackApiError as error:
            if self._health.bot_token_refused:
                return  # it stays stale, to be updated after the restart
            code = slack_error_code(error)
            if (retry_after := slack_retry_after(error)) is not None:
                # No update of any message until Slack's wait is over (chat.update's limit
                # is the workspace's, not the message's).
                self._next_update = max(self._next_update, time.monotonic() + retry_after)
            log.warning(
                "could not update alert %s: %s",
                alert_update.alert_id,
                code or error.response.status_code,
            )
            gone = code in ("message_not_found", "channel_not_found", "cant_update_message")
            await self._store.record_rendered(
                alert_update.alert_id, revision=alert_update.revision, cleared=gone
            )
            if gone:
                self._metrics.alerts_given_up.inc()
            return
        except (TimeoutError, aiohttp.ClientError, OSError):
            await self._store.record_rendered(
                alert_update.alert_id, revision=alert_update.revision, cleared=False
            )
            return
        await self._store.record_rendered(alert_update.alert_id, revision=alert_update.revision)
