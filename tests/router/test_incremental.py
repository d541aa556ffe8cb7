"""Incremental review: the pure decision, scoping and carry-over, then a run through the SDKs
against the fake server that counts the prompt tokens it receives."""

from __future__ import annotations

import pytest
from fakellm import FakeLLM, Reply, review_json
from test_review import FAST, change_of, config, env_for, finding, request_for

from govbot.core.models import Finding, Severity, Verification
from govbot.router.classify import default_rules
from govbot.router.incremental import (
    Compare,
    ReviewedState,
    merge_findings,
    plan_incremental,
    scope_patches,
    steady_verdicts,
)
from govbot.router.review import ReviewRequest, review

OLD, NEW, BASE = "a" * 40, "b" * 40, "c" * 40


def llm(path: str, line: int, fp: str, end: int | None = None) -> Finding:
    return Finding(tool="llm", rule_id="llm:injection", severity=Severity.HIGH, path=path, line=line,
                   end_line=end, message="m", fingerprint=fp)


PREV = ReviewedState(head=OLD, base=BASE, findings=(llm("app.py", 10, "fp-a"), llm("app.py", 30, "fp-b"),
                                                     llm("lib.py", 5, "fp-c"), llm("gone.py", 2, "fp-d")))
# since OLD: two lines inserted above line 10, line 30 rewritten, gone.py deleted
RANGE = """\
--- a/app.py
+++ b/app.py
@@ -3,0 +4,2 @@
+import os
+import sys
@@ -30 +32 @@
-    run(cmd, shell=True)
+    run([cmd])
"""


def cmp(**kw: object) -> Compare:
    data: dict[str, object] = {"base": BASE, "head": NEW, "ancestor": True, "patches": {"app.py": RANGE},
                               "removed": frozenset({"gone.py"})}
    data.update(kw)
    return Compare(**data)  # type: ignore[arg-type]


def test_full_review_cases() -> None:
    assert plan_incremental(None, cmp()).reason == "first review of this pull request"
    assert plan_incremental(PREV, cmp(), force="/govbot deep").mode == "full"
    moved = plan_incremental(PREV, cmp(base="d" * 40))
    assert (moved.mode, moved.reason) == ("full", "the base branch moved since the last review")
    pushed = plan_incremental(PREV, cmp(ancestor=False))
    assert pushed.mode == "full" and "force-push" in pushed.reason
    assert scope_patches({"x.py": "p"}, pushed) == {"x.py": "p"}


def test_incremental_carries_untouched_findings_at_their_new_line_and_resolves_fixed_ones() -> None:
    plan = plan_incremental(PREV, cmp())
    assert plan.mode == "incremental" and plan.commits == "aaaaaaa..bbbbbbb"
    assert plan.reason == "reviewed commits aaaaaaa..bbbbbbb"
    assert [(f.fingerprint, f.line) for f in plan.carried] == [("fp-a", 12), ("fp-c", 5)]
    assert [f.fingerprint for f in plan.touched] == ["fp-b", "fp-d"]
    assert plan.changed == {"app.py": frozenset({4, 5, 32})}
    shown, resolved = merge_findings(plan, [llm("app.py", 33, "fp-new")])
    assert [f.fingerprint for f in shown] == ["fp-a", "fp-new", "fp-c"]
    assert [f.fingerprint for f in resolved] == ["fp-b", "fp-d"]
    # found again on the changed line: not resolved, and shown once
    shown, resolved = merge_findings(plan, [llm("app.py", 32, "fp-b")])
    assert [f.fingerprint for f in resolved] == ["fp-d"] and len(shown) == 3


def test_a_line_inserted_inside_a_multiline_finding_touches_it() -> None:
    prev = ReviewedState(head=OLD, base=BASE, findings=(llm("app.py", 2, "fp-span", end=6),))
    plan = plan_incremental(prev, cmp())
    assert plan.carried == () and [f.fingerprint for f in plan.touched] == ["fp-span"]


def big_file_diff(path: str, hunks: int) -> str:
    out = [f"diff --git a/{path} b/{path}", f"--- a/{path}", f"+++ b/{path}"]
    for h in range(hunks):
        start = 1 + h * 40
        out.append(f"@@ -{start},3 +{start},4 @@")
        out += [f" context_{h}_a = 1", f"+added_{h} = compute({h}, 'a line of ordinary code here')",
                f" context_{h}_b = 2", f" context_{h}_c = 3"]
    return "\n".join(out) + "\n"


def test_incremental_run_sends_only_the_new_hunks(fake_llm: FakeLLM) -> None:
    diff = big_file_diff("src/text/format.py", 30)
    cs = change_of(diff)
    request = request_for(cs)
    fake_llm.default = Reply(text=review_json())
    review(request, config(), env_for(fake_llm), FAST)
    full_tokens = fake_llm.prompt_tokens()
    fake_llm.requests.clear()
    # the new push touched one hunk: line 82 (hunk 3) of the PR diff
    range_patch = "--- a/src/text/format.py\n+++ b/src/text/format.py\n@@ -81,0 +82 @@\n+added_2 = 1\n"
    plan = plan_incremental(ReviewedState(OLD, BASE), Compare(BASE, NEW, True, {"src/text/format.py": range_patch}))
    scoped = scope_patches(dict(request.patches), plan)
    out = review(ReviewRequest(cs, (), request.authorship, request.patches, scoped), config(), env_for(fake_llm), FAST)
    sent = fake_llm.all_bodies()
    assert "added_2 = compute" in sent and "added_1 = compute" not in sent and "added_3 = compute" not in sent
    incremental_tokens = fake_llm.prompt_tokens()
    assert incremental_tokens < full_tokens * 0.6, (incremental_tokens, full_tokens)
    assert out.llm.status.value == "ok"


def test_scoped_finding_is_still_checked_against_the_pr_diff(fake_llm: FakeLLM) -> None:
    diff = big_file_diff("src/text/format.py", 5)
    cs = change_of(diff)
    range_patch = "--- a/src/text/format.py\n+++ b/src/text/format.py\n@@ -81,0 +82 @@\n+added_2 = 1\n"
    plan = plan_incremental(ReviewedState(OLD, BASE), Compare(BASE, NEW, True, {"src/text/format.py": range_patch}))
    scoped = scope_patches({f.path: f.patch or "" for f in cs.files}, plan)
    fake_llm.default = Reply(text=review_json([finding("src/text/format.py", 82, "logic", "low"),
                                                finding("src/text/format.py", 2, "logic", "low")]))
    out = review(ReviewRequest(cs, (), request_for(cs).authorship, {f.path: f.patch or "" for f in cs.files}, scoped),
                 config(), env_for(fake_llm), FAST)
    # line 2 is in the PR diff but was not sent this time: kept, marked unverified
    assert [(f.line, f.verified) for f in out.findings] == [(2, False), (82, True)]


# --- lint-level pushes, commit messages, scores that still hold -------------------------------------

DOCS_RANGE = "--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-Old title\n+New title\n"
COMMENT_RANGE = "--- a/lib.py\n+++ b/lib.py\n@@ -4 +4 @@\n-# old note\n+# new note\n"


def test_a_lint_level_change_since_the_last_review_is_not_sent_again() -> None:
    plan = plan_incremental(PREV, cmp(patches={"app.py": RANGE, "README.md": DOCS_RANGE}), rules=default_rules())
    assert plan.settled == (("README.md", "docs"),)
    patches = {"app.py": "@@ -1,2 +1,40 @@\n" + "".join(f"+x{i} = {i}\n" for i in range(40)),
               "README.md": "@@ -1 +1 @@\n-Old title\n+New title\n"}
    assert set(scope_patches(patches, plan)) == {"app.py"}
    assert plan.since == OLD
    # without the rules (or in a full review) nothing is settled
    assert plan_incremental(PREV, cmp(patches={"README.md": DOCS_RANGE})).settled == ()


def test_a_lint_level_change_over_an_earlier_finding_is_reviewed_again() -> None:
    prev = ReviewedState(head=OLD, base=BASE, findings=(llm("lib.py", 4, "fp-c"),))
    plan = plan_incremental(prev, cmp(patches={"lib.py": COMMENT_RANGE}, removed=frozenset()), rules=default_rules())
    assert plan.settled == () and [f.fingerprint for f in plan.touched] == ["fp-c"]


def scored(f: Finding, score: float) -> Finding:
    return f.model_copy(update={"verification": Verification(score=score, reason="r", model="m")})


def test_scores_are_kept_only_where_nothing_changed_around_the_finding() -> None:
    far = scored(llm("app.py", 60, "fp-far"), 0.9)  # nothing changed within 6 lines
    near = scored(llm("app.py", 36, "fp-near"), 0.8)  # line 32 changed: within 6 lines
    sast = Finding(tool="bandit", rule_id="bandit:B602", severity=Severity.HIGH, path="lib.py", line=9,
                   message="m", fingerprint="fp-sast")
    gone = Finding(tool="bandit", rule_id="bandit:B602", severity=Severity.HIGH, path="gone.py", line=1,
                   message="m", fingerprint="fp-gone")
    prev = ReviewedState(head=OLD, base=BASE, verdicts={"fp-sast": Verification(score=0.3), "fp-gone":
                                                        Verification(score=0.5)})
    plan = plan_incremental(prev, cmp())
    kept = steady_verdicts(plan, [far, near, sast, gone], around=6)
    assert kept == {"fp-far": far.verification, "fp-sast": Verification(score=0.3)}
    assert steady_verdicts(plan, [far], around=30) == {}  # a wider context window reaches line 32
    full = plan_incremental(prev, cmp(ancestor=False))
    assert steady_verdicts(full, [far, sast], around=6) == {}


def test_a_removal_counts_as_a_change_where_it_happened() -> None:
    removal = "--- a/app.py\n+++ b/app.py\n@@ -20,2 +19,0 @@\n-a = 1\n-b = 2\n"
    f = scored(llm("app.py", 25, "fp"), 0.9)
    plan = plan_incremental(ReviewedState(OLD, BASE), cmp(patches={"app.py": removal}, removed=frozenset()))
    assert plan.positions == {"app.py": frozenset({20})}
    assert steady_verdicts(plan, [f], around=5) == {} and steady_verdicts(plan, [f], around=4) != {}


@pytest.mark.slow  # two reviews through the SDKs
def test_only_commit_messages_since_the_last_review_are_sent(fake_llm: FakeLLM) -> None:
    cs = change_of(big_file_diff("src/text/format.py", 3), commits=("first message", "second message"))
    since = cs.commits[0].sha
    fake_llm.default = Reply(text=review_json())
    request = request_for(cs)
    review(ReviewRequest(cs, (), request.authorship, request.patches, dict(request.patches), since=since),
           config(), env_for(fake_llm), FAST)
    sent = fake_llm.all_bodies()
    assert "second message" in sent and "first message" not in sent
    fake_llm.requests.clear()
    review(ReviewRequest(cs, (), request.authorship, request.patches, dict(request.patches), since="f" * 40),
           config(), env_for(fake_llm), FAST)
    assert "first message" in fake_llm.all_bodies()  # an unknown head: every message, never fewer
