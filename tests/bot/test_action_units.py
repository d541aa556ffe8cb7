"""Pure pieces of the action: comment size, escaping, commands, state, exit codes, retries."""

from __future__ import annotations

import pytest
from github import GithubException

from govbot.bot.action import parse_command
from govbot.bot.github.port import Annotation, GitHubServerError, RateLimited
from govbot.bot.github.publish import MAX_COMMENT_CHARS, STICKY_MARKER, comment_body, workflow_command
from govbot.bot.github.pygithub import RetryBudget, RetrySettings, call_with_retries
from govbot.bot.github.state import RunState
from govbot.bot.render.markdown import comment_markdown, comment_size
from tests.bot.render.reports import make_report, many_findings


def test_comment_is_capped_once_to_github_limit_in_utf16_units() -> None:
    state = RunState("h" * 40, "block", True, "human-review-required " + "🚧" * 40)
    report = make_report(findings=many_findings(5_000))
    body = comment_body(lambda room: comment_markdown(report, max_chars=room), state, "extra 🚧")
    assert MAX_COMMENT_CHARS - 2_000 < comment_size(body) <= MAX_COMMENT_CHARS
    assert body.startswith(STICKY_MARKER) and "more" in body and body.endswith("extra 🚧")
    rooms: list[int] = []
    comment_body(lambda room: rooms.append(room) or "short", state, "")
    assert rooms == [MAX_COMMENT_CHARS - comment_size(f"{STICKY_MARKER}\n{state.encode()}\n")]


def test_state_round_trip_and_label_cannot_close_the_html_comment() -> None:
    state = RunState("h" * 40, "review_required", True, "x --> <img src=x>")
    encoded = state.encode()
    assert encoded.count("-->") == 1
    assert RunState.decode("text\n" + encoded) == state
    assert RunState.decode("<!-- govbot:state !!! -->") is None


def test_workflow_command_escaping() -> None:
    a = Annotation("a,b:c.py", 3, 3, "failure", "line1\n::set-output name=x::y %", "t:1")
    cmd = workflow_command(a)
    assert "\n" not in cmd
    assert cmd.startswith("::error file=a%2Cb%3Ac.py,line=3,endLine=3,title=t%3A1::")
    assert cmd.endswith("line1%0A::set-output name=x::y %25")


@pytest.mark.parametrize(("body", "expected"), [
    ("/govbot recheck", "recheck"), ("\n  /govbot deep  \nplease", "deep"), ("/govbot  deeper", None),
    ("please /govbot deep", None), ("", None)])
def test_parse_command(body: str, expected: str | None) -> None:
    assert parse_command(body) == expected


def _failing(statuses: list[int], headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    def fn() -> str:
        calls["n"] += 1
        if statuses:
            raise GithubException(statuses.pop(0), {"message": "x"}, headers or {})
        return "ok"

    return fn, calls


def test_retry_honours_retry_after_and_budget() -> None:
    sleeps: list[float] = []
    budget = RetryBudget(settings=RetrySettings(budget_s=10), sleep=sleeps.append)
    fn, calls = _failing([403, 502], {"Retry-After": "4"})
    assert call_with_retries(fn, idempotent=True, budget=budget, what="GET x") == "ok"
    assert sleeps[0] == 4.0 and calls["n"] == 3
    fn, _ = _failing([403] * 5, {"Retry-After": "4"})
    with pytest.raises(RateLimited):
        call_with_retries(fn, idempotent=True, budget=budget, what="GET x")
    assert sum(sleeps) <= 10


def test_post_is_not_retried_after_a_server_error() -> None:
    budget = RetryBudget(sleep=lambda s: None)
    fn, calls = _failing([502])
    with pytest.raises(GitHubServerError):
        call_with_retries(fn, idempotent=False, budget=budget, what="POST x")
    assert calls["n"] == 1


def test_budget_reservations_never_overspend_across_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    budget = RetryBudget(settings=RetrySettings(budget_s=10), sleep=lambda s: None)
    with ThreadPoolExecutor(max_workers=8) as pool:
        granted = list(pool.map(lambda _: budget.reserve(0.5), range(200)))
    assert granted.count(True) == 20
    assert budget.spent_s == 10 and budget.remaining() == 0
