"""The Action's flows over the in-memory GitHub port (``tests/bot/github/memory.py``): the real
pipeline with recorded scanner output, real renderers; assertions on what was written."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from govbot.bot.action import ActionSettings, Context, default_renderers, full_run, pipeline_analyser, review_run
from govbot.bot.github.port import CommitData, PullData, UserRef
from govbot.bot.github.publish import CHECK_NAME, STICKY_MARKER
from govbot.bot.github.state import RunState
from tests.bot.github.memory import FakeGitHub
from tests.scanners import recorded

HEAD, BASE = "1" * 40, "2" * 40
ALICE = UserRef("dev-alice", 101, "User")
CLEAN_PY = b"def total(prices: list[int]) -> int:\n    return sum(prices)\n"
SHELL_PY = b"import subprocess\n\n\ndef export(name):\n    subprocess.call('tar czf ' + name, shell=True)\n"
AI_COMMIT = CommitData(HEAD, (BASE,), "Add totals\n\nCo-authored-by: Claude <noreply@anthropic.com>\n",
                       "Alice", "alice@example.com", "Alice", "alice@example.com", ALICE, ALICE)


def pull(**changes: object) -> PullData:
    base = dict(number=7, state="open", merged=False, draft=False, title="Add totals", body="Adds totals.",
                user=ALICE, head_sha=HEAD, head_ref="feature", head_repo="acme/shop", base_sha=BASE,
                base_ref="main", base_repo="acme/shop", labels=(), changed_files=0, additions=0, deletions=0,
                commits=1, default_branch="main")
    return PullData(**{**base, **changes})  # type: ignore[arg-type]


def context(gh: FakeGitHub, tmp_path: Path, **settings: object) -> Context:
    s = ActionSettings(repository="acme/shop", event_name="pull_request", event_path=None, token="t",
                       report_dir=tmp_path, **settings)  # type: ignore[arg-type]
    return Context(s, gh, pipeline_analyser({}, ("bandit", "secrets"), recorded), default_renderers(), io.StringIO())


@pytest.fixture
def gh() -> FakeGitHub:
    return FakeGitHub(permissions={"maint-bob": "write"})


def test_ai_change_requires_review_then_an_approval_satisfies_it(gh: FakeGitHub, tmp_path: Path) -> None:
    gh.add_pull(pull(), {"shop/totals.py": CLEAN_PY}, commits=[AI_COMMIT])
    assert full_run(context(gh, tmp_path), 7, None, None) == 1
    [run] = gh.check_runs
    assert run.conclusion == "failure" and run.output.title == "Human review required"
    state = RunState.decode(run.output.summary)
    assert state is not None and state.head == HEAD and state.outcome == "review_required"
    [comment] = gh.comments[7]
    assert comment.body.startswith(STICKY_MARKER)
    assert "human-review-required" in gh.pulls[7].labels

    gh.approve(7, "maint-bob", HEAD)
    assert review_run(context(gh, tmp_path), 7) == 0
    assert gh.find_check_run(HEAD, CHECK_NAME) is not None and gh.check_runs[-1].conclusion == "success"
    assert "approved" in gh.comments[7][0].body.lower()


def test_a_rerun_edits_the_one_sticky_comment(gh: FakeGitHub, tmp_path: Path) -> None:
    gh.add_pull(pull(), {"shop/export.py": SHELL_PY})
    assert full_run(context(gh, tmp_path), 7, None, None) == 1
    assert full_run(context(gh, tmp_path), 7, None, None) == 1
    assert len(gh.comments[7]) == 1 and len(gh.check_runs) == 1
    assert sum(w.startswith("create_comment") for w in gh.writes) == 1
    assert gh.check_runs[0].output.title == "Blocked by policy"


def test_read_only_token_degrades_to_annotations_and_summary(gh: FakeGitHub, tmp_path: Path) -> None:
    gh.add_pull(pull(head_repo="fork/shop"), {"shop/export.py": SHELL_PY})
    gh.read_only = True
    ctx = context(gh, tmp_path)
    assert full_run(ctx, 7, None, None) == 1
    assert gh.writes == [] and not gh.comments
    printed = ctx.out.getvalue()  # type: ignore[attr-defined]
    assert "::error file=shop/export.py" in printed
    assert any("read-only token" in note for note in ctx.notes)


def test_fail_on_never_and_dry_run_write_nothing_and_exit_0(gh: FakeGitHub, tmp_path: Path) -> None:
    gh.add_pull(pull(), {"shop/export.py": SHELL_PY})
    assert full_run(context(gh, tmp_path, fail_on="never", dry_run=True), 7, None, None) == 0
    assert gh.writes == []


def test_base_branch_policy_applies_and_closed_pulls_are_left_alone(gh: FakeGitHub, tmp_path: Path) -> None:
    policy = b"rules:\n  - id: no-shop\n    match: {touches: ['shop/**']}\n    action: block\n"
    gh.add_pull(pull(), {"shop/totals.py": CLEAN_PY}, base_files={".github/govbot.yml": policy})
    assert full_run(context(gh, tmp_path), 7, None, None) == 1
    assert gh.check_runs[0].output.title == "Blocked by policy"
    gh.pulls[7] = pull(state="closed")
    before = list(gh.writes)
    assert full_run(context(gh, tmp_path), 7, None, None) == 0
    assert gh.writes == before
