"""The database or Redis restarted during a burst, on private servers (tests/bot/app/servers.py)
so nobody else's tests notice: 503s while it is down, no 2xx for anything unrecorded, and every
pull request is processed exactly once afterwards (the sweeper re-enqueues recorded runs and asks
GitHub to redeliver what was refused)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.bot.app.fakeapp import AppFake, pr_event
from tests.bot.app.harness import AppUnderTest, free_port, running_app, wait_for
from tests.bot.app.servers import pg_bin, private_postgres, start_redis
from tests.bot.github.fakegithub import FakePull, User


def burst_with_outage(fake: AppFake, app: AppUnderTest, prs: range, down: Callable[[], None],
                      up: Callable[[], None]) -> None:
    for n in prs:
        fake.add_pull(FakePull(number=n, author=User("dev", 1), title="t", body="", head_sha=f"{n:040d}",
                               base_sha="b" * 40))
    answers: dict[str, int] = {}

    def burst() -> None:
        for n in prs:
            answers[f"r-{n}"] = fake.send("pull_request", pr_event(11, "acme/web", n, f"{n:040d}"), f"r-{n}")
            time.sleep(0.05)

    sender = threading.Thread(target=burst)
    sender.start()
    wait_for(lambda: len(answers) >= 5, timeout=30, what="the first deliveries")
    down()
    at_kill = len(answers)
    wait_for(lambda: len(answers) >= min(at_kill + 3, len(prs)), timeout=30, what="deliveries while down")
    up()
    sender.join()
    acknowledged = {g for g, status in answers.items() if status == 202}
    assert 503 in answers.values(), "the server was down, yet nothing was refused"
    assert set(answers.values()) <= {202, 503}
    assert acknowledged <= app.rt.store.known_guids(list(acknowledged))  # no false 2xx
    for n in prs:  # acknowledged ones by the sweeper, refused ones after GitHub's redelivery
        wait_for(lambda n=n: [r.state for r in app.rt.store.runs_of("acme/web", n)] == ["done"],
                 timeout=90, what=f"PR {n}")
    time.sleep(1.0)
    assert all(len(fake.comments_on(n)) == 1 for n in prs)
    assert all(c["status"] == "completed" for c in fake.check_runs.values())
    assert len(fake.check_runs) == len(prs)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_redis_restart_during_a_burst_loses_nothing(tmp_path: Path) -> None:
    port = free_port()
    redis = [start_redis(port, tmp_path)]

    def down() -> None:
        redis[0].kill()  # down mid-burst, for at least three deliveries
        redis[0].wait(timeout=10)

    def up() -> None:
        redis[0] = start_redis(port, tmp_path)  # back, empty: the queued jobs are gone too

    try:
        with running_app("postgres", tmp_path, queue_url=f"redis://127.0.0.1:{port}/0") as (fake, app):
            burst_with_outage(fake, app, range(31, 61), down, up)
    finally:
        redis[0].kill()
        redis[0].wait(timeout=10)


@pytest.mark.slow
@pytest.mark.skipif(pg_bin() is None or shutil.which("redis-server") is None,
                    reason="PostgreSQL server binaries or redis-server are not installed")
def test_database_restart_during_a_burst_loses_nothing(tmp_path: Path) -> None:
    port = free_port()
    redis = start_redis(port, tmp_path)
    try:
        with private_postgres() as pg, running_app("postgres", tmp_path, database_url=pg.url,
                                                   queue_url=f"redis://127.0.0.1:{port}/0") as (fake, app):
            burst_with_outage(fake, app, range(61, 91), lambda: pg.stop("immediate"), pg.start)
    finally:
        redis.kill()
        redis.wait(timeout=10)
