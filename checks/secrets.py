"""detect-secrets adapter. Secrets never leave this module in clear: detect-secrets itself only
reports a SHA-1 of each secret, and govbot keeps a short derived hash of that."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from detect_secrets.filters.heuristic import is_lock_file, is_non_text_file

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


def build_argv(binary: str, targets: Sequence[str], cores: int = 1) -> list[str]:
    # One process: detect-secrets' pool costs more to start than it saves on a PR-sized change,
    # and the other core is semgrep's.
    argv = [binary, "--cores", str(cores), "scan", "--all-files"]
    for f in _DISABLED_FILTERS:
        argv += ["--disable-filter", f]
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
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                findings.append(_finding(rel_path(str(filename)), item))
    version = data.get("version") if isinstance(data.get("version"), str) else None
    return ToolOutput(findings=findings, skipped=list[SkippedFile](), version=version)


def _finding(path: str, item: dict[str, Any]) -> Finding:
    secret_type = str(item.get("type", "unknown"))
    hashed = str(item.get("hashed_secret", ""))
    rule_id = rule_id_for(secret_type)
    return Finding(
        tool="secrets",
        rule_id=rule_id,
        severity=Severity.HIGH if secret_type in _GENERIC else Severity.CRITICAL,
        path=path,
        line=int(item.get("line_number", 0)) or None,
        message=f"possible {secret_type} committed in clear (value withheld)",
        cwe=("CWE-798",),
        fingerprint=fingerprint(rule_id, path, hashed),
        secret_hash=short_secret_hash(hashed) if hashed else None,
    )
