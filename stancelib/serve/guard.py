"""The outer layer every HTTP request passes: auth, body size, UTF-8, metrics, one log line.

Written as plain ASGI so that it sees the raw body before FastAPI parses it: a body over
``--max-body-bytes`` is refused as it streams in (never read whole into memory), and a
body that is not UTF-8 gets a 422 naming ``body`` before any JSON parser sees it.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time

from .limits import RequestError, Settings
from .metrics import Metrics

log = logging.getLogger("stancelib.serve")

# Probes and the page itself carry no data and stay open when auth is on.
OPEN_PATHS = {"/", "/healthz", "/readyz", "/docs", "/openapi.json"}


async def send_error(send, err: RequestError) -> None:
    body = json.dumps(err.body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), str(v).encode()) for k, v in err.headers.items()]
    await send({"type": "http.response.start", "status": err.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Guard:
    def __init__(self, app, settings: Settings, metrics: Metrics, token: str | None):
        self.app, self.settings, self.metrics, self.token = app, settings, metrics, token

    def _authorized(self, scope) -> bool:
        if self.token is None or scope["path"] in OPEN_PATHS or scope["method"] == "OPTIONS":
            return True
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, given = value.decode("latin-1").partition(" ")
                return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.token.encode())
        return False

    async def _read_body(self, scope, receive, started: float) -> bytes:
        limit = self.settings.max_body_bytes
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                raise _too_large(int(value), limit)
            if name == b"content-type" and value.split(b";")[0].strip().lower() != b"application/json":
                raise RequestError(415, "unsupported_media_type", "send JSON with Content-Type: application/json",
                                   field="content-type")
        chunks, size, more = [], 0, True
        while more:
            remaining = self.settings.request_timeout - (time.monotonic() - started)
            try:
                message = await asyncio.wait_for(receive(), max(remaining, 0.001))
            except TimeoutError:
                raise RequestError(408, "body_timeout", "the request body did not arrive within "
                                   f"{self.settings.request_timeout:g} s (--request-timeout)", limit="request_timeout")
            if message["type"] == "http.disconnect":
                raise ConnectionError("client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _too_large(size, limit)
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as e:
            raise RequestError(422, "invalid_encoding", f"the body is not UTF-8 (byte {e.start})", field="body")
        return body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.monotonic()
        state = scope.setdefault("state", {})
        status = [0]

        async def send_and_note(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        self.metrics.inflight += 1
        try:
            if not self._authorized(scope):
                await send_error(send_and_note, RequestError(
                    401, "unauthorized", "missing or wrong bearer token (Authorization: Bearer ...)",
                    headers={"WWW-Authenticate": "Bearer"}))
            elif scope["method"] in ("POST", "PUT", "PATCH"):
                try:
                    body = await self._read_body(scope, receive, started)
                except RequestError as e:
                    await send_error(send_and_note, e)
                    return
                except ConnectionError:
                    status[0] = 499  # nginx's "client closed request", for the log and metrics only
                    return
                replayed = False

                async def replay():
                    nonlocal replayed
                    if replayed:
                        return await receive()
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}

                state["deadline"] = started + self.settings.request_timeout
                await self.app(scope, replay, send_and_note)
            else:
                state["deadline"] = started + self.settings.request_timeout
                await self.app(scope, receive, send_and_note)
        finally:
            self.metrics.inflight -= 1
            seconds = time.monotonic() - started
            self.metrics.observe_request(scope["method"], scope["path"], status[0] or 500, seconds)
            # the path is percent-decoded: escape it so that "%0A" cannot forge a log line
            path = scope["path"].encode("unicode_escape").decode("ascii")
            log.info("%s %s %d items=%s %.1fms", scope["method"], path, status[0] or 500,
                     state.get("items", "-"), seconds * 1000)


def _too_large(size: int, limit: int) -> RequestError:
    return RequestError(413, "body_too_large", f"the body has {size} bytes or more; the limit is {limit} "
                        "(--max-body-bytes)", field="body", limit="max_body_bytes")
