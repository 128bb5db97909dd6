"""ASGI middleware that answers 413 to request bodies over a size limit.

It checks ``Content-Length`` before anything is read, and counts the bytes of bodies sent
without one (chunked), so a huge upload is refused without being spooled to disk first.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _TooLarge(Exception):
    pass


class UploadLimit:
    """Refuse request bodies larger than ``max_bytes`` with 413 and a JSON error."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def _reject(self, send: Send, size: int | None) -> None:
        seen = f"{size} bytes" if size is not None else f"more than {self.max_bytes} bytes"
        body = json.dumps({"error": {"type": "PayloadTooLarge", "message":
                                     f"upload is {seen}; the limit is {self.max_bytes} bytes "
                                     f"({self.max_bytes / 1e6:g} MB)"}}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._reject(send, int(length))
            return
        received, started, too_large = 0, False, False

        async def counted_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    too_large = True
                    raise _TooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if too_large:  # the app answered its failed body read (e.g. 400): answer 413
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._reject(send, None)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _TooLarge:
            if not started:
                await self._reject(send, None)

    def __repr__(self) -> str:
        return f"UploadLimit(max_bytes={self.max_bytes})"


