"""Huey wiring: SqliteHuey by default, RedisHuey for ``redis://`` URLs; the two job types; the
sweeper; and the command handler (``/govbot recheck|deep`` and check-run buttons)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from huey import Huey, RedisHuey, SqliteHuey
from huey.api import TaskWrapper

from govbot.bot.app.github import AppGitHub, AppGitHubError, CallStats, RateLimited, iso_time
from govbot.bot.app.settings import AppSettings
from govbot.bot.app.store import Store
from govbot.bot.app.worker import Worker

log = logging.getLogger("govbot.app.jobs")
WRITERS = frozenset({"admin", "maintain", "write"})


def make_huey(settings: AppSettings) -> Huey:
    url = settings.queue_url
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(settings.queue_name, filename=str(path), results=False)
    return RedisHuey(settings.queue_name, url=url, results=False)


class Jobs:
    """The queue as the rest of the App sees it. The worker is attached only where jobs run."""

    def __init__(self, huey: Huey) -> None:
        self.huey = huey
        self.worker: Worker | None = None
        self.commands: CommandHandler | None = None
        self._run: TaskWrapper = huey.task(name="govbot.run")(self._do_run)
        self._command: TaskWrapper = huey.task(name="govbot.command")(self._do_command)

    def _do_run(self, run_id: int) -> None:
        if self.worker is None:
            raise RuntimeError("govbot.run executed without a worker attached")
        outcome = self.worker.process(run_id)
        log.debug("job done", extra={"run": run_id, "outcome": outcome})

    def _do_command(self, delivery_id: int) -> None:
        if self.commands is None:
            raise RuntimeError("govbot.command executed without a worker attached")
        self.commands.handle(delivery_id)

    def enqueue_run(self, run_id: int) -> None:
        self._run(run_id)

    def schedule_run(self, run_id: int, delay_s: float) -> None:
        self._run.schedule(args=(run_id,), delay=delay_s)

    def enqueue_command(self, delivery_id: int) -> None:
        self._command(delivery_id)

    def depth(self) -> int:
        return int(self.huey.pending_count()) + int(self.huey.scheduled_count())


class CommandHandler:
    """``/govbot recheck`` and ``/govbot deep`` from writers (acknowledged with a reaction), and
    check-run ``requested_action`` buttons: each becomes a (re)run of the PR's current head."""

    def __init__(self, settings: AppSettings, store: Store, github: AppGitHub, jobs: Jobs) -> None:
        self.settings, self.store, self.github, self.jobs = settings, store, github, jobs

    def handle(self, delivery_id: int) -> None:
        found = self.store.command(delivery_id)
        if found is None:
            return
        d, payload = found
        if d.installation_id is None or d.pr is None:
            self.store.command_done(delivery_id)
            return
        inst, repo, pr = d.installation_id, d.repo, d.pr
        actor = str((payload.get("sender") or {}).get("login", ""))
        kind = "deep" if d.event == "issue_comment" and "/govbot deep" in str(
            (payload.get("comment") or {}).get("body", "")) else "review"
        if d.event == "check_run":
            kind = "deep" if (payload.get("requested_action") or {}).get("identifier") == "deep" else "review"
        stats = CallStats()

        def act(gh: object) -> str | None:
            from github import Github

            if not isinstance(gh, Github):
                raise TypeError("expected a Github client")
            r = gh.get_repo(repo)
            if d.event == "issue_comment":
                if r.get_collaborator_permission(actor) not in WRITERS:
                    return None
                comment = r.get_pull(pr).get_issue_comment(int(payload["comment"]["id"]))
                comment.create_reaction("+1")
            return str(r.get_pull(pr).head.sha)

        sha = self.github.call(inst, stats, act)
        if stats.rate_remaining is not None:
            self.store.note_rate_limit(inst, stats.rate_remaining)
        if sha is not None:
            self.store.add_feedback(f"{d.event}:{d.guid}", inst, repo, pr, sha,
                                    "deep" if kind == "deep" else "recheck", d.event, actor)
            run_id = self.store.rerun(inst, repo, pr, sha, kind)
            if run_id is not None:
                self.jobs.enqueue_run(run_id)
        self.store.command_done(delivery_id)


AGREE = frozenset({"+1", "heart", "hooray", "rocket"})
DISAGREE = frozenset({"-1", "confused"})


def reaction_label(content: str) -> str | None:
    """A reaction on govbot's comment as feedback: ``agree``, ``disagree`` or nothing (laugh, eyes)."""
    return "agree" if content in AGREE else "disagree" if content in DISAGREE else None


class Sweeper:
    """Periodic, in every worker process (idempotent, so several replicas may sweep at once):
    re-enqueue runs whose lease lapsed or that were recorded but never enqueued, and ask GitHub
    to redeliver deliveries it failed to hand to us."""

    def __init__(self, settings: AppSettings, store: Store, github: AppGitHub, jobs: Jobs,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings, self.store, self.github, self.jobs, self.clock = settings, store, github, jobs, clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.redelivered: set[int] = set()

    def sweep(self) -> tuple[int, int]:
        runs, commands = self.store.stuck(grace_s=self.settings.lease_s)
        for run_id in runs:
            self.jobs.enqueue_run(run_id)
        for delivery_id in commands:
            self.jobs.enqueue_command(delivery_id)
        if runs or commands:
            log.info("sweeper re-enqueued work", extra={"runs": len(runs), "commands": len(commands)})
        redelivered = self.redeliver()
        self.poll_reactions()
        return len(runs), redelivered

    def poll_reactions(self) -> int:
        """Read the reactions on govbot's comments (GitHub sends no webhook for them) and store
        each person's 👍/👎 once as feedback. Returns how many new feedback events were stored."""
        stored = 0
        for inst, repo, pr, comment_id, sha in self.store.comments_to_poll(self.settings.reactions_poll_s,
                                                                           self.settings.reactions_window_s):
            stats = CallStats()
            try:
                reactions = self.github.comment_reactions(inst, stats, repo, comment_id)
            except RateLimited as exc:
                self.store.block_installation(inst, exc.until)
                continue
            except AppGitHubError as exc:
                log.warning("could not read reactions", extra={"installation": inst, "repo": repo, "pr": pr,
                                                              "why": str(exc)})
                continue
            for reaction_id, content, login in reactions:
                label = reaction_label(content)
                if label is None or login == self.settings.bot_login:
                    continue
                if self.store.add_feedback(f"reaction:{reaction_id}", inst, repo, pr, sha, label, "reaction", login):
                    stored += 1
        return stored

    def redeliver(self) -> int:
        failed = self.github.failed_deliveries(since=self.clock() - 3 * 86400)
        known = self.store.known_guids([str(f.get("guid", "")) for f in failed])
        count = 0
        for item in failed:
            guid, did = str(item.get("guid", "")), int(item["id"])
            if guid in known or did in self.redelivered:
                continue
            delivered = iso_time(str(item.get("delivered_at", ""))) or 0.0
            if self.clock() - delivered < self.settings.redeliver_after_s:
                continue
            self.github.redeliver(did)
            self.redelivered.add(did)
            self.store.bump("deliveries_redelivered")
            count += 1
        return count

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.wait(self.settings.sweep_interval_s):
                try:
                    self.sweep()
                except Exception:
                    log.warning("sweep failed", exc_info=True)

        self._thread = threading.Thread(target=loop, name="govbot-sweeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

