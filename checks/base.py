"""What every scanner adapter produces, before scoping and de-duplication."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from govbot.core.errors import ToolError
from govbot.core.models import Finding, SkippedFile


@dataclass(frozen=True)
class ToolOutput:
    findings: list[Finding] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    version: str | None = None


def load_json_object(stdout: bytes, tool: str) -> dict[str, Any]:
    """A tool's JSON report, or a ToolError that says the output was not what we expect."""
    try:
        data = json.loads(stdout.decode("utf-8", "replace"))
    except json.JSONDecodeError as exc:
        snippet = stdout[:120].decode("utf-8", "replace")
        raise ToolError(f"{tool} printed output that is not JSON ({exc.msg}); starts with {snippet!r}") from exc
    if not isinstance(data, dict):
        raise ToolError(f"{tool} printed JSON that is not an object")
    return data


def rel_path(reported: str) -> str:
    """A tool-reported path as the repository-relative path we passed in (./-x.py -> -x.py)."""
    return os.path.normpath(reported)
