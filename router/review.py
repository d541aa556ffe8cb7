"""Routed LLM review: plan, redact, chunk, call (cascade + fallback, within budget), merge.

``review()`` is the entry point the pipeline calls. It returns ADDED findings only; it never
produces labels or a decision. The policy engine fails closed on ``llm.status == incomplete``
with ``route.tier == pro`` when the policy says so.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from govbot.core.fingerprint import finding_fingerprint
from govbot.core.models import (
    Authorship,
    ChangeSet,
    Commit,
    Finding,
    LLMStatus,
    LLMSummary,
    RoutePlan,
    Severity,
    Tier,
    Verification,
)
from govbot.policy.llm_config import LLMConfig
from govbot.prompts.render import ReviewInput, review_prompt
from govbot.prompts.schema import SECURITY_CATEGORIES, LLMFindingOut, LLMReviewOut
from govbot.router.catalogue import Catalogue, ModelSpec, default_catalogue, resolve_models
from govbot.router.chunk import Chunk, FilePatch, estimate_tokens, make_chunks
from govbot.router.classify import RoutingRules, default_rules
from govbot.router.env import LLMEnvironment

if TYPE_CHECKING:
    from govbot.router.clients import ChatClient
from govbot.core.diff import iter_patch
from govbot.router.fallback import Caller, ClientFactory, ClientPool, TierResult, _Attempts, review_with_tier
from govbot.router.ledger import Ledger
from govbot.router.plan import Route, plan
from govbot.router.redact import Redaction, Redactor, flagged_lines
from govbot.router.riskmodel import RiskModel
from govbot.router.verify import apply, items_for, verify

__all__ = ["LLMEnvironment", "ReviewOutcome", "ReviewRequest", "review"]

NO_KEY = (
    "LLM review skipped: no LLM API key configured (OPENAI_API_KEY, ANTHROPIC_API_KEY or "
    "GOVBOT_ONPREM_BASE_URL); scanners and policy still decide"
)


@dataclass(frozen=True)
class ReviewRequest:
    change: ChangeSet
    findings: tuple[Finding, ...]
    authorship: Authorship
    patches: Mapping[str, str]  # path -> unified diff text of that file (untrusted)
    # incremental review: the patches to SEND (hunks changed since the last reviewed head, see
    # router/incremental.py); the route is still planned on the whole pull request. None = all.
    scope: Mapping[str, str] | None = None
    # incremental review: the last reviewed head; commit messages up to it were sent before
    since: str | None = None
    # incremental review with the verifier: scores that still hold (nothing changed around the
    # finding since the last review), by fingerprint, and the carried LLM findings to score again
    known: Mapping[str, Verification] = field(default_factory=dict)
    reverify: tuple[Finding, ...] = ()
    risk_model: RiskModel | None = None  # the policy's calibration applied (None: the shipped model)


@dataclass(frozen=True)
class ReviewOutcome:
    route: RoutePlan
    llm: LLMSummary
    findings: tuple[Finding, ...] = ()
    # the verifier's scores of the scanners' findings, by fingerprint: shown, never acted on here
    scanner_verdicts: Mapping[str, Verification] = field(default_factory=dict)
    # new scores of ``ReviewRequest.reverify`` (carried LLM findings), by fingerprint
    carried_verdicts: Mapping[str, Verification] = field(default_factory=dict)


@dataclass(frozen=True)
class Seams:
    """What a test may swap: the SDK client factory, the sleep between retries, the marker."""

    client_factory: ClientFactory = field(default_factory=lambda: _sdk_client_factory)
    sleep: Callable[[float], None] = time.sleep
    marker: Callable[[], str] = field(default=lambda: secrets.token_hex(16))
    catalogue: Callable[[], Catalogue] = default_catalogue
    rules: Callable[[], RoutingRules] = default_rules


def _sdk_client_factory(spec: ModelSpec, env: LLMEnvironment, timeout_s: float) -> ChatClient:
    # The SDKs take ~2 s to import: pay for them only when a model is actually called.
    from govbot.router.sdk import make_client

    return make_client(spec, env, timeout_s)


def review(
    request: ReviewRequest, config: LLMConfig, env: LLMEnvironment, seams: Seams | None = None
) -> ReviewOutcome:
    """Plan the route, call the models if configured, and return ADDED findings only."""
    seams = seams or Seams()
    models = resolve_models(config, env, seams.catalogue())
    force = Tier(env.force_tier) if env.force_tier else None
    pr = request.change.pr
    pr_text = "\n".join([*([pr.title, pr.body] if pr else []), *(c.message for c in request.change.commits)])
    route = plan(
        request.change, request.findings, request.authorship, config, models,
        patches=request.patches, force_tier=force, pr_text=pr_text, rules=seams.rules(),
        risk_model=request.risk_model,
    )
    if route.skip_reason is not None:
        reason = (
            NO_KEY if route.skip_reason == "no LLM API key configured"
            else f"LLM review skipped: {route.skip_reason}"
        )
        return ReviewOutcome(route=route.route_plan(), llm=LLMSummary(status=LLMStatus.SKIPPED, reason=reason))
    return _Run(request, config, env, route, seams).run()


@dataclass(frozen=True)
class _Verified:
    kept: list[Finding]
    hidden: list[Finding] = field(default_factory=list)
    scanner: dict[str, Verification] = field(default_factory=dict)
    note: str | None = None
    carried: dict[str, Verification] = field(default_factory=dict)


@dataclass
class _ChunkResult:
    findings: list[LLMFindingOut]
    complete: bool
    budget_stop: str | None = None
    escalation: str | None = None
    problem: str | None = None


class _Run:
    def __init__(
        self, request: ReviewRequest, config: LLMConfig, env: LLMEnvironment, route: Route, seams: Seams
    ) -> None:
        self.request = request
        self.config = config
        self.route = route
        self.seams = seams
        self.ledger = Ledger(config.budget_usd)
        self.pool = ClientPool(env, config.timeout_s, seams.client_factory)
        self.caller = Caller(config=config, ledger=self.ledger, pool=self.pool, sleep=seams.sleep)
        self.models = resolve_models(config, env, seams.catalogue())

    def run(self) -> ReviewOutcome:
        counts = Redaction()
        redactor = Redactor.default()
        flagged = flagged_lines(self.request.findings)
        files = [
            # The name is redacted like any text that leaves the machine (issue 9, class 3).
            FilePatch(redactor.path(f.path, counts), redactor.patch(f.path, patch, flagged.get(f.path, ()), counts),
                      f.confidential, f.aux)
            for f, patch in self._sent()
        ]
        pr = self.request.change.pr
        title = redactor.text(pr.title, counts) if pr else ""
        body = redactor.text(pr.body, counts) if pr else ""
        commits = [redactor.text(c.message, counts) for c in _new_commits(self.request)]
        chunks = make_chunks(files, self.config.chunk_tokens)
        marker = self._marker(title, body, commits, files)
        base = ReviewInput(title=title, body=body, commit_messages=commits, scanner_findings=(), patches=(),
                           files=())
        scanner = self._scanner_lines(redactor, counts)
        try:
            with ThreadPoolExecutor(max_workers=self.config.max_concurrency) as pool:
                results = list(pool.map(lambda c: self._chunk(c, len(chunks), base, scanner, marker), chunks))
            findings, dropped = to_findings(
                [f for r in results for f in r.findings], self.request.change, dict(
                    (f.path, patch) for f, patch in self._sent()),
            )
            verified = self._verify(findings, {f.path: f.patch for f in files}, redactor, counts, len(chunks))
        finally:
            self.pool.close()
        return self._outcome(chunks, results, counts, verified, dropped)

    def _verify(
        self, findings: Sequence[Finding], redacted: Mapping[str, str], redactor: Redactor, counts: Redaction,
        after: int,
    ) -> _Verified:
        settings = self.config.verifier
        if not settings.enabled:
            return _Verified(list(findings))
        scanner = [f for f in self.request.findings if f.tool != "llm"]
        known = self.request.known
        candidates = [*scanner, *findings, *self.request.reverify]
        fresh = [f for f in candidates if f.fingerprint not in known]
        items = items_for(fresh, self._context(fresh, redacted, redactor, counts), settings, redactor, counts)
        texts = [t for item, _ in items for t in (item.headline, *item.context)]
        marker = next((m for m in (self.seams.marker() for _ in range(5)) if not any(m in t for t in texts)), None)
        if marker is None:
            raise RuntimeError("could not draw a fence marker absent from the findings' text")
        tier = Tier(settings.tier)
        result = verify(self.caller, self.models.candidates(tier), tier, items, settings, marker, after)
        kept, hidden = apply(findings, result.verdicts)
        held = {f.fingerprint: known[f.fingerprint] for f in scanner if f.fingerprint in known}
        shown = {**held, **{k: v for k, v in result.verdicts.items() if v.action == "shown"}}
        again = {f.fingerprint: result.verdicts[f.fingerprint] for f in self.request.reverify
                 if f.fingerprint in result.verdicts}
        note = result.note
        if kept_count := sum(f.fingerprint in known for f in candidates):
            note = f"{note}; {kept_count} score(s) kept from the last review (nothing changed around them)"
        return _Verified(kept, hidden, shown, note, again)

    def _context(
        self, findings: Sequence[Finding], sent: Mapping[str, str], redactor: Redactor, counts: Redaction
    ) -> dict[str, str]:
        """The redacted diffs the verifier's context comes from: the whole pull request's diff of each
        finding's file (an incremental review sent only some hunks; a carried finding may be elsewhere)."""
        if self.request.scope is None:
            return dict(sent)
        flagged = flagged_lines(self.request.findings)
        out: dict[str, str] = {}
        for path in sorted({f.path for f in findings}):
            patch = self.request.patches.get(path)
            if patch:
                # a file sent in part was counted then; count the rest only for files not sent at all
                tally = Redaction() if path in sent else counts
                out[redactor.path(path, Redaction())] = redactor.patch(path, patch, flagged.get(path, ()), tally)
        return out

    def _sent(self) -> list[tuple[FilePatch, str]]:
        scope = self.request.scope
        if scope is None:
            return [(f, f.patch) for f in self.route.files]
        return [(f, scope[f.path]) for f in self.route.files if scope.get(f.path)]

    def _marker(self, title: str, body: str, commits: Sequence[str], files: Sequence[FilePatch]) -> str:
        texts = [title, body, *commits, *(f.patch for f in files), *(f.path for f in files)]
        for _ in range(5):
            marker = self.seams.marker()
            if not any(marker in t for t in texts):
                return marker
        raise RuntimeError("could not draw a fence marker absent from the pull request text")

    def _scanner_lines(self, redactor: Redactor, counts: Redaction) -> dict[str, list[str]]:
        lines: dict[str, list[str]] = {}
        for f in sorted(self.request.findings, key=lambda f: (f.path, f.line or 0, f.rule_id)):
            if f.tool == "llm":
                continue
            where = f"{f.path}:{f.line}" if f.line else f.path
            text = f"{where} {f.rule_id} ({f.severity.value}): {f.message}"
            lines.setdefault(f.path, []).append(redactor.line(" ".join(text.split()), f.path, counts))
        return lines

    def _chunk(
        self, chunk: Chunk, count: int, base: ReviewInput, scanner: Mapping[str, list[str]], marker: str
    ) -> _ChunkResult:
        data = ReviewInput(
            title=base.title, body=base.body, commit_messages=base.commit_messages,
            scanner_findings=[line for p in chunk.paths for line in scanner.get(p, ())],
            patches=[p.patch for p in chunk.patches], files=chunk.paths,
            chunk_number=chunk.index + 1, chunk_count=count, note=chunk.note,
        )
        prompt = review_prompt(data, marker)
        tokens = estimate_tokens(prompt.system_with_schema()) + estimate_tokens(prompt.user)
        label = f"chunk {chunk.index + 1}/{count}"
        attempts = _Attempts(chunk.index, label)
        tier = self.route.chunk_tier(chunk.aux)
        first = review_with_tier(
            self.caller, tier, self._candidates(tier, chunk), prompt, tokens, attempts,
            escalates_on_invalid=tier.value in self.config.escalate_from,
        )
        if first.budget_stop:
            return _ChunkResult([], complete=False, budget_stop=first.budget_stop)
        why = self._escalate_why(tier, first)
        if why is None:
            if first.review is None:
                return _ChunkResult([], complete=False, problem=f"{label}: no {tier.value} model answered "
                                    f"({'; '.join(first.errors) or 'no model available'})")
            return _ChunkResult(list(first.review.findings), complete=True)
        escalation = f"{label} ({', '.join(chunk.paths[:3])}): {why}; escalated {tier.value} -> pro"
        second = review_with_tier(
            self.caller, Tier.PRO, self._candidates(Tier.PRO, chunk), prompt, tokens, attempts,
            escalates_on_invalid=False,
        )
        kept = list(first.review.findings) if first.review else []
        if second.budget_stop:
            return _ChunkResult(kept, complete=False, budget_stop=second.budget_stop, escalation=escalation)
        if second.review is None:
            return _ChunkResult(kept, complete=False, escalation=escalation,
                                problem=f"{label}: escalated to pro but no pro model answered "
                                f"({'; '.join(second.errors) or 'no pro model available'})")
        return _ChunkResult(kept + list(second.review.findings), complete=True, escalation=escalation)

    def _candidates(self, tier: Tier, chunk: Chunk) -> tuple[ModelSpec, ...]:
        return self.models.candidates(tier, on_prem_only=chunk.confidential)

    def _escalate_why(self, tier: Tier, result: TierResult) -> str | None:
        if tier.value not in self.config.escalate_from:
            return None
        if result.invalid:
            return f"{result.model.ref if result.model else 'the model'} returned invalid output"
        review: LLMReviewOut | None = result.review
        if review is None:
            return None
        if review.security_concern or any(f.category in SECURITY_CATEGORIES for f in review.findings):
            return f"{tier.value} review flagged a security concern"
        if review.confidence < self.config.min_confidence:
            return f"{tier.value} review confidence {review.confidence:.2f} < {self.config.min_confidence:.2f}"
        return None

    def _outcome(
        self, chunks: Sequence[Chunk], results: Sequence[_ChunkResult], counts: Redaction, verified: _Verified,
        dropped: int,
    ) -> ReviewOutcome:
        calls = self.ledger.calls()
        cost = round(sum(c.cost_usd for c in calls), 8)
        escalations = tuple(r.escalation for r in results if r.escalation)
        problems = [r.problem for r in results if r.problem]
        budget = next((r.budget_stop for r in results if r.budget_stop), None)
        notes = [f"{len(chunks)} chunk(s), {len(calls)} call(s), ${cost:.4f}"]
        if counts.total:
            notes.append(f"{counts.total} secret(s) redacted before sending")
        if dropped:
            notes.append(f"{dropped} finding(s) citing files outside the diff dropped")
        if self.route.excluded:
            notes.append("not sent: " + ", ".join(f"{p} ({why})" for p, why in self.route.excluded[:5]))
        if budget:
            status, head = LLMStatus.BUDGET_EXCEEDED, f"LLM review stopped before exceeding the budget: {budget}"
        elif problems:
            status, head = LLMStatus.INCOMPLETE, "LLM review incomplete: " + "; ".join(problems)
        else:
            status, head = LLMStatus.OK, "LLM review complete"
        route = self.route.route_plan()
        if escalations and route.tier is not Tier.PRO:
            route = route.model_copy(update={"tier": Tier.PRO, "reasons": (*route.reasons, *escalations)})
        summary = LLMSummary(status=status, reason=f"{head} ({'; '.join(notes)})", calls=calls, cost_usd=cost,
                             escalations=escalations, verifier=verified.note,
                             hidden_findings=tuple(verified.hidden))
        return ReviewOutcome(route=route, llm=summary, findings=tuple(verified.kept),
                             scanner_verdicts=verified.scanner, carried_verdicts=verified.carried)


def _new_commits(request: ReviewRequest) -> Sequence[Commit]:
    """The commits whose messages to send: after ``since`` when it is one of the PR's commits."""
    commits = request.change.commits
    shas = [c.sha for c in commits]
    if request.since is None or request.since not in shas:
        return commits
    return commits[shas.index(request.since) + 1:]


_SEVERITY = {s.value: s for s in Severity}


def to_findings(
    items: Sequence[LLMFindingOut], change: ChangeSet, patches: Mapping[str, str]
) -> tuple[tuple[Finding, ...], int]:
    """Turn model findings into report findings: verify locations, fingerprint, de-duplicate.

    A finding citing a file that was not reviewed is dropped (counted); one citing a line outside
    the diff is kept with ``verified=False``.
    """
    shown: dict[str, dict[int, str]] = {
        path: {pl.new_no: pl.text for pl in iter_patch(text) if pl.new_no is not None and pl.kind != "removed"}
        for path, text in patches.items()
    }
    best: dict[tuple[str, str, int | None], Finding] = {}
    dropped = 0
    for item in items:
        lines = shown.get(item.path)
        if lines is None or change.file(item.path) is None:
            dropped += 1
            continue
        verified = item.line is not None and item.line in lines
        rule_id = f"llm:{item.category}"
        anchor = lines.get(item.line, "") if item.line is not None else ""
        finding = Finding(
            tool="llm",
            rule_id=rule_id,
            severity=_SEVERITY[item.severity],
            path=item.path,
            line=item.line,
            end_line=item.end_line if item.end_line and item.line and item.end_line >= item.line else None,
            message=_clean(f"{item.title}: {item.explanation}" if item.explanation else item.title),
            cwe=tuple(dict.fromkeys(item.cwe)),
            fingerprint=finding_fingerprint(rule_id, item.path, anchor or item.title),
            in_diff=verified or item.line is None,
            confidence=item.confidence,
            verified=verified,
        )
        key = (rule_id, item.path, item.line)
        if key not in best or finding.severity.rank > best[key].severity.rank:
            best[key] = finding
    ordered = sorted(best.values(), key=lambda f: (f.path, f.line or 0, f.rule_id, f.message))
    return tuple(ordered), dropped


def _clean(text: str) -> str:
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())[:1200]
