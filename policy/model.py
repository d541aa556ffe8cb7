"""The policy file (``.github/govbot.yml``), as strict, frozen pydantic models.

Unknown keys, wrong types and bad globs are errors; ``policy/loader.py`` turns them into
messages with file and line. ``policy/engine.py`` evaluates a loaded policy with a pure function.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from govbot.core.globs import validate_glob
from govbot.core.models import DiffScope, Frozen, Severity
from govbot.policy.authorship_config import AuthorshipConfig
from govbot.policy.llm_config import LLMConfig


class Action(StrEnum):
    COMMENT = "comment"
    WARN = "warn"
    REQUIRE_REVIEW = "require_review"
    BLOCK = "block"


Glob = Annotated[str, Field(min_length=1, max_length=512)]
LabelName = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[^\x00-\x1f,]+$")]


def _globs(values: list[str]) -> list[str]:
    for v in values:
        validate_glob(v)
    return values


class Match(Frozen):
    """Conditions of a rule. All given conditions must hold.

    Finding conditions (tool, rule_id, severity, cwe, paths, exclude_paths, in_diff) make the rule
    apply to each finding; change conditions (ai_generated, agent, signal, labels, touches,
    tier) apply to the pull request as a whole. A rule with only change conditions fires once.
    """

    tool: list[Literal["semgrep", "bandit", "secrets", "llm", "authorship", "govbot"]] | None = None
    rule_id: list[Glob] | None = Field(default=None, description="globs over namespaced rule ids")
    severity: Severity | None = Field(default=None, description="minimum severity")
    max_severity: Severity | None = Field(default=None, description="maximum severity")
    cwe: list[Annotated[str, Field(pattern=r"^CWE-[0-9]{1,5}$")]] | None = None
    paths: list[Glob] | None = None
    exclude_paths: list[Glob] | None = None
    in_diff: bool | None = None
    include_suppressed: bool = False

    ai_generated: bool | None = Field(default=None, description="true: an AI marker was found")
    agent: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = None
    signal: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = None
    labels: list[LabelName] | None = Field(default=None, description="the PR has any of these")
    touches: list[Glob] | None = Field(default=None, description="a changed file matches a glob")
    tier: list[Literal["none", "mini", "standard", "pro"]] | None = None
    llm_incomplete: bool | None = None

    _check_globs = field_validator("rule_id", "paths", "exclude_paths", "touches")(
        lambda cls, v: _globs(v) if v is not None else v
    )

    @property
    def finding_level(self) -> bool:
        return any(
            v is not None
            for v in (self.tool, self.rule_id, self.severity, self.max_severity, self.cwe, self.paths,
                      self.exclude_paths, self.in_diff)
        )

    @model_validator(mode="after")
    def _not_empty(self) -> Match:
        fields = self.model_fields_set - {"include_suppressed"}
        if not fields:
            raise ValueError("a rule's match needs at least one condition")
        return self


class Rule(Frozen):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,79}$")]
    description: str = ""
    match: Match
    action: Action
    label: LabelName | None = Field(default=None, description="label for require_review/block")
    message: str | None = None

    @model_validator(mode="after")
    def _heuristics_never_block_alone(self) -> Rule:
        m = self.match
        only_heuristic = m.signal is not None and set(m.signal) <= {"content_heuristic"}
        other = m.model_fields_set - {"signal", "include_suppressed"}
        if self.action is Action.BLOCK and only_heuristic and not other:
            raise ValueError(
                "content heuristics are advisory: a rule matching only signal content_heuristic "
                "cannot block (use require_review or warn)"
            )
        return self


class Labels(Frozen):
    review: LabelName = "human-review-required"
    blocked: LabelName | None = "govbot:blocked"
    ai_generated: LabelName | None = "ai-generated"
    allowlist: list[LabelName] = Field(
        default_factory=lambda: ["human-review-required", "govbot:blocked", "ai-generated"],
        description="the only labels govbot may add or remove",
    )

    @model_validator(mode="after")
    def _allowed(self) -> Labels:
        for name in (self.review, self.blocked, self.ai_generated):
            if name is not None and name not in self.allowlist:
                raise ValueError(f"label {name!r} is used but not in labels.allowlist")
        return self


class SemgrepConfig(Frozen):
    rules: list[Glob] = Field(
        default_factory=list,
        description="extra rule files in the repository (read from the base branch)",
    )
    registry: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="registry configs; these need network access and are off by default",
    )
    bundled: bool = Field(default=True, description="use govbot's bundled rules")


class Limits(Frozen):
    tool_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 300
    semgrep_rule_timeout_s: Annotated[int, Field(ge=1, le=600)] = 10
    semgrep_max_memory_mb: Annotated[int, Field(ge=256, le=65536)] = 2048
    max_file_bytes: Annotated[int, Field(ge=1024, le=50_000_000)] = 1_000_000


class Settings(Frozen):
    diff_scope: DiffScope = DiffScope.ADDED
    fail_on: Literal["review_required", "block", "never"] = "review_required"
    scan_paths_exclude: list[Glob] = Field(default_factory=list)
    llm_incomplete_blocks_security: bool = True

    _check_globs = field_validator("scan_paths_exclude")(lambda cls, v: _globs(v))


class Policy(Frozen):
    version: Literal[1] = 1
    settings: Settings = Settings()
    labels: Labels = Labels()
    semgrep: SemgrepConfig = SemgrepConfig()
    limits: Limits = Limits()
    authorship: AuthorshipConfig = AuthorshipConfig()
    llm: LLMConfig = LLMConfig()
    rules: list[Rule] = Field(default_factory=list)
    use_default_rules: bool = Field(
        default=True, description="also apply govbot's built-in rules (secrets, high-severity SAST)"
    )

    @model_validator(mode="after")
    def _rules_consistent(self) -> Policy:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"duplicate rule id {rule.id!r}")
            seen.add(rule.id)
            if rule.label is not None and rule.label not in self.labels.allowlist:
                raise ValueError(f"rule {rule.id!r}: label {rule.label!r} is not in labels.allowlist")
        return self
