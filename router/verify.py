"""The verifier pass: a second model scores each security finding 0-1 with a reason.

Pure parts (which findings, their context, what a score does) are plain functions; ``verify``
calls the verifier tier's models through the same caller, budget and ledger as the review.

What a score may do (``llm.verifier`` in the policy):
- an LLM finding below the threshold is hidden, marked low confidence, or kept (``below``);
- a scanner finding only gets its score shown: it stays in the policy's view, unchanged;
- nothing here touches the decision: the policy evaluates the findings that remain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from govbot.core.diff import iter_patch
from govbot.core.models import Finding, Tier, Verification
from govbot.policy.llm_config import VerifierConfig
from govbot.prompts.render import Prompt, VerifyItem, verify_prompt
from govbot.prompts.schema import SECURITY_CATEGORIES, VERIFY, InvalidOutput, VerifierOut
from govbot.router.catalogue import ModelSpec
from govbot.router.chunk import estimate_tokens
from govbot.router.clients import CallError
from govbot.router.fallback import BudgetStop, Caller, _Attempts, call_model
from govbot.router.redact import Redaction, Redactor

SCANNER_TOOLS = frozenset({"semgrep", "bandit", "secrets"})


def needs_verifying(f: Finding) -> bool:
    """Security findings: every scanner finding, and LLM findings in a security category."""
    if f.suppression is not None:
        return False
    if f.tool == "llm":
        return f.rule_id.removeprefix("llm:") in SECURITY_CATEGORIES
    return f.tool in SCANNER_TOOLS


def context_lines(patch: str, line: int | None, around: int) -> list[str]:
    """The numbered new-side diff lines within ``around`` of ``line`` (pure)."""
    if line is None:
        return []
    out = []
    for pl in iter_patch(patch):
        if pl.new_no is None or pl.kind not in ("added", "context") or abs(pl.new_no - line) > around:
            continue
        out.append(f"{pl.new_no:>6} {'+' if pl.kind == 'added' else ' '}{pl.text}")
    return out


def items_for(
    findings: Sequence[Finding], patches: Mapping[str, str], config: VerifierConfig, redactor: Redactor,
    counts: Redaction,
) -> list[tuple[VerifyItem, Finding]]:
    """The verifier's input, redacted: ids F1.. in report order, at most ``max_findings``.
    ``patches`` must already be redacted; the finding texts are redacted here."""
    chosen = [f for f in findings if needs_verifying(f)][: config.max_findings]
    out = []
    for i, f in enumerate(chosen, 1):
        where = f"{f.path}:{f.line}" if f.line else f.path
        head = " ".join(f"{f.rule_id} · {f.severity.value} · {where} · {f.message}".split())
        item = VerifyItem(id=f"F{i}", headline=redactor.line(head[:600], f.path, counts),
                          context=context_lines(patches.get(f.path, ""), f.line, config.context_lines))
        out.append((item, f))
    return out


def verdicts_by_fingerprint(
    answer: VerifierOut, items: Sequence[tuple[VerifyItem, Finding]], config: VerifierConfig, model: str
) -> dict[str, Verification]:
    """Map the model's verdicts back to findings; ids it made up are ignored (pure)."""
    by_id = {item.id: f for item, f in items}
    out: dict[str, Verification] = {}
    for v in answer.verdicts:
        f = by_id.get(v.id)
        if f is None or f.fingerprint in out:
            continue
        below = v.score < config.threshold
        if f.tool != "llm":
            action = "shown"
        elif not below or config.below == "keep":
            action = "kept"
        else:
            action = "hidden" if config.below == "hide" else "marked_low"
        reason = " ".join("".join(c if c.isprintable() else " " for c in v.reason).split())[:400]
        out[f.fingerprint] = Verification(score=round(v.score, 3), reason=reason, model=model,
                                          below_threshold=below, action=action)
    return out


def apply(findings: Sequence[Finding], verdicts: Mapping[str, Verification]) -> tuple[list[Finding], list[Finding]]:
    """(kept, hidden): attach each score; a hidden LLM finding leaves the policy's view, a marked
    one drops to low confidence. A scanner finding is never hidden or changed beyond its score."""
    kept: list[Finding] = []
    hidden: list[Finding] = []
    for f in findings:
        v = verdicts.get(f.fingerprint)
        if v is None:
            kept.append(f)
            continue
        update: dict[str, object] = {"verification": v}
        if v.action == "marked_low":
            update["confidence"] = "low"
        scored = f.model_copy(update=update)
        (hidden if v.action == "hidden" and f.tool == "llm" else kept).append(scored)
    return kept, hidden


@dataclass(frozen=True)
class VerifyResult:
    verdicts: dict[str, Verification]
    note: str
    budget_stop: str | None = None


def verify(
    caller: Caller, candidates: Sequence[ModelSpec], tier: Tier, items: Sequence[tuple[VerifyItem, Finding]],
    config: VerifierConfig, marker: str, chunk: int,
) -> VerifyResult:
    """Call the verifier tier's models in order until one answers; never raises for a model error."""
    if not items:
        return VerifyResult({}, "verifier: no security findings to score")
    if not candidates:
        return VerifyResult({}, f"verifier: no {tier.value} model available; findings unscored")
    prompt: Prompt = verify_prompt([i for i, _ in items], marker)
    tokens = estimate_tokens(prompt.system_with_schema()) + estimate_tokens(prompt.user)
    attempts = _Attempts(chunk, "verifier")
    errors: list[str] = []
    for spec in candidates:
        try:
            answer: VerifierOut = call_model(caller, spec, tier, prompt, tokens, attempts, VERIFY, "verify")
        except BudgetStop as exc:
            return VerifyResult({}, f"verifier stopped by the budget: {exc}; findings unscored", budget_stop=str(exc))
        except (InvalidOutput, CallError) as exc:
            errors.append(f"{spec.ref}: {exc}")
            continue
        verdicts = verdicts_by_fingerprint(answer, items, config, spec.model)
        below = sum(v.below_threshold for v in verdicts.values())
        return VerifyResult(verdicts, f"verifier {spec.ref}: {len(verdicts)}/{len(items)} finding(s) scored, "
                            f"{below} below {config.threshold:.2f} ({config.below.replace('_', ' ')})")
    return VerifyResult({}, "verifier: no model answered (" + "; ".join(errors) + "); findings unscored")
