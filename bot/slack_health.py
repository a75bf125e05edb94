"""How Slack stands, as /healthz tells it: off, ok, unreachable, or refused: <code>.

Every Slack client runsbot makes reports each call's outcome here (`SlackCallObserver`);
the alert dispatcher and the Slack connection read it to stop asking Slack once it has
refused a token, which only a new token and a restart can fix.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.config import SlackMode
from bot.metrics import Metrics

log = logging.getLogger(__name__)

BOT_TOKEN = "SLACK_BOT_TOKEN"
APP_TOKEN = "SLACK_APP_TOKEN"

# Slack's errors for a token that is no good, whatever the method (the common errors of
# every Web API method page, https://docs.slack.dev/reference/methods/auth.test): retrying
# cannot help, only a new token can.
REFUSALS = frozenset(
    {"not_authed", "invalid_auth", "account_inactive", "token_revoked", "token_expired"}
)

_WHAT_TO_DO = {
    BOT_TOKEN: (
        "reinstall the app to the workspace (or copy its Bot User OAuth Token again from "
        "OAuth & Permissions), set SLACK_BOT_TOKEN to it and restart runsbot; until then "
        "alerts wait in the database"
    ),
    APP_TOKEN: (
        "create a new app-level token with connections:write (Basic Information → "
        "App-Level Tokens), set SLACK_APP_TOKEN to it and restart runsbot; until then "
        "Socket Mode stays off"
    ),
}


def token_variable(method: str) -> str:
    """The setting whose token a Web API method uses: only Socket Mode's takes the app token."""
    return APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN


class SlackHealth:
    """The outcome of the latest Slack call, except that a refused token stays refused."""

    def __init__(self, mode: SlackMode, metrics: Metrics) -> None:
        self._metrics = metrics
        # Until Slack first answers, it has not been reached.
        self._state = "off" if mode is SlackMode.OFF else "unreachable"
        self._refused: dict[str, str] = {}

    @property
    def state(self) -> str:
        """`off`, `ok`, `unreachable` or `refused: <Slack's error code>` (CONTRACT.md §3)."""
        if self._refused:
            return f"refused: {next(iter(self._refused.values()))}"
        return self._state

    @property
    def refused(self) -> bool:
        """Slack refused a token: nothing it needs can work until a restart."""
        return bool(self._refused)

    @property
    def bot_token_refused(self) -> bool:
        return BOT_TOKEN in self._refused

    def observe(self, method: str, *, status: int | None, code: str | None) -> None:
        """One Slack call's outcome: `status` None when no answer came (then `code` says why),
        else the HTTP status and Slack's error code (None when the call succeeded)."""
        if status is None or status >= 500:
            self._state = "unreachable"
            self._metrics.slack_errors.labels(method, code or f"http_{status}").inc()
            return
        self._state = "ok"  # Slack answered, so it is reachable and took the token
        if code is None:
            return
        self._metrics.slack_errors.labels(method, code).inc()
        variable = token_variable(method)
        if code in REFUSALS and variable not in self._refused:
            self._refused[variable] = code
            log.error("Slack refused %s (%s): %s", variable, code, _WHAT_TO_DO[variable])


class SlackCallObserver(AsyncRetryHandler):
    """Tells a SlackHealth how each call of a client went; it never asks for a retry.

    slack_sdk consults a client's retry handlers after every answer and every failed
    connection (slack_sdk/web/async_internal_utils.py), and Bolt gives the client it makes
    for each request the app client's handlers, so this sees every call the app makes.
    It must come first: the SDK stops at the first handler that retries.
    """

    def __init__(self, health: SlackHealth) -> None:
        super().__init__(max_retry_count=0)
        self._health = health

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = request.url.rsplit("/", 1)[-1]
        if response is None:
            reason = "timeout" if isinstance(error, TimeoutError) else "connection_error"
            self._health.observe(method, status=None, code=reason)
        else:
            self._health.observe(method, status=response.status_code, code=_error_code(response))
        return False


def _error_code(response: HttpResponse) -> str | None:
    body: dict[str, Any] = response.body or {}
    if body.get("ok") is True:
        return None
    code = body.get("error")
    return str(code) if code else f"http_{response.status_code}"
