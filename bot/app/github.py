"""GitHub as the App sees it: JWT → installation tokens (cached, refreshed before expiry, one
retry on 401), per-call error classification, and the App-level hook-delivery endpoints.

Errors are turned into three signals the worker acts on: ``RateLimited(until)`` (release the run
and reschedule the job for then), ``Transient`` (reschedule with backoff) and anything else.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubException, GithubIntegration

from govbot.bot.app.settings import AppSettings

T = TypeVar("T")
REPO_NAME = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
Clock = Callable[[], float]


class AppGitHubError(Exception):
    pass


class RateLimited(AppGitHubError):
    def __init__(self, until: float, message: str) -> None:
        super().__init__(message)
        self.until = until


class Transient(AppGitHubError):
    """A 5xx or a connection failure: nothing is known to be applied; try the run again later."""


def _header(headers: dict[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def rate_limit_until(status: int, headers: dict[str, Any] | None, message: str, now: float) -> float | None:
    """When GitHub lets us call again, or None if this answer is not a rate limit (pure)."""
    if status not in (403, 429):
        return None
    retry_after = _header(headers, "retry-after")
    if retry_after and retry_after.strip().isdigit():
        return now + float(retry_after.strip())
    reset = _header(headers, "x-ratelimit-reset")
    if _header(headers, "x-ratelimit-remaining") == "0" and reset and reset.isdigit():
        return float(reset) + 1.0
    if status == 429 or "rate limit" in message.lower():
        return now + 60.0  # GitHub: wait at least one minute when it gives no time
    return None


def response_class(exc: BaseException | None) -> str:
    if exc is None:
        return "2xx"
    if isinstance(exc, GithubException):
        return f"{exc.status // 100}xx"
    return "connection"


@dataclass
class CallStats:
    """What one run saw from GitHub; flushed into the store's counters once per run."""

    classes: Counter[str] = field(default_factory=Counter)
    rate_remaining: int | None = None


@dataclass
class _Token:
    value: str
    expires_at: float


class AppGitHub:
    """One per process. Thread-safe; tokens are shared by all runs of an installation."""

    def __init__(self, settings: AppSettings, clock: Clock = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self._auth = Auth.AppAuth(settings.app_id, settings.private_key)
        self._lock = threading.Lock()
        self._tokens: dict[int, _Token] = {}
        self.token_requests = 0

    def integration(self) -> GithubIntegration:
        return GithubIntegration(auth=self._auth, base_url=self.settings.api_url,
                                 timeout=self.settings.http_timeout_s, retry=None)

    def token(self, inst_id: int, *, force: bool = False) -> str:
        with self._lock:
            cached = self._tokens.get(inst_id)
            if not force and cached and cached.expires_at - self.clock() > self.settings.token_refresh_margin_s:
                return cached.value
        gi = self.integration()
        try:
            auth = gi.get_access_token(inst_id)
        except GithubException as exc:
            raise self._translate(exc) from exc
        except requests.RequestException as exc:
            raise Transient(f"installation token: {type(exc).__name__}") from exc
        finally:
            gi.close()
        expires = auth.expires_at.timestamp() if auth.expires_at else self.clock() + 3600
        with self._lock:
            self._tokens[inst_id] = _Token(auth.token, expires)
            self.token_requests += 1
        return auth.token

    def client(self, inst_id: int, *, force: bool = False) -> Github:
        return Github(auth=Auth.Token(self.token(inst_id, force=force)), base_url=self.settings.api_url,
                      timeout=self.settings.http_timeout_s, retry=None, lazy=True,
                      seconds_between_requests=None,
                      seconds_between_writes=self.settings.seconds_between_writes or None)

    def _translate(self, exc: GithubException) -> AppGitHubError:
        message = str(exc.data.get("message", "")) if isinstance(exc.data, dict) else ""
        until = rate_limit_until(exc.status, exc.headers, message, self.clock())
        if until is not None:
            return RateLimited(until, f"GitHub rate limit ({exc.status}); retry after {until:.0f}")
        if exc.status >= 500:
            return Transient(f"GitHub answered {exc.status}")
        return AppGitHubError(f"GitHub answered {exc.status}: {message}")

    def call(self, inst_id: int, stats: CallStats, fn: Callable[[Github], T], *, reads: bool = False) -> T:
        """Run ``fn`` with an installation client: one fresh-token retry on 401; reads retry 5xx twice."""
        refreshed = False
        attempts = 0
        while True:
            gh = self.client(inst_id, force=refreshed)
            try:
                result = fn(gh)
                stats.classes["2xx"] += 1
                return result
            except GithubException as exc:
                stats.classes[response_class(exc)] += 1
                if exc.status == 401 and not refreshed:
                    refreshed = True
                    continue
                attempts += 1
                if reads and exc.status >= 500 and attempts < 3:
                    time.sleep(0.2 * attempts)
                    continue
                raise self._translate(exc) from exc
            except requests.RequestException as exc:
                stats.classes["connection"] += 1
                attempts += 1
                if reads and attempts < 3:
                    time.sleep(0.2 * attempts)
                    continue
                raise Transient(f"GitHub connection failed: {type(exc).__name__}") from exc
            finally:
                remaining = gh.requester.rate_limiting[0] if gh.requester.rate_limiting else -1
                if remaining >= 0:
                    stats.rate_remaining = remaining
                gh.close()

    def comment_reactions(self, inst_id: int, stats: CallStats, repo: str, comment_id: int
                          ) -> list[tuple[int, str, str]]:
        """(reaction id, content, user login) of the reactions on one issue comment."""
        if not REPO_NAME.fullmatch(repo):
            raise AppGitHubError(f"not a repository name: {repo!r}")

        def read(gh: Github) -> list[tuple[int, str, str]]:
            _, data = gh.requester.requestJsonAndCheck(
                "GET", f"/repos/{repo}/issues/comments/{int(comment_id)}/reactions", parameters={"per_page": 100})
            return [(int(r["id"]), str(r.get("content", "")), str((r.get("user") or {}).get("login", "")))
                    for r in data or [] if isinstance(r, dict)]

        return self.call(inst_id, stats, read, reads=True)

    # -- App-level endpoints (JWT) --------------------------------------------------------------

    def failed_deliveries(self, since: float) -> list[dict[str, Any]]:
        """Deliveries GitHub could not hand to us since ``since`` (newest page first)."""
        gi = self.integration()
        try:
            _, data = gi.requester.requestJsonAndCheck("GET", "/app/hook/deliveries", parameters={"per_page": 100})
        finally:
            gi.close()
        out = []
        for item in data or []:
            delivered = item.get("delivered_at") or ""
            ts = iso_time(delivered)
            if ts is not None and ts >= since and int(item.get("status_code") or 0) // 100 != 2:
                out.append(item)
        return out

    def redeliver(self, delivery_id: int) -> None:
        gi = self.integration()
        try:
            gi.requester.requestJsonAndCheck("POST", f"/app/hook/deliveries/{int(delivery_id)}/attempts")
        finally:
            gi.close()


def iso_time(text: str) -> float | None:
    """GitHub's ISO 8601 timestamps (``...Z``) as UNIX seconds; None when unreadable."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
