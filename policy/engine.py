"""Evaluate a policy into one decision, with the reasons behind it. Pure.

Parse, then evaluate (palantir/policy-bot): the policy is already validated; this module only
matches rules against findings and the change, and never does I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ruamel.yaml import YAML

from govbot.core.globs import glob_match
from govbot.core.models import (
    AIVerdict,
    Authorship,
    ChangeSet,
    Decision,
    Finding,
    LLMStatus,
    LLMSummary,
    Outcome,
    Reason,
    RoutePlan,
    SkippedFile,
    Tier,
    ToolRun,
)
from govbot.policy.model import Action, Match, Policy, Rule

_OUTCOME = {
    Action.COMMENT: Outcome.PASS,
    Action.WARN: Outcome.WARN,
    Action.REQUIRE_REVIEW: Outcome.REVIEW_REQUIRED,
    Action.BLOCK: Outcome.BLOCK,
}
MAX_FINGERPRINTS_PER_REASON = 50


@dataclass(frozen=True)
class Facts:
    """Everything a rule can look at, gathered once."""

    findings: tuple[Finding, ...]
    authorship: Authorship
    route: RoutePlan
    llm: LLMSummary
    paths: tuple[str, ...]
    labels: tuple[str, ...]
    tools: tuple[ToolRun, ...] = ()
    skipped: tuple[SkippedFile, ...] = ()


def facts_for(
    change: ChangeSet,
    findings: Sequence[Finding],
    authorship: Authorship,
    route: RoutePlan,
    llm: LLMSummary,
    tools: Sequence[ToolRun] = (),
    skipped: Sequence[SkippedFile] = (),
) -> Facts:
    paths = tuple(sorted({p for f in change.files for p in (f.path, f.old_path) if p}))
    labels = change.pr.labels if change.pr else ()
    return Facts(tuple(findings), authorship, route, llm, paths, tuple(labels), tuple(tools), tuple(skipped))


@lru_cache(maxsize=1)
def builtin_rules() -> tuple[Rule, ...]:
    text = resources.files("govbot.policy").joinpath("data/default_rules.yml").read_text("utf-8")
    data = YAML(typ="safe", pure=True).load(text)
    return tuple(Rule.model_validate(item) for item in data["rules"])


def effective_rules(policy: Policy) -> tuple[Rule, ...]:
    """The policy's own rules, plus the built-in ones it does not override by id."""
    if not policy.use_default_rules:
        return tuple(policy.rules)
    own = {r.id for r in policy.rules}
    return tuple(r for r in builtin_rules() if r.id not in own) + tuple(policy.rules)


def evaluate(facts: Facts, policy: Policy, notices: Sequence[str] = ()) -> Decision:
    reasons: list[Reason] = []
    labels: set[str] = set()
    outcome = Outcome.PASS
    for rule in effective_rules(policy):
        reason = _apply(rule, facts)
        if reason is None:
            continue
        reasons.append(reason)
        outcome = max(outcome, _OUTCOME[rule.action], key=lambda o: o.rank)
        label = _label_for(rule, policy)
        if label:
            labels.add(label)

    llm_reason = _llm_fail_closed(facts, policy)
    if llm_reason is not None:
        reasons.append(llm_reason)
        outcome = max(outcome, Outcome.REVIEW_REQUIRED, key=lambda o: o.rank)
        labels.add(policy.labels.review)

    if facts.authorship.ai_generated is AIVerdict.YES and policy.labels.ai_generated:
        labels.add(policy.labels.ai_generated)

    incomplete = [t for t in facts.tools if not t.complete]
    unanalysed = [s for s in facts.skipped if s.incomplete]
    complete = not incomplete and not unanalysed
    all_notices = list(notices)
    for tool in incomplete:
        not_done = sum(1 for s in tool.skipped if s.incomplete)
        detail = tool.error or f"{not_done} file(s) not analysed"
        all_notices.append(f"analysis incomplete: {tool.name} {tool.status.value}: {detail}")
    if unanalysed:
        all_notices.append(f"analysis incomplete: {len(unanalysed)} changed file(s) could not be analysed")

    allow = set(policy.labels.allowlist)
    add = tuple(sorted(labels & allow))
    remove = tuple(sorted(allow - labels))
    return Decision(
        outcome=outcome,
        complete=complete,
        labels_add=add,
        labels_remove=remove,
        reasons=tuple(reasons),
        notices=tuple(all_notices),
    )


def _label_for(rule: Rule, policy: Policy) -> str | None:
    if rule.label:
        return rule.label
    if rule.action is Action.REQUIRE_REVIEW:
        return policy.labels.review
    if rule.action is Action.BLOCK:
        return policy.labels.blocked
    return None


def _apply(rule: Rule, facts: Facts) -> Reason | None:
    m = rule.match
    if not _change_matches(m, facts):
        return None
    if not m.finding_level:
        message = rule.message or rule.description or f"rule {rule.id} matched this change"
        return Reason(rule=rule.id, action=rule.action.value, message=message)
    hits = [f for f in facts.findings if finding_matches(m, f)]
    if not hits:
        return None
    rule_ids = sorted({f.rule_id for f in hits})
    summary = ", ".join(rule_ids[:5]) + (f" and {len(rule_ids) - 5} more" if len(rule_ids) > 5 else "")
    count = f"{len(hits)} finding{'s' if len(hits) != 1 else ''}"
    message = f"{rule.message or rule.description or 'matched'} ({count}: {summary})"
    fingerprints = tuple(sorted({f.fingerprint for f in hits}))[:MAX_FINGERPRINTS_PER_REASON]
    return Reason(rule=rule.id, action=rule.action.value, message=message, fingerprints=fingerprints)


def finding_matches(m: Match, f: Finding) -> bool:
    if f.suppression is not None and not f.suppression.added_by_change and not m.include_suppressed:
        return False
    # A pre-existing finding (already in the base version of the file) is seen only by a rule
    # that asks for it: an old issue on a moved or re-quoted line never gates a change by default.
    state = f.baseline or "new"
    if (m.baseline is None and state == "pre_existing") or (m.baseline is not None and state not in m.baseline):
        return False
    checks = (
        m.tool is None or f.tool in m.tool,
        m.rule_id is None or _rule_id_matches(f.rule_id, m.rule_id),
        m.severity is None or f.severity.at_least(m.severity),
        m.max_severity is None or m.max_severity.at_least(f.severity),
        m.cwe is None or bool(set(m.cwe) & set(f.cwe)),
        m.paths is None or glob_match(f.path, m.paths),
        m.exclude_paths is None or not glob_match(f.path, m.exclude_paths),
        m.in_diff is None or f.in_diff == m.in_diff,
        m.confidence is None or (f.confidence or "high") in m.confidence,  # unknown is never "weak"
    )
    return all(checks)


def _rule_id_matches(rule_id: str, patterns: list[str]) -> bool:
    from fnmatch import fnmatchcase

    return any(fnmatchcase(rule_id, p) for p in patterns)


def _change_matches(m: Match, facts: Facts) -> bool:
    a = facts.authorship
    agents = {x.lower() for x in a.agents}
    signals = {s.id for s in a.signals}
    checks = (
        m.ai_generated is None or (a.ai_generated is AIVerdict.YES) == m.ai_generated,
        m.agent is None or bool(agents & {x.lower() for x in m.agent}),
        m.signal is None or bool(signals & set(m.signal)),
        m.labels is None or bool(set(facts.labels) & set(m.labels)),
        m.touches is None or any(glob_match(p, m.touches) for p in facts.paths),
        m.tier is None or facts.route.tier.value in m.tier,
        m.llm_incomplete is None or (facts.llm.status is LLMStatus.INCOMPLETE) == m.llm_incomplete,
    )
    return all(checks)


def _llm_fail_closed(facts: Facts, policy: Policy) -> Reason | None:
    if not policy.settings.llm_incomplete_blocks_security:
        return None
    if facts.route.tier is not Tier.PRO:
        return None
    if facts.llm.status not in (LLMStatus.INCOMPLETE, LLMStatus.BUDGET_EXCEEDED):
        return None
    return Reason(
        rule="govbot:llm-incomplete",
        action=Action.REQUIRE_REVIEW.value,
        message=f"the Pro-tier review of this security-sensitive change did not complete ({facts.llm.reason})",
    )
