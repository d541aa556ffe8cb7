"""The App end to end: real uvicorn receiver, real Huey workers, the HTTP fake GitHub, on
SQLite+SqliteHuey and on PostgreSQL+RedisHuey."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from govbot.bot.github.state import RunState
from tests.bot.app.fakeapp import AppFake, comment_event, pr_event, sign
from tests.bot.app.harness import SECRET, AppUnderTest, running_app, wait_for
from tests.bot.github.fakegithub import FakePull, Fault, User

# Every test here starts uvicorn, Huey workers and the fake GitHub (1-9 s each): the slow lane.
pytestmark = pytest.mark.slow
BACKENDS = ["sqlite", "postgres"]
AUTHOR = User("dev", 1)


def add_pr(fake: AppFake, number: int, sha: str) -> FakePull:
    return fake.add_pull(FakePull(number=number, author=AUTHOR, title="t", body="", head_sha=sha, base_sha="b" * 40))


def checks_for(fake: AppFake, sha: str) -> list[dict[str, object]]:
    return [c for c in fake.check_runs.values() if c["head_sha"] == sha]


def comment_head(comment: dict[str, object]) -> str | None:
    state = RunState.decode(str(comment["body"]))
    return state.head if state else None


def audit_actions(app: AppUnderTest) -> list[str]:
    from sqlalchemy import select

    from govbot.bot.app.models import Audit

    with app.rt.store.tx() as s:
        return list(s.execute(select(Audit.action)).scalars())


def done(app: AppUnderTest, repo: str, pr: int, sha: str) -> bool:
    return any(r.head_sha == sha and r.state in ("done", "failed", "superseded")
               for r in app.rt.store.runs_of(repo, pr))


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_delivery_publishes_one_comment_one_check_and_labels(backend: str, tmp_path: Path) -> None:
    with running_app(backend, tmp_path) as (fake, app):
        add_pr(fake, 1, "a" * 40)
        assert fake.send("pull_request", pr_event(11, "acme/web", 1, "a" * 40), "d-1") == 202
        answers = []
        for i in range(5):  # the answer time of a recorded delivery (median: the machine is shared)
            t0 = time.perf_counter()
            assert fake.send("pull_request", pr_event(11, "acme/web", 1, "a" * 40, "reopened"), f"d-{i + 2}") == 202
            answers.append(time.perf_counter() - t0)
        assert sorted(answers)[2] < 1.0
        wait_for(lambda: done(app, "acme/web", 1, "a" * 40), what="the run")
        [comment] = fake.comments_on(1)
        assert comment_head(comment) == "a" * 40 and comment["user"].login == "govbot[bot]"
        [check] = checks_for(fake, "a" * 40)
        assert (check["status"], check["conclusion"]) == ("completed", "success")
        assert fake.issue_labels(1) == []  # the default policy adds none to a clean change
        assert {a for a in audit_actions(app)} >= {"create_comment", "create_check_run"}
        [run] = app.rt.store.runs_of("acme/web", 1)
        assert run.state == "done" and run.attempts == 1
        metrics = httpx.get(app.url.replace("/webhook", "/metrics")).text
        assert 'govbot_runs{state="done"} 1' in metrics and "govbot_github_responses_2xx_total" in metrics
        assert httpx.get(app.url.replace("/webhook", "/healthz")).json()["ok"] is True


@pytest.mark.parametrize("backend", BACKENDS)
def test_duplicates_in_sequence_and_at_once_make_one_run_comment_and_check(backend: str, tmp_path: Path) -> None:
    with running_app(backend, tmp_path) as (fake, app):
        add_pr(fake, 2, "c" * 40)
        body = pr_event(11, "acme/web", 2, "c" * 40)
        assert [fake.send("pull_request", body, "dup-1") for _ in range(3)] == [202, 202, 202]
        other = pr_event(11, "acme/web", 2, "c" * 40, action="reopened")  # same SHA, other delivery
        threads = [threading.Thread(target=fake.send, args=("pull_request", other, f"dup-{i % 2 + 2}"))
                   for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wait_for(lambda: done(app, "acme/web", 2, "c" * 40), what="the run")
        time.sleep(1.0)  # let any duplicate job run too
        assert len(app.rt.store.runs_of("acme/web", 2)) == 1
        assert len(fake.comments_on(2)) == 1 and len(checks_for(fake, "c" * 40)) == 1
        assert len(fake.calls("POST", r"/repos/.*/issues/2/comments")) == 1
        assert all(s.status_code == 202 for s in fake.sent)


@pytest.mark.parametrize("backend", BACKENDS)
def test_older_push_after_newer_publishes_nothing(backend: str, tmp_path: Path) -> None:
    with running_app(backend, tmp_path, workers=False) as (fake, app):
        add_pr(fake, 3, "2" * 40)  # GitHub's head is the newer SHA
        newer = pr_event(11, "acme/web", 3, "2" * 40, updated_at="2026-12-01T10:00:05Z")
        older = pr_event(11, "acme/web", 3, "1" * 40, updated_at="2026-12-01T10:00:00Z")
        assert fake.send("pull_request", newer, "new") == 202
        assert fake.send("pull_request", older, "old") == 202  # arrives late
        # Ordered by the push time in the payload, not by arrival: the late older push is recorded
        # superseded at once and the newer one stays the PR's pending run.
        assert {r.head_sha[:1]: r.state for r in app.rt.store.runs_of("acme/web", 3)} == {
            "2": "pending", "1": "superseded"}
        app.start_workers()
        wait_for(lambda: done(app, "acme/web", 3, "2" * 40), what="the newer run")
        time.sleep(0.5)  # a wrongly queued older run would have published by now
        states = {r.head_sha[:1]: r.state for r in app.rt.store.runs_of("acme/web", 3)}
        assert states == {"2": "done", "1": "superseded"}
        assert checks_for(fake, "1" * 40) == [] and len(checks_for(fake, "2" * 40)) == 1
        [comment] = fake.comments_on(3)
        assert comment_head(comment) == "2" * 40


@pytest.mark.parametrize("backend", BACKENDS)
def test_older_push_without_push_times_is_caught_by_the_head_check(backend: str, tmp_path: Path) -> None:
    """No ``updated_at`` in the payloads (arrival order decides in the receiver): the worker's
    check of the live head still keeps the older push from publishing and runs the newer one."""
    with running_app(backend, tmp_path, workers=False) as (fake, app):
        add_pr(fake, 14, "4" * 40)
        fake.send("pull_request", pr_event(11, "acme/web", 14, "4" * 40), "new-14")
        fake.send("pull_request", pr_event(11, "acme/web", 14, "3" * 40), "old-14")  # arrives late
        app.start_workers()
        wait_for(lambda: {r.head_sha[:1]: r.state for r in app.rt.store.runs_of("acme/web", 14)}.get("4") == "done"
                 and done(app, "acme/web", 14, "3" * 40), what="runs")
        assert {r.head_sha[:1]: r.state for r in app.rt.store.runs_of("acme/web", 14)} == {
            "4": "done", "3": "superseded"}
        assert checks_for(fake, "3" * 40) == [] and len(checks_for(fake, "4" * 40)) == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_govbots_own_events_and_bad_signatures_make_no_runs(backend: str, tmp_path: Path) -> None:
    with running_app(backend, tmp_path) as (fake, app):
        add_pr(fake, 4, "4" * 40)
        own = comment_event(11, "acme/web", 4, "/govbot recheck", "govbot[bot]")
        assert fake.send("issue_comment", own, "own-1") == 202
        raw = pr_event(11, "acme/web", 4, "4" * 40)  # forged: not sent by GitHub, so never redelivered
        for guid, signature in (("forged", sign("wrong", raw)), ("x", sign(SECRET, raw + b" "))):
            r = httpx.post(app.url, content=raw, headers={"X-GitHub-Event": "pull_request",
                                                          "X-GitHub-Delivery": guid, "X-Hub-Signature-256": signature})
            assert r.status_code == 401
        time.sleep(0.5)
        assert app.rt.store.runs_of("acme/web", 4) == []
        assert app.rt.store.known_guids(["own-1", "forged", "x"]) == {"own-1"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_store_down_answers_503_never_2xx(backend: str, tmp_path: Path) -> None:
    with running_app(backend, tmp_path, workers=False) as (fake, app):
        good = app.rt.store.engine
        broken = ("sqlite:////nonexistent/dir/x.db" if backend == "sqlite"
                  else "postgresql+psycopg://root@127.0.0.1:1/test")
        from govbot.bot.app.store import make_engine

        app.rt.store.engine = make_engine(broken)
        app.rt.store._sessions.configure(bind=app.rt.store.engine)
        try:
            assert fake.send("pull_request", pr_event(11, "acme/web", 5, "5" * 40), "down-1") == 503
            assert httpx.get(app.url.replace("/webhook", "/healthz")).status_code == 503
        finally:
            app.rt.store.engine = good
            app.rt.store._sessions.configure(bind=good)
        assert app.rt.store.known_guids(["down-1"]) == set()


@pytest.mark.parametrize("backend", BACKENDS)
def test_rate_limit_holds_the_installation_until_reset_others_unaffected(backend: str, tmp_path: Path) -> None:
    with running_app(backend, tmp_path) as (fake, app):
        add_pr(fake, 6, "6" * 40)
        add_pr(fake, 7, "7" * 40)
        fake.faults.append(Fault("POST", r"/repos/.*/check-runs", 403, times=1, headers={"Retry-After": "6"},
                                 message="You have exceeded a secondary rate limit."))
        fake.send("pull_request", pr_event(11, "acme/web", 6, "6" * 40), "rl-1")
        wait_for(lambda: any(s == 403 for s in [r.status for r in fake.requests]), what="the rate limit")
        limited_at = next(t for t, inst, m, p in fake.by_installation if m == "POST" and p.endswith("check-runs"))
        fake.send("pull_request", pr_event(22, "other/api", 7, "7" * 40), "rl-2")
        wait_for(lambda: done(app, "other/api", 7, "7" * 40), timeout=10, what="the other installation")
        assert time.time() - limited_at < 6.0, "installation 22 waited for installation 11's rate limit"
        wait_for(lambda: done(app, "acme/web", 6, "6" * 40), what="the limited run")
        later = [t for t, inst, _, _ in fake.by_installation if inst == 11 and t > limited_at]
        assert later and min(later) >= limited_at + 6.0 - 0.05
        [check] = checks_for(fake, "6" * 40)
        assert check["status"] == "completed"


@pytest.mark.parametrize(("backend", "flaky", "ttl", "analysis_s"),
                         [("sqlite", 0.3, 3600.0, "0"), ("postgres", 0.3, 3600.0, "0"),
                          ("sqlite", 0.0, 1.0, "1.5"), ("postgres", 0.0, 1.0, "1.5"),
                          ("sqlite", 0.0, 3600.0, "0")])
def test_flaky_github_and_short_tokens_still_publish_once(backend: str, flaky: float, ttl: float,
                                                          analysis_s: str, tmp_path: Path) -> None:
    import os

    os.environ["GOVBOT_FAKE_ANALYSIS_S"] = analysis_s
    try:
        with running_app(backend, tmp_path) as (fake, app):
            fake.token_ttl_s = ttl  # 1 s: shorter than a run
            fake.flaky = flaky
            revoked: list[str] = []

            def revoke_once(record: object) -> None:  # a token revoked mid-run: 401, then one retry
                if not flaky and ttl > 60 and not revoked and str(getattr(record, "path", "")).endswith("/files"):
                    revoked.append("x")
                    with fake.lock:
                        fake.tokens.clear()

            fake.on_request = revoke_once
            for n in range(8, 10):
                add_pr(fake, n, f"{n:x}" * 40 if n < 16 else "e" * 40)
                fake.send("pull_request", pr_event(11, "acme/web", n, (f"{n:x}" * 40)[:40]), f"fl-{n}")
            for n in range(8, 10):
                wait_for(lambda n=n: done(app, "acme/web", n, (f"{n:x}" * 40)[:40]), timeout=120, what=f"PR {n}")
            for n in range(8, 10):
                sha = (f"{n:x}" * 40)[:40]
                assert len(fake.comments_on(n)) == 1
                [check] = checks_for(fake, sha)
                assert check["status"] == "completed"
                assert [r.state for r in app.rt.store.runs_of("acme/web", n)] == ["done"]
            if ttl < 60:  # expired mid-run (1.5 s analysis, 1 s tokens): refreshed, nothing failed.
                # Two runs may share one cached token or take one each, as the workers interleave:
                # the invariant is that a token was granted again after the first one expired.
                assert len(fake.token_grants) >= 2
                assert fake.token_grants[-1][1] - fake.token_grants[0][1] >= ttl
            if revoked:  # the cached token stopped working: one 401, a fresh token, the call again
                assert fake.unauthorized > 0 and len(fake.token_grants) >= 2
            assert app.rt.store.metrics()["runs"] == {"done": 2}
    finally:
        del os.environ["GOVBOT_FAKE_ANALYSIS_S"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_receiver_down_then_sweeper_redelivers_once(backend: str, tmp_path: Path) -> None:
    with running_app(backend, tmp_path) as (fake, app):
        add_pr(fake, 12, "9" * 40)
        app.stop_receiver()
        assert fake.send("pull_request", pr_event(11, "acme/web", 12, "9" * 40), "lost-1", timeout=2) == 0
        app.start_receiver()
        wait_for(lambda: done(app, "acme/web", 12, "9" * 40), timeout=20, what="the redelivered run")
        assert [s.redelivery for s in fake.sent if s.guid == "lost-1"][-1] is True
        time.sleep(1.5)  # further sweeps find it recorded and do nothing
        assert sum(1 for s in fake.sent if s.guid == "lost-1") == 2
        assert len(fake.comments_on(12)) == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_deep_command_from_a_writer_is_acknowledged_and_stored(backend: str, tmp_path: Path) -> None:
    with running_app(backend, tmp_path) as (fake, app):
        add_pr(fake, 13, "d" * 40)
        fake.permissions["alice"] = "write"
        fake.permissions["mallory"] = "read"
        assert fake.send("issue_comment", comment_event(11, "acme/web", 13, "/govbot deep", "mallory", 5), "c-0") == 202
        assert fake.send("issue_comment", comment_event(11, "acme/web", 13, "/govbot deep", "alice", 6), "c-1") == 202
        wait_for(lambda: any(r.kind == "deep" and r.state == "done" for r in app.rt.store.runs_of("acme/web", 13)),
                 what="the deep run")
        assert fake.reactions == [(6, "+1")]
        [fb] = app.rt.store.feedback()
        assert (fb.repo, fb.pr, fb.sha, fb.label, fb.actor) == ("acme/web", 13, "d" * 40, "deep", "alice")



@pytest.mark.parametrize("backend", BACKENDS)
def test_reactions_on_govbots_comment_are_polled_into_feedback_once(backend: str, tmp_path: Path) -> None:
    with running_app(backend, tmp_path, reactions_poll_s=0.3) as (fake, app):
        add_pr(fake, 15, "e" * 40)
        fake.send("pull_request", pr_event(11, "acme/web", 15, "e" * 40), "re-1")
        wait_for(lambda: done(app, "acme/web", 15, "e" * 40), what="the run")
        [comment] = fake.comments_on(15)
        for content, login in (("+1", "alice"), ("-1", "bob"), ("laugh", "carol"), ("+1", "govbot[bot]")):
            fake.react(int(comment["id"]), content, login)
        wait_for(lambda: len(app.rt.store.feedback()) == 2, what="the reactions as feedback")
        polls = len(fake.calls("GET", rf"/repos/.*/issues/comments/{comment['id']}/reactions"))
        wait_for(lambda: len(fake.calls("GET", rf"/repos/.*/issues/comments/{comment['id']}/reactions")) > polls,
                 what="another poll")
        rows = {(f.actor, f.label, f.source, f.sha) for f in app.rt.store.feedback()}
        assert rows == {("alice", "agree", "reaction", "e" * 40), ("bob", "disagree", "reaction", "e" * 40)}
