"""Incremental LLM review through the Action flow: the in-memory GitHub port (with ``compare``),
the real pipeline, and the fake LLM server reached through the official SDKs. Each push after the
first sends only the hunks changed since the last reviewed head; anything uncertain is a full review."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from govbot.bot.action import ActionSettings, Context, default_renderers, full_run, pipeline_analyser
from govbot.bot.github.port import CommitData, GitHubServerError
from govbot.bot.github.state import RunState
from govbot.router.incremental import ReviewedState
from tests.bot.github.memory import FakeGitHub
from tests.bot.test_flows import BASE, HEAD, pull
from tests.router.fakellm import FakeLLM, Reply, review_json
from tests.scanners import recorded

HEAD2, HEAD3, BASE2 = "3" * 40, "4" * 40, "5" * 40
FIRST = b"".join(b"first_value_%d = compute(%d)\n" % (i, i) for i in range(200))
SECOND = b"".join(b"second_value_%d = compute(%d)\n" % (i, i) for i in range(200))
ISSUE = {"category": "injection", "severity": "medium", "path": "shop/first.py", "line": 2,
         "title": "Unchecked compute", "explanation": "compute() receives unchecked input", "cwe": ["CWE-20"],
         "confidence": "high"}


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    server = FakeLLM()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def gh() -> FakeGitHub:
    gh = FakeGitHub(permissions={"maint-bob": "write"})
    gh.add_pull(pull(), {"shop/first.py": FIRST})
    return gh


def run(gh: FakeGitHub, llm: FakeLLM, tmp_path: Path, command: str | None = None, *,
        comment: bool = True) -> Context:
    s = ActionSettings(repository="acme/shop", event_name="pull_request", event_path=None, token="t",
                       report_dir=tmp_path, comment=comment)
    env = {"OPENAI_API_KEY": "test-openai", "OPENAI_BASE_URL": llm.url + "/v1",
           "ANTHROPIC_API_KEY": "test-anthropic", "ANTHROPIC_BASE_URL": llm.url}
    ctx = Context(s, gh, pipeline_analyser(env, (), recorded), default_renderers(), io.StringIO())
    full_run(ctx, 7, "pro" if command == "deep" else None, None, command)
    return ctx


def reviewed(gh: FakeGitHub) -> ReviewedState:
    [comment] = gh.comments[7]
    state = RunState.decode(comment.body)
    assert state is not None and state.reviewed is not None
    return state.reviewed


def first_review(gh: FakeGitHub, llm: FakeLLM, tmp_path: Path) -> None:
    llm.default = Reply(text=review_json([ISSUE]))
    run(gh, llm, tmp_path)
    assert "first_value_30" in llm.all_bodies()
    record = reviewed(gh)
    assert record.head == HEAD and record.base == BASE
    assert [(f.path, f.line) for f in record.findings] == [("shop/first.py", 2)]
    llm.requests.clear()
    llm.default = Reply(text=review_json())


@pytest.mark.slow  # two full Action runs against both fakes (~2 s); the full suite runs it
def test_a_second_push_reviews_only_its_hunks_and_carries_findings(gh: FakeGitHub, llm: FakeLLM,
                                                                   tmp_path: Path) -> None:
    first_review(gh, llm, tmp_path)
    gh.push(7, HEAD2, {"shop/second.py": SECOND})
    ctx = run(gh, llm, tmp_path)
    sent = llm.all_bodies()
    assert "second_value_30" in sent and "first_value_30" not in sent
    incremental_tokens, incremental_requests = llm.prompt_tokens(), len(llm.requests)
    assert "reviewed commits 1111111..3333333" in ctx.out.getvalue()  # type: ignore[attr-defined]
    record = reviewed(gh)
    assert record.head == HEAD2
    assert [(f.path, f.line) for f in record.findings] == [("shop/first.py", 2)]  # carried over
    assert "Unchecked compute" in gh.comments[7][0].body

    # the same push reviewed in full (/govbot recheck) costs clearly more
    llm.requests.clear()
    run(gh, llm, tmp_path, "recheck")
    assert "first_value_30" in llm.all_bodies()
    assert len(llm.requests) == incremental_requests
    assert incremental_tokens < llm.prompt_tokens() * 0.8, (incremental_tokens, llm.prompt_tokens())


def test_a_force_push_is_reviewed_in_full(gh: FakeGitHub, llm: FakeLLM, tmp_path: Path) -> None:
    first_review(gh, llm, tmp_path)
    gh.push(7, HEAD2, {"shop/first.py": FIRST, "shop/second.py": SECOND}, force=True)
    assert gh.compare(HEAD, HEAD2).status == "diverged"
    ctx = run(gh, llm, tmp_path)
    assert "first_value_30" in llm.all_bodies() and "second_value_30" in llm.all_bodies()
    assert "history was rewritten" in ctx.out.getvalue()  # type: ignore[attr-defined]
    assert reviewed(gh).head == HEAD2


def test_a_moved_base_is_reviewed_in_full(gh: FakeGitHub, llm: FakeLLM, tmp_path: Path) -> None:
    first_review(gh, llm, tmp_path)
    gh.push(7, HEAD2, {"shop/second.py": SECOND}, base_sha=BASE2)
    ctx = run(gh, llm, tmp_path)
    assert "first_value_30" in llm.all_bodies()
    assert "base branch moved" in ctx.out.getvalue()  # type: ignore[attr-defined]
    assert reviewed(gh).base == BASE2


def test_govbot_deep_forces_a_full_review(gh: FakeGitHub, llm: FakeLLM, tmp_path: Path) -> None:
    first_review(gh, llm, tmp_path)
    gh.push(7, HEAD2, {"shop/second.py": SECOND})
    ctx = run(gh, llm, tmp_path, "deep")
    assert "first_value_30" in llm.all_bodies() and "second_value_30" in llm.all_bodies()
    assert "full review requested (/govbot deep)" in ctx.out.getvalue()  # type: ignore[attr-defined]


def test_a_failed_compare_falls_back_to_a_full_review(gh: FakeGitHub, llm: FakeLLM, tmp_path: Path) -> None:
    first_review(gh, llm, tmp_path)
    gh.push(7, HEAD2, {"shop/second.py": SECOND})
    gh.compare_error = GitHubServerError("compare: GitHub answered 502", 502)
    ctx = run(gh, llm, tmp_path)
    assert "first_value_30" in llm.all_bodies() and "second_value_30" in llm.all_bodies()
    assert "comparison with the last reviewed head failed" in ctx.out.getvalue()  # type: ignore[attr-defined]


@pytest.mark.slow  # the failing models are retried with real backoff (~6 s)
def test_no_record_is_written_when_the_llm_review_did_not_complete(gh: FakeGitHub, llm: FakeLLM,
                                                                  tmp_path: Path) -> None:
    first_review(gh, llm, tmp_path)
    gh.push(7, HEAD2, {"shop/second.py": SECOND})
    llm.default = Reply(status=500)
    run(gh, llm, tmp_path)
    [comment] = gh.comments[7]
    state = RunState.decode(comment.body)
    assert state is not None and state.head == HEAD2 and state.reviewed is None
    llm.default = Reply(text=review_json())
    gh.push(7, HEAD3, {"shop/third.py": b"third = 1\n"})
    run(gh, llm, tmp_path)  # no record: the next push is reviewed in full, never skipped
    assert "first_value_30" in llm.all_bodies() and "second_value_30" in llm.all_bodies()


@pytest.mark.slow  # the whole Action flow with scanners and the SDKs
def test_the_resolved_findings_are_listed_in_the_comment_and_the_json_report(gh: FakeGitHub, llm: FakeLLM,
                                                                           tmp_path: Path) -> None:
    first_review(gh, llm, tmp_path)
    fixed = FIRST.replace(b"first_value_1 = compute(1)", b"first_value_1 = compute(checked(1))")
    gh.push(7, HEAD2, {"shop/first.py": fixed})
    run(gh, llm, tmp_path)  # the new review does not find it again: its line changed, so it is resolved
    body = gh.comments[7][0].body
    assert "Resolved since the last review (1):" in body
    assert "`shop/first.py:2` `llm:injection` Unchecked compute: compute() receives unchecked input" in body
    report = json.loads((tmp_path / "govbot-report.json").read_text("utf-8"))
    [gone] = report["llm"]["resolved_findings"]
    assert (gone["path"], gone["line"], gone["rule_id"]) == ("shop/first.py", 2, "llm:injection")
    assert report["llm"]["resolved"] == [gone["fingerprint"]]
    assert not [f for f in report["findings"] if f["tool"] == "llm"]
    assert reviewed(gh).findings == ()


def with_first_commit() -> FakeGitHub:
    """The pull request with its one commit listed (the check-run lookup walks the commits)."""
    gh = FakeGitHub(permissions={"maint-bob": "write"})
    first = CommitData(HEAD, (BASE,), "push 1111111", "Dev", "dev@x", "Dev", "dev@x", None, None)
    gh.add_pull(pull(), {"shop/first.py": FIRST}, commits=[first])
    return gh


@pytest.mark.slow  # the whole Action flow with scanners and the SDKs
def test_with_comment_false_the_record_is_read_from_the_check_run(llm: FakeLLM, tmp_path: Path) -> None:
    gh = with_first_commit()
    llm.default = Reply(text=review_json([ISSUE]))
    run(gh, llm, tmp_path, comment=False)
    assert gh.comments.get(7, []) == []
    llm.requests.clear()
    llm.default = Reply(text=review_json())
    gh.push(7, HEAD2, {"shop/second.py": SECOND})
    ctx = run(gh, llm, tmp_path, comment=False)
    assert "reviewed commits 1111111..3333333" in ctx.out.getvalue()  # type: ignore[attr-defined]
    sent = llm.all_bodies()
    assert "second_value_30" in sent and "first_value_30" not in sent
    report = json.loads((tmp_path / "govbot-report.json").read_text("utf-8"))
    assert [(f["path"], f["line"]) for f in report["findings"] if f["tool"] == "llm"] == [("shop/first.py", 2)]
    assert report["llm"]["scope"].startswith("reviewed commits 1111111..3333333")


@pytest.mark.slow  # the whole Action flow with scanners and the SDKs
def test_a_check_run_record_for_another_commit_is_not_trusted(llm: FakeLLM, tmp_path: Path) -> None:
    gh = with_first_commit()
    run(gh, llm, tmp_path, comment=False)
    [check] = gh.check_runs
    check.head_sha = "9" * 40  # the record claims HEAD, but sits on another commit's check run
    gh.push(7, HEAD2, {"shop/second.py": SECOND})
    llm.requests.clear()
    ctx = run(gh, llm, tmp_path, comment=False)
    assert "first review of this pull request" in ctx.out.getvalue()  # type: ignore[attr-defined]
    assert "first_value_30" in llm.all_bodies()


@pytest.mark.slow  # the whole Action flow with scanners and the SDKs
def test_only_the_new_commit_messages_are_sent_with_the_new_hunks(llm: FakeLLM, tmp_path: Path) -> None:
    gh = with_first_commit()
    first_review(gh, llm, tmp_path)
    gh.push(7, HEAD2, {"shop/second.py": SECOND})
    run(gh, llm, tmp_path)
    sent = llm.all_bodies()
    assert "push 3333333" in sent and "push 1111111" not in sent
    assert "Add totals" in sent  # the title is always sent
