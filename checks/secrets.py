"""detect-secrets adapter. Secrets never leave this module in clear: detect-secrets itself only
reports a SHA-1 of each secret, and govbot keeps a short derived hash of that."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from detect_secrets.filters.heuristic import is_lock_file, is_non_text_file

from govbot.checks import secrets_layer
from govbot.checks.base import ToolOutput, load_json_object, rel_path
from govbot.core.errors import ToolError
from govbot.core.fingerprint import fingerprint, short_secret_hash
from govbot.core.models import Finding, Severity, SkippedFile

# Allowlisted lines are reported too: govbot marks them suppressed (and flags ones the change adds).
_DISABLED_FILTERS = ("detect_secrets.filters.allowlist.is_line_allowlisted",)
_GENERIC = {"Secret Keyword", "Base64 High Entropy String", "Hex High Entropy String", "Public IP (ipv4)"}


def heuristic_skip(path: str) -> str | None:
    """detect-secrets silently ignores some files; say so instead."""
    if is_lock_file(path):
        return "detect-secrets: lock file (hashes would be false positives)"
    if is_non_text_file(path):
        return "detect-secrets: non-text file extension"
    return None


# govbot's secrets layer runs inside detect-secrets: its formats as a plugin, its decoys as a filter.
_LAYER_MODULE = Path(__file__).with_name("secrets_plugin.py")


def build_argv(binary: str, targets: Sequence[str], cores: int = 1) -> list[str]:
    # One process: detect-secrets' pool costs more to start than it saves on a PR-sized change,
    # and the other core is semgrep's.
    argv = [binary, "--cores", str(cores), "scan", "--all-files"]
    for f in _DISABLED_FILTERS:
        argv += ["--disable-filter", f]
    # is_indirect_reference drops every value on a line like `x = f("...")`, which hides
    # `create_engine("postgresql://user:pw@...")`; the layer's value-shape check replaces it.
    # The filter by import path (not file://<path>): the argv, and so the output's key, stays the
    # same wherever govbot is installed.
    argv += ["--plugin", str(_LAYER_MODULE), "--filter", "govbot.checks.secrets_plugin.is_decoy",
             "--disable-filter", "detect_secrets.filters.heuristic.is_indirect_reference"]
    return argv + list(targets)


def rule_id_for(secret_type: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", secret_type.lower()).strip("-") or "unknown"
    return f"secrets:{slug}"


def parse(stdout: bytes) -> ToolOutput:
    data = load_json_object(stdout, "detect-secrets")
    results = data.get("results")
    if not isinstance(results, dict):
        raise ToolError("detect-secrets JSON has no 'results' mapping")
    findings: list[Finding] = []
    for filename, items in sorted(results.items()):
        findings.extend(_strongest_per_secret(
            _finding(rel_path(str(filename)), item) for item in (items if isinstance(items, list) else [])
            if isinstance(item, dict)
        ))
    version = data.get("version") if isinstance(data.get("version"), str) else None
    return ToolOutput(findings=findings, skipped=list[SkippedFile](), version=version)


_RANK = {"high": 2, "medium": 1, "low": 0}


def _strongest_per_secret(findings: Iterable[Finding]) -> list[Finding]:
    """detect-secrets' plugins and govbot's layer may report one value several times (and
    detect-secrets' GitHub plugin hashes only the token's prefix): keep the most confident
    report of each line."""
    best: dict[int | None, Finding] = {}
    for f in findings:
        key = f.line
        kept = best.get(key)
        if kept is None or _RANK[f.confidence or "low"] > _RANK[kept.confidence or "low"]:
            best[key] = f
    return sorted(best.values(), key=lambda f: (f.line or 0, f.rule_id))


def _finding(path: str, item: dict[str, Any]) -> Finding:
    secret_type = str(item.get("type", "unknown"))
    hashed = str(item.get("hashed_secret", ""))
    rule_id = rule_id_for(secret_type)
    confidence = secrets_layer.confidence_for(secret_type)
    return Finding(
        tool="secrets",
        rule_id=rule_id,
        severity=Severity.HIGH if secret_type in _GENERIC or confidence == "low" else Severity.CRITICAL,
        path=path,
        line=int(item.get("line_number", 0)) or None,
        message=f"possible {secret_type} committed in clear (value withheld)",
        cwe=("CWE-798",),
        fingerprint=fingerprint(rule_id, path, hashed),
        secret_hash=short_secret_hash(hashed) if hashed else None,
        confidence=confidence,
    )
