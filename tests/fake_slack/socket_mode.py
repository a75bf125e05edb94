"""The Socket Mode side of the fake: the websocket `apps.connections.open` points at.

Frames follow https://docs.slack.dev/apis/events-api/using-socket-mode and the payloads in
slack_sdk's own Socket Mode tests: a `hello` on connect, envelopes
`{"envelope_id", "type", "payload", "accepts_response_payload"}` from Slack, acks
`{"envelope_id", "payload"?}` from the app, and `{"type": "disconnect", "reason": ...}` when
Slack wants the app to reconnect. slack_sdk's aiohttp client pings on connect and every
`ping_interval` seconds, and reconnects when no pong comes back: the hub answers every ping.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

JsonDict = dict[str, Any]

ENVELOPE_TYPES = ("slash_commands", "interactive", "events_api")


class AckTimeout(AssertionError):
    """The app did not ack an envelope in time (Slack would show the user an error)."""


class SocketModeHub:
    """Tickets, open connections and pending acks of the fake's Socket Mode endpoint."""

    def __init__(self, app_id: str) -> None:
        self._app_id = app_id
        self._tickets: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self._pending: dict[str, asyncio.Future[JsonDict | None]] = {}
        self.connects = 0
        self.pings = 0
        self.received: list[JsonDict] = []

    @property
    def open_connections(self) -> int:
        return sum(1 for ws in self._sockets if not ws.closed)

    def issue_ticket(self) -> str:
        ticket = secrets.token_hex(16)
        self._tickets.add(ticket)
        return ticket

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            # Each URL from apps.connections.open is good for one connection.
            return web.Response(status=401, text="invalid or used ticket")
        self._tickets.discard(ticket)
        # Pings are answered by hand (not autoping) so tests can see the client's keep-alive.
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        self._sockets.append(ws)
        self.connects += 1
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": self.open_connections,
                "debug_info": {"host": "fake-slack", "build_number": 1},
                "connection_info": {"app_id": self._app_id},
            }
        )
        try:
            async for frame in ws:
                if frame.type == WSMsgType.TEXT:
                    self._on_text(frame.data)
                elif frame.type == WSMsgType.PING:
                    self.pings += 1
                    await ws.pong(frame.data)
        finally:
            self._sockets.remove(ws)
        return ws

    def _on_text(self, data: str) -> None:
        try:
            frame = json.loads(data)
        except ValueError:
            return
        if not isinstance(frame, dict):
            return
        self.received.append(frame)
        future = self._pending.get(str(frame.get("envelope_id")))
        if future is not None and not future.done():
            payload = frame.get("payload")
            future.set_result(payload if isinstance(payload, dict) else None)

    async def send_envelope(
        self,
        envelope_type: str,
        payload: JsonDict,
        *,
        accepts_response_payload: bool,
        timeout: float,
    ) -> JsonDict | None:
        """Send one envelope on the newest connection; answer the ack's payload (None when the
        ack carried none). Raises AckTimeout when no ack comes within `timeout`."""
        if envelope_type not in ENVELOPE_TYPES:
            raise ValueError(f"unknown envelope type {envelope_type!r}")
        ws = await self._newest_socket(timeout)
        envelope_id = str(uuid.uuid4())
        envelope: JsonDict = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": envelope_type,
            "accepts_response_payload": accepts_response_payload,
        }
        if envelope_type == "events_api":
            envelope["retry_attempt"] = 0
            envelope["retry_reason"] = ""
        future: asyncio.Future[JsonDict | None] = asyncio.get_running_loop().create_future()
        self._pending[envelope_id] = future
        try:
            await ws.send_json(envelope)
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise AckTimeout(f"no ack for {envelope_type} envelope within {timeout} s") from None
        finally:
            self._pending.pop(envelope_id, None)

    async def _newest_socket(self, timeout: float) -> web.WebSocketResponse:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            open_sockets = [ws for ws in self._sockets if not ws.closed]
            if open_sockets:
                return open_sockets[-1]
            if loop.time() >= deadline:
                raise AckTimeout(f"no Socket Mode connection within {timeout} s")
            await asyncio.sleep(0.01)

    async def request_reconnect(self, reason: str) -> None:
        """Send Slack's `disconnect` message: the client should open a new connection."""
        for ws in [ws for ws in self._sockets if not ws.closed]:
            await ws.send_json(
                {"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-slack"}}
            )

    async def drop(self) -> None:
        """Close every connection from Slack's side."""
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"fake slack closed the socket")

    async def close(self) -> None:
        for future in self._pending.values():
            future.cancel()
        await self.drop()
