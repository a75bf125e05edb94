"""Retrigger delivery: send each requested retrigger to the engine (CONTRACT.md section 5).

One dispatcher per deployment holds the lease and sends, woken at once when a retrigger is
requested and swept by the scheduler for retries and leftovers (another replica's requests,
a restart's). Each trigger URL has one worker that takes turns at RUNSBOT_RETRIGGER_RATE a
second (the turns are rows, so a replica taking over keeps the pace) and starts each send
without waiting for the previous answer. A request is signed afresh at every attempt and
carries the same body; a 2xx means accepted, anything else is retried with backoff until
RETRY_WINDOW after the request, then given up: the new run is marked failed and the
original's alert thread is told. The body is never logged, and the secret appears nowhere.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from datetime import timedelta
from urllib.parse import urlsplit

import aiohttp

from bot.background import Background, lease_holder
from bot.metrics import Metrics
from bot.slack_errors import backoff
from store.retrigger_outbox import RetriggerSend
from store.run_store import RunStore

log = logging.getLogger(__name__)

LEASE = "retrigger-dispatcher"
# Renewed by every sweep (bot/scheduler.py); after a crash another replica takes over then.
LEASE_TTL = timedelta(seconds=15)
# CONTRACT.md section 5: no answer within this long is a failed attempt...
SEND_TIMEOUT = 10.0
# ...and a request not accepted this long after it was asked for is given up.
RETRY_WINDOW = timedelta(minutes=15)
# A refused request is tried again after 2 s, doubling up to a minute (within the window).
FIRST_BACKOFF = 2.0
MAX_BACKOFF = 60.0
# A claimed attempt is due again this long after its timeout if its process died mid-call.
CLAIM_MARGIN = 5.0
# The most sends in flight at once, all URLs together (each URL's pace decides how fast its
# sends start); one held by an engine that does not answer ends within SEND_TIMEOUT.
MAX_IN_FLIGHT = 20
# On close, how long a request in flight may take to answer before it is cut off.
CLOSE_GRACE = 5.0
# A Retry-After longer than this is taken as this (an engine's typo must not stall a URL).
MAX_RETRY_AFTER = 600.0

TIMESTAMP_HEADER = "X-Runsbot-Timestamp"
SIGNATURE_HEADER = "X-Runsbot-Signature"


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """`v1=<hex HMAC-SHA256 of "<timestamp>.<body>">` keyed with RUNSBOT_TRIGGER_SECRET."""
    digest = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return f"v1={digest.hexdigest()}"


def given_up_reason(last_error: str | None, attempts: int) -> str:
    """The failed new run's error message when the engine never accepted its retrigger."""
    minutes = round(RETRY_WINDOW.total_seconds() / 60)
    tried = {0: "was never sent", 1: "was tried once"}.get(attempts, f"was tried {attempts} times")
    last = f"; the last attempt: {last_error}" if last_error else ""
    return f"The engine did not accept this retrigger within {minutes} minutes (it {tried}{last})"


def _where(url: str) -> str:
    """The URL's host, for logs: a trigger URL may carry a token in its path or query."""
    return urlsplit(url).hostname or "?"


def _retry_after(response: aiohttp.ClientResponse) -> float | None:
    """A 429's or 503's Retry-After in seconds (delta-seconds form), else None."""
    if response.status not in (429, 503):
        return None
    value = response.headers.get("Retry-After", "").strip()
    if not value.isdigit():
        return None
    return min(float(value), MAX_RETRY_AFTER)


class _Refused(Exception):
    """The engine answered, but not 2xx; `retry_after` when it asked to be left alone."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RetriggerDispatcher:
    """Sends the retrigger outbox to the engine. `wake()` on a new retrigger; `dispatch()` to
    sweep."""

    def __init__(
        self, store: RunStore, *, secret: str | None, rate: float, metrics: Metrics | None = None
    ) -> None:
        self._store = store
        self._metrics = metrics or Metrics()
        self._secret = secret.encode() if secret is not None else None
        self._spacing = timedelta(seconds=1.0 / rate)
        self._holder = lease_holder()
        self._lock = asyncio.Lock()
        self._again = False
        self._tasks = Background()
        self._kicked: set[str] = set()
        self._sends: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._leased = False

    def wake(self) -> None:
        """Dispatch soon; safe to call from any coroutine, any number of times."""
        if not self._tasks.closed:
            self._tasks.start(self.sweep())

    async def sweep(self) -> None:
        """`dispatch`, for the scheduler and `wake`: a store that does not answer is logged
        in one line, and the next sweep tries again."""
        try:
            await self.dispatch()
        except Exception as error:
            log.warning("retrigger sweep failed, will retry: %s", type(error).__name__)

    async def dispatch(self) -> None:
        """Give up what waited too long, and start a worker for each URL with due sends."""
        self._again = True
        if self._lock.locked():
            return  # the running pass will go round once more
        async with self._lock:
            while self._again and not self._tasks.closed:
                self._again = False
                # A read first: with nothing due (most sweeps) the lease is not written.
                urls = await self._store.retrigger_urls_due()
                if not urls:
                    return
                self._leased = await self._store.acquire_lease(LEASE, self._holder, ttl=LEASE_TTL)
                if not self._leased:
                    return
                for given_up in await self._store.give_up_retriggers(
                    window=RETRY_WINDOW, reason=given_up_reason
                ):
                    self._metrics.retriggers.labels("given_up").inc()
                    log.warning(
                        "gave up retrigger of %s as %s: %s",
                        given_up.run_id,
                        given_up.new_run_id,
                        given_up.reason,
                    )
                if self._secret is None:
                    # Nothing can be signed (the store refuses new requests too): what an
                    # earlier configuration left is given up when its window ends.
                    return
                for url in urls:
                    self._kick(url)

    async def close(self) -> None:
        """Stop after the step each task is in, then give up the lease and the HTTP session.

        A request in flight gets CLOSE_GRACE seconds to be answered, else it is cut off; it
        stays claimed until its timeout has passed, then whoever sends next sends it again.
        """
        await self._tasks.close(CLOSE_GRACE)
        async with self._lock:
            if self._leased:
                await self._store.release_lease(LEASE, self._holder)
        if self._session is not None:
            await self._session.close()

    async def idle(self, timeout: float = 30.0) -> None:
        """Wait until nothing is being sent (for tests and benchmarks)."""
        await self._tasks.idle(timeout, "retrigger dispatcher")

    def _kick(self, url: str) -> None:
        self._kicked.add(url)
        self._tasks.start_once(url, lambda: self._url_worker(url))

    async def _url_worker(self, url: str) -> None:
        while url in self._kicked and not self._tasks.closed:
            self._kicked.discard(url)
            try:
                if await self._start_due(url):
                    self._kicked.add(url)
            except Exception as error:
                # The store failed in a way not foreseen: the sweep tries again. Its message
                # is left out: it may quote the trigger URL, token and all.
                log.error(
                    "retrigger sends to %s failed, will retry: %s",
                    _where(url),
                    type(error).__name__,
                )
                return

    async def _start_due(self, url: str) -> bool:
        """Start a paced send of each request due to `url`; True when any was started."""
        started = False
        for send in await self._store.due_retriggers(url, limit=MAX_IN_FLIGHT):
            while len(self._sends) >= MAX_IN_FLIGHT:
                await asyncio.wait(set(self._sends), return_when=asyncio.FIRST_COMPLETED)
            await self._wait_for_turn(url)
            if self._tasks.closed:
                break  # closing: what is not claimed stays due for the next process
            claim = timedelta(seconds=SEND_TIMEOUT + CLAIM_MARGIN)
            if not await self._store.claim_retrigger(send.retrigger_id, for_at_most=claim):
                continue
            task = self._tasks.start(self._send(send))
            self._sends.add(task)
            task.add_done_callback(self._sends.discard)
            started = True
        return started

    async def _wait_for_turn(self, url: str) -> None:
        while True:
            wait = await self._store.take_trigger_turn(url, spacing=self._spacing)
            if wait <= timedelta(0):
                return
            await self._tasks.pause(wait.total_seconds())

    async def _send(self, send: RetriggerSend) -> None:
        try:
            await self._attempt(send)
        except Exception as error:
            # The answer could not be recorded: the request is sent again once its claim
            # ends, with the same run_id (the engine takes each run_id once).
            log.error(
                "retrigger of %s as %s: the engine's answer was not recorded: %s",
                send.run_id,
                send.new_run_id,
                type(error).__name__,
            )

    async def _attempt(self, send: RetriggerSend) -> None:
        try:
            await self._post(send)
        except _Refused as refused:
            self._metrics.retriggers.labels("refused").inc()
            await self._failed(send, str(refused), refused.retry_after)
            return
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            reason = (
                f"no answer within {SEND_TIMEOUT:g} s"
                if isinstance(error, TimeoutError)
                else f"could not reach the engine ({type(error).__name__})"
            )
            self._metrics.retriggers.labels("no_answer").inc()
            await self._failed(send, reason, None)
            return
        self._metrics.retriggers.labels("accepted").inc()
        await self._store.record_retrigger_accepted(send.retrigger_id)
        log.info("retrigger of %s sent as %s: accepted", send.run_id, send.new_run_id)

    async def _post(self, send: RetriggerSend) -> None:
        """One signed attempt; raises _Refused for an answer other than 2xx."""
        assert self._secret is not None
        if self._session is None:
            self._session = aiohttp.ClientSession()
        body = send.body.encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self._secret, timestamp, body),
        }
        async with self._session.post(
            send.trigger_url,
            data=body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=SEND_TIMEOUT),
            allow_redirects=False,
        ) as response:
            if 200 <= response.status < 300:
                return
            raise _Refused(f"the engine answered HTTP {response.status}", _retry_after(response))

    async def _failed(self, send: RetriggerSend, error: str, retry_after: float | None) -> None:
        log.warning(
            "retrigger of %s as %s not accepted by %s: %s",
            send.run_id,
            send.new_run_id,
            _where(send.trigger_url),
            error,
        )
        if retry_after is not None:
            await self._store.hold_trigger_url(
                send.trigger_url, wait=timedelta(seconds=retry_after)
            )
            delay = retry_after
        else:
            # `attempts` counts the attempts before this one.
            delay = backoff(send.attempts, first=FIRST_BACKOFF, longest=MAX_BACKOFF)
        await self._store.record_retrigger_failure(
            send.retrigger_id,
            error=error,
            retry_in=timedelta(seconds=delay),
            not_after=send.requested_at + RETRY_WINDOW,
        )
