"""The composition of one analysis: change set in, ``Report`` out.

Both the local CLI and the GitHub Action call ``analyse``; they differ only in where the change
set, the policy and the file contents come from (``ContentSource``), and tests swap the scanners
(``Scanners``) and the LLM review (``Reviewer``) for recorded ones.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, TypeVar

from govbot import __version__
from govbot.checks.authorship import detect
from govbot.checks.baseline import base_scan_plan, classify, files_needing_base
from govbot.checks.builtin import config_findings, supply_chain_findings, symlink_findings
from govbot.checks.injection import injection_findings
from govbot.checks.normalise import SourceLines, added_suppressions, dedupe, normalise
from govbot.checks.pyview import map_back, python_view
from govbot.checks.scan import FILLER_NICENESS, materialise, safe_relpath
from govbot.core.globs import glob_match
from govbot.core.models import (
    Authorship,
    ChangedFile,
    ChangeSet,
    ChangeSummary,
    DiffScope,
    FileKind,
    FileStatus,
    Finding,
    LLMSummary,
    Report,
    RoutePlan,
    SkippedFile,
    Verification,
)
from govbot.core.ports import BaseSource, ContentSource, Progress, Scanners
from govbot.core.text import PYTHON_SUFFIXES, as_text, coding_cookie, looks_binary, looks_like_source, python_by_content
from govbot.policy.engine import evaluate, facts_for
from govbot.policy.llm_config import LLMConfig
from govbot.policy.loader import DEFAULT_POLICY_PATH
from govbot.policy.model import Policy
from govbot.router.catalogue import estimate_models
from govbot.router.incremental import IncrementalPlan, merge_findings, scope_patches, steady_verdicts
from govbot.router.plan import plan as plan_route
from govbot.router.redact import Redaction, Redactor
from govbot.router.review import LLMEnvironment, ReviewOutcome, ReviewRequest, review
from govbot.router.riskmodel import RiskModel
from govbot.router.verify import apply as apply_verdicts
from govbot.router.verify import needs_verifying

_T = TypeVar("_T")


class Reviewer(Protocol):
    """The LLM review: ``router.review.review`` with the credentials of the edge that built it."""

    def __call__(self, request: ReviewRequest, config: LLMConfig) -> ReviewOutcome: ...


def llm_reviewer(env: LLMEnvironment) -> Reviewer:
    def reviewer(request: ReviewRequest, config: LLMConfig) -> ReviewOutcome:
        return review(request, config, env)

    return reviewer


@dataclass(frozen=True)
class AnalyseOptions:
    diff_scope: DiffScope | None = None  # None: the policy's settings.diff_scope
    policy_path: str = DEFAULT_POLICY_PATH
    policy_source: str = "builtin default"
    extra_findings: tuple[Finding, ...] = ()
    notices: tuple[str, ...] = ()
    progress: Progress | None = None
    # incremental LLM review of a new push (router/incremental.py); None or mode "full": review all
    incremental: IncrementalPlan | None = None
    # the risk model with the policy's llm.routing.calibration applied, loaded by the edge from the
    # base branch (router/repocalibrate.calibrated_model); None: the shipped model
    risk_model: RiskModel | None = None


@dataclass(frozen=True)
class FilePlan:
    scan: tuple[ChangedFile, ...]
    symlinks: tuple[ChangedFile, ...]
    skipped: tuple[SkippedFile, ...]


def plan_files(change: ChangeSet, policy: Policy, max_file_bytes: int) -> FilePlan:
    """Decide, deliberately and visibly, which changed files are scanned. Pure."""
    scan: list[ChangedFile] = []
    links: list[ChangedFile] = []
    skipped: list[SkippedFile] = []
    excludes = policy.settings.scan_paths_exclude
    for f in change.files:
        reason, incomplete = _skip_reason(f, excludes, max_file_bytes)
        if f.kind is FileKind.SYMLINK and f.status is not FileStatus.DELETED:
            links.append(f)
        if reason:
            skipped.append(SkippedFile(path=f.path, reason=reason, incomplete=incomplete))
        else:
            scan.append(f)
    return FilePlan(tuple(scan), tuple(links), tuple(skipped))


def _skip_reason(f: ChangedFile, excludes: Sequence[str], max_bytes: int) -> tuple[str | None, bool]:
    if f.status is FileStatus.DELETED:
        return "deleted", False
    if f.kind is FileKind.SUBMODULE:
        return "submodule (only the pointer changed; its code is not in this repository)", False
    if f.kind is FileKind.SYMLINK:
        return "symlink (not followed; its target is checked)", False
    if f.mode_only:
        return "mode change only (content unchanged)", False
    if safe_relpath(f.path) is None:
        return "unsafe path", True
    if excludes and glob_match(f.path, excludes):
        return "excluded by policy (settings.scan_paths_exclude)", False
    if f.size is not None and f.size > max_bytes:
        kind = machine_written(f.path)
        if kind:  # what the secrets scanner skips anyway: a deliberate skip, not a failed check
            return f"{kind} larger than {max_bytes} bytes ({f.size}); not analysed", False
        return f"larger than {max_bytes} bytes ({f.size}); not analysed", True
    return None, False


_LOCK_FILES = frozenset({
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock", "poetry.lock",
    "Pipfile.lock", "uv.lock", "pdm.lock", "Cargo.lock", "Gemfile.lock", "composer.lock", "go.sum",
    "Podfile.lock", "Package.resolved", "Cartfile.resolved", "packages.lock.json", "Brewfile.lock.json",
    "mix.lock", "pubspec.lock", "flake.lock",
})
_GENERATED = ("*.min.js", "*.min.css", "*.js.map", "*.css.map", "*_pb2.py", "*_pb2.pyi", "*_pb2_grpc.py",
              "*.pb.go", "*.snap", "**/__snapshots__/**")


def machine_written(path: str) -> str | None:
    """The kind of a file no person writes by hand ("lock file", "generated file"): its hashes and
    minified lines are not reviewable code. None for everything else. Pure."""
    name = path.rsplit("/", 1)[-1]
    if name in _LOCK_FILES:  # exact names only: "evil.lock" is not a lock file
        return "lock file"
    if glob_match(path, _GENERATED):
        return "generated file"
    return None


def analyse(
    change: ChangeSet,
    policy: Policy,
    contents: ContentSource,
    scanners: Scanners,
    reviewer: Reviewer | None,
    options: AnalyseOptions = AnalyseOptions(),
    *,
    base: BaseSource | None = None,
) -> Report:
    """One analysis: what to scan, the scanners, govbot's own checks, authorship, the routed LLM
    review (``reviewer``: None when not requested), then the policy's decision. I/O only through
    the ports; the scanners read a private copy of the files in a temporary directory."""
    max_bytes = policy.limits.max_file_bytes
    scope = options.diff_scope or policy.settings.diff_scope
    plan = plan_files(change, policy, max_bytes)
    readable, skipped = _readable(plan, contents.read(plan.scan), max_bytes)
    skipped += [SkippedFile(path="(pull request)", reason=why, incomplete=True) for why in change.unanalysed]
    link_targets = contents.read(plan.symlinks) if plan.symlinks else {}
    analysed = frozenset(readable)
    files = {f.path: f for f in change.files}

    with tempfile.TemporaryDirectory(prefix="govbot-scan-") as tmp, ThreadPoolExecutor(max_workers=1) as aside:
        root = Path(tmp)
        written = materialise(root, readable)
        # Notebooks and shebang scripts, shown to the scanners as .py (issue 9, class 8).
        views = {v.path: v for p, b in readable.items() if (v := python_view(p, b)) is not None}
        blocked = {v.source for v in views.values() if v.path in readable}  # a PR file already has the name
        views = {k: v for k, v in views.items() if v.source not in blocked}
        skipped += [SkippedFile(path=p, incomplete=True, reason=(
            "Python without a .py name: its view for the scanners clashes with a file of the change")) for p in blocked]
        written += materialise(root, {k: v.text.encode("utf-8") for k, v in views.items()})
        del readable  # from here on, scanners and SourceLines read the copies on disk
        # Work that needs only the change runs while the scanners do (they are subprocesses; this
        # thread fills the core that the shorter scanners leave idle before the longest ends). It
        # starts once the files are written: started earlier, it holds the GIL while the files are
        # copied and so delays the longest scanner, the run's critical path.
        from_change = aside.submit(_at_low_priority, _change_only_work, change, policy)
        results = scanners.run(root, written, options.progress)
        injections, authorship = from_change.result()
        source = SourceLines.from_dir(root)
        raw = map_back([f for r in results for f in r.findings], views)
        raw += symlink_findings(plan.symlinks, link_targets)
        raw += config_findings(change, policy, options.policy_path)
        raw += supply_chain_findings(change)
        raw += list(options.extra_findings)
        findings = normalise(raw, files, source, scope)
        if base is not None:
            findings = _relative_to_base(findings, change, base, scanners, source, max_bytes)
        findings += added_suppressions([f for f in change.files if f.path in analysed], source)
        findings += injections
        route, llm, llm_findings, scores = _llm_review(change, tuple(findings), authorship, policy, reviewer,
                                                       options.incremental, options.risk_model)
        # The verifier's scores are shown on scanner findings; they never remove or change one.
        findings = [f.model_copy(update={"verification": scores[f.fingerprint]}) if f.fingerprint in scores else f
                    for f in findings]
        # Only the LLM's findings are new here; the deterministic ones are already normalised.
        merged = dedupe([*findings, *normalise(llm_findings, files, source, scope)])
    redactor = Redactor.default()
    all_findings = redact_texts(merged, redactor)
    # earlier findings come back from the hidden state: redacted again like everything shown
    llm = llm.model_copy(update={"hidden_findings": redact_texts(llm.hidden_findings, redactor),
                                 "resolved_findings": redact_texts(llm.resolved_findings, redactor)})
    authorship = redact_evidence(authorship, redactor)

    tools = tuple(r.run for r in results)
    facts = facts_for(change, all_findings, authorship, route, llm, tools, tuple(skipped))
    all_notices = list(options.notices)
    if any(f.rule_id == "govbot:policy-change" for f in all_findings):
        all_notices.append("policy change pending review: this change edits govbot's policy or scanner "
                           "configuration, which applies only once merged")
    decision = evaluate(facts, policy, all_notices)
    summary = ChangeSummary(
        base=change.base,
        head=change.head,
        files_changed=len(change.files),
        files_analysed=len(analysed),
        files_skipped=tuple(sorted(redact_skips(skipped, redactor), key=lambda s: s.path)),
        commits=len(change.commits),
        truncated=change.truncated,
        pr_number=change.pr.number if change.pr else None,
    )
    return Report(
        govbot_version=__version__,
        change=summary,
        findings=all_findings,
        authorship=authorship,
        route=route,
        llm=llm,
        decision=decision,
        tools=tools,
        policy_source=options.policy_source,
    )


def _at_low_priority(work: Callable[..., _T], *args: Any) -> _T:
    """Run ``work`` in this (helper) thread at a lower CPU priority: Linux schedules threads one by
    one, so it yields to the scanners on the critical path. The pool's thread ends with the run."""
    if hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):
            me = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, me, min(os.getpriority(os.PRIO_PROCESS, me) + FILLER_NICENESS, 19))
    return work(*args)


def _change_only_work(change: ChangeSet, policy: Policy) -> tuple[list[Finding], Authorship]:
    """What reads the change alone, not the scanners' output: prompt-injection text and authorship."""
    return injection_findings(change), detect(change, policy.authorship, branch=change.head_ref)


def _relative_to_base(
    findings: list[Finding],
    change: ChangeSet,
    base: BaseSource,
    scanners: Scanners,
    source: SourceLines,
    max_bytes: int,
) -> list[Finding]:
    """Mark each scanner finding new or pre-existing (``checks/baseline.py``). Only modified
    files with findings in the diff are read at the base (moved code is new where it lands), and
    each is scanned again only by the tools that reported in it: a reformat of 3,000 files with
    bandit findings in three costs a bandit run on three files, no semgrep start-up, no secrets scan."""
    plan = base_scan_plan(findings, change.files)
    wanted = files_needing_base(findings, change.files)
    blobs = base.read_base(wanted, change.base) if wanted else {}
    blobs = {p: as_text(b).encode("utf-8") for p, b in blobs.items() if len(b) <= max_bytes}
    if not blobs:
        return classify(findings, source.line, (), source.line, ())
    with tempfile.TemporaryDirectory(prefix="govbot-base-") as tmp:
        root = Path(tmp)
        written = set(materialise(root, blobs))
        only = {tool: [p for p in paths if p in written] for tool, paths in plan.items()}
        results = scanners.run(root, sorted(written), only={t: ps for t, ps in only.items() if ps})
        base_lines = SourceLines.from_dir(root)
        # A base run that did not finish compares nothing: that tool's findings stay new.
        done = {r.run.name for r in results if r.run.complete}
        base_raw = [f for r in results if r.run.name in done for f in r.findings]
        compared = [(tool, p) for tool, paths in only.items() if tool in done for p in paths]
        return classify(findings, source.line, base_raw, base_lines.line, compared)


def _readable(plan: FilePlan, data: dict[str, bytes], max_bytes: int) -> tuple[dict[str, bytes], list[SkippedFile]]:
    """The planned files' contents that can be scanned, and why the others cannot."""
    skipped = list(plan.skipped)
    readable: dict[str, bytes] = {}
    for f in plan.scan:
        blob = data.get(f.path)
        if blob is None:
            skipped.append(SkippedFile(path=f.path, reason="content could not be read", incomplete=True))
        elif len(blob) > max_bytes:
            kind = machine_written(f.path)
            skipped.append(SkippedFile(path=f.path, reason=f"{kind or 'file'} larger than {max_bytes} bytes",
                                       incomplete=kind is None))
        else:
            # NUL bytes or UTF-16 make a file "binary" to git, not to a secret scanner: every file
            # is scanned as text (issue 9, class 4); source that had to be decoded is incomplete
            # for SAST, which sees the decoded text and may have missed what the raw bytes do.
            readable[f.path] = as_text(blob).encode("utf-8")
            if looks_binary(blob) and looks_like_source(f.path, blob):
                skipped.append(SkippedFile(path=f.path, incomplete=True, reason=(
                    "source file with NUL bytes or a UTF-16 encoding: scanned as decoded text, "
                    "SAST may be incomplete")))
            skipped.extend(_python_gaps(f.path, blob))
    return readable, skipped


def _python_gaps(path: str, blob: bytes) -> list[SkippedFile]:
    """Python that the scanners, which pick Python by file name and read UTF-8, would not see as
    written: said out loud and incomplete, never a silent pass (issue 9, class 8)."""
    gaps: list[SkippedFile] = []
    kind = python_by_content(path, blob)
    # Notebooks and shebang scripts are analysed through a .py view (``checks/pyview.py``); a
    # notebook that is not valid JSON with cells has none.
    if kind == "notebook" and python_view(path, blob) is None:
        gaps.append(SkippedFile(path=path, incomplete=True, reason=(
            "Jupyter notebook that could not be read (not JSON with cells): its code is not analysed "
            "as Python by SAST (secrets were scanned)")))
    if (kind or path.endswith(PYTHON_SUFFIXES)) and (codec := coding_cookie(blob)):
        gaps.append(SkippedFile(path=path, incomplete=True, reason=(
            f"declares source encoding {codec!r}: Python decodes it differently from the scanners")))
    return gaps


def _llm_review(
    change: ChangeSet,
    findings: tuple[Finding, ...],
    authorship: Authorship,
    policy: Policy,
    reviewer: Reviewer | None,
    incremental: IncrementalPlan | None = None,
    risk_model: RiskModel | None = None,
) -> tuple[RoutePlan, LLMSummary, tuple[Finding, ...], Mapping[str, Verification]]:
    if not policy.llm.enabled:
        return RoutePlan(), LLMSummary(reason="LLM review disabled by policy (llm.enabled: false)"), (), {}
    patches = {f.path: f.patch for f in change.files if f.patch}
    if reviewer is None:  # the route is still worked out and shown: which tier, and why
        route = plan_route(change, findings, authorship, policy.llm, estimate_models(policy.llm), patches=patches,
                           risk_model=risk_model)
        return route.route_plan(), LLMSummary(reason="LLM review not requested"), (), {}
    if incremental is None or incremental.mode == "full":
        outcome = reviewer(ReviewRequest(change, findings, authorship, patches, risk_model=risk_model), policy.llm)
        scope = incremental.reason if incremental else None
        return outcome.route, outcome.llm.model_copy(update={"scope": scope}), outcome.findings, \
            outcome.scanner_verdicts
    sent = scope_patches(patches, incremental)
    known: dict[str, Verification] = {}
    reverify: tuple[Finding, ...] = ()
    if policy.llm.verifier.enabled:
        scanner = [f for f in findings if f.tool != "llm"]
        known = steady_verdicts(incremental, [*scanner, *incremental.carried], policy.llm.verifier.context_lines)
        reverify = tuple(f for f in incremental.carried if needs_verifying(f) and f.fingerprint not in known)
    request = ReviewRequest(change, findings, authorship, patches, sent, since=incremental.since, known=known,
                            reverify=reverify, risk_model=risk_model)
    outcome = reviewer(request, policy.llm)
    carried_kept, carried_hidden = apply_verdicts(incremental.carried, outcome.carried_verdicts)
    plan = replace(incremental, carried=tuple(carried_kept))
    shown, resolved = merge_findings(plan, outcome.findings)
    carried = len(shown) - len(outcome.findings)
    scope = (f"{incremental.reason}: {len(sent)} file(s) re-reviewed, {carried} earlier finding(s) carried "
             f"over, {len(resolved)} resolved")
    if incremental.settled:
        scope += f"; not re-reviewed (lint-level since the last review): {len(incremental.settled)} file(s)"
    llm = outcome.llm.model_copy(update={
        "scope": scope, "resolved": tuple(f.fingerprint for f in resolved), "resolved_findings": resolved,
        "hidden_findings": (*outcome.llm.hidden_findings, *carried_hidden)})
    return outcome.route, llm, shown, outcome.scanner_verdicts


def redact_texts(findings: Sequence[Finding], redactor: Redactor) -> tuple[Finding, ...]:
    """Last line of defence: a message that quotes a secret (a user's semgrep rule interpolating
    ``$VALUE``, a tool that prints the match) is redacted before any output is rendered."""
    out: list[Finding] = []
    for f in findings:
        message = redactor.text(f.message, Redaction(), filename=f.path or "finding.txt")
        path = redactor.path(f.path, Redaction())  # a file name can carry a secret (issue 9, class 3)
        same = message == f.message and path == f.path
        out.append(f if same else f.model_copy(update={"message": message, "path": path}))
    return tuple(out)


def redact_skips(skipped: Sequence[SkippedFile], redactor: Redactor) -> list[SkippedFile]:
    return [s if (p := redactor.path(s.path, Redaction())) == s.path else s.model_copy(update={"path": p})
            for s in skipped]


def redact_evidence(authorship: Authorship, redactor: Redactor) -> Authorship:
    signals = tuple(
        s.model_copy(update={"evidence": redactor.text(s.evidence, Redaction())}) for s in authorship.signals
    )
    return authorship if signals == authorship.signals else authorship.model_copy(update={"signals": signals})
