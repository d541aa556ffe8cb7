"""The pipeline with an incremental plan: only the scoped hunks reach the reviewer, earlier LLM
findings are carried over or resolved, and the LLM summary says which commits were reviewed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from govbot.core.diff import changeset_from_diff
from govbot.core.models import Finding, LLMStatus, LLMSummary, RoutePlan, Severity, Verification
from govbot.core.ports import ToolResult
from govbot.pipeline import AnalyseOptions, analyse
from govbot.policy.llm_config import LLMConfig
from govbot.policy.loader import default_policy
from govbot.router.incremental import Compare, ReviewedState, plan_incremental
from govbot.router.review import ReviewOutcome, ReviewRequest

BODY = "".join(f"line_{i} = {i}\n" for i in range(1, 61))
DIFF = ("diff --git a/notes.txt b/notes.txt\n--- a/notes.txt\n+++ b/notes.txt\n"
        "@@ -1,3 +1,4 @@\n line_1 = 1\n+early = 0\n line_2 = 2\n line_3 = 3\n"
        "@@ -40,3 +41,4 @@\n line_40 = 40\n+late = 0\n line_41 = 41\n line_42 = 42\n")


class _Contents:
    def read(self, files: Any) -> dict[str, bytes]:
        return {f.path: BODY.encode() for f in files}


class _NoScanners:
    def run(self, root: Path, paths: Any, progress: Any = None, only: Any = None) -> list[ToolResult]:
        return []


def llm(line: int, fp: str) -> Finding:
    return Finding(tool="llm", rule_id="llm:logic", severity=Severity.LOW, path="notes.txt", line=line,
                   message="m", fingerprint=fp)


class _Reviewer:
    def __init__(self) -> None:
        self.requests: list[ReviewRequest] = []

    def __call__(self, request: ReviewRequest, config: LLMConfig) -> ReviewOutcome:
        self.requests.append(request)
        return ReviewOutcome(route=RoutePlan(), llm=LLMSummary(status=LLMStatus.OK, reason="ok"),
                             findings=(llm(42, "fp-new"),))


def test_incremental_plan_scopes_the_review_and_carries_findings() -> None:
    change = changeset_from_diff(DIFF)
    previous = ReviewedState(head="a" * 40, base="c" * 40, findings=(llm(2, "fp-early"), llm(42, "fp-late")))
    range_patch = "--- a/notes.txt\n+++ b/notes.txt\n@@ -42 +42 @@\n-late = 1\n+late = 0\n"  # line 42 rewritten
    plan = plan_incremental(previous, Compare("c" * 40, "b" * 40, True, {"notes.txt": range_patch}))
    reviewer = _Reviewer()
    report = analyse(change, default_policy(), _Contents(), _NoScanners(), reviewer,
                     AnalyseOptions(incremental=plan))
    (request,) = reviewer.requests
    assert request.scope is not None and "late = 0" in request.scope["notes.txt"]
    assert "early = 0" not in request.scope["notes.txt"]  # the untouched hunk is not sent again
    llm_fps = sorted(f.fingerprint for f in report.findings if f.tool == "llm")
    assert llm_fps == ["fp-early", "fp-new"]
    assert report.llm.resolved == ("fp-late",)
    assert report.llm.scope is not None and report.llm.scope.startswith("reviewed commits aaaaaaa..bbbbbbb")
    assert "1 earlier finding(s) carried over, 1 resolved" in report.llm.scope


def security(line: int, fp: str, score: float) -> Finding:
    return Finding(tool="llm", rule_id="llm:injection", severity=Severity.HIGH, path="notes.txt", line=line,
                   message="Injection: user data reaches a sink", fingerprint=fp,
                   verification=Verification(score=score, reason="earlier", model="m"))


class _Rescoring(_Reviewer):
    """Scores every carried finding it is asked to score again at 0.1 (below the threshold)."""

    def __call__(self, request: ReviewRequest, config: LLMConfig) -> ReviewOutcome:
        self.requests.append(request)
        again = {f.fingerprint: Verification(score=0.1, reason="no longer reachable", model="v", below_threshold=True,
                                             action="hidden") for f in request.reverify}
        return ReviewOutcome(route=RoutePlan(), llm=LLMSummary(status=LLMStatus.OK, reason="ok"),
                             carried_verdicts=again)


def test_carried_findings_keep_their_score_unless_their_context_changed() -> None:
    change = changeset_from_diff(DIFF)
    far, near = security(2, "fp-far", 0.9), security(44, "fp-near", 0.8)
    previous = ReviewedState(head="a" * 40, base="c" * 40, findings=(far, near))
    range_patch = "--- a/notes.txt\n+++ b/notes.txt\n@@ -42 +42 @@\n-late = 1\n+late = 0\n"  # 2 lines above fp-near
    plan = plan_incremental(previous, Compare("c" * 40, "b" * 40, True, {"notes.txt": range_patch}))
    policy = default_policy()
    policy = policy.model_copy(update={"llm": policy.llm.model_copy(update={
        "verifier": policy.llm.verifier.model_copy(update={"enabled": True, "below": "hide"})})})
    reviewer = _Rescoring()
    report = analyse(change, policy, _Contents(), _NoScanners(), reviewer, AnalyseOptions(incremental=plan))
    (request,) = reviewer.requests
    assert set(request.known) == {"fp-far"} and [f.fingerprint for f in request.reverify] == ["fp-near"]
    shown = {f.fingerprint: f for f in report.findings if f.tool == "llm"}
    assert set(shown) == {"fp-far"} and shown["fp-far"].verification == far.verification
    assert [f.fingerprint for f in report.llm.hidden_findings] == ["fp-near"]
    assert report.llm.hidden_findings[0].verification is not None
    assert report.llm.hidden_findings[0].verification.score == 0.1
