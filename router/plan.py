"""The router: a pure, explainable ``plan()`` that picks the review tier and models.

Order of decisions, each recorded as a reason:

1. pro when a floor holds (secret or scanner finding in the diff, a ``govbot:prompt-injection``
   finding, a CI workflow change with untrusted expressions, an agent instruction file) or when the
   learned risk score reaches the conformal threshold of the policy's recall target
   (``llm.routing``; see ``router/riskmodel.py`` and ``router/data/MODEL_CARD.md``). With
   ``llm.routing.router: rules`` the hand-written risk rules (security paths and code, CI/CD,
   Docker/IaC, manifests, install scripts, ...) decide instead, as before;
2. lint-level changes (docs, comments, whitespace, renames, lock files, version bumps) -> mini,
   or no LLM when the policy says ``lint_level: skip``;
3. everything else by difficulty (lines, files, directories) -> mini or standard;
4. overrides: ``/govbot deep`` and the policy's ``force_tier`` globs (never below a risk rule);
   ``confidential`` paths only go to on-prem models, and are left out with a reason otherwise;
5. split review (``llm.routing.split_review``): in a change routed to pro or standard, the test,
   docs and lint-level files are reviewed by mini in chunks of their own (mini escalates to pro on
   a security concern), the rest by the change's tier; never with a floor or a forced tier, and
   never for a file with a scanner finding, a risk rule or a confidential path.

No network, no clock, no environment: the same inputs always give the same plan.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from govbot.checks.injection import RULE_ID as INJECTION_RULE_ID
from govbot.checks.registry import SCANNER_NAMES
from govbot.core.diff import changeset_from_diff
from govbot.core.globs import glob_match
from govbot.core.models import AIVerdict, Authorship, ChangeSet, Finding, RoutePlan, Tier
from govbot.policy.llm_config import LLMConfig
from govbot.router.calibration import REQUEST_OVERHEAD_TOKENS, diff_tokens
from govbot.router.catalogue import ModelSet, ModelSpec, max_cost_usd
from govbot.router.chunk import Chunk, FilePatch, estimate_tokens, make_chunks
from govbot.router.classify import FileClass, RoutingRules, classify_files, default_rules
from govbot.router.features import (
    DEPENDENCY_FILES,
    TOOL_CONFIG,
    change_features,
    code_lint_kind,
    file_kind,
    is_data_file,
    only_strings_changed,
    patch_bytes,
)
from govbot.router.riskmodel import RiskModel, default_model

SCANNER_TOOLS = frozenset(SCANNER_NAMES)
PROMPT_OVERHEAD_TOKENS = REQUEST_OVERHEAD_TOKENS  # system prompt, schema and framing per request
EXPECTED_OUTPUT_TOKENS = 700  # a typical review reply, for estimates (budget uses the maximum)
_RANK = {Tier.NONE: 0, Tier.MINI: 1, Tier.STANDARD: 2, Tier.PRO: 3}


@dataclass(frozen=True)
class Route:
    """The router's decision, richer than the report's ``RoutePlan`` (see ``route_plan()``)."""

    tier: Tier
    reasons: tuple[str, ...]
    risk: bool = False
    lint: bool = False
    skip_reason: str | None = None
    files: tuple[FilePatch, ...] = ()  # files to send, confidential ones flagged
    excluded: tuple[tuple[str, str], ...] = ()  # (path, reason) left out of the review
    models: tuple[ModelSpec, ...] = ()  # available models of the tier, preference order
    onprem_models: tuple[ModelSpec, ...] = ()
    nominal: ModelSpec | None = None  # the tier's first configured model, for estimates
    estimated_input_tokens: int = 0
    estimated_cost_usd: float = 0.0
    chunks: int = 0
    classes: tuple[FileClass, ...] = field(default=(), repr=False)
    split_tier: Tier | None = None  # the tier that reviews the files flagged ``aux`` (split review)
    split_models: tuple[ModelSpec, ...] = ()
    split_nominal: ModelSpec | None = None  # the model that prices the split part (estimates)

    def chunk_tier(self, aux: bool) -> Tier:
        return self.split_tier if aux and self.split_tier is not None else self.tier

    def route_plan(self) -> RoutePlan:
        model = self.models[0].ref if self.models else None
        return RoutePlan(
            tier=self.tier,
            model=model,
            fallbacks=tuple(m.ref for m in self.models[1:]),
            reasons=self.reasons,
            estimated_input_tokens=self.estimated_input_tokens,
            estimated_cost_usd=round(self.estimated_cost_usd, 6),
            split_tier=self.split_tier,
            split_files=sum(f.aux for f in self.files),
        )


def higher(a: Tier, b: Tier) -> Tier:
    return a if _RANK[a] >= _RANK[b] else b


def plan(
    change: ChangeSet,
    findings: Sequence[Finding],
    authorship: Authorship,
    config: LLMConfig,
    models: ModelSet,
    *,
    patches: Mapping[str, str] | None = None,
    force_tier: Tier | None = None,
    pr_text: str = "",
    rules: RoutingRules | None = None,
    risk_model: RiskModel | None = None,
) -> Route:
    """``risk_model``: the learned model to use (default: the shipped one, or none with
    ``llm.routing.router: rules``)."""
    rules = rules or default_rules()
    patches = patches or {}
    learned = config.routing.router == "learned"
    texts = {f.path: patches.get(f.path, f.patch or "") for f in change.files}
    classes = classify_files([(f.path, texts[f.path], f.old_path, f.binary) for f in change.files], rules,
                             content_rules=not learned)
    reasons: list[str] = []
    if not config.enabled:
        return Route(tier=Tier.NONE, reasons=("LLM review disabled by policy (llm.enabled: false)",),
                     skip_reason="disabled by policy", classes=classes)
    if not change.files:
        return Route(tier=Tier.NONE, reasons=("no changed files",), skip_reason="no changed files")

    dependency_only = False
    if learned:
        classes = tuple(lint_by_shape(c, texts[c.path]) for c in classes)
        risk, dependency_only = _learned_decision(change, classes, texts, findings, authorship, config,
                                                  risk_model or default_model(), reasons)
    else:
        risk = _risk_reasons(classes, findings, authorship, rules.scan_limit_chars)
    lint = not risk and (dependency_only or all(c.lint for c in classes))
    if risk:
        tier = Tier.PRO
        reasons.extend(risk)
    elif dependency_only:
        tier = Tier.MINI
        reasons.append(f"dependency or tool-configuration change only ({len(change.files)} file(s)): the "
                       "supply-chain checks report new, unpinned or re-indexed dependencies, install hooks and "
                       "workflow permissions; mini reviews the rest")
    elif lint:
        kinds = sorted({c.lint or "" for c in classes})
        tier = Tier.MINI
        reasons.append(f"lint-level change ({', '.join(kinds)})")
    else:
        tier, why = _difficulty(change, classes, config)
        reasons.append(why)

    tier = _overrides(tier, risk=bool(risk), change=change, config=config, force_tier=force_tier,
                      reasons=reasons)
    if lint and tier is Tier.MINI and config.lint_level == "skip" and not _forced(change, config, force_tier):
        if authorship.ai_generated is AIVerdict.YES:
            reasons.append("lint_level is skip, but the change is AI-authored: reviewed with mini")
        else:
            reasons.append("lint_level: skip: no LLM review for a lint-level change")
            return Route(tier=Tier.NONE, reasons=tuple(reasons), lint=True, skip_reason="lint-level change",
                         classes=classes)

    split = split_paths(classes, texts, findings, config, tier,
                        forced=_forced(change, config, force_tier) is not None)
    return _finish(change, classes, texts, config, models, tier, reasons, risk=bool(risk), lint=lint,
                   pr_text=pr_text, split=split)


SPLIT_TIER = Tier.MINI


def split_paths(
    classes: Sequence[FileClass], texts: Mapping[str, str], findings: Sequence[Finding], config: LLMConfig,
    tier: Tier, *, forced: bool,
) -> frozenset[str]:
    """The files a split review sends to ``SPLIT_TIER`` (pure): tests (``tests-and-docs``), docs,
    lint-level files, translation catalogues, stylesheets and test snapshots of a change routed to
    pro or standard. Empty when the policy turns it off, the
    tier was forced, a floor holds, or nothing would be left for the change's own tier."""
    mode = config.routing.split_review
    if mode == "off" or forced or tier not in (Tier.PRO, Tier.STANDARD) or floor_reasons(classes, texts, findings):
        return frozenset()
    flagged = {f.path for f in findings if f.tool != "llm"}
    sent = {c.path for c in classes if texts.get(c.path)}
    aux = frozenset(c.path for c in classes if c.path in sent and c.path not in flagged and _auxiliary(c, mode)
                    and not glob_match(c.path, config.confidential))
    return aux if sent - aux else frozenset()


def scored_bytes(classes: Sequence[FileClass], texts: Mapping[str, str], config: LLMConfig) -> int:
    """The patch bytes the size-adjusted risk score counts: those the change's own tier would read,
    i.e. without the files a split review sends to mini (``train.Prepared.patch_bytes - split_bytes``)."""
    split = split_paths(classes, texts, (), config, Tier.PRO, forced=False)
    return patch_bytes(texts[c.path] for c in classes if c.path not in split)


def _auxiliary(c: FileClass, mode: str) -> bool:
    if c.risk or c.unexamined:
        return False
    kind = file_kind(c.path)
    return (c.lint is not None or kind == "docs" or is_data_file(c.path)
            or (mode == "tests-and-docs" and kind == "test"))


UNTRUSTED_EXPRESSION = re.compile(
    r"\$\{\{[^}]*\b(github\.event\.(issue|pull_request|comment|review|review_comment|pages|commits|head_commit|"
    r"discussion|workflow_run)\b[^}]*|github\.head_ref)[^}]*\}\}|\bpull_request_target\b"
)
WRITE_PERMISSION = re.compile(r"^\s*(permissions\s*:\s*write-all|[a-z-]+\s*:\s*write)\b")
PROMPT_INJECTION_RULE = "govbot:prompt-injection"


def _scanner_floor(findings: Sequence[Finding]) -> list[str]:
    reasons: list[str] = []
    scanner = [
        f for f in findings
        if f.tool in SCANNER_TOOLS and f.in_diff and (f.suppression is None or f.suppression.added_by_change)
    ]
    secrets = [f for f in scanner if f.tool == "secrets"]
    injections = [f for f in findings if f.rule_id == INJECTION_RULE_ID]
    if injections:  # the attempt is reviewed by the strongest tier, never by the cheapest
        reasons.append(f"{len(injections)} prompt-injection attempt(s) aimed at the AI reviewer")
    if secrets:
        reasons.append(f"{len(secrets)} secret finding(s) in the diff")
    if len(scanner) > len(secrets):
        tools = sorted({f.tool for f in scanner if f.tool != "secrets"})
        reasons.append(f"{len(scanner) - len(secrets)} scanner finding(s) in the diff ({', '.join(tools)})")
    injected = [f for f in findings if f.rule_id == PROMPT_INJECTION_RULE]
    if injected:
        reasons.append(f"{len(injected)} prompt-injection finding(s) ({PROMPT_INJECTION_RULE})")
    return reasons


def floor_reasons(
    classes: Sequence[FileClass], texts: Mapping[str, str], findings: Sequence[Finding]
) -> list[str]:
    """The rules that still force pro under the learned router: the ones that carry real risk."""
    reasons = _scanner_floor(findings)
    for c in classes:
        for r in c.risk:
            if r.startswith("agent instruction file"):
                reasons.append(r)
            elif r.startswith("CI/CD workflow"):
                added = [line[1:] for line in texts.get(c.path, "").splitlines()
                         if line.startswith("+") and not line.startswith("+++")]
                if any(UNTRUSTED_EXPRESSION.search(line) for line in added):
                    reasons.append(f"CI workflow change with untrusted expressions or pull_request_target: {c.path}")
                elif any(WRITE_PERMISSION.search(line) for line in added):
                    reasons.append(f"CI workflow change granting a write permission: {c.path}")
    return reasons


def lint_by_shape(c: FileClass, patch: str) -> FileClass:
    """Under the learned router a file is also lint-level when its change is formatter output,
    whitespace, comments or sorted imports (``features.code_lint_kind``), or linter/formatter
    configuration, whatever its path says; floors are decided before and are not affected."""
    if c.unexamined:
        return c
    if c.lint in {"whitespace/formatting", "rename"}:
        # the rules compare changed lines only: a block moved past other code, or a changed string
        # ("STATUS" -> "SETTINGS" in a permission check), is no reformat and no rename
        if c.lint == "rename" and only_strings_changed(patch):
            return replace(c, lint=None)
        if c.lint == "whitespace/formatting" and file_kind(c.path) in {"code", "test"}:
            return replace(c, lint=code_lint_kind(c.path, patch))
        return c
    if c.lint:
        return c
    if TOOL_CONFIG.search(c.path):
        return replace(c, lint="linter/formatter config")
    kind = code_lint_kind(c.path, patch)
    return replace(c, lint=kind) if kind else c


def _learned_decision(
    change: ChangeSet, classes: Sequence[FileClass], texts: Mapping[str, str], findings: Sequence[Finding],
    authorship: Authorship, config: LLMConfig, model: RiskModel, notes: list[str],
) -> tuple[list[str], bool]:
    """``(pro reasons, dependency-only)`` under the learned router, in order: floors; lint-level
    (mini, never scored: the calibration counts a fix routed so as a miss); dependency or tool
    configuration only (mini plus the supply-chain findings); the score against the threshold."""
    floors = floor_reasons(classes, texts, findings)
    if not floors and all(c.lint for c in classes):
        return [], False
    if not floors and all(DEPENDENCY_FILES.search(f.path) or TOOL_CONFIG.search(f.path) for f in change.files):
        return [], True
    scored = learned_risk(change, classes, texts, config, model, notes)  # shown beside a floor too
    return _with_authorship([*floors, *scored], authorship), False


def _with_authorship(risk: list[str], authorship: Authorship) -> list[str]:
    if risk and authorship.ai_generated is AIVerdict.YES:
        agents = f" ({', '.join(authorship.agents)})" if authorship.agents else ""
        risk.append(f"AI-authored change{agents} touches security-sensitive code")
    return risk


def learned_risk(
    change: ChangeSet,
    classes: Sequence[FileClass],
    texts: Mapping[str, str],
    config: LLMConfig,
    model: RiskModel,
    notes: list[str],
) -> list[str]:
    """Pro reasons under the learned router (empty: not security-sensitive); the score and threshold
    are always recorded in ``notes`` so every route explains itself."""
    feats = change_features([(f.path, texts[f.path]) for f in change.files], classes)
    size = scored_bytes(classes, texts, config)
    score, raw, top_features = model.route_score(feats, size, 4)
    target = config.routing.recall_target
    threshold = model.threshold(target)
    top = ", ".join(f"{n} {c:+.2f}" for n, c in top_features) or "none"
    verdict = ">=" if score >= threshold else "<"
    sized = (f" (model {raw:.2f} - size weight {model.size_weight:g} x log(1 + {diff_tokens(size):.0f} tokens"
             " reviewed at this tier))"
             if model.size_weight else "")
    line = (f"risk score {score:.2f}{sized} {verdict} threshold {threshold:.2f} (model {model.version}, "
            f"recall target {target:.0%}); top features: {top}")
    if score >= threshold:
        return [line]
    notes.append(line)
    return []


def _risk_reasons(
    classes: Sequence[FileClass], findings: Sequence[Finding], authorship: Authorship, scan_limit: int
) -> list[str]:
    reasons = _scanner_floor(findings)
    for c in classes:
        reasons.extend(c.risk)
    unread = sum(1 for c in classes if c.unexamined and c.lint is None)
    if unread:
        reasons.append(f"{unread} file(s) beyond the router's scan bound ({scan_limit} diff characters per PR): "
                       "content not examined, treated as security-sensitive")
    return _with_authorship(reasons, authorship)


def _difficulty(change: ChangeSet, classes: Sequence[FileClass], config: LLMConfig) -> tuple[Tier, str]:
    """Mini or standard by the size of the change. With split review on, the tests, docs and other
    auxiliary files a split would send to mini are not counted (unless the change is nothing else):
    they do not make the code harder to review."""
    mode = config.routing.split_review
    counted = [c for c in classes if mode == "off" or not _auxiliary(c, mode)] or list(classes)
    lines = sum(c.changed for c in counted)
    files = len(counted)
    dirs = len({posixpath.dirname(c.path) for c in counted})
    d = config.difficulty
    bound = "at most " if any(c.unexamined for c in counted) else ""
    aside = len(classes) - len(counted)
    size = (f"{bound}{lines} changed lines, {files} file(s), {dirs} director{'y' if dirs == 1 else 'ies'}"
            + (f"; {aside} test/docs file(s) not counted" if aside else ""))
    if lines <= d.mini_max_lines and files <= d.mini_max_files and dirs <= d.mini_max_dirs:
        return Tier.MINI, f"small ordinary change ({size})"
    return Tier.STANDARD, f"ordinary change beyond mini's limits ({size})"


def _forced(change: ChangeSet, config: LLMConfig, force_tier: Tier | None) -> Tier | None:
    forced: Tier | None = force_tier
    for rule in config.force_tier:
        if any(glob_match(f.path, rule.paths) for f in change.files):
            forced = higher(forced, Tier(rule.tier)) if forced else Tier(rule.tier)
    return forced


def _overrides(
    tier: Tier, *, risk: bool, change: ChangeSet, config: LLMConfig, force_tier: Tier | None, reasons: list[str]
) -> Tier:
    if force_tier is not None:
        reasons.append(f"review requested at tier {force_tier.value} (/govbot deep)")
    for rule in config.force_tier:
        hits = [f.path for f in change.files if glob_match(f.path, rule.paths)]
        if hits:
            reasons.append(f"policy force_tier {rule.tier} for {hits[0]}" + (f" and {len(hits) - 1} more"
                                                                            if len(hits) > 1 else ""))
    forced = _forced(change, config, force_tier)
    if forced is None:
        return tier
    if risk and _RANK[forced] < _RANK[Tier.PRO]:
        reasons.append("a forced lower tier does not override a hard risk rule: staying at pro")
        return Tier.PRO
    return forced


def _estimate(chunks: Sequence[Chunk], nominal: ModelSpec | None, split: ModelSpec | None, extra: int) -> float:
    """Upper-bound cost of the review: each chunk at its tier's model (the split tier's for ``aux``)."""
    cost = 0.0
    for c in chunks:
        model = split if c.aux else nominal
        if model is not None:
            cost += max_cost_usd(model.price, c.tokens + PROMPT_OVERHEAD_TOKENS + extra, EXPECTED_OUTPUT_TOKENS)
    return cost


def _cheaper(
    files: list[FilePatch], chunks: list[Chunk], nominal: ModelSpec | None, split: ModelSpec | None, extra: int,
    budget: int,
) -> tuple[list[FilePatch], list[Chunk], float]:
    """The split review or the whole change at its tier, whichever costs less: a split adds requests
    (prompt, PR text and reply each time)."""
    cost = _estimate(chunks, nominal, split, extra)
    if not any(f.aux for f in files):
        return files, chunks, cost
    whole = [replace(f, aux=False) for f in files]
    whole_chunks = make_chunks(whole, budget)
    whole_cost = _estimate(whole_chunks, nominal, None, extra)
    return (whole, whole_chunks, whole_cost) if whole_cost <= cost else (files, chunks, cost)


def _split_reason(aux: Sequence[FilePatch], sent: int, tokens: int, tier: Tier, config: LLMConfig) -> str:
    escalating = " (escalating to pro on a security concern)" if SPLIT_TIER.value in config.escalate_from else ""
    shown = ", ".join(p.path for p in aux[:3]) + (f" and {len(aux) - 3} more" if len(aux) > 3 else "")
    return (f"split review: {len(aux)} test/docs/lint-level file(s) (~{tokens} tokens: {shown}) reviewed by "
            f"{SPLIT_TIER.value}{escalating}, the other {sent - len(aux)} by {tier.value} (llm.routing.split_review)")


def _finish(
    change: ChangeSet,
    classes: Sequence[FileClass],
    texts: Mapping[str, str],
    config: LLMConfig,
    models: ModelSet,
    tier: Tier,
    reasons: list[str],
    *,
    risk: bool,
    lint: bool,
    pr_text: str,
    split: frozenset[str] = frozenset(),
) -> Route:
    cloud = models.candidates(tier)
    onprem = models.candidates(tier, on_prem_only=True)
    split_models = models.candidates(SPLIT_TIER) if split else ()
    # the model that prices the split part: with no key at all, the tier's first configured one (an
    # estimate, as for the main tier); with keys but no mini model available, no split
    split_price = split_models[0] if split_models else (
        models.nominal(SPLIT_TIER) if split and not models.any_available else None)
    if split_price is None:
        split = frozenset()
    files: list[FilePatch] = []
    excluded: list[tuple[str, str]] = []
    for f in change.files:
        if f.binary or not texts[f.path]:
            excluded.append((f.path, "binary file" if f.binary else "no textual diff"))
            continue
        confidential = glob_match(f.path, config.confidential)
        if confidential and not onprem:
            excluded.append((f.path, "confidential path and no on-prem model for this tier"))
            continue
        files.append(FilePatch(f.path, texts[f.path], confidential, f.path in split))
    conf = [p.path for p in files if p.confidential]
    if conf:
        reasons.append(f"{len(conf)} confidential file(s) go to on-prem models only")
    if any(reason.startswith("confidential") for _, reason in excluded):
        n = sum(1 for _, r in excluded if r.startswith("confidential"))
        reasons.append(f"{n} confidential file(s) left out: no on-prem model configured for tier {tier.value}")
    chunks = make_chunks(files, config.chunk_tokens)
    extra = estimate_tokens(pr_text) if pr_text else 0
    # The model the review will use names the price (only an OpenAI key: an OpenAI model, priced
    # as such); with no key at all, the tier's first configured model, for an estimate.
    nominal = cloud[0] if cloud else models.nominal(tier)
    files, chunks, cost = _cheaper(files, chunks, nominal, split_price, extra,
                                   config.chunk_tokens)
    tokens = sum(c.tokens + PROMPT_OVERHEAD_TOKENS + extra for c in chunks)
    aux = [p for p in files if p.aux]
    if aux:
        reasons.append(_split_reason(aux, len(files), sum(c.tokens for c in chunks if c.aux), tier, config))
    skip = None
    if not files:
        skip = "nothing to review: every file was left out"
    elif not models.any_available:
        skip = "no LLM API key configured"
    elif not (cloud if not all(p.confidential for p in files) else onprem):
        skip = f"no available model for tier {tier.value}"
    return Route(
        tier=tier,
        reasons=tuple(reasons),
        risk=risk,
        lint=lint,
        skip_reason=skip,
        files=tuple(files),
        excluded=tuple(excluded),
        models=cloud,
        onprem_models=onprem,
        nominal=nominal,
        estimated_input_tokens=tokens,
        estimated_cost_usd=cost,
        chunks=len(chunks),
        classes=tuple(classes),
        split_tier=SPLIT_TIER if aux else None,
        split_models=split_models if aux else (),
        split_nominal=split_price if aux else None,
    )


def learned_classes(
    change: ChangeSet, texts: Mapping[str, str], rules: RoutingRules | None = None
) -> tuple[FileClass, ...]:
    """The files' classes as ``plan()`` computes them under the learned router: the rules without
    their content regexes, then the shape rules (``lint_by_shape``)."""
    classes = classify_files([(f.path, texts[f.path], f.old_path, f.binary) for f in change.files],
                             rules or default_rules(), content_rules=False)
    return tuple(lint_by_shape(c, texts[c.path]) for c in classes)


def diff_inputs(diff: str) -> tuple[dict[str, float], int]:
    """``(features, scored bytes)`` of a unified diff: the learned router's two inputs, as ``plan()``
    computes them for the change under the default policy."""
    change = changeset_from_diff(diff)
    texts = {f.path: f.patch or "" for f in change.files}
    classes = learned_classes(change, texts)
    return (change_features([(f.path, texts[f.path]) for f in change.files], classes),
            scored_bytes(classes, texts, LLMConfig()))


def diff_features(diff: str) -> dict[str, float]:
    """The learned router's features of a unified diff (``diff_inputs`` without the size)."""
    return diff_inputs(diff)[0]
