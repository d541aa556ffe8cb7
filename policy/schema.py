"""JSON Schema of the policy file, for editors (``govbot policy schema``)."""

from __future__ import annotations

from typing import Any

from govbot.policy.model import Policy

SCHEMA_ID = "https://govbot.dev/schemas/policy-1.json"


def policy_schema() -> dict[str, Any]:
    schema = Policy.model_json_schema(mode="validation")
    return {
        **schema,
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "govbot policy (.github/govbot.yml)",
    }
