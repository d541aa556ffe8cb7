"""The versioned JSON report and its JSON Schema."""

from __future__ import annotations

import json
from typing import Any

from govbot.bot.render.text import sorted_for_json
from govbot.core.models import SCHEMA_VERSION, Report, ToolRun

SCHEMA_ID = f"urn:govbot:schema:report:{SCHEMA_VERSION}"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def canonical_report(report: Report) -> Report:
    """The same report with every collection in a stable order (no content added or removed)."""
    tools = tuple(
        sorted(
            (_canonical_tool(t) for t in report.tools),
            key=lambda t: (t.name, t.version or "", t.status.value),
        )
    )
    change = report.change.model_copy(
        update={"files_skipped": tuple(sorted(report.change.files_skipped, key=lambda s: (s.path, s.reason)))}
    )
    return report.model_copy(
        update={"findings": tuple(sorted_for_json(report.findings)), "tools": tools, "change": change}
    )


def _canonical_tool(tool: ToolRun) -> ToolRun:
    return tool.model_copy(update={"skipped": tuple(sorted(tool.skipped, key=lambda s: (s.path, s.reason)))})


def report_json(report: Report) -> str:
    """Deterministic JSON: sorted findings, model field order (``schema_version`` first), no timestamps."""
    data = canonical_report(report).model_dump(mode="json")
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def report_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the JSON report, as published in ``docs/report.schema.json``."""
    generated = Report.model_json_schema(mode="serialization")
    _require_every_property(generated)
    for definition in generated.get("$defs", {}).values():
        _require_every_property(definition)
    generated.pop("title", None)
    generated.pop("description", None)
    schema: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": "govbot report",
        "description": (
            "The report `govbot scan --format json` prints: the change, findings, AI-authorship "
            "evidence, LLM routing and cost, the policy decision and the tools that ran. "
            f"This schema describes report schema_version {SCHEMA_VERSION}."
        ),
        **generated,
    }
    props = schema["properties"]
    props["schema_version"] = {
        **props["schema_version"],
        "description": (
            "Version of the report format, MAJOR.MINOR. MINOR grows when fields are added; "
            "MAJOR changes when a field is removed, renamed or changes meaning."
        ),
        "examples": [SCHEMA_VERSION],
    }
    return schema


def _require_every_property(node: dict[str, Any]) -> None:
    """``report_json`` always writes every field, so a consumer may rely on each one being there."""
    if node.get("type") == "object" and "properties" in node:
        node["required"] = list(node["properties"])
