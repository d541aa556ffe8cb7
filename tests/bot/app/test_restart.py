"""Redis restarted during a burst (a private redis-server, so nobody else's tests notice):
503s while it is down, no 2xx for anything unrecorded, and every pull request is processed."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.bot.app.fakeapp import pr_event
from tests.bot.app.harness import free_port, running_app, wait_for
from tests.bot.github.fakegithub import FakePull, User


def start_redis(port: int, tmp: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                             "--appendonly", "no", "--dir", str(tmp)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_for(lambda: subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, check=False).stdout.strip()
             == b"PONG", timeout=10, what="redis-server")
    return proc


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_redis_restart_during_a_burst_loses_nothing(tmp_path: Path) -> None:
    port = free_port()
    redis = start_redis(port, tmp_path)
    try:
        with running_app("postgres", tmp_path, queue_url=f"redis://127.0.0.1:{port}/0") as (fake, app):
            prs = range(31, 61)
            for n in prs:
                fake.add_pull(FakePull(number=n, author=User("dev", 1), title="t", body="",
                                       head_sha=f"{n:040d}", base_sha="b" * 40))
            answers: dict[str, int] = {}

            def burst() -> None:
                for n in prs:
                    answers[f"r-{n}"] = fake.send("pull_request", pr_event(11, "acme/web", n, f"{n:040d}"), f"r-{n}")
                    time.sleep(0.05)

            sender = threading.Thread(target=burst)
            sender.start()
            time.sleep(0.4)
            redis.kill()  # down mid-burst, for at least three deliveries
            redis.wait(timeout=10)
            at_kill = len(answers)
            wait_for(lambda: len(answers) >= min(at_kill + 3, len(prs)), timeout=30, what="deliveries while down")
            redis = start_redis(port, tmp_path)  # back, empty: the queued jobs are gone too
            sender.join()
            acknowledged = {g for g, status in answers.items() if status == 202}
            assert 503 in answers.values(), "Redis was down, yet nothing was refused"
            assert set(answers.values()) <= {202, 503}
            assert acknowledged <= app.rt.store.known_guids(list(acknowledged))  # no false 2xx
            for n in prs:  # acknowledged ones by the sweeper, refused ones after GitHub redelivery
                wait_for(lambda n=n: [r.state for r in app.rt.store.runs_of("acme/web", n)] == ["done"],
                         timeout=60, what=f"PR {n}")
            assert all(len(fake.comments_on(n)) == 1 for n in prs)
    finally:
        redis.kill()
        redis.wait(timeout=10)
