"""A worker process SIGKILLed at five points of a run: another worker completes it exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.bot.app.fakeapp import AppFake, pr_event
from tests.bot.app.harness import APP_ID, PUBLIC_PEM, SECRET, AppUnderTest, drop_backend, make_settings, wait_for
from tests.bot.github.fakegithub import FakePull, Recorded, User

POINTS = {
    "after reading the pull request": ("GET", "/pulls/21"),
    "after reading the base policy": ("GET", "/contents/.github/govbot.yml"),
    "after listing the changed files": ("GET", "/pulls/21/files"),
    "after creating the comment": ("POST", "/issues/21/comments"),
    "after creating the check run": ("POST", "/check-runs"),
}


def worker_process(settings_env: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, **settings_env}
    return subprocess.Popen([sys.executable, "-m", "govbot.bot.app", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@pytest.mark.parametrize("point", list(POINTS))
def test_sigkill_at_a_point_completes_exactly_once(point: str, backend: str, tmp_path: Path) -> None:
    method, suffix = POINTS[point]
    with AppFake(public_key=PUBLIC_PEM, app_id=APP_ID, secret=SECRET) as fake:
        settings = make_settings(backend, tmp_path, fake.url, lease_s=3.0)
        app = AppUnderTest(settings, worker=False)
        fake.hook_url = app.url
        key = tmp_path / "key.pem"
        key.write_text(settings.private_key)
        env = {"GOVBOT_APP_ID": str(APP_ID), "GOVBOT_APP_PRIVATE_KEY_FILE": str(key), "GOVBOT_WEBHOOK_SECRET": SECRET,
               "GOVBOT_DATABASE_URL": settings.database_url, "GOVBOT_QUEUE_URL": settings.queue_url,
               "GOVBOT_QUEUE_NAME": settings.queue_name, "GITHUB_API_URL": fake.url, "GOVBOT_LEASE_S": "3",
               "GOVBOT_HEARTBEAT_S": "1", "GOVBOT_SWEEP_INTERVAL_S": "0.5", "GOVBOT_SECONDS_BETWEEN_WRITES": "0",
               "GOVBOT_APP_ANALYSIS": "tests.bot.app.fakes:fast_analysis", "GOVBOT_LOG_LEVEL": "WARNING",
               "GOVBOT_APP_BOT_LOGIN": "govbot[bot]", "PYTHONPATH": str(Path.cwd())}
        if settings.db_schema:
            env["GOVBOT_DATABASE_SCHEMA"] = settings.db_schema
        first = worker_process(env)
        killed: list[float] = []

        def kill(record: Recorded) -> None:
            if not killed and record.method == method and record.path.endswith(suffix):
                os.killpg(first.pid, signal.SIGKILL)  # applied on GitHub, the worker never sees the answer
                killed.append(time.time())

        fake.on_request = kill
        second = None
        try:
            app.start_receiver()
            fake.add_pull(FakePull(number=21, author=User("dev", 1), title="t", body="", head_sha="f" * 40,
                                   base_sha="b" * 40))
            assert fake.send("pull_request", pr_event(11, "acme/web", 21, "f" * 40), "k-1") == 202
            wait_for(lambda: bool(killed), timeout=30, what="the kill point")
            first.wait(timeout=10)
            second = worker_process(env)
            wait_for(lambda: [r.state for r in app.rt.store.runs_of("acme/web", 21)] == ["done"], timeout=120,
                     what="the run to complete after the kill")
            assert time.time() - killed[0] < 120
            [run] = app.rt.store.runs_of("acme/web", 21)
            assert run.attempts == 2
            assert len(fake.comments_on(21)) == 1
            checks = [c for c in fake.check_runs.values() if c["head_sha"] == "f" * 40]
            assert len(checks) == 1 and checks[0]["status"] == "completed"
            assert not fake.check_runs or all(c["status"] == "completed" for c in fake.check_runs.values())
        finally:
            for proc in (first, second):
                if proc is not None and proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
            app.stop_receiver()
            drop_backend(settings, app.rt.jobs.huey.flush)
            app.rt.store.engine.dispose()
