"""The model catalogue (prices shipped as data) and the resolution of tiers to concrete models."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML

from govbot.core.errors import ConfigError
from govbot.core.models import Tier
from govbot.policy.llm_config import Endpoint, LLMConfig, Price
from govbot.router.env import LLMEnvironment

TIERS: tuple[Tier, ...] = (Tier.MINI, Tier.STANDARD, Tier.PRO)
_PER = 1_000_000


@dataclass(frozen=True)
class Catalogue:
    prices: dict[str, Price]
    defaults: dict[Tier, tuple[str, ...]]
    # declared structured-output capability of OpenAI-compatible models: schema | object | none
    structured_output: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0  # uncached input tokens
    cached_input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class ModelSpec:
    """One model at one endpoint. Carries no credential; ``available`` says whether one exists."""

    ref: str  # "<endpoint>/<model>"
    endpoint: str
    model: str
    kind: str
    base_url: str | None
    on_prem: bool
    json_mode: str
    price: Price
    api_key_env: str | None
    available: bool

    @property
    def provider(self) -> str:
        return self.endpoint


@dataclass(frozen=True)
class ModelSet:
    tiers: dict[Tier, tuple[ModelSpec, ...]]  # available models only, preference order
    configured: dict[Tier, tuple[ModelSpec, ...]]  # every model listed, available or not

    def candidates(self, tier: Tier, *, on_prem_only: bool = False) -> tuple[ModelSpec, ...]:
        models = self.tiers.get(tier, ())
        return tuple(m for m in models if m.on_prem) if on_prem_only else models

    def nominal(self, tier: Tier) -> ModelSpec | None:
        """The first configured model of a tier, available or not (for estimates)."""
        models = self.configured.get(tier, ())
        return models[0] if models else None

    @property
    def any_available(self) -> bool:
        return any(self.tiers.values())


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    text = resources.files("govbot.router").joinpath("data/catalogue.yml").read_text("utf-8")
    return parse_catalogue(YAML(typ="safe").load(text))


def parse_catalogue(data: Any) -> Catalogue:
    try:
        prices = {str(k): Price.model_validate(v) for k, v in data["prices"].items()}
        defaults = {Tier(k): tuple(str(r) for r in v) for k, v in data["defaults"].items()}
        structured = {str(k): str(v) for k, v in (data.get("structured_output") or {}).items()}
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise ConfigError(f"invalid model catalogue: {exc}") from exc
    bad = sorted(m for m, v in structured.items() if v not in ("schema", "object", "none"))
    if bad:
        raise ConfigError(f"invalid model catalogue: structured_output of {', '.join(bad)}: use schema|object|none")
    return Catalogue(prices=prices, defaults=defaults, structured_output=structured)


def cost_usd(price: Price, usage: Usage) -> float:
    cached = price.cached_input if price.cached_input is not None else price.input
    return (
        usage.input_tokens * price.input + usage.cached_input_tokens * cached + usage.output_tokens * price.output
    ) / _PER


def max_cost_usd(price: Price, input_tokens: int, output_tokens: int) -> float:
    """Upper bound of a call's cost, with no input cached."""
    return cost_usd(price, Usage(input_tokens=input_tokens, output_tokens=output_tokens))


def endpoints(config: LLMConfig, env: LLMEnvironment) -> dict[str, Endpoint]:
    """Built-in endpoints (completed from the environment), overridden by the policy's."""
    found: dict[str, Endpoint] = {
        "openai": Endpoint(kind="openai", base_url=env.openai_base_url, api_key_env="OPENAI_API_KEY"),
        "anthropic": Endpoint(kind="anthropic", base_url=env.anthropic_base_url, api_key_env="ANTHROPIC_API_KEY"),
    }
    onprem_url = env.value("GOVBOT_ONPREM_BASE_URL")
    if onprem_url:
        found["onprem"] = Endpoint(
            kind="openai_compatible", base_url=onprem_url, api_key_env="GOVBOT_ONPREM_API_KEY", on_prem=True
        )
    found.update(config.endpoints)
    return found


def _available(ep: Endpoint, env: LLMEnvironment) -> bool:
    if ep.kind == "openai_compatible":
        return ep.base_url is not None  # a local server may need no key
    return ep.api_key_env is not None and env.value(ep.api_key_env) is not None


def _json_mode(ep: Endpoint, model: str, catalogue: Catalogue) -> str:
    """How to ask for JSON: the endpoint's setting, else the catalogue's declared capability of
    the model, else the kind's default (OpenAI: strict schema; Anthropic: the forced tool, which
    ignores this; OpenAI-compatible: json_object, the mode most servers support)."""
    if ep.json_mode is not None:
        return ep.json_mode
    if model in catalogue.structured_output:
        return catalogue.structured_output[model]
    return {"openai": "schema", "anthropic": "tool"}.get(ep.kind, "object")


def price_for(ref: str, ep: Endpoint, config: LLMConfig, catalogue: Catalogue) -> Price:
    model = ref.split("/", 1)[1]
    for key in (ref, model):
        if key in config.catalogue:
            return config.catalogue[key]
    if model in catalogue.prices:
        return catalogue.prices[model]
    if ep.on_prem:
        return Price(input=0, cached_input=0, output=0)
    raise ConfigError(
        f"model {ref!r} has no price in govbot's catalogue; add one under llm.catalogue in the policy "
        "(USD per million input / cached_input / output tokens) so the budget can be enforced"
    )


def tier_refs(config: LLMConfig, env: LLMEnvironment, catalogue: Catalogue, tier: Tier) -> tuple[str, ...]:
    listed = getattr(config.tiers, tier.value)
    if listed is not None:
        return tuple(listed)
    refs = list(catalogue.defaults.get(tier, ()))
    onprem = env.onprem_model(tier.value)
    if onprem and env.value("GOVBOT_ONPREM_BASE_URL"):
        refs.append(f"onprem/{onprem}")
    return tuple(refs)


def resolve_models(config: LLMConfig, env: LLMEnvironment, catalogue: Catalogue) -> ModelSet:
    """Pure: which concrete models serve each tier, and which of them can be called."""
    eps = endpoints(config, env)
    configured: dict[Tier, tuple[ModelSpec, ...]] = {}
    for tier in TIERS:
        specs: list[ModelSpec] = []
        for ref in tier_refs(config, env, catalogue, tier):
            name, model = ref.split("/", 1)
            ep = eps.get(name)
            if ep is None:
                continue  # a default naming an endpoint that is not configured (e.g. onprem)
            specs.append(
                ModelSpec(
                    ref=ref,
                    endpoint=name,
                    model=model,
                    kind=ep.kind,
                    base_url=ep.base_url,
                    on_prem=ep.on_prem,
                    json_mode=_json_mode(ep, model, catalogue),
                    price=price_for(ref, ep, config, catalogue),
                    api_key_env=ep.api_key_env,
                    available=_available(ep, env),
                )
            )
        configured[tier] = tuple(specs)
    tiers = {t: tuple(m for m in specs if m.available) for t, specs in configured.items()}
    return ModelSet(tiers=tiers, configured=configured)


def estimate_models(config: LLMConfig) -> ModelSet:
    """Every configured model, as if available: for routing without calling (scan, eval, training)."""
    from govbot.router.env import LLMEnvironment

    models = resolve_models(config, LLMEnvironment.from_env({}), default_catalogue())
    return ModelSet(tiers=models.configured, configured=models.configured)
