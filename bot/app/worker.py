"""The job body: claim a run, run the Action's flow for it, finish it.

A run is claimed with a lease (``store.claim``) and kept alive by a heartbeat thread. The PR's
live head is read before the analysis: a run whose head moved is superseded and the live head's
run is (re)queued. Every write goes through ``AppPort``, which asks the store first whether the
run is still ours, so a superseded or taken-over run never publishes. GitHub saying "wait"
releases the run and reschedules the job for the reset time instead of holding a worker thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from govbot.bot.action import Analyser
from govbot.bot.app.github import AppGitHub, CallStats, RateLimited, Transient
from govbot.bot.app.review import AppPort, publish_failure, review
from govbot.bot.app.settings import AppSettings
from govbot.bot.app.store import Busy, Claimed, RunResult, RunView, Store
from govbot.bot.github.port import GitHubPort, GitHubServerError
from govbot.bot.github.state import RunState

log = logging.getLogger("govbot.app.worker")


class Superseded(Exception):
    """The run lost its claim or its head SHA: stop without publishing."""

    def __init__(self, message: str, live_head: str | None = None) -> None:
        super().__init__(message)
        self.live_head = live_head


Schedule = Callable[[int, float], None]  # (run id, delay in seconds)


class _Heartbeat:
    def __init__(self, store: Store, run: RunView, settings: AppSettings) -> None:
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._store, self._run, self._settings = store, run, settings
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{run.id}", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self._settings.heartbeat_s):
            try:
                if not self._store.heartbeat(self._run, self._settings.lease_s):
                    self.lost.set()
                    return
            except Exception:  # the store is down: the lease will lapse and the sweeper decides
                log.warning("heartbeat failed", extra={"run": self._run.id}, exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def reviewed_record(body: str) -> tuple[str, list[str]] | None:
    """The incremental review record the Action's flow wrote into the sticky comment's hidden
    state (read with the Action's own decoder): (reviewed head, finding fingerprints)."""
    state = RunState.decode(body)
    if state is None or state.reviewed is None:
        return None
    return state.reviewed.head, [f.fingerprint for f in state.reviewed.findings if f.fingerprint]


def _fields(run: RunView) -> dict[str, object]:
    return {"run": run.id, "installation": run.installation_id, "repo": run.repo, "pr": run.pr,
            "sha": run.head_sha, "kind": run.kind, "attempt": run.attempts}


class Worker:
    def __init__(self, settings: AppSettings, store: Store, github: AppGitHub, analyser: Analyser,
                 schedule: Schedule) -> None:
        self.settings, self.store, self.github = settings, store, github
        self.analyser, self.schedule = analyser, schedule

    def process(self, run_id: int) -> str:
        """Handle one job for ``run_id``; returns what happened (for logs and tests)."""
        claim = self.store.claim(run_id, self.settings.lease_s, self.settings.max_running_per_installation)
        if isinstance(claim, Busy):
            if not claim.slot:  # not due yet, or the installation is rate-limited: come back then
                self.schedule(run_id, max(claim.delay_s, 0.05))
            return f"busy: {claim.why}"
        if not isinstance(claim, Claimed):
            return f"skipped: {claim.why}"
        run = claim.run
        stats = CallStats()
        beat = _Heartbeat(self.store, run, self.settings)
        port: GitHubPort | None = None
        try:
            port = self._port(run, stats, beat)
            return self._run(run, port)
        except Superseded as exc:
            # The live head's run first: if the store fails here, this run stays claimed, its lease
            # lapses and the sweeper retries it, so the live head is never left without a run.
            if exc.live_head:
                follow = self.store.follow_head(run.installation_id, run.repo, run.pr, exc.live_head, run.kind)
                if follow is not None:
                    self.schedule(follow, 0.0)
            self.store.supersede(run)
            log.info("run superseded", extra={**_fields(run), "why": str(exc)})
            return "superseded"
        except RateLimited as exc:
            delay = max(exc.until - self.store.clock(), 0.0)
            self.store.block_installation(run.installation_id, exc.until)
            if self.store.release(run, delay):
                self.schedule(run.id, delay)
            log.warning("rate limited; run rescheduled", extra={**_fields(run), "delay_s": round(delay, 1)})
            return "rate-limited"
        except (Transient, GitHubServerError) as exc:
            delay = min(0.5 * 2.0 ** (run.attempts - 1), 30.0)
            if self.store.release(run, delay):
                self.schedule(run.id, delay)
            log.warning("GitHub unavailable; run rescheduled", extra={**_fields(run), "why": str(exc)})
            return "transient"
        except Exception as exc:
            log.exception("run failed", extra=_fields(run))
            self._fail(run, port, exc)
            return "failed"
        finally:
            beat.stop()
            self._flush(run, stats)
            self._wake(run)

    def _wake(self, run: RunView) -> None:
        """A slot of this installation is free: start the runs that waited for one. (If this
        fails, the sweeper re-enqueues overdue pending runs.)"""
        try:
            for run_id in self.store.waiting(run.installation_id, self.settings.max_running_per_installation):
                self.schedule(run_id, 0.0)
        except Exception:
            log.warning("could not wake waiting runs", extra=_fields(run), exc_info=True)

    def _port(self, run: RunView, stats: CallStats, beat: _Heartbeat) -> GitHubPort:
        def guard() -> None:
            if beat.lost.is_set() or not self.store.is_current(run):
                raise Superseded("the run was superseded or taken over")

        def audit(action: str, target: str) -> None:
            self.store.audit(run, action, target)

        from typing import cast

        def on_comment(comment_id: int, body: str) -> None:
            self.store.note_comment(run, comment_id, reviewed_record(body))

        return cast(GitHubPort, AppPort(self.settings, self.github, run, guard, audit, stats, on_comment))

    def _check_head(self, run: RunView, port: GitHubPort) -> None:
        pull = port.get_pull(run.pr)
        if pull.state != "open":
            raise Superseded(f"pull request is {pull.state}")
        if pull.head_sha != run.head_sha:
            raise Superseded(f"head moved to {pull.head_sha[:12]}", live_head=pull.head_sha)

    def _run(self, run: RunView, port: GitHubPort) -> str:
        log.info("run started", extra=_fields(run))
        self._check_head(run, port)
        result = review(self.settings, self.analyser, run, port)
        self._check_head(run, port)  # moved during the run: the Action's flow did not publish
        if not self.store.finish(run, result):
            raise Superseded("the run was taken over before it finished")
        log.info("run finished", extra={**_fields(run), "outcome": result.outcome, "error": result.error})
        return "done" if not result.error else "failed"

    def _fail(self, run: RunView, port: GitHubPort | None, exc: Exception) -> None:
        """A completed check even on failure, then the run is recorded as failed."""
        error = f"{type(exc).__name__}: {exc}"[:500]
        try:
            if port is not None:
                publish_failure(port, run.pr, run.head_sha, error)
        except Exception:
            log.warning("could not publish the failure check", extra=_fields(run), exc_info=True)
        self.store.finish(run, RunResult(outcome="error", conclusion="failure", error=error))

    def _flush(self, run: RunView, stats: CallStats) -> None:
        try:
            for klass, count in stats.classes.items():
                self.store.bump(f"github_responses_{klass}", count)
        except Exception:
            log.warning("could not record GitHub call counters", exc_info=True)
