"""A fake Slack on 127.0.0.1: the Web API, response_urls and Socket Mode on one aiohttp server.

It keeps state like Slack (channels, messages, threads, ephemerals, views), answers like Slack
(`{"ok": false, "error": ...}` with HTTP 200, 429 with `Retry-After`, `invalid_blocks`), and
records every call so tests can assert on what a person would see.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Self

from aiohttp import web

from .faults import Error, Fault, RateLimit, RateLimited, ServerError, Slow
from .models import Call, Ephemeral, JsonDict, Message
from .socket_mode import SocketModeHub
from .waiting import WAIT_TIMEOUT, wait_until
from .web_api import Route, WebApi
from .workspace import APP_ID, TRIGGER_TTL, SlackApiFailure, is_true, optional_str

_JSON_FIELDS = ("blocks", "attachments", "view", "metadata")


class FakeSlack(WebApi):
    """A Slack workspace with one app installed, served on 127.0.0.1 at a free port.

    `post_limit_per_channel` enforces Slack's chat.postMessage limit per channel, and
    `method_limits` a Web API tier per method (both off by default). `clock` (monotonic seconds)
    drives trigger expiry, response_url expiry, rate limits and `Call.received_at`.
    """

    def __init__(
        self,
        *,
        post_limit_per_channel: RateLimit | None = None,
        method_limits: Mapping[str, RateLimit] | None = None,
        trigger_ttl: float = TRIGGER_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._sockets = SocketModeHub(APP_ID)
        super().__init__(
            post_limit_per_channel=post_limit_per_channel,
            method_limits=method_limits,
            trigger_ttl=trigger_ttl,
            clock=clock,
        )
        self.routes["apps.connections.open"] = Route(self._apps_connections_open, token="app")

    def reset(self) -> None:
        """Forget everything a test did: messages, views, calls, scripts, rate limits' state.
        Tokens, the server and open Socket Mode connections stay; their counters restart."""
        super().reset()
        self._sockets.connects = self._sockets.pings = 0
        self._scripts: dict[str, deque[Fault]] = defaultdict(deque)
        # Requests still in flight from before a reset (a scripted Slow) must not reach the
        # next test's workspace.
        self._generation = getattr(self, "_generation", 0) + 1

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._on_api)
        app.router.add_post("/response/{id}", self._on_response_url)
        app.router.add_get("/link/", self._sockets.handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is None:
            return
        await self._sockets.close()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if not self._port:
            raise RuntimeError("FakeSlack is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        """What SLACK_API_URL / `AsyncWebClient(base_url=...)` should be."""
        return f"{self.base_url}/api/"

    # -- scripting ---------------------------------------------------------------------

    def script(self, method: str, faults: Iterable[Fault]) -> None:
        """Queue the next answers of `method` (a Web API method, or `response_url`)."""
        self._scripts[method].extend(faults)

    def issue_response_url(
        self, *, channel_id: str, user_id: str, original: Message | Ephemeral | None = None
    ) -> str:
        """A response_url for an interaction: up to 5 uses within 30 minutes."""
        entry = self._register_response_url(channel_id, user_id, original)
        return f"{self.base_url}/response/{entry.id}"

    # -- Socket Mode -------------------------------------------------------------------

    @property
    def socket_connections(self) -> int:
        """Open Socket Mode connections right now."""
        return self._sockets.open_connections

    @property
    def socket_connects(self) -> int:
        """Socket Mode connections ever opened (reconnects count)."""
        return self._sockets.connects

    @property
    def socket_pings(self) -> int:
        """Pings received from Socket Mode clients (each answered with a pong)."""
        return self._sockets.pings

    async def wait_for_socket(self, *, connects: int = 1, timeout: float = WAIT_TIMEOUT) -> None:
        """Wait (bounded) until `connects` connections were made and one is open."""
        await wait_until(
            lambda: self.socket_connects >= connects and self.socket_connections > 0,
            timeout=timeout,
            message=lambda: f"{self.socket_connects} Socket Mode connections, wanted {connects}",
        )

    async def send_envelope(
        self,
        envelope_type: str,
        payload: JsonDict,
        *,
        accepts_response_payload: bool = False,
        timeout: float = 3.0,
    ) -> JsonDict | None:
        """Send an envelope over Socket Mode and return the ack's payload (None if it had none);
        raises AckTimeout without an ack within `timeout`."""
        return await self._sockets.send_envelope(
            envelope_type,
            payload,
            accepts_response_payload=accepts_response_payload,
            timeout=timeout,
        )

    async def request_reconnect(self, reason: str = "refresh_requested") -> None:
        """Send Slack's `disconnect` message on every open connection."""
        await self._sockets.request_reconnect(reason)

    async def drop_sockets(self) -> None:
        """Close every Socket Mode connection from Slack's side."""
        await self._sockets.drop()

    # -- HTTP --------------------------------------------------------------------------

    async def _on_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        authorization = request.headers.get("Authorization", "")
        call = Call(method, {}, None, self._clock(), connection=_peer(request))
        self.calls.append(call)
        try:
            call.params = await _read_params(request)
            bearer = authorization[7:].strip() if authorization.startswith("Bearer ") else ""
            call.token = bearer or optional_str(call.params.pop("token", None))
            body = await self._dispatch(method, call)
        except SlackApiFailure as failure:
            return self._answer_failure(call, failure)
        call.status = 200
        return web.json_response(body)

    async def _dispatch(self, method: str, call: Call) -> JsonDict:
        route = self.routes.get(method)
        if route is None:
            raise SlackApiFailure("unknown_method", extra={"req_method": method})
        await self._apply_scripted_fault(method, call)
        self._authenticate(call.token, route.token)
        self._throttle(method)
        return await route.handler(call.params)

    async def _apply_scripted_fault(self, method: str, call: Call) -> None:
        queue = self._scripts.get(method)
        if not queue:
            return
        fault = call.fault = queue.popleft()
        if isinstance(fault, Slow):
            # As with Slack, the request still takes effect after the wait even when the client
            # gave up on it: a timed-out post may well have been posted.
            generation = self._generation
            await asyncio.sleep(fault.seconds)
            if generation != self._generation:
                raise SlackApiFailure("fake_slack_was_reset", status=503)
        elif isinstance(fault, RateLimited):
            raise SlackApiFailure(
                "ratelimited", status=429, headers={"Retry-After": str(fault.retry_after)}
            )
        elif isinstance(fault, ServerError):
            raise SlackApiFailure("server_error", status=fault.status)
        elif isinstance(fault, Error):
            raise SlackApiFailure(fault.error)

    def _answer_failure(self, call: Call, failure: SlackApiFailure) -> web.Response:
        call.status, call.error = failure.status, failure.error
        if failure.status >= 500:
            # Slack's edge answers outages with an HTML page, not the Web API's JSON.
            html = f"<html><body><h1>{failure.status} Service Unavailable</h1></body></html>"
            return web.Response(status=failure.status, text=html, content_type="text/html")
        body = {"ok": False, "error": failure.error, **failure.extra}
        return web.json_response(body, status=failure.status, headers=failure.headers)

    async def _on_response_url(self, request: web.Request) -> web.Response:
        call = Call("response_url", {}, None, self._clock(), connection=_peer(request))
        self.calls.append(call)
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            return self._answer_failure(call, SlackApiFailure("invalid_payload", status=400))
        call.params = body
        try:
            await self._apply_scripted_fault("response_url", call)
            entry = self._use_response_url(request.match_info["id"])
            if not is_true(body.get("delete_original")) and self._record_message_violations(
                "response_url", entry.channel_id, body
            ):
                # A response_url answers problems with an HTTP error, not the Web API's 200.
                raise SlackApiFailure("invalid_blocks", status=400)
            self._apply_response(entry, body, source="response_url")
        except SlackApiFailure as failure:
            return self._answer_failure(call, failure)
        return web.json_response({"ok": True})

    async def _apps_connections_open(self, params: JsonDict) -> JsonDict:
        ticket = self._sockets.issue_ticket()
        ws_url = self.base_url.replace("http://", "ws://", 1)
        return {"ok": True, "url": f"{ws_url}/link/?ticket={ticket}&app_id={self.app_id}"}


def _peer(request: web.Request) -> str:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return f"{peer[0]}:{peer[1]}" if peer else ""


async def _read_params(request: web.Request) -> JsonDict:
    """Query string, then the form or JSON body, as Slack reads them; JSON-in-a-string fields
    (`blocks`, `view`, ... sent form-encoded) are decoded."""
    params: JsonDict = dict(request.query)
    if request.method == "POST" and request.body_exists:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise SlackApiFailure("invalid_json") from None
            if not isinstance(body, dict):
                raise SlackApiFailure("invalid_json")
            params.update(body)
        else:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    for key in _JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value.strip():
            try:
                params[key] = json.loads(value)
            except ValueError:
                raise SlackApiFailure(f"invalid_{key}_format") from None
    return params
