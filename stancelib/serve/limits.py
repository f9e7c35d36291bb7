"""Service settings (limits, batching, safety) and the checks every request goes through.

Every limit here is a command-line flag of ``stancelib serve`` (docs/serve.md). A request
over a limit gets a JSON error naming the limit, never a 500.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    model: str
    host: str = "127.0.0.1"  # loopback unless told otherwise
    port: int = 8080
    workers: int = 1
    threads: int | None = None  # inference threads per worker (None: the library's default)
    max_body_bytes: int = 1 << 20  # 1 MiB
    max_items: int = 64  # texts or documents per request
    max_chars: int = 20_000  # characters per text or document
    request_timeout: float = 30.0  # seconds, from the first byte read to the answer
    max_queue: int = 1024  # items waiting for the model; beyond it: 503 + Retry-After
    max_batch_tokens: int = 8192  # estimated tokens per micro-batch
    max_wait_ms: float = 5.0  # how long a lone request waits for company
    token_env: str = "STANCELIB_SERVE_TOKEN"  # auth is on when this variable is set
    cors_origins: tuple[str, ...] = ()  # CORS off unless origins are given

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "Settings":
        data = json.loads(text)
        data["cors_origins"] = tuple(data.get("cors_origins", ()))
        return cls(**data)

    def check(self) -> None:
        for name in ("max_body_bytes", "max_items", "max_chars", "max_queue", "max_batch_tokens", "workers"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        if self.request_timeout <= 0 or self.max_wait_ms < 0:
            raise ValueError("--request-timeout must be > 0 and --max-wait-ms >= 0")


class RequestError(Exception):
    """A client error: ``status``, a short ``code``, and the ``field`` or ``limit`` it concerns."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None, limit: str | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.field, self.limit, self.headers = field, limit, headers or {}

    def body(self) -> dict:
        err = {"code": self.code, "message": self.message}
        if self.field is not None:
            err["field"] = self.field
        if self.limit is not None:
            err["limit"] = self.limit
        return {"error": err}


# Lone surrogates (JSON "\ud800" decodes to one) cannot be encoded for the tokenizer; C0 control
# characters other than tab and newlines are never text. Both get a 422 naming the item.
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def check_items(items: list[str], field: str, settings: Settings) -> None:
    if len(items) > settings.max_items:
        raise RequestError(422, "too_many_items", f"{len(items)} items in '{field}'; the limit is "
                           f"{settings.max_items} (--max-items)", field=field, limit="max_items")
    for k, text in enumerate(items):
        if len(text) > settings.max_chars:
            raise RequestError(422, "item_too_long", f"{field}[{k}] has {len(text)} characters; the limit is "
                               f"{settings.max_chars} (--max-chars)", field=f"{field}[{k}]", limit="max_chars")
        bad = _BAD_CHARS.search(text)
        if bad:
            raise RequestError(422, "invalid_text", f"{field}[{k}] holds U+{ord(bad.group()):04X} at offset "
                               f"{bad.start()}: control characters and lone surrogates are not text",
                               field=f"{field}[{k}]")


def field_name(loc) -> str:
    """``("body", "texts", 3)`` -> ``"texts[3]"`` (pydantic's error location, as the docs write fields)."""
    parts = [p for p in loc if p != "body"] if loc and loc[0] == "body" else list(loc)
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "body"
