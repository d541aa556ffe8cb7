"""The verifier pass through the official SDKs against the local fake server: scores shown,
thresholds applied, scanner findings never removed, budget and ledger include it."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from fakellm import FakeLLM, Reply, review_json
from test_review import AWS, FAST, SECURITY, change_of, config, env_for, finding, request_for

from govbot.bot.render.registry import comment_markdown
from govbot.core.models import Authorship, Finding, LLMStatus, Severity, Verification
from govbot.policy.engine import evaluate, facts_for
from govbot.policy.model import Policy
from govbot.router.review import ReviewOutcome, review
from tests.bot.render.reports import make_report

SAST = Finding(tool="bandit", rule_id="bandit:B602", severity=Severity.HIGH, path="src/auth/login.py",
               line=12, message=f"subprocess call with shell=True ({AWS})", fingerprint="fp-bandit")
DIFF = SECURITY.replace("+    return session_for(user)", f'+    token = "{AWS}"')


def verdicts(*scores: tuple[str, float]) -> str:
    return json.dumps({"verdicts": [{"id": i, "score": s, "reason": f"reason for {i}"} for i, s in scores]})


def run(fake: FakeLLM, below: str, *scores: tuple[str, float], **cfg: object) -> ReviewOutcome:
    fake.script("claude-opus-4-6", Reply(text=review_json([finding("src/auth/login.py", 12)], concern=True)))
    fake.script("claude-sonnet-4-6", Reply(text=verdicts(*scores)))
    settings = config(verifier={"enabled": True, "below": below}, **cfg)
    return review(request_for(change_of(DIFF), (SAST,)), settings, env_for(fake), FAST)


def test_verifier_request_is_fenced_redacted_and_forced(fake_llm: FakeLLM) -> None:
    out = run(fake_llm, "mark_low", ("F1", 0.9), ("F2", 0.8))
    assert fake_llm.models_called() == ["claude-opus-4-6", "claude-sonnet-4-6"]
    body = fake_llm.requests[1].json
    assert body["tool_choice"]["name"] == "govbot_verdicts" and body["tools"][0]["name"] == "govbot_verdicts"
    user = body["messages"][0]["content"]
    assert "### F1 · bandit:B602" in user and "### F2 · llm:injection" in user
    assert "subprocess.run(\"audit \" + user.name, shell=True)" in user  # the code context
    assert "<<<UNTRUSTED " in user and AWS not in fake_llm.all_bodies()
    calls = out.llm.calls
    assert [c.purpose for c in calls] == ["review", "verify"]
    assert out.llm.cost_usd == pytest.approx(sum(c.cost_usd for c in calls))


def test_scores_above_the_threshold_keep_the_finding_and_are_shown(fake_llm: FakeLLM) -> None:
    out = run(fake_llm, "hide", ("F1", 0.9), ("F2", 0.75))
    (f,) = out.findings
    assert f.verification.score == 0.75 and not f.verification.below_threshold and f.confidence == "high"
    assert out.scanner_verdicts["fp-bandit"].score == 0.9


@pytest.mark.parametrize(("below", "shown", "confidence", "hidden"), [
    ("hide", 0, None, 1), ("mark_low", 1, "low", 0), ("keep", 1, "high", 0),
])
def test_below_threshold_action(fake_llm: FakeLLM, below: str, shown: int, confidence: str | None,
                                hidden: int) -> None:
    out = run(fake_llm, below, ("F1", 0.05), ("F2", 0.3))
    findings = out.findings
    assert len(findings) == shown and len(out.llm.hidden_findings) == hidden
    if shown:
        assert findings[0].confidence == confidence and findings[0].verification.below_threshold
    # the scanner finding scored 0.05 is never removed: its score is only shown
    assert out.scanner_verdicts["fp-bandit"].action == "shown"
    assert "below 0.70" in out.llm.verifier


def test_verifier_never_changes_the_decision_by_itself(fake_llm: FakeLLM) -> None:
    cs = change_of(DIFF)
    out = run(fake_llm, "hide", ("F1", 0.0), ("F2", 0.0))
    sast = SAST.model_copy(update={"verification": out.scanner_verdicts["fp-bandit"]})
    policy = Policy()
    scored = evaluate(facts_for(cs, (sast, *out.findings), Authorship(), out.route, out.llm), policy)
    plain = evaluate(facts_for(cs, (SAST,), Authorship(), out.route, out.llm), policy)
    assert scored.outcome == plain.outcome and scored.labels_add == plain.labels_add


def test_verifier_inventing_ids_is_ignored_and_failure_leaves_findings_unscored(fake_llm: FakeLLM) -> None:
    out = run(fake_llm, "hide", ("F9", 0.0), ("F2", 0.9))
    assert [f.verification.score for f in out.findings] == [0.9]
    assert out.scanner_verdicts == {}
    fake_llm.requests.clear()
    fake_llm.script("claude-opus-4-6", Reply(text=review_json([finding("src/auth/login.py", 12)], concern=True)))
    fake_llm.script("claude-sonnet-4-6", Reply(text="no idea"))
    fake_llm.script("gpt-4.1", Reply(status=500))
    out = review(request_for(change_of(DIFF), (SAST,)), config(verifier={"enabled": True, "below": "hide"}),
                 env_for(fake_llm), FAST)
    assert out.findings and out.findings[0].verification is None
    assert "no model answered" in (out.llm.verifier or "") and out.llm.status is LLMStatus.OK


def test_budget_includes_the_verifier(fake_llm: FakeLLM) -> None:
    # the review spends $0.10; the verifier's worst case (~$0.06) would pass $0.12: it never starts
    fake_llm.script("claude-opus-4-6", Reply(text=review_json([finding("src/auth/login.py", 12)], concern=True),
                                             input_tokens=10_000, output_tokens=2_000))
    out = review(request_for(change_of(DIFF), (SAST,)),
                 config(budget_usd=0.12, verifier={"enabled": True}), env_for(fake_llm), FAST)
    assert fake_llm.models_called() == ["claude-opus-4-6"]
    assert [(c.purpose, c.status) for c in out.llm.calls] == [("review", "ok"), ("verify", "skipped_budget")]
    assert out.llm.cost_usd <= 0.12 and "stopped by the budget" in (out.llm.verifier or "")
    assert out.findings[0].verification is None


def test_comment_shows_scores_and_hidden_count(fake_llm: FakeLLM) -> None:
    out = run(fake_llm, "hide", ("F1", 0.4), ("F2", 0.1))
    sast = SAST.model_copy(update={"verification": out.scanner_verdicts["fp-bandit"],
                                   "message": "subprocess call with shell=True"})
    text = comment_markdown(make_report(findings=(sast,), llm=out.llm))
    assert "verifier 0.40 (below threshold): reason for F1" in text
    assert "1 LLM finding hidden" in text


@pytest.mark.slow  # a verifier call through the SDK
def test_scores_that_still_hold_are_not_asked_again_and_carried_findings_are_rescored(fake_llm: FakeLLM) -> None:
    """Incremental review: the scanner finding's context is unchanged (its score is kept, not sent);
    a carried LLM finding whose context changed is scored again, with context from the PR diff."""
    kept = Verification(score=0.4, reason="earlier", model="m", below_threshold=True, action="shown")
    carried = Finding(tool="llm", rule_id="llm:injection", severity=Severity.HIGH, path="src/auth/login.py",
                      line=13, message="Session: fixed session", fingerprint="fp-carried",
                      verification=Verification(score=0.9, action="kept"))
    fake_llm.script("claude-sonnet-4-6", Reply(text=verdicts(("F1", 0.2))))
    base = request_for(change_of(DIFF), (SAST,))
    # the push changed nothing to review again (scope empty): only the verifier is called
    request = replace(base, scope={}, known={"fp-bandit": kept}, reverify=(carried,))
    out = review(request, config(verifier={"enabled": True, "below": "hide"}), env_for(fake_llm), FAST)
    assert fake_llm.models_called() == ["claude-sonnet-4-6"]
    user = fake_llm.requests[-1].json["messages"][0]["content"]
    assert "bandit:B602" not in user  # its score still holds: not sent again
    assert "### F1 · llm:injection · high · src/auth/login.py:13" in user
    assert "    11 +    subprocess.run(" in user and "    12 +    token = [REDACTED]" in user  # the PR diff, redacted
    assert AWS not in fake_llm.all_bodies()
    assert out.scanner_verdicts == {"fp-bandit": kept}
    assert out.carried_verdicts["fp-carried"].score == 0.2 and out.carried_verdicts["fp-carried"].action == "hidden"
    assert "1 score(s) kept from the last review" in (out.llm.verifier or "")
