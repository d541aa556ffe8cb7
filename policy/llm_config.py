"""The ``llm:`` section of the policy: tiers, endpoints, prices, budget, routing overrides.

Everything here is data from the policy file (read from the BASE branch). Credentials are never in
the policy: an endpoint names the environment variable that holds its key, and only variables
govbot reads for this purpose (see ``ALLOWED_KEY_ENV``) may be named, so a policy cannot point a
base URL at a server of its choice and have govbot send it an unrelated token such as GITHUB_TOKEN.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictFloat, StrictInt, field_validator, model_validator

from govbot.core.globs import validate_glob
from govbot.core.models import Frozen

TierName = Literal["mini", "standard", "pro"]
EndpointKind = Literal["openai", "anthropic", "openai_compatible"]

BUILTIN_ENDPOINTS = ("openai", "anthropic", "onprem")
ALLOWED_KEY_ENV = re.compile(r"^(OPENAI_API_KEY|ANTHROPIC_API_KEY|GOVBOT_[A-Z0-9_]{1,60})$")
_ENDPOINT_NAME = r"^[a-z][a-z0-9_-]{0,31}$"

Glob = Annotated[str, Field(min_length=1, max_length=512)]
# "<endpoint>/<model>": everything after the first slash is the model id as the endpoint knows it
# (Ollama and gateway ids may contain ':' and '/').
ModelRef = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}/[^\s]{1,200}$")]


class Endpoint(Frozen):
    """A place models are served from. ``openai`` and ``anthropic`` use the official SDKs;
    ``openai_compatible`` (vLLM, Ollama, an internal gateway) uses the OpenAI SDK with a base URL."""

    kind: EndpointKind
    base_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$", max_length=500)
    api_key_env: str | None = Field(
        default=None, description="environment variable holding the key (OPENAI_API_KEY, "
        "ANTHROPIC_API_KEY or GOVBOT_*)"
    )
    on_prem: StrictBool = Field(default=False, description="runs on the organisation's own servers")
    json_mode: Literal["schema", "object", "none"] | None = Field(
        default=None,
        description="how an openai / openai_compatible endpoint is asked for JSON: json_schema "
        "(strict), json_object, or prompt only (default: schema for openai; for openai_compatible the "
        "model's capability declared in govbot's catalogue, else object; anthropic always uses a "
        "forced output tool)",
    )

    @field_validator("api_key_env")
    @classmethod
    def _key_env(cls, v: str | None) -> str | None:
        if v is not None and not ALLOWED_KEY_ENV.match(v):
            raise ValueError(
                f"api_key_env {v!r} is not allowed: use OPENAI_API_KEY, ANTHROPIC_API_KEY or a GOVBOT_* name"
            )
        return v

    @model_validator(mode="after")
    def _compatible_needs_url(self) -> Endpoint:
        if self.kind == "openai_compatible" and self.base_url is None:
            raise ValueError("an openai_compatible endpoint needs base_url")
        return self


class Price(Frozen):
    """USD per million tokens."""

    input: StrictFloat = Field(ge=0)
    cached_input: StrictFloat | None = Field(default=None, ge=0, description="default: the input price")
    output: StrictFloat = Field(ge=0)


class Tiers(Frozen):
    """Models per tier, in preference order. A tier left out gets govbot's default for the keys
    that are present."""

    mini: list[ModelRef] | None = None
    standard: list[ModelRef] | None = None
    pro: list[ModelRef] | None = None


class ForceTier(Frozen):
    paths: list[Glob] = Field(min_length=1)
    tier: TierName

    _check = field_validator("paths")(lambda cls, v: [validate_glob(p) for p in v])


class Difficulty(Frozen):
    """A change no bigger than all three limits is 'small' and goes to mini; else standard."""

    mini_max_lines: StrictInt = Field(default=80, ge=0, description="added + deleted lines")
    mini_max_files: StrictInt = Field(default=4, ge=0)
    mini_max_dirs: StrictInt = Field(default=2, ge=0, description="distinct parent directories")


class VerifierConfig(Frozen):
    """A second, scoring pass over security findings (LLM and scanner). It can lower or hide an
    LLM finding below ``threshold``; a scanner finding only gets its score shown, and nothing it
    says changes a decision by itself."""

    enabled: StrictBool = Field(default=False, description="send security findings to a verifier model")
    tier: TierName = Field(default="standard", description="the model tier that verifies")
    threshold: StrictFloat = Field(default=0.7, ge=0, le=1, description="an LLM finding scored below it gets `below`")
    below: Literal["hide", "mark_low", "keep"] = Field(
        default="mark_low",
        description="an LLM finding below the threshold: hidden from the comment and the policy (kept in "
        "the JSON report under llm.hidden_findings), marked low confidence, or kept as it is",
    )
    max_findings: StrictInt = Field(default=40, ge=1, le=100,
                                   description="findings per verifier call (the rest unscored)")
    context_lines: StrictInt = Field(default=6, ge=0, le=40, description="diff lines shown either side of a finding")


class Routing(Frozen):
    """How the tier is chosen: the learned risk model (default) or the hand-written rules only."""

    router: Literal["learned", "rules"] = Field(
        default="learned", description="learned: the shipped risk model with rule floors; rules: rules only"
    )
    recall_target: float = Field(
        default=0.95, gt=0, lt=1, description="share of security-sensitive changes that must reach pro "
        "(conformal threshold on held-out security fixes)"
    )
    calibration: str | None = Field(
        default=None, max_length=500, description="a calibration file written by `govbot router calibrate`, "
        "relative to the repository root"
    )
    split_review: Literal["tests-and-docs", "docs", "off"] = Field(
        default="tests-and-docs", description="a change routed to pro or standard: its test files "
        "(tests-and-docs) and docs and lint-level files are reviewed by mini, which escalates to pro on a "
        "security concern; never with a floor, a forced tier, or a file with a scanner finding or a risk rule"
    )


class LLMConfig(Frozen):
    enabled: StrictBool = True
    budget_usd: StrictFloat = Field(default=0.50, ge=0, description="per pull request; govbot stops before it")
    tiers: Tiers = Tiers()
    endpoints: dict[Annotated[str, Field(pattern=_ENDPOINT_NAME)], Endpoint] = Field(
        default_factory=dict,
        description="extra endpoints, or overrides of the built-in openai / anthropic / onprem",
    )
    catalogue: dict[Annotated[str, Field(min_length=1, max_length=200)], Price] = Field(
        default_factory=dict,
        description="price overrides, keyed by model id or by '<endpoint>/<model>'",
    )
    force_tier: list[ForceTier] = Field(default_factory=list)
    confidential: list[Glob] = Field(
        default_factory=list, description="paths only ever sent to on_prem endpoints"
    )
    lint_level: Literal["mini", "skip"] = Field(
        default="mini", description="lint-level changes: review with mini, or skip the LLM"
    )
    difficulty: Difficulty = Difficulty()
    routing: Routing = Routing()
    escalate_from: tuple[Literal["mini", "standard"], ...] = Field(
        default=("mini",), description="tiers whose reviews escalate to pro on a security concern, "
        "invalid output or low confidence"
    )
    min_confidence: StrictFloat = Field(default=0.6, ge=0, le=1)
    timeout_s: StrictFloat = Field(default=90, gt=0, le=900)
    max_retries: StrictInt = Field(default=2, ge=0, le=6, description="per model, for 429/5xx/overload")
    max_retry_after_s: StrictFloat = Field(
        default=30, ge=0, le=300, description="a longer Retry-After moves on to the next model"
    )
    retry_backoff_s: StrictFloat = Field(
        default=1.0, ge=0, le=60, description="first wait when no Retry-After is given; doubles per retry"
    )
    chunk_tokens: StrictInt = Field(default=12_000, ge=500, le=500_000, description="diff tokens per request")
    max_output_tokens: StrictInt = Field(default=4_000, ge=256, le=64_000)
    max_concurrency: StrictInt = Field(default=4, ge=1, le=16)
    verifier: VerifierConfig = VerifierConfig()

    _check = field_validator("confidential")(lambda cls, v: [validate_glob(p) for p in v])

    @model_validator(mode="after")
    def _refs_known(self) -> LLMConfig:
        known = set(BUILTIN_ENDPOINTS) | set(self.endpoints)
        for tier in ("mini", "standard", "pro"):
            for ref in getattr(self.tiers, tier) or ():
                name = ref.split("/", 1)[0]
                if name not in known:
                    raise ValueError(
                        f"tiers.{tier}: {ref!r} names endpoint {name!r}; known: {', '.join(sorted(known))}"
                    )
        return self
