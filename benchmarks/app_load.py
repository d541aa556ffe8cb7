"""Burst load on the GitHub App, deployed the way it runs: the receiver (`govbot app receiver`,
uvicorn) and the workers (`govbot app worker`) are separate processes; this process is GitHub —
the HTTP fake (tests/bot/app/fakeapp.py) that the workers call, and the sender that posts N
signed deliveries over P pull requests and I installations at a target rate.

Every PR gets N/P pushes (synchronize events whose `pull_request.updated_at` increases); the
fake's live head is each PR's last SHA. The analysis is the real pipeline with every scanner off
(tests/bot/app/fakes.py): this measures the App's plumbing, not the scanners.

    nice -n 10 .venv/bin/python benchmarks/app_load.py --backend postgres   # PostgreSQL + Redis
    nice -n 10 .venv/bin/python benchmarks/app_load.py --backend sqlite     # SQLite + SqliteHuey

It checks the issue's targets and exits 1 if one is missed: every answer 202 with p99 < 1 s and a
send rate >= the target, every acknowledged delivery stored, every PR published exactly once and
for its last SHA only (one comment, one completed check, no check on an older SHA), and no
installation starved (each installation's PRs finish within the same window as the others').
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from govbot.bot.app.migrate import upgrade  # noqa: E402
from govbot.bot.app.models import Delivery, Run  # noqa: E402
from govbot.bot.app.store import make_engine  # noqa: E402
from tests.bot.app.fakeapp import AppFake, Sent, sign  # noqa: E402
from tests.bot.app.harness import APP_ID, PG_URL, PRIVATE_PEM, PUBLIC_PEM, REDIS_URL, SECRET, free_port  # noqa: E402
from tests.bot.github.fakegithub import FakePull, User  # noqa: E402


def sha_of(pr: int, step: int) -> str:
    return f"{pr:05d}{step:03d}".ljust(40, "0")


def payload(inst: int, pr: int, sha: str, step: int) -> bytes:
    updated = datetime.fromtimestamp(1_700_000_000 + step * 60, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps({
        "action": "synchronize", "number": pr,
        "installation": {"id": inst, "account": {"login": f"org{inst}"}},
        "repository": {"full_name": f"org{inst}/repo", "id": inst},
        "pull_request": {"number": pr, "draft": False, "head": {"sha": sha}, "state": "open",
                         "updated_at": updated},
        "sender": {"login": "dev", "type": "User"},
    }).encode()


def post(port: int, guid: str, body: bytes) -> int:
    """One delivery the way GitHub sends it: a fresh connection, signed raw body, 10 s timeout."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/webhook", body, {
            "X-GitHub-Event": "pull_request", "X-GitHub-Delivery": guid, "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(SECRET, body), "User-Agent": "GitHub-Hookshot/bench"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    except OSError:
        return 0
    finally:
        conn.close()


def wait_ready(port: int, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("the receiver did not become ready")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (Linux /proc), to see what each delivery costs the receiver."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p * len(ordered)) - 1))]


def main() -> int:  # noqa: C901, PLR0912, PLR0915 - one measured scenario, top to bottom
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="postgres")
    ap.add_argument("--deliveries", type=int, default=1000)
    ap.add_argument("--prs", type=int, default=200)
    ap.add_argument("--installations", type=int, default=5)
    ap.add_argument("--rate", type=float, default=120.0, help="deliveries per second to send")
    ap.add_argument("--worker-procs", type=int, default=1)
    ap.add_argument("--worker-threads", type=int, default=4)
    ap.add_argument("--receiver-threads", type=int, default=8, help="GOVBOT_RECEIVER_THREADS")
    ap.add_argument("--worker-nice", type=int, default=0,
                    help="run the worker processes this much nicer than the receiver (latency first)")
    ap.add_argument("--max-running", type=int, default=2, help="runs at once per installation")
    ap.add_argument("--profile-receiver", metavar="PATH",
                    help="sample the receiver with py-spy during the burst (collapsed stacks to PATH)")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for every PR to publish")
    args = ap.parse_args()
    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="govbot-load-"))
    tag = uuid.uuid4().hex[:8]
    if args.backend == "sqlite":
        db, queue, schema = f"sqlite:///{tmp / 'govbot.db'}", f"sqlite:///{tmp / 'queue.db'}", None
    else:
        db, queue, schema = PG_URL, REDIS_URL, f"load_{tag}"
    engine = make_engine(db, schema)
    upgrade(engine, schema)
    procs: list[subprocess.Popen[bytes]] = []
    ok = True
    with AppFake(public_key=PUBLIC_PEM, app_id=APP_ID, secret=SECRET) as fake:
        port = free_port()
        fake.hook_url = f"http://127.0.0.1:{port}/webhook"
        key = tmp / "key.pem"
        key.write_text(PRIVATE_PEM)
        env = {**os.environ, "GOVBOT_APP_ID": str(APP_ID), "GOVBOT_APP_PRIVATE_KEY_FILE": str(key),
               "GOVBOT_WEBHOOK_SECRET": SECRET, "GOVBOT_DATABASE_URL": db, "GOVBOT_QUEUE_URL": queue,
               "GOVBOT_QUEUE_NAME": f"govbot-load-{tag}", "GITHUB_API_URL": fake.url, "GOVBOT_PORT": str(port),
               "GOVBOT_WORKERS": str(args.worker_threads), "GOVBOT_RECEIVER_THREADS": str(args.receiver_threads),
               "GOVBOT_MAX_RUNNING_PER_INSTALLATION": str(args.max_running), "GOVBOT_SECONDS_BETWEEN_WRITES": "0",
               "GOVBOT_LEASE_S": "30", "GOVBOT_HEARTBEAT_S": "5", "GOVBOT_SWEEP_INTERVAL_S": "5",
               "GOVBOT_REDELIVER_AFTER_S": "5", "GOVBOT_APP_ANALYSIS": "tests.bot.app.fakes:fast_analysis",
               "GOVBOT_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
        if schema:
            env["GOVBOT_DATABASE_SCHEMA"] = schema
        log = (tmp / "app.log").open("wb")
        try:
            cmd = [sys.executable, "-m", "govbot.bot.app"]
            procs.append(subprocess.Popen([*cmd, "receiver"], env=env, stdout=log, stderr=log,
                                          start_new_session=True))
            for _ in range(args.worker_procs):
                nice = ["nice", "-n", str(args.worker_nice)] if args.worker_nice else []
                procs.append(subprocess.Popen([*nice, *cmd, "worker"], env=env, stdout=log, stderr=log,
                                              start_new_session=True))
            wait_ready(port)
            per_pr = args.deliveries // args.prs
            plan = [(n, step) for step in range(per_pr) for n in range(1, args.prs + 1)]
            for n in range(1, args.prs + 1):
                fake.add_pull(FakePull(number=n, author=User("dev", 1), title="t", body="",
                                       head_sha=sha_of(n, per_pr - 1), base_sha="b" * 40))
            latencies: list[float] = []
            statuses: Counter[int] = Counter()
            answered: dict[str, int] = {}
            lock = threading.Lock()

            def send(i: int, n: int, step: int) -> None:
                inst = 100 + n % args.installations
                guid = f"load-{tag}-{i}"
                body = payload(inst, n, sha_of(n, step), step)
                t0 = time.perf_counter()
                status = post(port, guid, body)
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies.append(elapsed)
                    statuses[status] += 1
                    answered[guid] = status
                    # GitHub's delivery log, so the sweeper could redeliver a failed one.
                    fake.sent.append(Sent(len(fake.sent) + 1, guid, "pull_request", body, status,
                                          datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")))

            spy = None
            if args.profile_receiver:
                spy = subprocess.Popen(["py-spy", "record", "--pid", str(procs[0].pid), "--format", "raw",
                                        "--rate", "200", "--gil", "--output", args.profile_receiver],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(1.0)
            receiver_cpu0 = cpu_seconds(procs[0].pid)
            start = time.perf_counter()
            wall0 = time.time()
            with ThreadPoolExecutor(max_workers=64) as pool:
                for i, (n, step) in enumerate(plan):
                    time.sleep(max(start + i / args.rate - time.perf_counter(), 0.0))
                    pool.submit(send, i, n, step)
                submitted_s = time.perf_counter() - start
            send_s = time.perf_counter() - start
            receiver_cpu = cpu_seconds(procs[0].pid) - receiver_cpu0
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=30)
            heads = {n: sha_of(n, per_pr - 1) for n in range(1, args.prs + 1)}

            def published() -> int:
                with engine.connect() as conn:
                    return int(conn.execute(select(func.count()).select_from(Run).where(Run.state == "done")).scalar()
                               or 0)

            deadline = time.time() + args.timeout
            while published() < args.prs and time.time() < deadline:
                time.sleep(0.5)
            time.sleep(2.0)  # anything that would publish twice or late has the chance to show
            total_s = time.perf_counter() - start
            load_after = os.getloadavg()
            with engine.connect() as conn:
                runs = conn.execute(select(Run.installation_id, Run.pr, Run.head_sha, Run.state, Run.created_at,
                                           Run.finished_at, Run.attempts)).all()
                stored = set(conn.execute(select(Delivery.guid)).scalars())
            acknowledged = {g for g, s in answered.items() if 200 <= s < 300}
            lost = acknowledged - stored
            done = [r for r in runs if r.state == "done"]
            done_prs = Counter(r.pr for r in done)
            wrong_sha = [r for r in done if r.head_sha != heads[r.pr]]
            checks = list(fake.check_runs.values())
            stale_checks = [c for c in checks if c["head_sha"] not in set(heads.values())]
            in_progress = [c for c in checks if c["status"] != "completed"]
            comments = Counter(c["number"] for c in fake.comments.values())
            p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
            print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}; "
                  f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} (2 cores)")
            print(f"backend={args.backend} receiver_threads={args.receiver_threads} worker_procs={args.worker_procs}"
                  f"x{args.worker_threads} worker_nice=+{args.worker_nice}")
            print(f"deliveries={len(plan)} prs={args.prs} installations={args.installations}")
            print(f"sent {len(plan)} in {submitted_s:.2f}s = {len(plan) / submitted_s:.0f}/s (last answer at "
                  f"{send_s:.2f}s); answers {dict(sorted(statuses.items()))}")
            print(f"answer time p50={p50 * 1000:.0f}ms p99={p99 * 1000:.0f}ms max={max(latencies) * 1000:.0f}ms")
            print(f"receiver CPU during the burst {receiver_cpu:.2f}s = {receiver_cpu / len(plan) * 1000:.1f}ms "
                  "per delivery")
            print(f"acknowledged {len(acknowledged)}, not stored {len(lost)}")
            print(f"runs by state {dict(Counter(r.state for r in runs))}; attempts>1: "
                  f"{sum(1 for r in runs if r.attempts > 1)}")
            print(f"published PRs {len(done_prs)}/{args.prs} in {total_s:.1f}s; PRs published twice "
                  f"{sum(1 for c in done_prs.values() if c > 1)}; done on an older SHA {len(wrong_sha)}")
            print(f"check runs {len(checks)} (older SHA {len(stale_checks)}, not completed {len(in_progress)}); "
                  f"PRs with a comment count != 1: {sum(1 for n in heads if comments[n] != 1)}")
            finish: dict[int, list[float]] = {}
            for r in done:
                finish.setdefault(r.installation_id, []).append(r.finished_at - wall0)
            spans = {inst: (min(ts), max(ts), len(ts)) for inst, ts in sorted(finish.items())}
            for inst, (first, last, count) in spans.items():
                print(f"installation {inst}: {count} PRs published, first at {first:.1f}s, last at {last:.1f}s")
            # Starved: an installation that published nothing until another had finished all of its PRs.
            starved = [i for i, (first, _, _) in spans.items() if any(first > last for j, (_, last, _) in spans.items()
                                                                      if j != i)]
            starved += [100 + k for k in range(args.installations) if 100 + k not in spans]
            print(f"starved installations: {starved or 'none'}")
            ok = (statuses == Counter({202: len(plan)}) and p99 < 1.0 and len(plan) / submitted_s >= min(args.rate, 100)
                  and not lost and len(done_prs) == args.prs and all(c == 1 for c in done_prs.values())
                  and not wrong_sha and not stale_checks and not in_progress
                  and all(comments[n] == 1 for n in heads) and not starved)
            print("targets met" if ok else "TARGETS MISSED")
        finally:
            for p in procs:
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
            log.close()
            engine.dispose()
            if schema:
                drop = create_engine(db)
                with drop.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                drop.dispose()
                try:
                    import redis

                    client = redis.Redis.from_url(queue)
                    for k in client.scan_iter(f"huey.*govbot-load-{tag}*"):
                        client.delete(k)
                except Exception as exc:  # cleanup only
                    print(f"could not clean Redis keys: {exc}", file=sys.stderr)
            print(f"logs: {tmp / 'app.log'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
