"""Reports built by hand for the renderer tests: representative, hostile and huge ones."""

from __future__ import annotations

import random

from govbot.core.models import (
    AIVerdict,
    Authorship,
    ChangeSummary,
    Decision,
    Finding,
    LLMCall,
    LLMStatus,
    LLMSummary,
    Outcome,
    Reason,
    Report,
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

HOSTILE = (
    "@org/team please look <img src=x onerror=alert(1)> ![x](http://e) [click](https://evil.example)"
    " | pipe\nnew line\r\n::set-output name=x::y `tick` <!-- hidden --> &amp; $\\Huge{x}$ \x1b[31mred"
    " [bold red]markup[/bold red] www.evil.example"
)


def finding(
    rule_id: str = "bandit:B602",
    *,
    tool: str = "bandit",
    severity: Severity = Severity.HIGH,
    path: str = "app/run.py",
    line: int | None = 10,
    message: str = "subprocess call with shell=True identified",
    cwe: tuple[str, ...] = ("CWE-78",),
    in_diff: bool = True,
    fingerprint: str | None = None,
    **extra: object,
) -> Finding:
    fp = fingerprint if fingerprint is not None else f"fp-{rule_id}-{path}-{line}"
    return Finding.model_validate(
        {
            "tool": tool,
            "rule_id": rule_id,
            "severity": severity,
            "path": path,
            "line": line,
            "message": message,
            "cwe": cwe,
            "in_diff": in_diff,
            "fingerprint": fp,
            **extra,
        }
    )


def representative_findings() -> tuple[Finding, ...]:
    return (
        finding(),
        finding(
            "semgrep:python.lang.security.audit.eval-detected",
            tool="semgrep",
            severity=Severity.CRITICAL,
            path="app/api/views.py",
            line=42,
            end_line=44,
            message="Detected the use of eval() on request data.",
            cwe=("CWE-95: Improper Neutralization of Directives in Dynamically Evaluated Code",),
            confidence="high",
            also_reported_by=("bandit",),
            help_url="https://semgrep.dev/r/python.lang.security.audit.eval-detected",
        ),
        finding(
            "secrets:AWS Access Key",
            tool="secrets",
            severity=Severity.CRITICAL,
            path="config/settings.py",
            line=3,
            message="AWS Access Key committed (hash 1a2b3c4d5e6f)",
            cwe=("CWE-798",),
            secret_hash="1a2b3c4d5e6f",
        ),
        finding(
            "llm:injection",
            tool="llm",
            severity=Severity.MEDIUM,
            path="app/db.py",
            line=None,
            message="SQL built by string formatting from a request parameter.",
            cwe=("CWE-89",),
            verified=False,
            confidence="medium",
        ),
        finding(
            "bandit:B101",
            severity=Severity.LOW,
            path="app/util.py",
            line=7,
            message="Use of assert detected.",
            cwe=("CWE-703",),
            in_diff=False,
        ),
        finding(
            "semgrep:govbot.python.weak-hash",
            tool="semgrep",
            severity=Severity.INFO,
            path="app/old dir/hash.py",
            line=0,
            message="md5 used for a cache key.",
            cwe=(),
            in_diff=False,
        ),
        finding(
            "bandit:B602",
            severity=Severity.HIGH,
            path="app/tasks.py",
            line=20,
            message="subprocess call with shell=True identified, security issue.",
            suppression=Suppression(marker="nosec", added_by_change=True),
        ),
        finding(
            "authorship:trailer",
            tool="authorship",
            severity=Severity.INFO,
            path="",
            line=None,
            message="Commit trailer names an AI agent.",
            cwe=(),
        ),
    )


def make_report(**overrides: object) -> Report:
    data: dict[str, object] = {
        "govbot_version": "0.1.0",
        "change": ChangeSummary(
            base="a" * 40,
            head="b" * 40,
            files_changed=7,
            files_analysed=5,
            files_skipped=(
                SkippedFile(path="assets/logo.png", reason="binary"),
                SkippedFile(path="vendor/big.min.js", reason="larger than 1 MB"),
            ),
            commits=3,
            pr_number=17,
        ),
        "findings": representative_findings(),
        "authorship": Authorship(
            ai_generated=AIVerdict.YES,
            confidence=0.95,
            agents=("Claude Code",),
            signals=(
                Signal(
                    id="pr_marker",
                    strength=SignalStrength.MEDIUM,
                    evidence="PR body says 'Generated with Claude Code'",
                ),
                Signal(
                    id="trailer",
                    strength=SignalStrength.STRONG,
                    agent="Claude Code",
                    evidence="Co-authored-by: Claude <noreply@anthropic.com>",
                    commit="c" * 40,
                ),
            ),
            instruction_files=("CLAUDE.md",),
            summary="AI-generated: a commit trailer names Claude Code",
        ),
        "route": RoutePlan(
            tier=Tier.PRO,
            model="gpt-5",
            fallbacks=("claude-sonnet-4-5",),
            reasons=("security-sensitive paths changed: app/api/",),
            estimated_input_tokens=12_000,
            estimated_cost_usd=0.03,
        ),
        "llm": LLMSummary(
            status=LLMStatus.OK,
            reason="reviewed",
            calls=(
                LLMCall(
                    model="gpt-5-mini",
                    provider="openai",
                    tier=Tier.MINI,
                    status="invalid_output",
                    input_tokens=11_000,
                    output_tokens=300,
                    cost_usd=0.0034,
                    duration_s=2.5,
                    note="reply failed schema validation",
                ),
                LLMCall(
                    model="gpt-5",
                    provider="openai",
                    tier=Tier.PRO,
                    status="ok",
                    input_tokens=12_345,
                    cached_input_tokens=2_000,
                    output_tokens=1_234,
                    cost_usd=0.0271,
                    duration_s=9.75,
                ),
            ),
            cost_usd=0.0305,
            escalations=("mini -> pro: invalid output",),
        ),
        "decision": Decision(
            outcome=Outcome.BLOCK,
            complete=True,
            labels_add=("human-review-required", "ai-generated"),
            labels_remove=("govbot-pass",),
            reasons=(
                Reason(
                    rule="no-critical-secrets",
                    action="block",
                    message="A secret was committed.",
                    fingerprints=("fp-1",),
                ),
                Reason(
                    rule="ai-needs-review",
                    action="require_review",
                    message="AI-generated change touching app/api/ needs a human review.",
                ),
            ),
            notices=("Policy change pending review: the base branch policy was used.",),
        ),
        "tools": (
            ToolRun(name="semgrep", version="1.90.0", status=ToolStatus.OK, files=5, duration_s=3.21),
            ToolRun(name="bandit", version="1.7.9", status=ToolStatus.OK, files=4, duration_s=0.8),
            ToolRun(
                name="detect-secrets",
                version="1.5.0",
                status=ToolStatus.OK,
                files=5,
                duration_s=0.4,
                skipped=(SkippedFile(path="data/dump.sql", reason="file too large"),),
            ),
        ),
        "policy_source": ".github/govbot.yml@base",
    }
    data.update(overrides)
    return Report.model_validate(data)


def hostile_report() -> Report:
    f = (
        finding(
            "semgrep:" + HOSTILE[:60],
            tool="semgrep",
            path="src/@org/team/<img src=x>|x.py",
            message=HOSTILE,
            cwe=(HOSTILE[:30],),
        ),
        finding(message=HOSTILE, in_diff=False, path="a b/c.py"),
    )
    return make_report(
        findings=f,
        decision=Decision(
            outcome=Outcome.REVIEW_REQUIRED,
            complete=False,
            labels_add=("@org/team",),
            reasons=(Reason(rule="user-rule::x", action="require_review", message=HOSTILE),),
            notices=(HOSTILE,),
        ),
        authorship=Authorship(
            ai_generated=AIVerdict.YES,
            confidence=0.5,
            signals=(Signal(id="pr_marker", strength=SignalStrength.STRONG, evidence=HOSTILE, path="x@y"),),
            summary=HOSTILE,
        ),
        tools=(
            ToolRun(name="bandit", status=ToolStatus.FAILED, error=HOSTILE),
            ToolRun(name="semgrep", version="1.90.0", status=ToolStatus.OK, files=1),
        ),
        llm=LLMSummary(status=LLMStatus.SKIPPED, reason=HOSTILE),
        change=ChangeSummary(
            base="a" * 40,
            head="b" * 40,
            files_changed=2,
            files_analysed=1,
            files_skipped=(SkippedFile(path="@org/team.bin", reason=HOSTILE),),
            truncated=(HOSTILE,),
        ),
        policy_source=HOSTILE,
    )


SEVERITY_CYCLE = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)


def many_findings(n: int, seed: int = 7) -> tuple[Finding, ...]:
    """``n`` findings; severities cycle, so each severity has ``n / 5`` of them."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        out.append(
            finding(
                f"semgrep:rule-{i % 37}",
                tool="semgrep",
                severity=SEVERITY_CYCLE[i % 5],
                path=f"pkg/mod{i % 101}/file{i}.py",
                line=rng.randint(1, 2_000),
                message=f"Finding number {i}: " + "something questionable happens here " * 3,
                in_diff=i % 3 != 0,
                fingerprint=f"fp{i:06d}",
            )
        )
    return tuple(out)


def shuffled(report: Report, seed: int = 3) -> Report:
    rng = random.Random(seed)
    findings = list(report.findings)
    tools = list(report.tools)
    rng.shuffle(findings)
    rng.shuffle(tools)
    return report.model_copy(update={"findings": tuple(findings), "tools": tuple(tools)})


def test_builders_make_valid_reports() -> None:
    assert make_report().decision.outcome is Outcome.BLOCK
    assert hostile_report().decision.complete is False
    assert len({f.severity for f in many_findings(10)}) == 5
