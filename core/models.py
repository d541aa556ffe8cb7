"""The domain model every part of govbot shares.

One frozen ``Finding`` type for every scanner and for the LLM reviewer; one ``ChangeSet`` for
both the local git path and the GitHub path; one ``Report`` that every output is rendered from.
This module does no I/O and imports no sibling package.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.2"


class Frozen(BaseModel):
    """Base for value objects: immutable, and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


class DiffScope(StrEnum):
    """Which findings count as part of the change (reviewdog's filter modes)."""

    ADDED = "added"  # on an added or modified line
    DIFF_CONTEXT = "diff_context"  # inside a hunk, context lines included
    FILE = "file"  # anywhere in a changed file


class FileStatus(StrEnum):
    ADDED = "added"
    MODIFIED = "modified"
    DELETED = "deleted"
    RENAMED = "renamed"
    COPIED = "copied"
    TYPE_CHANGED = "type_changed"


class FileKind(StrEnum):
    """What the path is at the head side (or the base side for a deletion)."""

    REGULAR = "regular"
    EXECUTABLE = "executable"
    SYMLINK = "symlink"
    SUBMODULE = "submodule"


class Hunk(Frozen):
    old_start: int
    old_lines: int
    new_start: int
    new_lines: int

    @property
    def new_end(self) -> int:
        return self.new_start + max(self.new_lines, 1) - 1


class ChangedFile(Frozen):
    path: str
    old_path: str | None = None
    status: FileStatus
    kind: FileKind = FileKind.REGULAR
    old_mode: str | None = None
    new_mode: str | None = None
    binary: bool = False
    mode_only: bool = False
    hunks: tuple[Hunk, ...] = ()
    added_lines: frozenset[int] = frozenset()
    additions: int = 0
    deletions: int = 0
    head_blob: str | None = None
    base_blob: str | None = None  # the file's blob at the base (None: added, or not known)
    size: int | None = None
    patch: str | None = Field(default=None, repr=False)  # unified diff text (untrusted)
    # The changed lines are not known (GitHub sent no patch, or it could not be parsed): every
    # line of the file then counts as part of the change, so nothing slips out of the diff scope.
    lines_unknown: bool = False


class Commit(Frozen):
    sha: str
    parents: tuple[str, ...] = ()
    message: str = ""
    author_name: str = ""
    author_email: str = ""
    committer_name: str = ""
    committer_email: str = ""
    # Filled on the GitHub path, where the API knows the account behind an e-mail address.
    author_login: str | None = None
    author_id: int | None = None
    author_type: str | None = None  # "User" | "Bot" | "Organization"
    committer_login: str | None = None
    committer_id: int | None = None
    committer_type: str | None = None


class PullRequestMeta(Frozen):
    number: int
    title: str = ""
    body: str = ""
    author_login: str = ""
    author_id: int | None = None
    author_type: str | None = None
    head_ref: str = ""
    base_ref: str = ""
    head_sha: str = ""
    base_sha: str = ""
    labels: tuple[str, ...] = ()
    draft: bool = False
    from_fork: bool = False


class SkippedFile(Frozen):
    path: str
    reason: str
    # True when content that should have been analysed was not (too large, tool error, timeout):
    # the analysis is then incomplete and can never pass. False for deliberate, reported skips.
    incomplete: bool = False


class ChangeSet(Frozen):
    base: str
    head: str
    files: tuple[ChangedFile, ...] = ()
    commits: tuple[Commit, ...] = ()
    pr: PullRequestMeta | None = None
    head_ref: str | None = None  # the head branch name, when known (local scans; PRs use pr.head_ref)
    # Limits of the source (e.g. GitHub's 3,000-file cap) that made the change set partial.
    truncated: tuple[str, ...] = ()
    # Of those, the ones that left changed files unanalysed: the analysis is then incomplete.
    unanalysed: tuple[str, ...] = ()
    # Files that are agent instructions by indirection at the head: (path, how), e.g. the target
    # of a CLAUDE.md symlink, or a file a CLAUDE.md pulls in with ``@path`` (issue 9, class 10).
    instruction_links: tuple[tuple[str, str], ...] = ()

    def file(self, path: str) -> ChangedFile | None:
        for f in self.files:
            if f.path == path:
                return f
        return None


class Suppression(Frozen):
    marker: str  # "nosec", "nosemgrep", "pragma: allowlist secret"
    added_by_change: bool


class Verification(Frozen):
    """The verifier model's score of one security finding (see docs/llm.md, "Verifier")."""

    score: float = Field(ge=0, le=1)
    reason: str = ""
    model: str = ""
    below_threshold: bool = False
    action: Literal["kept", "marked_low", "hidden", "shown"] = "kept"  # shown: a scanner finding, untouched


class Finding(Frozen):
    """One problem, whichever tool found it. Never carries a secret in clear."""

    tool: str  # semgrep | bandit | secrets | llm | authorship | govbot
    rule_id: str  # namespaced and stable: "semgrep:<id>", "bandit:B602", "secrets:<type>", ...
    severity: Severity
    path: str
    line: int | None = None
    end_line: int | None = None
    message: str
    cwe: tuple[str, ...] = ()
    fingerprint: str = ""
    in_diff: bool = True
    confidence: Literal["low", "medium", "high"] | None = None
    also_reported_by: tuple[str, ...] = ()
    suppression: Suppression | None = None
    verified: bool = True  # False for an LLM finding whose location could not be checked
    secret_hash: str | None = None  # short, salted-free hash of a secret; never the secret
    help_url: str | None = None
    verification: Verification | None = None
    # Relative to the base: "new" in this change, or "pre_existing" (already in the base version
    # of the file, only moved, re-wrapped or re-quoted). None: not compared (LLM, govbot's own).
    baseline: Literal["new", "pre_existing"] | None = None


class ToolStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"
    TIMEOUT = "timeout"
    MISSING = "missing"
    NOT_APPLICABLE = "not_applicable"


class ToolRun(Frozen):
    name: str
    version: str | None = None
    status: ToolStatus
    files: int = 0
    duration_s: float = 0.0
    error: str | None = None
    skipped: tuple[SkippedFile, ...] = ()

    @property
    def complete(self) -> bool:
        ok = self.status in (ToolStatus.OK, ToolStatus.NOT_APPLICABLE)
        return ok and not any(s.incomplete for s in self.skipped)


class AIVerdict(StrEnum):
    YES = "yes"
    NO_MARKER = "no_marker"  # nothing found: unknown, never "human"
    DECLARED_NONE = "declared_none"  # the PR declares no AI use (still unverified)


class SignalStrength(StrEnum):
    STRONG = "strong"
    MEDIUM = "medium"
    ADVISORY = "advisory"


class Signal(Frozen):
    # trailer | footer | agent_identity | bot_account | agent_branch | pr_marker | declared_ai |
    # declared_none | instruction_file | content_heuristic (see docs/authorship.md)
    id: str
    strength: SignalStrength
    agent: str | None = None
    evidence: str  # short, escaped-on-render human text: what was seen
    commit: str | None = None
    path: str | None = None


class Authorship(Frozen):
    ai_generated: AIVerdict = AIVerdict.NO_MARKER
    confidence: float = 0.0
    agents: tuple[str, ...] = ()
    signals: tuple[Signal, ...] = ()
    instruction_files: tuple[str, ...] = ()
    summary: str = "no AI-authorship marker found (unknown, not proof of human authorship)"


class Tier(StrEnum):
    NONE = "none"
    MINI = "mini"
    STANDARD = "standard"
    PRO = "pro"


class RoutePlan(Frozen):
    tier: Tier = Tier.NONE
    model: str | None = None
    fallbacks: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    estimated_input_tokens: int = 0
    estimated_cost_usd: float = 0.0
    split_tier: Tier | None = None  # split review: the tier of the test/docs/lint-level files
    split_files: int = 0  # how many files that tier reviews


class LLMCall(Frozen):
    model: str
    provider: str
    tier: Tier
    status: str  # ok | error | invalid_output | timeout | rate_limited | skipped_budget
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    duration_s: float = 0.0
    note: str | None = None
    purpose: Literal["review", "verify"] = "review"
    repairs: tuple[str, ...] = ()  # what the bounded repair step changed in the reply (no new call)


class LLMStatus(StrEnum):
    SKIPPED = "skipped"
    OK = "ok"
    INCOMPLETE = "incomplete"
    BUDGET_EXCEEDED = "budget_exceeded"


class LLMSummary(Frozen):
    status: LLMStatus = LLMStatus.SKIPPED
    reason: str = "LLM review not configured"
    calls: tuple[LLMCall, ...] = ()
    cost_usd: float = 0.0
    escalations: tuple[str, ...] = ()
    verifier: str | None = None  # what the verifier pass did, one line
    hidden_findings: tuple[Finding, ...] = ()  # LLM findings the verifier scored below the threshold (hide)
    scope: str | None = None  # incremental review: "reviewed commits X..Y: ..."; or why it was full
    resolved: tuple[str, ...] = ()  # fingerprints of earlier LLM findings fixed by the new push
    resolved_findings: tuple[Finding, ...] = ()  # those findings, as last shown (redacted)


class Outcome(StrEnum):
    PASS = "pass"  # noqa: S105
    WARN = "warn"
    REVIEW_REQUIRED = "review_required"
    BLOCK = "block"

    @property
    def rank(self) -> int:
        return _OUTCOME_RANK[self]


_OUTCOME_RANK = {o: i for i, o in enumerate(Outcome)}


class Reason(Frozen):
    rule: str  # policy rule id, or "govbot:<builtin>"
    action: str  # comment | warn | require_review | block
    message: str
    fingerprints: tuple[str, ...] = ()


class Decision(Frozen):
    outcome: Outcome = Outcome.PASS
    complete: bool = True
    labels_add: tuple[str, ...] = ()
    labels_remove: tuple[str, ...] = ()
    reasons: tuple[Reason, ...] = ()
    notices: tuple[str, ...] = ()


class ChangeSummary(Frozen):
    base: str
    head: str
    files_changed: int
    files_analysed: int
    files_skipped: tuple[SkippedFile, ...] = ()
    commits: int = 0
    truncated: tuple[str, ...] = ()
    pr_number: int | None = None


class Report(BaseModel):
    """The versioned JSON contract (``govbot scan --format json``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: str = SCHEMA_VERSION
    govbot_version: str
    change: ChangeSummary
    findings: tuple[Finding, ...] = Field(default=())
    authorship: Authorship = Authorship()
    route: RoutePlan = RoutePlan()
    llm: LLMSummary = LLMSummary()
    decision: Decision
    tools: tuple[ToolRun, ...] = ()
    policy_source: str = "builtin default"


FailOn = Literal["review_required", "block", "never"]


def exit_code(decision: Decision, fail_on: FailOn | str, review_satisfied: bool = False) -> int:
    """The one exit code of a run, for the CLI, the Action and every renderer that prints it.

    0 pass, warnings, or an outcome ``fail_on`` lets through; 1 blocked (unless ``fail_on`` is
    ``never``), or human review required and not yet given (only with ``fail_on:
    review_required``); 2 analysis incomplete: never a pass, whatever ``fail_on`` says. A policy
    block is 1 even when some tool failed: the policy already said no.
    """
    if decision.outcome is Outcome.BLOCK and fail_on != "never":
        return 1
    if not decision.complete:
        return 2
    if decision.outcome is Outcome.REVIEW_REQUIRED:
        return 1 if fail_on == "review_required" and not review_satisfied else 0
    return 0
