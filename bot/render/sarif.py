"""SARIF 2.1.0 for GitHub code scanning.

One run per tool (semgrep, bandit, detect-secrets, govbot-llm, ...), each with its own
``automationDetails.id`` category (``govbot/<tool>/``), so that:

* the code scanning UI can filter alerts by the tool that found them and shows its version;
* a tool that failed this time is left out instead of uploading an empty run, so GitHub does not
  close that tool's open alerts as "fixed" (degrade, never go silently green);
* a tool that ran cleanly uploads an empty run, which closes the alerts it no longer reports.

Rules carry ``properties.security-severity`` and the ``security`` tag (GitHub only reads the
score when that tag is present) plus ``external/cwe/cwe-N`` tags. Results carry the line-free
govbot fingerprint in ``partialFingerprints``, a relative ``%SRCROOT%`` URI and a 1-based region.
Findings without a file (pull-request level, e.g. authorship) cannot be code scanning alerts and
are left to the comment and the JSON report.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any
from urllib.parse import quote

from govbot.bot.render.text import clean, sorted_for_json
from govbot.core.fingerprint import fingerprint as make_fingerprint
from govbot.core.models import Finding, LLMStatus, Report, Severity, ToolRun, ToolStatus

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "govbotFingerprint/v1"
MAX_RESULTS_PER_RUN = 25_000  # GitHub rejects runs above this
MAX_TAGS = 20  # GitHub's per-rule tag limit
MAX_MESSAGE = 4_000

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub maps >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "2.0",
}
_PRECISION = {"high": "high", "medium": "medium", "low": "low"}
_CONFIDENCE_RANK = {"low": 0, "medium": 1, "high": 2}

# Finding.tool -> (SARIF driver name, information URI). Unknown tools keep their own name.
_DRIVERS: dict[str, tuple[str, str | None]] = {
    "semgrep": ("semgrep", "https://semgrep.dev/"),
    "bandit": ("bandit", "https://bandit.readthedocs.io/"),
    "secrets": ("detect-secrets", "https://github.com/Yelp/detect-secrets"),
    "llm": ("govbot-llm", None),
    "authorship": ("govbot-authorship", None),
    "govbot": ("govbot", None),
}
_ALIASES = {"detect-secrets": "secrets", "detect_secrets": "secrets", "govbot-llm": "llm"}
_CWE = re.compile(r"(?i)\bCWE[-_ ]?(\d+)")
_GOVBOT_TOOLS = frozenset({"llm", "authorship", "govbot"})


def sarif_text(text: str, limit: int = MAX_MESSAGE) -> str:
    """Plain SARIF message text. SARIF reads ``[text](target)`` as an embedded link (spec 3.11.6),
    so literal brackets from untrusted text are escaped, and so is a backslash before one."""
    text = clean(text, limit=limit)
    text = re.sub(r"\\(?=[\[\]])", r"\\\\", text)
    return re.sub(r"([\[\]])", r"\\\1", text)


def tool_key(name: str) -> str:
    """The name findings use for a tool, whatever spelling the ToolRun used."""
    key = clean(name).lower()
    return _ALIASES.get(key, key)


def to_sarif(report: Report) -> dict[str, Any]:
    """The report as a SARIF 2.1.0 log that GitHub code scanning accepts."""
    located: dict[str, list[Finding]] = defaultdict(list)
    for f in sorted_for_json(report.findings):
        if sarif_uri(f.path):
            located[tool_key(f.tool)].append(f)
    runs_by_key = {key: _tool_run_for(key, report) for key in located}
    for key, run in _complete_runs(report).items():
        runs_by_key.setdefault(key, run)
    runs = [_run(key, located.get(key, []), runs_by_key[key], report) for key in sorted(runs_by_key)]
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": runs}


def _complete_runs(report: Report) -> dict[str, ToolRun | None]:
    """Tools that finished cleanly: their (possibly empty) runs close fixed alerts."""
    done: dict[str, ToolRun | None] = {}
    for t in report.tools:
        if t.status is ToolStatus.OK:
            done[tool_key(t.name)] = t
    if report.llm.status is LLMStatus.OK:
        done.setdefault("llm", None)
    return done


def _tool_run_for(key: str, report: Report) -> ToolRun | None:
    for t in sorted(report.tools, key=lambda t: t.name):
        if tool_key(t.name) == key:
            return t
    return None


def _run(key: str, findings: list[Finding], tool: ToolRun | None, report: Report) -> dict[str, Any]:
    kept = findings
    if len(findings) > MAX_RESULTS_PER_RUN:
        kept = sorted(findings, key=lambda f: -f.severity.rank)[:MAX_RESULTS_PER_RUN]
        kept = sorted_for_json(kept)
    rules, index = _rules(kept)
    name, info_uri = _DRIVERS.get(key, (clean(key) or "unknown", None))
    driver: dict[str, Any] = {"name": name, "rules": rules}
    version = report.govbot_version if key in _GOVBOT_TOOLS else (tool.version if tool else None)
    if version:
        driver["version"] = clean(version)
    if info_uri:
        driver["informationUri"] = info_uri
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "automationDetails": {"id": f"govbot/{_category_part(name)}/"},
        "invocations": [_invocation(tool, key, report)],
        "results": [_result(f, index[f.rule_id]) for f in kept],
        "columnKind": "unicodeCodePoints",
    }
    if len(kept) < len(findings):
        run["properties"] = {"govbot-results-left-out": len(findings) - len(kept)}
    return run


def _category_part(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "tool"


def _invocation(tool: ToolRun | None, key: str, report: Report) -> dict[str, Any]:
    if tool is not None:
        ok = tool.status in (ToolStatus.OK, ToolStatus.NOT_APPLICABLE)
    elif key == "llm":
        ok = report.llm.status is LLMStatus.OK
    else:
        ok = True
    invocation: dict[str, Any] = {"executionSuccessful": ok}
    if tool is not None and not ok:
        text = f"{tool.name} {tool.status.value}" + (f": {tool.error}" if tool.error else "")
        invocation["toolExecutionNotifications"] = [{"level": "error", "message": {"text": sarif_text(text)}}]
    return invocation


def _rules(findings: list[Finding]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_rule[f.rule_id].append(f)
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for rule_id in sorted(by_rule):
        index[rule_id] = len(rules)
        rules.append(_rule(rule_id, by_rule[rule_id]))
    return rules, index


def _rule(rule_id: str, findings: list[Finding]) -> dict[str, Any]:
    worst = max((f.severity for f in findings), key=lambda s: s.rank)
    first = findings[0]
    props: dict[str, Any] = {"tags": _tags(findings, worst)}
    if worst in _SECURITY_SEVERITY:
        props["security-severity"] = _SECURITY_SEVERITY[worst]
    precision = _precision(findings)
    if precision:
        props["precision"] = precision
    rule: dict[str, Any] = {
        "id": rule_id,
        "name": rule_id,
        "shortDescription": {"text": clean(rule_id, limit=1_000) or "rule"},
        "fullDescription": {"text": sarif_text(first.message) or rule_id},
        "defaultConfiguration": {"level": _LEVEL[worst]},
        "properties": props,
    }
    help_uri = next((f.help_url for f in findings if f.help_url and _is_web_uri(f.help_url)), None)
    if help_uri:
        rule["helpUri"] = help_uri
    return rule


def _is_web_uri(uri: str) -> bool:
    return bool(re.fullmatch(r"https?://[^\s<>\"']+", uri))


def _tags(findings: list[Finding], worst: Severity) -> list[str]:
    cwes = sorted({int(m.group(1)) for f in findings for c in f.cwe for m in _CWE.finditer(c)})
    tags = ["security"] if worst in _SECURITY_SEVERITY else []
    if any(f.tool == "llm" for f in findings):
        tags.append("llm-review")
    tags += [f"external/cwe/cwe-{n}" for n in cwes]
    return tags[:MAX_TAGS]


def _precision(findings: list[Finding]) -> str | None:
    levels = [f.confidence for f in findings if f.confidence]
    if any(not f.verified for f in findings):
        levels.append("low")
    if not levels:
        return None
    return _PRECISION[min(levels, key=lambda c: _CONFIDENCE_RANK[c])]


def sarif_uri(path: str) -> str:
    """A repository-relative, percent-encoded URI reference for ``path`` ('' if there is none)."""
    p = clean(path).replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    p = p.lstrip("/")
    return quote(p, safe="/-._~!$&'()*+,;=@") if p else ""


def _result(f: Finding, rule_index: int) -> dict[str, Any]:
    start = f.line if f.line and f.line >= 1 else 1
    region: dict[str, Any] = {"startLine": start}
    if f.end_line and f.end_line >= start:
        region["endLine"] = f.end_line
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": _LEVEL[f.severity],
        "message": {"text": sarif_text(f.message) or f.rule_id},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": sarif_uri(f.path), "uriBaseId": "%SRCROOT%"},
                    "region": region,
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint or _fallback_fingerprint(f)},
        "properties": _result_properties(f),
    }
    if f.suppression is not None:
        result["suppressions"] = [
            {
                "kind": "inSource",
                "status": "underReview" if f.suppression.added_by_change else "accepted",
                "justification": clean(f.suppression.marker, limit=200),
            }
        ]
    return result


def _fallback_fingerprint(f: Finding) -> str:
    return make_fingerprint(f.rule_id, f.path, clean(f.message))


def _result_properties(f: Finding) -> dict[str, Any]:
    props: dict[str, Any] = {"govbot-severity": f.severity.value, "govbot-in-diff": f.in_diff}
    if f.cwe:
        props["cwe"] = [clean(c, limit=200) for c in f.cwe]
    if f.also_reported_by:
        props["govbot-also-reported-by"] = sorted(f.also_reported_by)
    if not f.verified:
        props["govbot-verified"] = False
    if f.secret_hash:
        props["govbot-secret-hash"] = f.secret_hash
    return props
