"""The job body: claim a run, analyse it through a port, publish idempotently, finish it.

A run is claimed with a lease (store.claim) and kept alive by a heartbeat thread; before each
write the worker checks it still holds the run and that the pull request's head is still the
run's SHA, so a superseded run never publishes. GitHub saying "wait" releases the run and
reschedules the job for the reset time instead of holding a worker thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from github import Github
from github.PullRequest import PullRequest

from govbot.bot.app.github import AppGitHub, CallStats, RateLimited, Transient
from govbot.bot.app.publish import Publication, publish_check, publish_comment, publish_labels, sticky_body
from govbot.bot.app.settings import AppSettings
from govbot.bot.app.store import Busy, Claimed, RunResult, RunView, Store

log = logging.getLogger("govbot.app.worker")


class Superseded(Exception):
    """The run lost its claim or its head SHA: stop without publishing."""

    def __init__(self, message: str, live_head: str | None = None) -> None:
        super().__init__(message)
        self.live_head = live_head


@dataclass(frozen=True)
class AnalysisRequest:
    run: RunView
    pull: PullRequest  # read-only use: files, commits, contents through the installation token
    gh: Github


class Analysis(Protocol):
    def __call__(self, request: AnalysisRequest) -> Publication: ...


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


def _fields(run: RunView) -> dict[str, object]:
    return {"run": run.id, "installation": run.installation_id, "repo": run.repo, "pr": run.pr,
            "sha": run.head_sha, "attempt": run.attempts}


class Worker:
    def __init__(self, settings: AppSettings, store: Store, github: AppGitHub, analysis: Analysis,
                 schedule: Schedule) -> None:
        self.settings, self.store, self.github = settings, store, github
        self.analysis, self.schedule = analysis, schedule

    def process(self, run_id: int) -> str:
        """Handle one job for ``run_id``; returns what happened (for logs and tests)."""
        claim = self.store.claim(run_id, self.settings.lease_s, self.settings.max_running_per_installation)
        if isinstance(claim, Busy):
            self.schedule(run_id, max(claim.delay_s, 0.05))
            return f"busy: {claim.why}"
        if not isinstance(claim, Claimed):
            return f"skipped: {claim.why}"
        run = claim.run
        stats = CallStats()
        beat = _Heartbeat(self.store, run, self.settings)
        try:
            return self._run(run, stats, beat)
        except Superseded as exc:
            self.store.supersede(run)
            log.info("run superseded", extra={**_fields(run), "why": str(exc)})
            if exc.live_head:
                follow = self.store.follow_head(run.installation_id, run.repo, run.pr, exc.live_head, run.kind)
                if follow is not None:
                    self.schedule(follow, 0.0)
            return "superseded"
        except RateLimited as exc:
            delay = max(exc.until - self.store.clock(), 0.0)
            self.store.block_installation(run.installation_id, exc.until)
            if self.store.release(run, delay):
                self.schedule(run.id, delay)
            log.warning("rate limited; run rescheduled", extra={**_fields(run), "delay_s": round(delay, 1)})
            return "rate-limited"
        except Transient as exc:
            delay = min(0.5 * 2.0 ** (run.attempts - 1), 30.0)
            if self.store.release(run, delay):
                self.schedule(run.id, delay)
            log.warning("GitHub unavailable; run rescheduled", extra={**_fields(run), "why": str(exc)})
            return "transient"
        except Exception as exc:
            log.exception("run failed", extra=_fields(run))
            self._fail(run, stats, exc, beat)
            return "failed"
        finally:
            beat.stop()
            self._flush(run, stats)

    def _guard(self, run: RunView, beat: _Heartbeat) -> None:
        if beat.lost.is_set() or not self.store.is_current(run):
            raise Superseded("the run was superseded or taken over")

    def _live_pull(self, run: RunView, stats: CallStats) -> PullRequest:
        def get(gh: Github) -> PullRequest:
            pull = gh.get_repo(run.repo).get_pull(run.pr)
            _ = pull.head.sha  # complete the object now, inside the retried call
            return pull

        pull = self.github.call(run.installation_id, stats, get, reads=True)
        if pull.state != "open":
            raise Superseded(f"pull request is {pull.state}")
        if pull.head.sha != run.head_sha:
            raise Superseded(f"head moved to {pull.head.sha[:12]}", live_head=pull.head.sha)
        return pull

    def _run(self, run: RunView, stats: CallStats, beat: _Heartbeat) -> str:
        log.info("run started", extra=_fields(run))
        pull = self._live_pull(run, stats)
        pub = self.github.call(run.installation_id, stats,
                               lambda gh: self.analysis(AnalysisRequest(run, pull, gh)), reads=True)
        self._guard(run, beat)
        self._live_pull(run, stats)  # the head may have moved while we analysed
        self._publish(run, stats, beat, pub)
        self.store.finish(run, RunResult(outcome=pub.outcome, conclusion=pub.conclusion, findings=pub.findings,
                                         tier=pub.tier, cost_usd=pub.cost_usd))
        log.info("run published", extra={**_fields(run), "outcome": pub.outcome, "conclusion": pub.conclusion})
        return "done"

    def _publish(self, run: RunView, stats: CallStats, beat: _Heartbeat, pub: Publication) -> None:
        def guard() -> None:
            self._guard(run, beat)

        def audit(action: str, target: str) -> None:
            self.store.audit(run, action, target)

        bot = self.settings.bot_login
        inst = run.installation_id
        self.github.call(inst, stats, lambda gh: publish_comment(
            gh.get_repo(run.repo).get_pull(run.pr), sticky_body(pub.comment), bot, guard, audit))
        if pub.labels_add or pub.labels_remove:
            self.github.call(inst, stats, lambda gh: publish_labels(
                gh.get_repo(run.repo).get_pull(run.pr), pub.labels_add, pub.labels_remove, guard, audit))
        self._check(run, stats, guard, pub.conclusion, pub.title, pub.summary)

    def _check(self, run: RunView, stats: CallStats, guard: Callable[[], None], conclusion: str, title: str,
               summary: str) -> None:
        self.github.call(run.installation_id, stats, lambda gh: publish_check(
            gh.get_repo(run.repo), run.head_sha, self.settings.check_name, conclusion, title, summary,
            guard, lambda action, target: self.store.audit(run, action, target)))

    def _fail(self, run: RunView, stats: CallStats, exc: Exception, beat: _Heartbeat) -> None:
        """A completed check even on failure, then the run is recorded as failed."""
        error = f"{type(exc).__name__}: {exc}"[:500]
        try:
            self._check(run, stats, lambda: self._guard(run, beat), "failure", "govbot could not finish",
                        "The analysis failed; nothing was decided. Comment `/govbot recheck` to try again.")
        except Exception:
            log.warning("could not publish the failure check", extra=_fields(run), exc_info=True)
        self.store.finish(run, RunResult(outcome="error", conclusion="failure", error=error))

    def _flush(self, run: RunView, stats: CallStats) -> None:
        try:
            for klass, count in stats.classes.items():
                self.store.bump(f"github_responses_{klass}", count)
            if stats.rate_remaining is not None:
                self.store.note_rate_limit(run.installation_id, stats.rate_remaining)
        except Exception:
            log.warning("could not record GitHub call counters", exc_info=True)

