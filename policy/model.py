"""The policy file (``.github/govbot.yml``), as strict, frozen pydantic models.

Unknown keys, wrong types and bad globs are errors; ``policy/loader.py`` turns them into
messages with file and line. ``policy/engine.py`` evaluates a loaded policy with a pure function.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, StrictBool, model_validator
from pydantic_core import PydanticCustomError

from govbot.core.globs import validate_glob
from govbot.core.models import DiffScope, Frozen, Severity
from govbot.policy import vocab
from govbot.policy.authorship_config import AuthorshipConfig
from govbot.policy.llm_config import LLMConfig


class Strict(Frozen):
    # strict: "yes" or 1 is not a boolean, "3" is not a number -- as the published JSON Schema says.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Action(StrEnum):
    COMMENT = "comment"
    WARN = "warn"
    REQUIRE_REVIEW = "require_review"
    BLOCK = "block"


def _path_glob(v: str) -> str:
    validate_glob(v)
    problem = vocab.glob_problem(v)
    if problem:
        raise ValueError(problem)
    return v


def _rule_id_glob(v: str) -> str:
    problem = vocab.rule_id_problem(v)
    if problem:
        raise ValueError(problem)
    return v


def _located(problems: list[tuple[tuple[str | int, ...], str]]) -> PydanticCustomError:
    """One error that the loader reports as one line per problem, each at its own location."""
    return PydanticCustomError("govbot_located", "{summary}",
                               {"summary": "; ".join(m for _, m in problems), "problems": problems})


Glob = Annotated[str, Field(min_length=1, max_length=512)]
PathGlob = Annotated[str, Field(min_length=1, max_length=512), AfterValidator(_path_glob)]
RuleIdGlob = Annotated[str, Field(min_length=1, max_length=512), AfterValidator(_rule_id_glob)]
Lax = Field(strict=False)  # enum fields: YAML gives strings
LabelName = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[^\x00-\x1f,]+$")]


class Match(Strict):
    """Conditions of a rule. All given conditions must hold.

    Finding conditions (tool, rule_id, severity, cwe, paths, exclude_paths, in_diff, confidence,
    baseline) make the rule apply to each finding; change conditions (ai_generated, agent,
    signal, labels, touches, tier) apply to the pull request as a whole. A rule with only change
    conditions fires once. Every list names at least one value, from a closed set where there is
    one: a rule that can never fire is an error, not a silent no-op.
    """

    tool: Annotated[list[Literal[vocab.TOOLS]], Field(min_length=1)] | None = None  # type: ignore[valid-type]
    rule_id: Annotated[list[RuleIdGlob], Field(min_length=1)] | None = Field(
        default=None, description="globs over namespaced rule ids ('bandit:B6*', 'semgrep:*sql*')")
    severity: Annotated[Severity, Lax] | None = Field(default=None, description="minimum severity")
    max_severity: Annotated[Severity, Lax] | None = Field(default=None, description="maximum severity")
    cwe: Annotated[list[Annotated[str, Field(pattern=r"^CWE-[0-9]{1,5}$")]], Field(min_length=1)] | None = None
    paths: Annotated[list[PathGlob], Field(min_length=1)] | None = None
    exclude_paths: Annotated[list[PathGlob], Field(min_length=1)] | None = None
    in_diff: StrictBool | None = None
    confidence: Annotated[list[Literal[vocab.CONFIDENCES]], Field(min_length=1)] | None = Field(  # type: ignore[valid-type]
        default=None, description="the finding's confidence is one of these (secrets: high = provider format "
        "with a valid checksum or prefix, medium = keyword and value shape, low = entropy only)")
    baseline: Annotated[list[Literal[vocab.BASELINES]], Field(min_length=1)] | None = Field(  # type: ignore[valid-type]
        default=None, description="new in this change, or pre_existing (already in the base version of the "
        "file); without this condition a rule sees only findings that are not pre-existing")
    include_suppressed: StrictBool = False

    ai_generated: StrictBool | None = Field(default=None, description="true: an AI marker was found")
    agent: Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1)] | None = None
    signal: Annotated[list[Literal[vocab.SIGNAL_IDS]], Field(min_length=1)] | None = None  # type: ignore[valid-type]
    labels: Annotated[list[LabelName], Field(min_length=1)] | None = Field(
        default=None, description="the PR has any of these")
    touches: Annotated[list[PathGlob], Field(min_length=1)] | None = Field(
        default=None, description="a changed file matches a glob")
    tier: Annotated[list[Literal["none", "mini", "standard", "pro"]], Field(min_length=1)] | None = None
    llm_incomplete: StrictBool | None = None

    @property
    def finding_level(self) -> bool:
        return any(
            v is not None
            for v in (self.tool, self.rule_id, self.severity, self.max_severity, self.cwe, self.paths,
                      self.exclude_paths, self.in_diff, self.confidence, self.baseline)
        )

    @model_validator(mode="after")
    def _not_empty(self) -> Match:
        fields = self.model_fields_set - {"include_suppressed"}
        if not fields:
            raise ValueError("a rule's match needs at least one condition")
        return self

    @model_validator(mode="after")
    def _possible_band(self) -> Match:
        if self.severity and self.max_severity and not self.max_severity.at_least(self.severity):
            raise _located([(("max_severity",), f"max_severity {self.max_severity.value!r} is below severity "
                             f"{self.severity.value!r}: no finding can match")])
        return self


class Rule(Strict):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,79}$")]
    description: str = ""
    match: Match
    action: Annotated[Action, Lax]
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


class Labels(Strict):
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


class SemgrepConfig(Strict):
    rules: list[PathGlob] = Field(
        default_factory=list,
        description="extra rule files in the repository (read from the base branch)",
    )
    registry: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="registry configs; these need network access and are off by default",
    )
    bundled: StrictBool = Field(default=True, description="use govbot's bundled rules")


class Limits(Strict):
    tool_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 300
    semgrep_rule_timeout_s: Annotated[int, Field(ge=1, le=600)] = 10
    semgrep_max_memory_mb: Annotated[int, Field(ge=256, le=65536)] = 2048
    max_file_bytes: Annotated[int, Field(ge=1024, le=50_000_000)] = 1_000_000


class Settings(Strict):
    diff_scope: Annotated[DiffScope, Lax] = DiffScope.ADDED
    fail_on: Literal["review_required", "block", "never"] = "review_required"
    scan_paths_exclude: list[PathGlob] = Field(default_factory=list)
    llm_incomplete_blocks_security: StrictBool = True


class Policy(Strict):
    version: Literal[1] = 1
    settings: Settings = Settings()
    labels: Labels = Labels()
    semgrep: SemgrepConfig = SemgrepConfig()
    limits: Limits = Limits()
    authorship: AuthorshipConfig = AuthorshipConfig()
    llm: LLMConfig = LLMConfig()
    rules: list[Rule] = Field(default_factory=list)
    use_default_rules: StrictBool = Field(
        default=True, description="also apply govbot's built-in rules (secrets, high-severity SAST)"
    )

    @model_validator(mode="after")
    def _rules_consistent(self) -> Policy:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        first: dict[str, int] = {}
        agents = set(vocab.BUILTIN_AGENTS) | {a.name for a in self.authorship.extra_agents}
        for i, rule in enumerate(self.rules):
            if rule.id in first:
                where = f"first at rules[{first[rule.id]}]"
                problems.append((("rules", i, "id"), f"duplicate rule id {rule.id!r} ({where})"))
            first.setdefault(rule.id, i)
            if rule.label is not None and rule.label not in self.labels.allowlist:
                problems.append((("rules", i, "label"), f"label {rule.label!r} is not in labels.allowlist"))
            for j, name in enumerate(rule.match.agent or ()):
                if name.lower() not in agents:
                    problems.append((("rules", i, "match", "agent", j), f"unknown agent {name!r}; known: "
                                     + ", ".join(sorted(agents)) + " (add one with authorship.extra_agents)"))
        if problems:
            raise _located(problems)
        return self
