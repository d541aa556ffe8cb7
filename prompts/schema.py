"""The LLM's output contract: a pydantic model sent as JSON Schema and validated on receipt.

Unknown top-level keys (a model "suggesting" labels or a decision) are ignored, never obeyed:
govbot reads only the fields below, and findings can only add to the report.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Category = Literal[
    "injection",
    "authn",
    "authz",
    "secrets",
    "crypto",
    "input_validation",
    "web",
    "deserialization",
    "path_traversal",
    "ssrf",
    "command_execution",
    "supply_chain",
    "ci_cd",
    "data_exposure",
    "logic",
    "error_handling",
    "concurrency",
    "performance",
    "maintainability",
    "other",
]

SECURITY_CATEGORIES: frozenset[str] = frozenset(
    {
        "injection", "authn", "authz", "secrets", "crypto", "input_validation", "web",
        "deserialization", "path_traversal", "ssrf", "command_execution", "supply_chain", "ci_cd",
        "data_exposure",
    }
)


class LLMFindingOut(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    category: Category
    severity: Literal["info", "low", "medium", "high", "critical"]
    path: Annotated[str, Field(min_length=1, max_length=1000)]
    line: Annotated[int, Field(ge=1)] | None = Field(default=None, description="new-side line number")
    end_line: Annotated[int, Field(ge=1)] | None = None
    title: Annotated[str, Field(min_length=1, max_length=200)]
    explanation: Annotated[str, Field(max_length=2000)] = ""
    cwe: list[Annotated[str, Field(pattern=r"^CWE-[0-9]{1,5}$")]] = Field(default_factory=list, max_length=5)
    confidence: Literal["low", "medium", "high"] = "medium"


class LLMReviewOut(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    summary: Annotated[str, Field(max_length=2000)] = ""
    security_concern: bool = Field(description="true if the change may weaken security in any way")
    confidence: Annotated[float, Field(ge=0, le=1)] = Field(
        description="how sure the reviewer is that the review is complete and correct"
    )
    findings: list[LLMFindingOut] = Field(default_factory=list, max_length=50)


class InvalidOutput(Exception):
    """The reply was not JSON matching ``LLMReviewOut`` (a typed error: move to the next model)."""


def output_schema() -> dict[str, Any]:
    return LLMReviewOut.model_json_schema()


def output_schema_text() -> str:
    return json.dumps(output_schema(), indent=1, sort_keys=True)


def parse_review(text: str) -> LLMReviewOut:
    """Validate a reply. Only a fenced ```json block around the whole reply is unwrapped; no other
    repair is attempted."""
    body = text.strip()
    if body.startswith("```"):
        first, _, rest = body.partition("\n")
        if first.strip() in ("```", "```json") and rest.rstrip().endswith("```"):
            body = rest.rstrip()[:-3]
    try:
        return LLMReviewOut.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidOutput(f"reply does not match the review schema ({exc.error_count()} error(s))") from exc
