"""The SDK-neutral side of model calls: the client protocol and typed call errors.

The adapters themselves live in ``router/sdk.py``, the only module that imports ``openai`` and
``anthropic`` (imported lazily: the SDKs take ~2 s to load, paid only when a model is called).

Each adapter turns a ``Prompt`` into text plus token usage, and every SDK failure into a typed
``CallError`` whose ``kind`` drives retry and fallback. The SDKs' own retries are switched off
(``max_retries=0``): govbot retries with tenacity so it can honour Retry-After, bound the wait and
move to the next model (see ``router/fallback.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from govbot.prompts.render import Prompt
from govbot.prompts.schema import Contract, InvalidOutput
from govbot.router.catalogue import Usage

RETRYABLE = frozenset({"rate_limited", "overloaded", "server_error", "connection"})


class CallError(Exception):
    """A model call failed. ``kind``: rate_limited | overloaded | server_error | timeout |
    connection | auth | bad_request | error."""

    def __init__(self, kind: str, message: str, *, retry_after: float | None = None, status: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after
        self.status = status

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE


class OutputError(InvalidOutput):
    """A reply arrived (and was paid for) but is not a usable review."""

    def __init__(self, message: str, usage: Usage) -> None:
        super().__init__(message)
        self.usage = usage


@dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage


class ChatClient(Protocol):
    def complete(self, prompt: Prompt, *, max_output_tokens: int, contract: Contract[Any]) -> Completion: ...

    def close(self) -> None: ...


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Retry-After (seconds or retry-after-ms); an HTTP date is not trusted and ignored."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(float(ms) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value:
        try:
            return max(float(value), 0.0)
        except ValueError:
            return None
    return None


def _status_error(status: int, headers: Mapping[str, str] | None, message: str) -> CallError:
    if status == 429:
        kind = "rate_limited"
    elif status in (503, 529):
        kind = "overloaded"
    elif status >= 500:
        kind = "server_error"
    elif status in (401, 403):
        kind = "auth"
    else:
        kind = "bad_request"
    return CallError(kind, f"HTTP {status}: {message[:200]}", retry_after=retry_after_seconds(headers), status=status)


def _short(exc: Exception) -> str:
    return type(exc).__name__
