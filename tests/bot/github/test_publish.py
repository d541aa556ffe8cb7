"""The sticky comment stays one comment when two runs of a pull request publish at once."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from govbot.bot.github.port import CommentData, GitHubServerError
from govbot.bot.github.publish import CHECK_NAME, STICKY_MARKER, check_name, upsert_comment
from govbot.bot.github.pygithub import GitHubSettings, PyGithubAdapter, RetryBudget, RetrySettings
from tests.bot.github.fakegithub import FULL, FakePull, Gate, User
from tests.bot.github.fakegithub import FakeGitHub as HttpGitHub
from tests.bot.github.memory import FakeGitHub


@dataclass
class Interleaved(FakeGitHub):
    """Runs ``between`` once, right after the first listing of comments: another run of the
    same pull request that lists, creates and finishes while this one is between its list and
    its create — the race that left two sticky comments."""

    between: list[str] = field(default_factory=list)

    def list_comments(self, number: int) -> list[CommentData]:
        listed = super().list_comments(number)
        while self.between:
            upsert_comment(self, number, self.between.pop())
        return listed


def _sticky(gh: FakeGitHub, number: int = 7) -> list[CommentData]:
    return [c for c in gh.comments.get(number, []) if STICKY_MARKER in c.body]


def test_two_runs_creating_at_once_leave_one_sticky_comment() -> None:
    gh = Interleaved(between=[f"{STICKY_MARKER}\nother run"])
    upsert_comment(gh, 7, f"{STICKY_MARKER}\nthis run")
    [kept] = _sticky(gh)
    assert kept.body == f"{STICKY_MARKER}\nthis run"  # the run that listed last wrote last
    assert kept.id == 1001  # the oldest comment is the one kept (links to it stay valid)


def test_a_create_answered_502_but_applied_is_not_repeated() -> None:
    class Applied502(FakeGitHub):
        def create_comment(self, number: int, body: str) -> CommentData:
            super().create_comment(number, body)
            raise GitHubServerError("POST comment: GitHub answered 502", 502)

    gh = Applied502()
    upsert_comment(gh, 7, f"{STICKY_MARKER}\nbody")
    assert len(_sticky(gh)) == 1


def test_a_listing_that_lags_behind_our_create_does_not_make_a_second_comment() -> None:
    class Lagging(FakeGitHub):
        def list_comments(self, number: int) -> list[CommentData]:
            return []  # never shows anything: the create must not be repeated

    gh = Lagging()
    upsert_comment(gh, 7, f"{STICKY_MARKER}\nbody")
    assert len(_sticky(gh)) == 1


def test_two_concurrent_runs_over_http_leave_one_sticky_comment() -> None:
    """The same race with the real PyGithub adapter and two clients: the fake server holds both
    first listings until both have asked, so both see no comment and both create one."""
    with HttpGitHub() as fake:
        fake.add_pull(FakePull(number=7, author=User("dev-alice", 101), title="t", body="b",
                               head_sha="1" * 40, base_sha="2" * 40))
        fake.gates.append(Gate("GET", r"/repos/octo/shop/issues/7/comments", parties=2))
        errors: list[BaseException] = []

        def run(text: str) -> None:
            gh = PyGithubAdapter(GitHubSettings(token="t", repository=FULL, api_url=fake.url,
                                                seconds_between_writes=0),
                                 RetryBudget(settings=RetrySettings(budget_s=10), sleep=lambda _: None))
            try:
                upsert_comment(gh, 7, f"{STICKY_MARKER}\n{text}")
            except BaseException as exc:  # surfaced below, in the test's thread
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(name,)) for name in ("run a", "run b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not errors
        assert len(fake.calls("POST", r"/repos/octo/shop/issues/7/comments")) == 2  # the race happened
        [kept] = [c for c in fake.comments_on(7) if STICKY_MARKER in c["body"]]
        created = sorted(int(r.path.rsplit("/", 1)[-1]) for r in fake.calls("DELETE", r"/repos/octo/shop/issues/comments/\d+"))
        assert created and all(kept["id"] < deleted for deleted in created)  # the oldest is kept


def test_check_names_carry_the_base_branch_except_the_default_one() -> None:
    from tests.bot.test_flows import pull

    assert check_name(pull()) == CHECK_NAME == "govbot"
    assert check_name(pull(base_ref="release/1.x")) == "govbot (release/1.x)"
    assert check_name(pull(default_branch="")) == "govbot (main)"  # unknown: never the shared name
    assert check_name(pull(base_ref="a\nb")) == "govbot (a b)"


@pytest.mark.slow
def test_a_pr_into_a_weaker_branch_with_the_same_head_does_not_turn_the_other_check_green(tmp_path: Path) -> None:
    """Issue 9, class 15: PR 7 into ``main`` is blocked by main's policy; PR 8, the same head
    commit into ``release`` (no such rule there), passes. The check that main's branch protection
    requires must keep PR 7's result."""
    from govbot.bot.action import full_run
    from tests.bot.test_flows import CLEAN_PY, HEAD, context, pull

    gh = FakeGitHub(permissions={"maint-bob": "write"})
    strict = b"rules:\n  - id: no-shop\n    match: {touches: ['shop/**']}\n    action: block\n"
    gh.add_pull(pull(), {"shop/totals.py": CLEAN_PY}, base_files={".github/govbot.yml": strict})
    gh.add_pull(pull(number=8, base_ref="release", base_sha="3" * 40), {"shop/totals.py": CLEAN_PY})
    assert full_run(context(gh, tmp_path / "a"), 7, None, None) == 1
    assert full_run(context(gh, tmp_path / "b"), 8, None, None) == 0
    main_check, release_check = gh.find_check_run(HEAD, "govbot"), gh.find_check_run(HEAD, "govbot (release)")
    assert main_check is not None and main_check.conclusion == "failure" and main_check.title == "Blocked by policy"
    assert release_check is not None and release_check.conclusion == "success"
