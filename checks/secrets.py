"""detect-secrets adapter. Secrets never leave this module in clear: detect-secrets itself only
reports a SHA-1 of each secret, and govbot keeps a short derived hash of that."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from govbot.checks import secrets_layer
from govbot.checks.base import ToolOutput, load_json_object, rel_path
from govbot.core.errors import ToolError
from govbot.core.fingerprint import fingerprint, short_secret_hash
from govbot.core.models import Finding, Severity, SkippedFile

_FILTER = "detect_secrets.filters."
# detect-secrets filters that HIDE a finding. Each one switched off here hid a real committed key
# in the issue-9 review, and a false positive costs a look while a false negative costs a leak;
# the finding's ``confidence`` lets a policy treat the noisy ones differently.
DISABLED_FILTERS = (
    # allowlisted lines are reported too: govbot marks them suppressed (and flags ones the change adds)
    _FILTER + "allowlist.is_line_allowlisted",
    # `key = "AKIA..." ; x = f(y)` on one line is not an indirect reference to the key, and it hid
    # `create_engine("postgresql://user:pw@...")` (issue 12): the secrets layer's value-shape
    # check (``secrets_plugin.is_decoy``) replaces it
    _FILTER + "heuristic.is_indirect_reference",
    # any path containing "swagger" was skipped whole
    _FILTER + "heuristic.is_swagger_file",
    # lock files and "non-text" extensions (.css, .svg, .map, .sum, ...) were skipped by NAME
    _FILTER + "heuristic.is_lock_file",
    _FILTER + "heuristic.is_non_text_file",
    # `client_id = "x", client_secret = "..."` on one line hid the secret after "_id"
    _FILTER + "heuristic.is_likely_id_string",
)
# Kept, because they look at the candidate VALUE and a value they match is not a credential:
# is_sequential_string ("ABCDEF123456"), is_potential_uuid, is_templated_secret ("${X}", "<x>"),
# is_prefixed_with_dollar_sign ("$VAR"), is_not_alphanumeric_string ("*****"); and
# common.is_invalid_file (not a regular file).
_GENERIC = {"Secret Keyword", "Base64 High Entropy String", "Hex High Entropy String", "Public IP (ipv4)"}


def build_argv(python: str, targets: Sequence[str]) -> list[str]:
    """detect-secrets through ``checks.secrets_worker``, in isolated mode (``-I``: no PYTHONPATH,
    no user site, no working directory on the import path, so no PR file can be imported)."""
    return [python, "-I", "-m", "govbot.checks.secrets_worker", "--", *targets]


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
