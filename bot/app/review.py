"""One run attempt = the Action's own flow (``bot.action.full_run``: base policy, change loading,
``govbot.pipeline.analyse``, publishing through ``bot/github/publish.py``) over ``AppPort``.

``AppPort`` is the Action's PyGithub adapter on an installation token, wrapped so that:

* every write first asks ``guard`` whether the run is still ours (a superseded or taken-over run
  never publishes) and is then written to the audit log;
* a 401 rebuilds the adapter with a freshly minted token and retries the call once, and a token
  close to expiry is replaced before the next call;
* a wait longer than ``MAX_INLINE_WAIT_S`` (a rate limit's ``retry-after``/reset) is not slept:
  it raises ``RateLimited(until)`` so the worker releases the run and reschedules the job;
* other 5xx failures raise ``Transient`` (the run is re-queued with backoff).
"""

from __future__ import annotations

import io
import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import requests
from github import GithubException

from govbot.bot.action import ActionSettings, Analyser, Context, default_renderers, full_run
from govbot.bot.app.github import AppGitHub, CallStats, RateLimited, rate_limit_until
from govbot.bot.app.settings import AppSettings
from govbot.bot.app.store import RunResult, RunView
from govbot.bot.github.port import CheckOutput, GitHubError, GitHubPort, GitHubServerError
from govbot.bot.github.port import RateLimited as PortRateLimited
from govbot.bot.github.publish import check_name, publish_check
from govbot.bot.github.pygithub import GitHubSettings, PyGithubAdapter, RetryBudget, RetrySettings
from govbot.core.models import Report

log = logging.getLogger("govbot.app.review")
WRITES = frozenset({"create_comment", "edit_comment", "delete_comment", "ensure_label", "add_labels",
                    "remove_label", "create_check_run", "update_check_run", "create_status"})
MAX_INLINE_WAIT_S = 1.0  # short 5xx backoffs are slept; anything longer reschedules the job
RETRY = RetrySettings(budget_s=20.0, max_attempts=4, backoff_s=0.25, max_backoff_s=1.0)


class _Reschedule(Exception):
    def __init__(self, until: float) -> None:
        super().__init__(f"wait until {until:.0f}")
        self.until = until


def _inline_sleep(seconds: float) -> None:
    if seconds > MAX_INLINE_WAIT_S:
        raise _Reschedule(time.time() + seconds)
    time.sleep(seconds)


class AppPort:
    """A ``GitHubPort`` for one run attempt (see the module docstring)."""

    def __init__(self, settings: AppSettings, github: AppGitHub, run: RunView, guard: Callable[[], None],
                 audit: Callable[[str, str], None], stats: CallStats,
                 on_comment: Callable[[int, str], None] | None = None) -> None:
        self._settings, self._github, self._run = settings, github, run
        self._guard, self._audit, self._stats = guard, audit, stats
        self._on_comment = on_comment  # govbot's sticky comment id, kept for reaction polling
        self._token = ""
        self._inner: PyGithubAdapter | None = None

    def _adapter(self, *, force: bool = False) -> PyGithubAdapter:
        token = self._github.token(self._run.installation_id, force=force)
        if self._inner is None or token != self._token:
            s = self._settings
            self._token = token
            self._inner = PyGithubAdapter(
                GitHubSettings(token=token, repository=self._run.repo, api_url=s.api_url, timeout_s=s.http_timeout_s,
                               seconds_between_writes=s.seconds_between_writes, read_concurrency=4),
                RetryBudget(settings=RETRY, sleep=_inline_sleep))
        return self._inner

    def __getattr__(self, name: str) -> Any:
        if not callable(getattr(PyGithubAdapter, name, None)):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._call(name, args, kwargs)

        return call

    def _call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if name in WRITES:
            self._guard()
        try:
            try:
                result = getattr(self._adapter(), name)(*args, **kwargs)
            except GitHubError as exc:
                if exc.status != 401:
                    raise
                self._stats.classes["4xx"] += 1
                result = getattr(self._adapter(force=True), name)(*args, **kwargs)
        except Exception as exc:
            translated = _translate(name, exc, self._stats)
            if translated is exc:
                raise
            raise translated from exc
        self._stats.classes["2xx"] += 1
        if name in WRITES:
            self._audit(name, _target(name, args))
        if self._on_comment is not None and name in ("create_comment", "edit_comment"):
            if name == "create_comment":
                self._on_comment(int(result.id), str(args[1]))
            else:
                self._on_comment(int(args[1]), str(args[2]))
        return result


def _translate(name: str, exc: Exception, stats: CallStats) -> Exception:
    """What the worker acts on: RateLimited(until), GitHubServerError (transient), or as is."""
    if isinstance(exc, _Reschedule):
        stats.classes["rate_limited"] += 1
        return RateLimited(exc.until, f"{name}: GitHub asked to wait")
    if isinstance(exc, PortRateLimited):
        stats.classes["rate_limited"] += 1
        return RateLimited(_until(exc.__cause__, str(exc)), f"{name}: {exc}")
    if isinstance(exc, GithubException):  # a request the adapter made outside its retry policy
        until = rate_limit_until(exc.status, exc.headers, str(exc.data), time.time())
        if until is not None:
            return RateLimited(until, f"{name}: rate limited")
        stats.classes[f"{exc.status // 100}xx"] += 1
        if exc.status >= 500:
            return GitHubServerError(f"{name}: GitHub answered {exc.status}", exc.status)
        return exc
    if isinstance(exc, requests.RequestException):
        stats.classes["connection"] += 1
        return GitHubServerError(f"{name}: connection failed: {type(exc).__name__}")
    if isinstance(exc, GitHubError):
        stats.classes[f"{(exc.status or 0) // 100}xx"] += 1
    return exc


def _until(cause: BaseException | None, message: str) -> float:
    now = time.time()
    until = rate_limit_until(cause.status, cause.headers, message, now) if isinstance(cause, GithubException) else None
    return until or now + 60.0


def _target(name: str, args: Sequence[Any]) -> str:
    return str(args[0])[:100] if args else ""


def review(settings: AppSettings, analyser: Analyser, run: RunView, port: GitHubPort) -> RunResult:
    """Run the Action's full flow for ``run`` over ``port``; what it decided, for the store."""
    reports: list[Report] = []

    def capture(*args: Any, **kwargs: Any) -> Report:
        report = analyser(*args, **kwargs)
        reports.append(report)
        return report

    out = io.StringIO()
    with tempfile.TemporaryDirectory(prefix="govbot-app-") as tmp:
        action = ActionSettings(repository=run.repo, event_name="pull_request", event_path=None,
                                api_url=settings.api_url, report_dir=Path(tmp),
                                write_interval_s=settings.seconds_between_writes, retry=RETRY)
        ctx = Context(action, port, cast(Analyser, capture), default_renderers(), out)
        code = full_run(ctx, run.pr, "pro" if run.kind == "deep" else None, None)
    log.debug("action flow output", extra={"run": run.id, "output": out.getvalue()[-2000:]})
    if not reports:
        return RunResult(outcome="error", conclusion="failure", error=f"no analysis (exit {code})")
    r = reports[-1]
    return RunResult(outcome=r.decision.outcome.value, conclusion="failure" if code == 1 else "success",
                           findings=len(r.findings), tier=r.route.tier.value, cost_usd=r.llm.cost_usd)


def publish_failure(port: GitHubPort, number: int, head_sha: str, error: str) -> None:
    """A completed check even when the run failed: it says nothing was decided."""
    output = CheckOutput(title="govbot could not finish",
                         summary="The analysis failed; nothing was decided. Comment `/govbot recheck` to try "
                                 f"again.\n\n`{error[:200]}`", text="", annotations=())
    publish_check(port, head_sha, check_name(port.get_pull(number)), "failure", output, None, log.warning)
