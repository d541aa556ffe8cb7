"""Burst load on the GitHub App: N signed deliveries over P pull requests and I installations,
sent at a target rate to the real receiver (uvicorn) with real Huey workers and the HTTP fake
GitHub. The analysis is the fast fake (tests/bot/app/fakes.py) through the same port: this
measures the App's plumbing, not the pipeline.

    .venv/bin/python benchmarks/app_load.py --backend sqlite
    .venv/bin/python benchmarks/app_load.py --backend postgres   # PostgreSQL + Redis
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.bot.app.fakeapp import pr_event
from tests.bot.app.harness import running_app, wait_for
from tests.bot.github.fakegithub import FakePull, User


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--deliveries", type=int, default=1000)
    ap.add_argument("--prs", type=int, default=200)
    ap.add_argument("--installations", type=int, default=5)
    ap.add_argument("--rate", type=float, default=120.0, help="deliveries per second")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_app(args.backend, Path(tmp), workers=True,
                                                           max_running_per_installation=2) as (fake, app):
        per_pr = args.deliveries // args.prs
        plan = []
        for step in range(per_pr):  # every PR gets `per_pr` pushes; the last SHA is the live head
            for n in range(1, args.prs + 1):
                plan.append((n, f"{n:05d}{step:03d}".ljust(40, "0")))
        for n in range(1, args.prs + 1):
            fake.add_pull(FakePull(number=n, author=User("dev", 1), title="t", body="",
                                   head_sha=f"{n:05d}{per_pr - 1:03d}".ljust(40, "0"), base_sha="b" * 40))
        latencies: list[float] = []
        statuses: Counter[int] = Counter()
        lock = threading.Lock()

        def send(i: int, n: int, sha: str) -> None:
            inst = 100 + n % args.installations
            t0 = time.perf_counter()
            status = fake.send("pull_request", pr_event(inst, f"org{inst}/repo", n, sha), f"load-{i}")
            with lock:
                latencies.append(time.perf_counter() - t0)
                statuses[status] += 1

        start = time.perf_counter()
        wall0 = time.time()
        with ThreadPoolExecutor(max_workers=32) as pool:
            for i, (n, sha) in enumerate(plan):
                target = start + i / args.rate
                time.sleep(max(target - time.perf_counter(), 0.0))
                pool.submit(send, i, n, sha)
        send_s = time.perf_counter() - start

        def repo_of(n: int) -> str:
            return f"org{100 + n % args.installations}/repo"

        def finished() -> bool:
            return all(any(r.state == "done" for r in app.rt.store.runs_of(repo_of(n), n))
                       for n in range(1, args.prs + 1))

        wait_for(finished, timeout=900, what="every PR's last SHA")
        total_s = time.perf_counter() - start
        latencies.sort()
        wrong = [c for c in fake.check_runs.values() if not c["head_sha"].endswith("0" * 8) or True]
        heads = {f"{n:05d}{per_pr - 1:03d}".ljust(40, "0") for n in range(1, args.prs + 1)}
        stale = [c for c in wrong if c["head_sha"] not in heads]
        comments = Counter(c["number"] for c in fake.comments.values())
        print(f"backend={args.backend} deliveries={len(plan)} sent_in={send_s:.1f}s "
              f"rate={len(plan) / send_s:.0f}/s statuses={dict(statuses)}")
        print(f"answer p50={statistics.median(latencies) * 1000:.0f}ms "
              f"p99={latencies[int(len(latencies) * 0.99) - 1] * 1000:.0f}ms max={latencies[-1] * 1000:.0f}ms")
        print(f"all PRs published in {total_s:.1f}s; checks={len(fake.check_runs)} stale_checks={len(stale)} "
              f"PRs with !=1 comment={sum(1 for n in range(1, args.prs + 1) if comments[n] != 1)}")
        per_inst: dict[int, list[float]] = {}
        for n in range(1, args.prs + 1):
            for r in app.rt.store.runs_of(repo_of(n), n):
                if r.state == "done":
                    per_inst.setdefault(r.installation_id, []).append(n)
        with app.rt.store.tx() as s:
            from sqlalchemy import func, select

            from govbot.bot.app.models import Run

            rows = s.execute(select(Run.installation_id, func.min(Run.finished_at), func.max(Run.finished_at),
                                    func.count()).where(Run.state == "done").group_by(Run.installation_id)).all()
        for inst, first, last, count in rows:
            print(f"installation {inst}: {count} PRs published, first at {first - wall0:.1f}s, "
                  f"last at {last - wall0:.1f}s")
        ok = statuses == Counter({202: len(plan)}) and not stale and len(fake.check_runs) == args.prs
        return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
