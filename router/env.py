"""Credentials and endpoints, read once from the environment by the composition root.

Environment variables (all optional):

- ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``: the built-in ``openai`` endpoint.
- ``ANTHROPIC_API_KEY``, ``ANTHROPIC_BASE_URL``: the built-in ``anthropic`` endpoint.
- ``GOVBOT_ONPREM_BASE_URL``, ``GOVBOT_ONPREM_API_KEY``: the built-in ``onprem`` endpoint, an
  OpenAI-compatible server on the organisation's own machines (vLLM, Ollama, a gateway).
- ``GOVBOT_ONPREM_MODEL``: its model for every tier, or per tier ``GOVBOT_ONPREM_MODEL_MINI``,
  ``GOVBOT_ONPREM_MODEL_STANDARD``, ``GOVBOT_ONPREM_MODEL_PRO``.
- any other ``GOVBOT_*`` variable can hold the key of an endpoint the policy defines
  (``api_key_env``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from govbot.policy.llm_config import ALLOWED_KEY_ENV


@dataclass(frozen=True)
class LLMEnvironment:
    """What the environment says about LLM access. Keys are kept out of ``repr``."""

    openai_api_key: str | None = field(default=None, repr=False)
    openai_base_url: str | None = None
    anthropic_api_key: str | None = field(default=None, repr=False)
    anthropic_base_url: str | None = None
    force_tier: str | None = None  # e.g. "pro" for `/govbot deep`
    extra: Mapping[str, str] = field(default_factory=dict, repr=False)  # GOVBOT_* variables

    @classmethod
    def from_env(cls, environ: Mapping[str, str], force_tier: str | None = None) -> LLMEnvironment:
        def get(name: str) -> str | None:
            value = environ.get(name, "").strip()
            return value or None

        extra = {
            k: v.strip() for k, v in environ.items() if k.startswith("GOVBOT_") and ALLOWED_KEY_ENV.match(k)
            and v.strip()
        }
        return cls(
            openai_api_key=get("OPENAI_API_KEY"),
            openai_base_url=get("OPENAI_BASE_URL"),
            anthropic_api_key=get("ANTHROPIC_API_KEY"),
            anthropic_base_url=get("ANTHROPIC_BASE_URL"),
            force_tier=force_tier,
            extra=extra,
        )

    def value(self, name: str) -> str | None:
        """The value of an allowed variable (a key named by ``api_key_env``)."""
        if name == "OPENAI_API_KEY":
            return self.openai_api_key
        if name == "ANTHROPIC_API_KEY":
            return self.anthropic_api_key
        return self.extra.get(name)

    def onprem_model(self, tier: str) -> str | None:
        return self.extra.get(f"GOVBOT_ONPREM_MODEL_{tier.upper()}") or self.extra.get("GOVBOT_ONPREM_MODEL")
