"""The store on its own (SQLite): data the security lead uses, uninstall, migrations, CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

from govbot.bot.app.cli import build, run
from govbot.bot.app.events import Intake
from govbot.bot.app.migrate import upgrade
from govbot.bot.app.store import Claimed, RunResult, Store, make_engine


def store_at(tmp_path: Path, clock: list[float]) -> Store:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade(engine)
    upgrade(engine)  # a second replica finds nothing to do
    return Store(engine, clock=lambda: clock[0])


def pr_intake(guid: str, inst: int, repo: str, pr: int, sha: str, pushed_at: float = 0.0) -> Intake:
    return Intake(guid=guid, event="pull_request", action="synchronize", disposition="run", installation_id=inst,
                  repo=repo, pr=pr, head_sha=sha, pushed_at=pushed_at)


def test_report_feedback_and_uninstall(tmp_path: Path) -> None:
    clock = [1_800_000_000.0]
    store = store_at(tmp_path, clock)
    for i, (inst, repo) in enumerate([(1, "a/x"), (1, "a/x"), (2, "b/y")]):
        rec = store.record(pr_intake(f"g{i}", inst, repo, i, f"{i}" * 40))
        assert rec.run_id is not None
        claim = store.claim(rec.run_id, 60, 2)
        assert isinstance(claim, Claimed)
        store.finish(claim.run, RunResult(outcome="block" if i == 0 else "pass", conclusion="x", cost_usd=0.25))
    assert store.add_feedback("c:1", 1, "a/x", 0, "0" * 40, "deep", "issue_comment", "alice")
    assert not store.add_feedback("c:1", 1, "a/x", 0, "0" * 40, "deep", "issue_comment", "alice")  # once
    assert store.report(clock[0] - 1, clock[0] + 1) == [
        {"repo": "a/x", "outcome": "block", "runs": 1, "cost_usd": 0.25},
        {"repo": "a/x", "outcome": "pass", "runs": 1, "cost_usd": 0.25},
        {"repo": "b/y", "outcome": "pass", "runs": 1, "cost_usd": 0.25},
    ]
    out = io.StringIO()
    import argparse

    parser = argparse.ArgumentParser()
    build(parser)
    env = {"GOVBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    assert run(parser.parse_args(["export-feedback"]), env, out) == 0
    [line] = out.getvalue().splitlines()
    assert json.loads(line) == {"repo": "a/x", "pr": 0, "sha": "0" * 40, "label": "deep", "source": "issue_comment",
                                "time": "2027-01-15T08:00:00+00:00"}
    store.record(Intake(guid="u1", event="installation", action="deleted", disposition="uninstall",
                        installation_id=1))
    assert store.runs_of("a/x", 0) == [] and store.feedback() == []
    assert [r.repo for r in store.runs_of("b/y", 2)] == ["b/y"]


def test_a_new_head_supersedes_and_a_lapsed_lease_is_swept(tmp_path: Path) -> None:
    clock = [1000.0]
    store = store_at(tmp_path, clock)
    first = store.record(pr_intake("g1", 1, "a/x", 5, "1" * 40)).run_id
    assert first is not None
    claim = store.claim(first, 10, 2)
    assert isinstance(claim, Claimed)
    assert store.claim(first, 10, 2).__class__.__name__ == "Gone"  # a duplicate job does nothing
    second = store.record(pr_intake("g2", 1, "a/x", 5, "2" * 40)).run_id
    assert [r.state for r in store.runs_of("a/x", 5)] == ["superseded", "pending"]
    assert not store.is_current(claim.run) and not store.finish(claim.run, RunResult("pass", "success"))
    assert second is not None and isinstance(store.claim(second, 10, 2), Claimed)
    clock[0] += 11  # the worker died: no heartbeat
    assert store.stuck(grace_s=10) == ([second], [])
    assert store.stuck(grace_s=10) == ([], [])  # handed out once per grace period, no pile-up
    assert [r.state for r in store.runs_of("a/x", 5)] == ["superseded", "pending"]


def test_pushes_are_ordered_by_push_time_not_arrival(tmp_path: Path) -> None:
    store = store_at(tmp_path, [1000.0])

    def states() -> dict[str, str]:
        return {r.head_sha[:1]: r.state for r in store.runs_of("a/x", 7)}

    assert store.record(pr_intake("p2", 1, "a/x", 7, "2" * 40, pushed_at=20.0)).run_id is not None
    late = store.record(pr_intake("p1", 1, "a/x", 7, "1" * 40, pushed_at=10.0))  # older push, arrives late
    assert late.run_id is None and states() == {"2": "pending", "1": "superseded"}
    # A worker's head check saw 4 as GitHub's head before 3's and 4's deliveries came: 4's run is
    # created then; 3's delivery looks newer than what is known and passes it; 4's delivery brings it back.
    assert store.follow_head(1, "a/x", 7, "4" * 40, "review") is not None
    assert store.record(pr_intake("p3", 1, "a/x", 7, "3" * 40, pushed_at=30.0)).run_id is not None
    assert states()["4"] == "superseded"
    assert store.record(pr_intake("p4", 1, "a/x", 7, "4" * 40, pushed_at=40.0)).run_id is not None
    assert states() == {"1": "superseded", "2": "superseded", "3": "superseded", "4": "pending"}
    assert store.record(pr_intake("p4", 1, "a/x", 7, "4" * 40, pushed_at=40.0)).duplicate  # once only
    assert store.record(pr_intake("p3b", 1, "a/x", 7, "3" * 40, pushed_at=30.0)).run_id is None
    assert states()["4"] == "pending"


def test_export_feedback_is_what_router_calibrate_reads(tmp_path: Path) -> None:
    import argparse

    from govbot.router.repocalibrate import parse_feedback

    store = store_at(tmp_path, [1_800_000_000.0])
    for key, label, source in (("c:1", "deep", "issue_comment"), ("reaction:1", "agree", "reaction"),
                               ("reaction:2", "disagree", "reaction"), ("c:2", "recheck", "issue_comment")):
        assert store.add_feedback(key, 1, "a/x", 3, "3" * 40, label, source, "alice")
    parser = argparse.ArgumentParser()
    build(parser)
    env = {"GOVBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    out, everything = io.StringIO(), io.StringIO()
    assert run(parser.parse_args(["export-feedback"]), env, out) == 0
    assert run(parser.parse_args(["export-feedback", "--all"]), env, everything) == 0
    rows = parse_feedback(out.getvalue().splitlines())  # the router's own reader accepts every line
    assert [(r.label, r.source, r.sha, r.pr) for r in rows] == [("deep", "issue_comment", "3" * 40, 3),
                                                                 ("ok", "reaction", "3" * 40, 3)]
    assert [json.loads(line)["label"] for line in everything.getvalue().splitlines()] == [
        "deep", "agree", "disagree", "recheck"]


def test_the_incremental_review_record_is_kept_from_the_sticky_comment(tmp_path: Path) -> None:
    from govbot.bot.app.worker import reviewed_record
    from govbot.bot.github.state import RunState
    from govbot.core.models import Finding, Severity
    from govbot.router.incremental import ReviewedState

    finding = Finding(tool="llm", rule_id="llm:sqli", severity=Severity.HIGH, path="a.py", line=3,
                      message="query built from input", fingerprint="fp-1")
    body = "review text\n" + RunState(head="h" * 40, outcome="block", complete=True, review_label="",
                                      reviewed=ReviewedState(head="9" * 40, base="b" * 40,
                                                             findings=(finding,))).encode()
    assert reviewed_record(body) == ("9" * 40, ["fp-1"])
    assert reviewed_record("a comment without state") is None
    store = store_at(tmp_path, [1000.0])
    rec = store.record(pr_intake("g1", 1, "a/x", 4, "9" * 40))
    assert rec.run_id is not None
    claim = store.claim(rec.run_id, 60, 2)
    assert isinstance(claim, Claimed)
    store.note_comment(claim.run, 77, reviewed_record(body))
    assert store.finish(claim.run, RunResult("block", "failure"))
    assert store.review_record(1, "a/x", 4) == ("9" * 40, "9" * 40, ["fp-1"])
    assert store.comments_to_poll(every_s=0, window_s=3600) == [(1, "a/x", 4, 77, "9" * 40)]
    assert store.comments_to_poll(every_s=60, window_s=3600) == []  # claimed: not read again so soon
    store.block_installation(1, until=1100.0)  # rate-limited: no request, not even a poll
    assert store.comments_to_poll(every_s=0, window_s=3600) == []
