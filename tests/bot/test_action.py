"""The action's real entry point (``govbot.bot.action.run``) against the fake GitHub server.

Real PyGithub over HTTP to 127.0.0.1, the real pipeline (bandit and detect-secrets; semgrep in one
test, it is slow to start), real renderers. Assertions are on what was sent to GitHub.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from govbot.bot import action
from govbot.bot.action import pipeline_analyser
from govbot.bot.github.publish import STICKY_MARKER
from govbot.bot.github.pygithub import RetryBudget, RetrySettings
from govbot.bot.github.state import RunState
from govbot.checks.scan import ToolScanners
from tests.bot.github.fakegithub import FULL, FakeCommit, FakeFile, FakeGitHub, FakePull, Fault, User
from tests.scanners import recorded

EVENTS = Path(__file__).parent.parent / "data" / "events"
HEAD = "1f1e2d3c4b5a69788796a5b4c3d2e1f0a1b2c3d4"
BASE = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807"
ALICE = User("dev-alice", 101)
BOB = User("maint-bob", 303)
CAROL = User("reader-carol", 404)
RENOVATE = User("renovate[bot]", 29139614, "Bot")

CLEAN_PY = b"def total(prices: list[int]) -> int:\n    return sum(prices)\n"
SHELL_PY = b"import subprocess\n\n\ndef export(name):\n    subprocess.call('tar czf ' + name, shell=True)\n"


def added_patch(content: bytes) -> str:
    lines = content.decode().splitlines()
    return f"@@ -0,0 +1,{len(lines)} @@\n" + "\n".join("+" + ln for ln in lines)


def py_file(path: str, content: bytes) -> FakeFile:
    return FakeFile(path, content, status="added", patch=added_patch(content),
                    additions=len(content.splitlines()))


def ai_commit() -> FakeCommit:
    return FakeCommit("c" * 40, "Add totals\n\nCo-authored-by: Claude <noreply@anthropic.com>\n", ALICE,
                      parents=(BASE,))


def human_commit() -> FakeCommit:
    return FakeCommit("d" * 40, "Add totals", ALICE, parents=(BASE,))


@dataclass
class Result:
    code: int
    stdout: str
    outputs: dict[str, str]
    summary: str


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        server.permissions.update({"maint-bob": "write", "reader-carol": "read", "dev-alice": "write",
                                   "outsider": "read"})
        yield server


def open_pr(fake: FakeGitHub, *files: FakeFile, commit: FakeCommit | None = None, number: int = 7,
            author: User = ALICE, fork: bool = False, labels: list[str] | None = None) -> FakePull:
    return fake.add_pull(FakePull(
        number=number, author=author, title="Add order totals", body="Adds totals.",
        head_sha=HEAD, base_sha=BASE, fork=fork, labels=list(labels or []),
        files=list(files), commits=[commit or human_commit()],
    ))


def parse_outputs(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        key, _, delimiter = line.partition("<<")
        value = []
        for inner in lines:
            if inner == delimiter:
                break
            value.append(inner)
        out[key] = "\n".join(value)
    return out


def run_action(fake: FakeGitHub, tmp_path: Path, event: str, *, event_name: str | None = None,
               env: dict[str, str] | None = None, analyser: Any = None,
               sleeps: list[float] | None = None, scanners: Any = recorded) -> Result:
    payload = tmp_path / "event.json"
    shutil.copy(EVENTS / event, payload)
    outputs, summary = tmp_path / "output.txt", tmp_path / "summary.md"
    outputs.write_text(""), summary.write_text("")
    name = event_name or event.split("_opened", maxsplit=1)[0].split("_synchronize", maxsplit=1)[0]
    full_env = {
        "GITHUB_REPOSITORY": FULL, "GITHUB_EVENT_NAME": name, "GITHUB_EVENT_PATH": str(payload),
        "GITHUB_TOKEN": "ghs_fake_token_for_tests", "GITHUB_API_URL": fake.url, "GITHUB_RUN_ID": "42",
        "GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary),
        "GOVBOT_REPORT_DIR": str(tmp_path / "reports"), "GOVBOT_GITHUB_WRITE_INTERVAL_S": "0",
        "GOVBOT_SCANNERS": "bandit,secrets",
        **(env or {}),
    }
    recorded = sleeps if sleeps is not None else []
    budget = RetryBudget(settings=RetrySettings(budget_s=120), sleep=recorded.append)
    out = io.StringIO()
    code = action.run(full_env, out=out, analyser=analyser, budget=budget, scanners=scanners)
    return Result(code, out.getvalue(), parse_outputs(outputs.read_text()), summary.read_text())


def sticky(fake: FakeGitHub, number: int = 7) -> list[dict[str, Any]]:
    return [c for c in fake.comments_on(number) if STICKY_MARKER in c["body"]]


def govbot_check(fake: FakeGitHub) -> dict[str, Any]:
    runs = [r for r in fake.check_runs.values() if r["name"] == "govbot" and r["head_sha"] == HEAD]
    assert len(runs) == 1
    return runs[0]


# --------------------------------------------------------------------------------------------


def test_first_run_ai_pr_requires_review(fake: FakeGitHub, tmp_path: Path) -> None:
    open_pr(fake, py_file("shop/totals.py", CLEAN_PY), commit=ai_commit())
    r = run_action(fake, tmp_path, "pull_request_opened.json")

    assert r.code == 1
    assert r.outputs["decision"] == "review_required"
    assert Path(r.outputs["json-report"]).is_file()
    sarif = json.loads(Path(r.outputs["sarif-report"]).read_text())
    assert sarif["version"] == "2.1.0"
    [comment] = fake.comments_on(7)
    assert comment["body"].startswith(STICKY_MARKER)
    state = RunState.decode(comment["body"])
    assert state == RunState(head=HEAD, outcome="review_required", complete=True,
                             review_label="human-review-required")
    assert fake.issue_labels(7) == ["ai-generated", "human-review-required"]
    assert set(fake.repo_labels) == {"ai-generated", "human-review-required"}
    check = govbot_check(fake)
    assert (check["status"], check["conclusion"]) == ("completed", "failure")
    assert check["output"]["title"] == "Human review required"
    assert check["details_url"].endswith(f"/{FULL}/actions/runs/42")
    assert "Human review" in r.summary
    # Reads went to the API only; the policy was looked up at the BASE commit.
    [policy_read] = fake.calls("GET", r"/repos/octo/shop/contents/\.github/govbot\.yml")
    assert policy_read.query["ref"] == [BASE]


def test_rerun_updates_the_comment_in_place(fake: FakeGitHub, tmp_path: Path) -> None:
    open_pr(fake, py_file("shop/totals.py", CLEAN_PY), commit=ai_commit())
    run_action(fake, tmp_path, "pull_request_opened.json")
    [first] = [dict(c) for c in fake.comments_on(7)]
    fake.push_file(7, py_file("shop/export.py", SHELL_PY))

    r = run_action(fake, tmp_path, "pull_request_synchronize.json", event_name="pull_request")

    assert r.code == 1, r.stdout
    assert r.outputs["decision"] == "block"
    [after] = fake.comments_on(7)
    assert after["id"] == first["id"]
    assert after["body"] != first["body"]
    assert "B602" in after["body"]
    assert len(fake.calls("POST", r"/repos/octo/shop/issues/7/comments")) == 1
    assert len(fake.calls("PATCH", r"/repos/octo/shop/issues/comments/\d+")) == 1
    assert "govbot:blocked" in fake.issue_labels(7)
    check = govbot_check(fake)  # the same check run, updated
    assert check["conclusion"] == "failure"
    assert any(a["path"] == "shop/export.py" and a["annotation_level"] == "failure"
               for a in check["annotations"])


def test_labels_synced_both_ways_and_duplicates_removed(fake: FakeGitHub, tmp_path: Path) -> None:
    open_pr(fake, py_file("shop/totals.py", CLEAN_PY), labels=["human-review-required", "bug"])
    fake.repo_labels["human-review-required"] = {"color": "d93f0b", "description": None}
    keep = fake.add_comment(7, f"{STICKY_MARKER}\nold")
    fake.add_comment(7, f"{STICKY_MARKER}\nolder duplicate")
    forged = fake.add_comment(7, f"{STICKY_MARKER}\nhuman pasted the marker", user=CAROL)

    r = run_action(fake, tmp_path, "pull_request_opened.json")

    assert r.code == 0
    assert r.outputs["decision"] == "pass"
    assert fake.issue_labels(7) == ["bug"]  # ours removed, the unrelated one untouched
    assert not fake.calls("POST", r"/repos/octo/shop/labels")
    assert set(fake.comments) == {keep, forged}
    assert "Passed" in govbot_check(fake)["output"]["title"] or govbot_check(fake)["conclusion"] == "success"
    assert fake.comments[forged]["body"].endswith("human pasted the marker")


def test_approval_flow(fake: FakeGitHub, tmp_path: Path) -> None:
    open_pr(fake, py_file("shop/totals.py", CLEAN_PY), commit=ai_commit())
    assert run_action(fake, tmp_path, "pull_request_opened.json").code == 1
    requests_before = len(fake.requests)

    # Not enough: the author, a bot, a reader, and a writer on an older commit.
    fake.approve(7, ALICE, HEAD)
    fake.approve(7, RENOVATE, HEAD)
    fake.approve(7, CAROL, HEAD)
    fake.approve(7, BOB, BASE)
    r = run_action(fake, tmp_path, "pull_request_review_submitted.json", event_name="pull_request_review")
    assert r.code == 1
    assert govbot_check(fake)["conclusion"] == "failure"
    assert "waiting for an approving review" in r.summary
    review_requests = fake.requests[requests_before:]
    assert not any("/git/blobs/" in q.path or "/files" in q.path for q in review_requests)  # no re-scan

    fake.approve(7, BOB, HEAD)
    r = run_action(fake, tmp_path, "pull_request_review_submitted.json", event_name="pull_request_review")
    assert r.code == 0
    check = govbot_check(fake)
    assert (check["conclusion"], check["output"]["title"]) == ("success", "Human review required: approved")
    [comment] = fake.comments_on(7)
    assert "approved on the current head commit by `maint-bob`" in comment["body"]
    assert "human-review-required" in fake.issue_labels(7)


def test_fork_review_event_is_read_only_and_recheck_updates_the_check(fake: FakeGitHub, tmp_path: Path) -> None:
    open_pr(fake, py_file("shop/totals.py", CLEAN_PY), commit=ai_commit(), fork=True)
    assert run_action(fake, tmp_path, "pull_request_opened.json", event_name="pull_request_target").code == 1
    fake.approve(7, BOB, HEAD)

    fake.read_only = True  # pull_request_review from a fork: GitHub hands out a read-only token
    r = run_action(fake, tmp_path, "pull_request_review_submitted.json", event_name="pull_request_review")
    assert govbot_check(fake)["conclusion"] == "failure"  # could not be updated
    assert "`/govbot recheck`" in r.summary
    assert all(q.status == 403 for q in fake.writes()[-2:])

    fake.read_only = False  # issue_comment runs in the base repository, with a write token
    r = run_action(fake, tmp_path, "issue_comment_recheck.json", event_name="issue_comment")
    assert r.code == 0
    assert govbot_check(fake)["conclusion"] == "success"


def test_fork_pull_request_with_read_only_token_degrades(fake: FakeGitHub, tmp_path: Path) -> None:
    open_pr(fake, py_file("shop/export.py", SHELL_PY), number=8, author=User("outsider", 202), fork=True)
    fake.read_only = True

    r = run_action(fake, tmp_path, "pull_request_fork.json", event_name="pull_request",
                   env={"GITHUB_TOKEN": "ghs_readonly"})

    assert r.code == 1
    assert r.outputs["decision"] == "block"
    assert not fake.comments and not fake.check_runs and not fake.statuses
    assert "read-only token" in r.summary
    lines = r.stdout.splitlines()
    resume = lines[0].removeprefix("::stop-commands::")
    assert f"::{resume}::" in lines
    assert any(ln.startswith("::error file=shop/export.py,line=5") for ln in lines)


def test_pull_request_target_reads_policy_from_base_and_flags_policy_change(
        fake: FakeGitHub, tmp_path: Path) -> None:
    base_policy = b"version: 1\nlabels:\n  review: needs-human\n  allowlist: [needs-human, govbot:blocked, ai-generated]\n"
    fake.contents[(BASE, ".github/govbot.yml")] = base_policy
    pr_policy = b"version: 1\nuse_default_rules: false\n"
    open_pr(fake, py_file("shop/totals.py", CLEAN_PY),
            FakeFile(".github/govbot.yml", pr_policy, status="modified", patch="@@ -1 +1,2 @@\n version: 1\n+use_default_rules: false",
                     additions=1),
            number=8, author=User("outsider", 202), fork=True)

    r = run_action(fake, tmp_path, "pull_request_target_fork.json", event_name="pull_request_target")

    assert r.outputs["decision"] == "review_required"
    assert r.code == 1
    assert fake.issue_labels(8) == ["needs-human"]  # the base branch's label name
    [comment] = fake.comments_on(8)
    assert "policy change pending review" in comment["body"]
    contents = fake.calls("GET", r"/repos/octo/shop/contents/.*")
    assert [c.query["ref"] for c in contents] == [[BASE]]


def test_untrusted_pr_text_is_escaped(fake: FakeGitHub, tmp_path: Path) -> None:
    hostile = b"x = 1\n"
    name = "docs/@everyone <img src=x onerror=alert(1)>.py"
    open_pr(fake, FakeFile(name, hostile, status="added", patch=added_patch(hostile), additions=1),
            commit=ai_commit())
    run_action(fake, tmp_path, "pull_request_opened.json")
    [comment] = fake.comments_on(7)
    assert "@everyone" not in comment["body"]
    assert "<img" not in comment["body"]


def test_secondary_rate_limit_then_success(fake: FakeGitHub, tmp_path: Path) -> None:
    open_pr(fake, py_file("shop/totals.py", CLEAN_PY), commit=ai_commit())
    fake.faults += [
        Fault("POST", r"/repos/octo/shop/issues/7/comments", 403, headers={"Retry-After": "7"},
              message="You have exceeded a secondary rate limit."),
        Fault("GET", r"/repos/octo/shop/pulls/7/files", 502),
    ]
    sleeps: list[float] = []

    r = run_action(fake, tmp_path, "pull_request_opened.json", sleeps=sleeps)

    assert r.code == 1
    assert 7.0 in sleeps  # Retry-After honoured
    assert len(fake.comments_on(7)) == 1
    posts = fake.calls("POST", r"/repos/octo/shop/issues/7/comments")
    assert [p.status for p in posts] == [403, 201]
    assert [g.status for g in fake.calls("GET", r"/repos/octo/shop/pulls/7/files")] == [502, 200]


def test_rate_limit_beyond_the_budget_fails_cleanly(fake: FakeGitHub, tmp_path: Path) -> None:
    open_pr(fake, py_file("shop/totals.py", CLEAN_PY))
    fake.faults.append(Fault("GET", r"/repos/octo/shop/pulls/7", 403, times=99,
                             headers={"Retry-After": "3600"}, message="secondary rate limit"))
    r = run_action(fake, tmp_path, "pull_request_opened.json")
    assert r.code == 2
    assert "retry budget exhausted" in r.stdout
    assert [q.path for q in fake.requests] == ["/repos/octo/shop", "/repos/octo/shop/pulls/7"]


def test_post_applied_but_answered_502_leaves_one_comment(fake: FakeGitHub, tmp_path: Path) -> None:
    open_pr(fake, py_file("shop/totals.py", CLEAN_PY), commit=ai_commit())
    fake.faults.append(Fault("POST", r"/repos/octo/shop/issues/7/comments", 502, apply=True))

    r = run_action(fake, tmp_path, "pull_request_opened.json")

    assert r.code == 1
    assert len(fake.comments_on(7)) == 1
    assert len(fake.calls("POST", r"/repos/octo/shop/issues/7/comments")) == 1


def test_check_run_forbidden_falls_back_to_status(fake: FakeGitHub, tmp_path: Path) -> None:
    open_pr(fake, py_file("shop/totals.py", CLEAN_PY), commit=ai_commit())
    fake.checks_forbidden = True
    r = run_action(fake, tmp_path, "pull_request_opened.json")
    assert r.code == 1
    [status] = fake.statuses
    assert (status["sha"], status["state"], status["context"]) == (HEAD, "failure", "govbot")
    assert len(fake.comments_on(7)) == 1


@pytest.mark.slow
def test_large_pull_request_1500_files(fake: FakeGitHub, tmp_path: Path) -> None:
    files = [FakeFile(f"docs/page{i:04}.md", b"# page %d\n" % i, status="added",
                      patch=f"@@ -0,0 +1 @@\n+# page {i}", additions=1) for i in range(1500)]
    open_pr(fake, *files)
    fake.latency_s = 0.001  # a request in flight yields the GIL, so overlapping reads are visible

    r = run_action(fake, tmp_path, "pull_request_opened.json", env={"GOVBOT_SCANNERS": "secrets"})

    assert r.code == 0, r.stdout
    pages = fake.calls("GET", r"/repos/octo/shop/pulls/7/files")
    assert len(pages) == 15
    assert len(fake.calls("GET", r"/repos/octo/shop/git/blobs/.*")) == 1500
    assert 2 <= fake.max_concurrent <= 8  # blob reads on the bounded pool
    report = json.loads(Path(r.outputs["json-report"]).read_text())
    assert report["change"]["files_changed"] == 1500
    assert any("300 files" in t for t in report["change"]["truncated"])
    [comment] = fake.comments_on(7)
    assert len(comment["body"]) <= 65_536
    assert "300 files" in comment["body"] or "300 files" in r.summary


@pytest.mark.parametrize(
    ("event", "name"),
    [("push.json", "push"), ("push.json", "workflow_dispatch"), ("push.json", "merge_group"),
     ("issue_comment_plain_issue.json", "issue_comment"), ("pull_request_closed.json", "pull_request"),
     ("issue_comment_deep_outsider.json", "issue_comment")],
)
def test_unhandled_events_end_cleanly(fake: FakeGitHub, tmp_path: Path, event: str, name: str) -> None:
    open_pr(fake, py_file("shop/totals.py", CLEAN_PY))
    r = run_action(fake, tmp_path, event, event_name=name)
    assert r.code == 0
    assert "nothing to do" in r.stdout or "ignoring" in r.stdout
    assert fake.writes() == []


def test_deep_command_from_a_writer_forces_pro_tier(fake: FakeGitHub, tmp_path: Path) -> None:
    open_pr(fake, py_file("shop/totals.py", CLEAN_PY))
    seen: list[str | None] = []
    real = pipeline_analyser({}, ("secrets",), recorded)

    def recording(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs["force_tier"])
        return real(*args, **kwargs)

    r = run_action(fake, tmp_path, "issue_comment_deep.json", event_name="issue_comment", analyser=recording)
    assert r.code == 0
    assert seen == ["pro"]
    assert fake.calls("GET", r"/repos/octo/shop/collaborators/maint-bob/permission")
    assert govbot_check(fake)["conclusion"] == "success"

    r = run_action(fake, tmp_path, "issue_comment_recheck.json", event_name="issue_comment", analyser=recording)
    assert seen == ["pro", None]


def test_head_moved_mid_run_publishes_nothing(fake: FakeGitHub, tmp_path: Path) -> None:
    open_pr(fake, py_file("shop/totals.py", CLEAN_PY))
    real = pipeline_analyser({}, ("secrets",), recorded)

    def push_during_analysis(*args: Any, **kwargs: Any) -> Any:
        report = real(*args, **kwargs)
        fake.pulls[7].head_sha = "e" * 40
        return report

    r = run_action(fake, tmp_path, "pull_request_opened.json", analyser=push_during_analysis)
    assert r.code == 0
    assert fake.writes() == []
    assert "changed during the run" in r.stdout


def test_invalid_base_policy_fails_the_check_with_exit_2(fake: FakeGitHub, tmp_path: Path) -> None:
    fake.contents[(BASE, ".github/govbot.yml")] = b"version: 1\nsettings:\n  fail_on: sometimes\n"
    open_pr(fake, py_file("shop/totals.py", CLEAN_PY))
    r = run_action(fake, tmp_path, "pull_request_opened.json")
    assert r.code == 2
    check = govbot_check(fake)
    assert (check["conclusion"], check["output"]["title"]) == ("failure", "Invalid govbot policy")
    assert "fail_on" in check["output"]["summary"]


def test_dry_run_writes_nothing(fake: FakeGitHub, tmp_path: Path) -> None:
    open_pr(fake, py_file("shop/export.py", SHELL_PY))
    r = run_action(fake, tmp_path, "pull_request_opened.json", env={"GOVBOT_DRY_RUN": "true"})
    assert r.code == 1
    assert fake.writes() == []
    assert r.outputs["decision"] == "block"


@pytest.mark.slow
def test_github_enterprise_prefix_and_all_real_scanners(tmp_path: Path) -> None:
    with FakeGitHub(prefix="/api/v3") as ghes:
        ghes.permissions["maint-bob"] = "write"
        open_pr(ghes, py_file("shop/export.py", SHELL_PY))
        r = run_action(ghes, tmp_path, "pull_request_opened.json", scanners=ToolScanners,
                       env={"GOVBOT_SCANNERS": "semgrep,bandit,secrets", "GOVBOT_FAIL_ON": "never"})
        assert r.code == 0  # fail-on: never
        assert r.outputs["decision"] == "block"
        report = json.loads(Path(r.outputs["json-report"]).read_text())
        assert {t["name"] for t in report["tools"]} >= {"semgrep", "bandit"}
        assert len(ghes.comments_on(7)) == 1


def test_an_unexpected_crash_exits_2_never_1_or_0(fake: FakeGitHub, tmp_path: Path) -> None:
    open_pr(fake, py_file("shop/totals.py", CLEAN_PY))

    def crashing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("scanner exploded\n::error::injected")

    r = run_action(fake, tmp_path, "pull_request_opened.json", analyser=crashing)
    assert r.code == 2
    assert "govbot: internal error: RuntimeError: scanner exploded ::error::injected" in r.stdout
    assert fake.writes() == []


def test_fork_pull_request_gets_no_llm_review_unless_allowed_or_deep(fake: FakeGitHub, tmp_path: Path) -> None:
    open_pr(fake, py_file("shop/totals.py", CLEAN_PY), number=8, author=User("outsider", 202), fork=True)
    seen: list[tuple[bool, tuple[str, ...]]] = []
    real = pipeline_analyser({}, ("secrets",))

    def recording(change: Any, policy: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append((policy.llm.enabled, tuple(kwargs["notices"])))
        return real(change, policy, *args, **kwargs)

    run_action(fake, tmp_path, "pull_request_target_fork.json", event_name="pull_request_target", analyser=recording)
    enabled, notices = seen[-1]
    assert not enabled and any("comes from a fork" in n and "/govbot deep" in n for n in notices)

    run_action(fake, tmp_path, "pull_request_target_fork.json", event_name="pull_request_target",
               env={"GOVBOT_FORK_LLM": "true"}, analyser=recording)
    assert seen[-1] == (True, ())


@pytest.mark.slow
def test_old_secret_requoted_by_a_pr_is_pre_existing_through_the_api(fake: FakeGitHub, tmp_path: Path) -> None:
    key = "AKIA" "GOVBOTTEST2345Q7"  # made up (AWS's documented example key is ignored as a decoy)
    fake.contents[(BASE, "shop/conf.py")] = f"KEY = '{key}'\n".encode()
    head = f'KEY = "{key}"\n'.encode()
    patch = f"@@ -1 +1 @@\n-KEY = '{key}'\n+KEY = \"{key}\""
    open_pr(fake, FakeFile("shop/conf.py", head, status="modified", patch=patch, additions=1, deletions=1))
    r = run_action(fake, tmp_path, "pull_request_opened.json", analyser=pipeline_analyser({}, ("secrets",)))
    assert r.code == 0 and r.outputs["decision"] == "pass"
    [comment] = fake.comments_on(7)
    assert "already on the base branch" in comment["body"] and key not in comment["body"]
    assert [c.query["ref"] for c in fake.calls("GET", r"/repos/octo/shop/contents/shop/conf.py")] == [[BASE]]


@pytest.mark.slow
def test_every_read_and_idempotent_write_survives_one_502(fake: FakeGitHub, tmp_path: Path) -> None:
    """Issue 9, class 17: the first request of every distinct GET (and, on the second run, every
    PATCH) answers 502. Each is retried — ``GET /commits/{sha}`` used to be outside the retry
    wrapper and crashed the action with no check."""
    open_pr(fake, py_file("shop/totals.py", CLEAN_PY), commit=ai_commit())  # review required
    fake.flaky_once = {"GET"}
    first = run_action(fake, tmp_path, "pull_request_opened.json")
    assert first.code == 1, first.stdout
    gets = {r.path for r in fake.requests if r.method == "GET"}
    assert f"/repos/octo/shop/commits/{HEAD}" in gets
    for path in gets:  # every read path failed once, then was asked again
        statuses = [r.status for r in fake.calls("GET", re.escape(path))]
        assert statuses[0] == 502 and statuses[1] in (200, 404), path  # 404: a label not created yet
    assert len(sticky(fake)) == 1 and govbot_check(fake)["conclusion"] == "failure"

    fake.flaky_once = {"GET", "PATCH"}
    second = run_action(fake, tmp_path, "pull_request_opened.json")
    assert second.code == 1, second.stdout
    assert any(r.status == 502 for r in fake.calls("PATCH", r"/repos/octo/shop/.*"))
    assert len(sticky(fake)) == 1 and govbot_check(fake)["conclusion"] == "failure"
