from __future__ import annotations

from govbot.core.diff import changeset_from_diff
from govbot.core.models import (
    AIVerdict,
    Authorship,
    ChangedFile,
    ChangeSet,
    FileStatus,
    Finding,
    LLMStatus,
    LLMSummary,
    Outcome,
    PullRequestMeta,
    RoutePlan,
    Severity,
    Signal,
    SignalStrength,
    SkippedFile,
    Suppression,
    Tier,
    ToolRun,
    ToolStatus,
)
from govbot.policy.engine import evaluate, facts_for
from govbot.policy.loader import default_policy, load_policy_text
from govbot.policy.model import Policy


def finding(**kw: object) -> Finding:
    base: dict[str, object] = {
        "tool": "semgrep", "rule_id": "semgrep:x", "severity": Severity.HIGH, "path": "src/a.py",
        "line": 3, "message": "m", "fingerprint": "fp1", "in_diff": True,
    }
    base.update(kw)
    return Finding.model_validate(base)


def decide(findings=(), policy: Policy | None = None, authorship=Authorship(), labels=(),  # type: ignore[no-untyped-def]
           route=RoutePlan(), llm=LLMSummary(), tools=(), skipped=(), paths=("src/a.py",)):
    change = ChangeSet(
        base="b", head="h",
        files=tuple(ChangedFile(path=p, status=FileStatus.MODIFIED) for p in paths),
        pr=PullRequestMeta(number=1, labels=tuple(labels)),
    )
    facts = facts_for(change, findings, authorship, route, llm, tools, skipped)
    return evaluate(facts, policy or default_policy())


def test_clean_change_passes_and_removes_managed_labels() -> None:
    d = decide()
    assert d.outcome is Outcome.PASS and d.complete
    assert d.labels_add == ()
    assert set(d.labels_remove) == {"human-review-required", "govbot:blocked", "ai-generated"}


def test_secret_in_diff_blocks_with_reason_and_fingerprint() -> None:
    d = decide([finding(tool="secrets", rule_id="secrets:aws-access-key", severity=Severity.CRITICAL)])
    assert d.outcome is Outcome.BLOCK
    [reason] = [r for r in d.reasons if r.rule == "block-secrets"]
    assert reason.fingerprints == ("fp1",)
    assert "govbot:blocked" in d.labels_add


def test_out_of_diff_high_finding_does_not_block() -> None:
    assert decide([finding(in_diff=False)]).outcome is Outcome.PASS


def test_old_suppression_is_honoured_new_one_is_not() -> None:
    old = finding(suppression=Suppression(marker="nosec", added_by_change=False))
    new = finding(suppression=Suppression(marker="nosec", added_by_change=True))
    assert decide([old]).outcome is Outcome.PASS
    assert decide([new]).outcome is Outcome.BLOCK


def test_ai_generated_requires_review_and_labels() -> None:
    a = Authorship(ai_generated=AIVerdict.YES, agents=("claude",), confidence=0.95)
    d = decide(authorship=a)
    assert d.outcome is Outcome.REVIEW_REQUIRED
    assert set(d.labels_add) == {"human-review-required", "ai-generated"}


def test_agent_condition_blocks_only_that_agent() -> None:
    policy = load_policy_text("rules:\n  - id: no-devin\n    match: {agent: [Devin]}\n    action: block\n", "p")
    devin = Authorship(ai_generated=AIVerdict.YES, agents=("devin",))
    claude = Authorship(ai_generated=AIVerdict.YES, agents=("claude",))
    assert decide(policy=policy, authorship=devin).outcome is Outcome.BLOCK
    assert decide(policy=policy, authorship=claude).outcome is Outcome.REVIEW_REQUIRED


def test_instruction_file_signal_requires_review() -> None:
    a = Authorship(signals=(Signal(id="instruction_file", strength=SignalStrength.MEDIUM, evidence="CLAUDE.md",
                                   path="CLAUDE.md"),))
    assert decide(authorship=a).outcome is Outcome.REVIEW_REQUIRED


def test_finding_conditions_combine() -> None:
    policy = load_policy_text(
        "use_default_rules: false\nrules:\n  - id: sql\n    match: {cwe: [CWE-89], paths: ['src/**'],"
        " exclude_paths: ['src/tests/**'], severity: medium}\n    action: block\n", "p")
    sql = finding(cwe=("CWE-89",), severity=Severity.MEDIUM)
    assert decide([sql], policy).outcome is Outcome.BLOCK
    assert decide([sql.model_copy(update={"path": "src/tests/t.py"})], policy).outcome is Outcome.PASS
    assert decide([sql.model_copy(update={"severity": Severity.LOW})], policy).outcome is Outcome.PASS
    assert decide([sql.model_copy(update={"cwe": ("CWE-78",)})], policy).outcome is Outcome.PASS


def test_label_and_touches_conditions() -> None:
    policy = load_policy_text(
        "rules:\n  - id: infra\n    match: {touches: ['.github/workflows/**'], labels: [external]}\n"
        "    action: require_review\n", "p")
    assert decide(policy=policy, labels=["external"], paths=(".github/workflows/ci.yml",)).outcome is Outcome.REVIEW_REQUIRED
    assert decide(policy=policy, labels=["external"]).outcome is Outcome.PASS
    assert decide(policy=policy, paths=(".github/workflows/ci.yml",)).outcome is Outcome.PASS


def test_user_rule_overrides_builtin_by_id() -> None:
    policy = load_policy_text("rules:\n  - id: block-high-severity-sast\n    match: {severity: high}\n"
                              "    action: warn\n", "p")
    assert decide([finding()], policy).outcome is Outcome.WARN


def test_incomplete_tool_or_file_is_never_complete() -> None:
    failed = ToolRun(name="semgrep", status=ToolStatus.TIMEOUT, error="did not finish")
    d = decide(tools=[failed])
    assert not d.complete and any("semgrep timeout" in n for n in d.notices)
    d = decide(skipped=[SkippedFile(path="big.py", reason="too large", incomplete=True)])
    assert not d.complete
    assert decide(skipped=[SkippedFile(path="x.png", reason="binary file")]).complete


def test_pro_review_that_did_not_finish_fails_closed() -> None:
    d = decide(route=RoutePlan(tier=Tier.PRO), llm=LLMSummary(status=LLMStatus.INCOMPLETE, reason="no Pro model answered"))
    assert d.outcome is Outcome.REVIEW_REQUIRED
    assert any(r.rule == "govbot:llm-incomplete" for r in d.reasons)
    d = decide(route=RoutePlan(tier=Tier.MINI), llm=LLMSummary(status=LLMStatus.INCOMPLETE))
    assert d.outcome is Outcome.PASS


def test_llm_findings_only_add() -> None:
    llm_high = finding(tool="llm", rule_id="llm:injection", severity=Severity.HIGH)
    assert decide([llm_high]).outcome is Outcome.REVIEW_REQUIRED
    det = finding(tool="secrets", rule_id="secrets:x")
    llm_low = finding(tool="llm", rule_id="llm:style", severity=Severity.LOW, fingerprint="fp2")
    assert decide([det, llm_low]).outcome is Outcome.BLOCK


def test_severity_band() -> None:
    policy = load_policy_text("use_default_rules: false\nrules:\n  - id: med\n    match: {severity: medium,"
                              " max_severity: medium}\n    action: warn\n", "p")
    assert decide([finding(severity=Severity.MEDIUM)], policy).outcome is Outcome.WARN
    assert decide([finding(severity=Severity.HIGH)], policy).outcome is Outcome.PASS
    assert decide([finding(severity=Severity.LOW)], policy).outcome is Outcome.PASS


def secret(**kw: object) -> Finding:
    return finding(tool="secrets", rule_id="secrets:x", severity=Severity.CRITICAL, **kw)


def test_default_policy_blocks_only_provider_format_secrets() -> None:
    assert decide([secret(confidence="high")]).outcome is Outcome.BLOCK
    assert decide([secret(confidence="medium")]).outcome is Outcome.REVIEW_REQUIRED
    assert decide([secret(confidence="low")]).outcome is Outcome.WARN


def test_keyword_secret_in_a_recorded_cassette_only_warns() -> None:
    found = secret(confidence="medium", path="tests/cassettes/test_login.yaml")
    d = decide([found], paths=("tests/cassettes/test_login.yaml",))
    assert d.outcome is Outcome.WARN
    assert [r.rule for r in d.reasons] == ["warn-secrets-in-recorded-fixtures"]


def test_pre_existing_findings_are_reported_apart_and_never_block_by_default() -> None:
    old = [secret(confidence="high", baseline="pre_existing"), finding(baseline="pre_existing", fingerprint="fp2")]
    d = decide(old)
    assert d.outcome is Outcome.PASS
    assert [r.rule for r in d.reasons] == ["report-pre-existing"]


def test_a_rule_can_ask_for_pre_existing_findings() -> None:
    policy = load_policy_text("rules:\n  - id: old-secrets\n    match: {tool: [secrets], baseline: [pre_existing]}\n"
                              "    action: block\n", "p.yml")
    assert decide([secret(confidence="low", baseline="pre_existing")], policy).outcome is Outcome.BLOCK
    assert decide([secret(confidence="low", baseline="new")], policy).outcome is Outcome.WARN


def test_confidence_condition_and_unknown_confidence_is_not_weak() -> None:
    policy = load_policy_text("use_default_rules: false\nrules:\n  - id: weak\n    match: {confidence: [low]}\n"
                              "    action: warn\n", "p.yml")
    assert decide([finding(confidence="low")], policy).outcome is Outcome.WARN
    assert decide([finding()], policy).outcome is Outcome.PASS


def test_a_symlink_outside_the_repository_is_acted_on_by_default() -> None:
    """Issue 9, class 12: govbot:symlink-outside-repo was found but no default rule acted on it."""
    change = changeset_from_diff("--- /dev/null\n+++ b/leak\n@@ -0,0 +1 @@\n+/proc/self/environ\n")
    link = Finding(tool="govbot", rule_id="govbot:symlink-outside-repo", severity=Severity.MEDIUM, path="leak",
                   message="symlink points outside the repository")
    facts = facts_for(change, (link,), Authorship(), RoutePlan(), LLMSummary())
    assert evaluate(facts, default_policy()).outcome is Outcome.BLOCK
