"""bandit adapter: argv building and JSON parsing are pure; running is ``checks.runner``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from govbot.checks.base import ToolOutput, load_json_object, rel_path
from govbot.checks.calibrate import calibrate
from govbot.core.errors import ToolError
from govbot.core.models import Finding, Severity, SkippedFile

PYTHON_SUFFIXES = (".py", ".pyw")
# B101 (assert) fires on every test assertion; it is noise for a PR bot, not a security signal.
DEFAULT_SKIPS = ("B101",)
# These tests quote the suspected password in issue_text; govbot never repeats a secret.
_QUOTES_SECRET = frozenset({"B105", "B106", "B107"})
_SEVERITY = {"HIGH": Severity.HIGH, "MEDIUM": Severity.MEDIUM, "LOW": Severity.LOW, "UNDEFINED": Severity.INFO}


def applies_to(path: str) -> bool:
    return path.endswith(PYTHON_SUFFIXES)


def build_argv(binary: str, targets: Sequence[str], skips: Sequence[str] = DEFAULT_SKIPS) -> list[str]:
    argv = [binary, "--format", "json", "--quiet", "--ignore-nosec"]
    if skips:
        argv += ["--skip", ",".join(skips)]
    # bandit has no "--" separator; targets are always "./"-prefixed by the caller.
    return argv + list(targets)


def parse(stdout: bytes) -> ToolOutput:
    data = load_json_object(stdout, "bandit")
    results = data.get("results")
    if not isinstance(results, list):
        raise ToolError("bandit JSON has no 'results' list")
    findings = [calibrate(_finding(r)) for r in results if isinstance(r, dict)]
    skipped = [
        SkippedFile(
            path=rel_path(str(e.get("filename", ""))),
            reason=f"bandit: {e.get('reason', 'error')}",
            incomplete=True,
        )
        for e in data.get("errors") or []
        if isinstance(e, dict)
    ]
    return ToolOutput(findings=findings, skipped=skipped)


def _finding(r: dict[str, Any]) -> Finding:
    test_id = str(r.get("test_id", "B000"))
    cwe = r.get("issue_cwe") or {}
    cwe_id = cwe.get("id") if isinstance(cwe, dict) else None
    line_range = r.get("line_range") or []
    confidence = str(r.get("issue_confidence", "")).lower()
    return Finding(
        tool="bandit",
        rule_id=f"bandit:{test_id}",
        severity=_SEVERITY.get(str(r.get("issue_severity", "")).upper(), Severity.MEDIUM),
        path=rel_path(str(r.get("filename", ""))),
        line=int(r.get("line_number", 0)) or None,
        end_line=int(max(line_range)) if line_range else None,
        message=_message(test_id, r),
        cwe=(f"CWE-{int(cwe_id)}",) if isinstance(cwe_id, int) and cwe_id > 0 else (),
        confidence=confidence if confidence in ("low", "medium", "high") else None,
        help_url=r.get("more_info") if str(r.get("more_info", "")).startswith("https://") else None,
    )


def _message(test_id: str, r: dict[str, Any]) -> str:
    name = str(r.get("test_name", test_id))
    if test_id in _QUOTES_SECRET:
        return f"{name}: possible hard-coded password (value withheld)"
    return f"{name}: {str(r.get('issue_text', '')).strip()}"
