"""semgrep adapter: argv building and JSON parsing are pure; running is ``checks.runner``."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from govbot.checks.base import ToolOutput, load_json_object, rel_path
from govbot.checks.calibrate import calibrate
from govbot.core.errors import ToolError
from govbot.core.models import Finding, Severity, SkippedFile

_SEVERITY = {
    "ERROR": Severity.HIGH,
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "WARNING": Severity.MEDIUM,
    "MEDIUM": Severity.MEDIUM,
    "INFO": Severity.LOW,
    "LOW": Severity.LOW,
    "INVENTORY": Severity.INFO,
    "EXPERIMENT": Severity.INFO,
}


def bundled_rules_dir() -> Path:
    return Path(str(resources.files("govbot.checks").joinpath("rules")))


def bundled_rule_files() -> list[Path]:
    return sorted(bundled_rules_dir().glob("*.yml"))


def build_argv(
    binary: str,
    configs: Sequence[str],
    targets: Sequence[str],
    *,
    rule_timeout_s: int,
    max_memory_mb: int,
    max_target_bytes: int,
    jobs: int = 1,
) -> list[str]:
    argv = [
        binary,
        "scan",
        "--json",
        "--quiet",
        "--metrics=off",
        "--disable-version-check",
        "--no-rewrite-rule-ids",
        "--disable-nosem",  # govbot reports suppressions itself, old and newly added
        "--no-git-ignore",
        f"--timeout={rule_timeout_s}",
        f"--max-memory={max_memory_mb}",
        f"--max-target-bytes={max_target_bytes}",
        f"--jobs={jobs}",
    ]
    for config in configs:
        argv.append(f"--config={config}")
    argv.append("--")
    argv.extend(targets)
    return argv


def parse(stdout: bytes) -> ToolOutput:
    data = load_json_object(stdout, "semgrep")
    results = data.get("results")
    if not isinstance(results, list):
        raise ToolError("semgrep JSON has no 'results' list")
    findings = [calibrate(_finding(r)) for r in results if isinstance(r, dict)]
    skipped: list[SkippedFile] = []
    for err in data.get("errors") or []:
        skipped.extend(_skips_from_error(err))
    for item in (data.get("paths") or {}).get("skipped") or []:
        if isinstance(item, dict) and item.get("path"):
            skipped.append(
                SkippedFile(
                    path=rel_path(str(item["path"])),
                    reason=f"semgrep: {item.get('reason', 'skipped')}",
                    incomplete=True,
                )
            )
    version = data.get("version") if isinstance(data.get("version"), str) else None
    return ToolOutput(findings=findings, skipped=_unique(skipped), version=version)


def _finding(r: dict[str, Any]) -> Finding:
    extra = r.get("extra") or {}
    meta = extra.get("metadata") or {}
    check_id = str(r.get("check_id", "unknown"))
    severity = _SEVERITY.get(str(extra.get("severity", "WARNING")).upper(), Severity.MEDIUM)
    confidence = str(meta.get("confidence", "")).lower() or None
    return Finding(
        tool="semgrep",
        rule_id=f"semgrep:{check_id}",
        severity=severity,
        path=rel_path(str(r.get("path", ""))),
        line=int((r.get("start") or {}).get("line", 0)) or None,
        end_line=int((r.get("end") or {}).get("line", 0)) or None,
        message=str(extra.get("message", check_id)).strip(),
        cwe=_cwes(meta.get("cwe")),
        confidence=confidence if confidence in ("low", "medium", "high") else None,
        help_url=_first_url(meta.get("references")),
    )


def _cwes(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value] if value else []
    out: list[str] = []
    for item in items:
        head = str(item).split(":", 1)[0].strip().upper()
        if head.startswith("CWE-") and head[4:].isdigit():
            out.append(head)
    return tuple(out)


def _first_url(value: Any) -> str | None:
    if isinstance(value, list) and value and isinstance(value[0], str) and value[0].startswith("https://"):
        return value[0]
    return None


def _skips_from_error(err: Any) -> list[SkippedFile]:
    if not isinstance(err, dict):
        return []
    raw_kind = err.get("type", "error")
    kind = str(raw_kind[0] if isinstance(raw_kind, list) and raw_kind else raw_kind)
    message = str(err.get("message", "")).strip().splitlines()[:1]
    reason = f"semgrep {kind}" + (f": {message[0][:160]}" if message else "")
    path = err.get("path")
    if path:
        return [SkippedFile(path=rel_path(str(path)), reason=reason, incomplete=True)]
    spans = err.get("spans") or []
    files = {str(s.get("file")) for s in spans if isinstance(s, dict) and s.get("file")}
    if str(err.get("level", "")).lower() == "error" and not files:
        raise ToolError(f"semgrep reported an error: {reason}")
    return []


def _unique(items: list[SkippedFile]) -> list[SkippedFile]:
    seen: dict[tuple[str, str], SkippedFile] = {}
    for item in items:
        seen.setdefault((item.path, item.reason), item)
    return list(seen.values())
