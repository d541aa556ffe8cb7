from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from govbot.bot.render.registry import to_sarif
from govbot.bot.render.sarif import FINGERPRINT_KEY, MAX_RESULTS_PER_RUN, sarif_text, sarif_uri
from govbot.core.models import LLMStatus, LLMSummary, Severity, ToolRun, ToolStatus
from tests.bot.render.reports import (
    finding,
    hostile_report,
    make_report,
    many_findings,
    shuffled,
)

# The official OASIS SARIF 2.1.0 schema (oasis-tcs/sarif-spec, Schemata/sarif-schema-2.1.0.json,
# the copy github/codeql-action validates uploads against).
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "data" / "sarif-schema-2.1.0.json"
# RFC 3986 URI-reference characters (the schema's "uri-reference" format; jsonschema only checks
# formats when optional packages are installed, so check it here).
URI_REFERENCE = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$")


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


def runs_by_driver(sarif: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {run["tool"]["driver"]["name"]: run for run in sarif["runs"]}


def all_results(sarif: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for run in sarif["runs"] for r in run["results"]]


@pytest.mark.parametrize(
    "report",
    [
        make_report(),
        hostile_report(),
        make_report(findings=(), tools=()),
        make_report(findings=many_findings(500)),
    ],
    ids=["representative", "hostile", "empty", "many"],
)
def test_valid_against_official_schema(validator: jsonschema.Draft7Validator, report: Any) -> None:
    sarif = to_sarif(report)
    errors = sorted(validator.iter_errors(sarif), key=lambda e: list(e.path))
    assert not errors, errors[0].message
    assert sarif["version"] == "2.1.0"
    for result in all_results(sarif):
        loc = result["locations"][0]["physicalLocation"]
        assert URI_REFERENCE.match(loc["artifactLocation"]["uri"])
        assert not loc["artifactLocation"]["uri"].startswith("/")
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert loc["region"]["startLine"] >= 1


def test_schema_catches_broken_sarif(validator: jsonschema.Draft7Validator) -> None:
    sarif = to_sarif(make_report())
    sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert not validator.is_valid(sarif)
    sarif = to_sarif(make_report())
    sarif["runs"][0]["results"][0]["level"] = "critical"
    assert not validator.is_valid(sarif)


def test_one_run_per_tool_with_distinct_categories() -> None:
    sarif = to_sarif(make_report())
    runs = runs_by_driver(sarif)
    assert sorted(runs) == ["bandit", "detect-secrets", "govbot-llm", "semgrep"]
    ids = [run["automationDetails"]["id"] for run in sarif["runs"]]
    assert len(set(ids)) == len(ids)
    assert runs["semgrep"]["automationDetails"]["id"] == "govbot/semgrep/"
    assert runs["semgrep"]["tool"]["driver"]["version"] == "1.90.0"
    assert runs["govbot-llm"]["tool"]["driver"]["version"] == "0.1.0"
    for run in sarif["runs"]:
        assert all(r["ruleId"].split(":")[0] in {"bandit", "semgrep", "secrets", "llm"} for r in run["results"])


def test_rule_metadata_github_reads() -> None:
    runs = runs_by_driver(to_sarif(make_report()))
    rules = {r["id"]: r for run in runs.values() for r in run["tool"]["driver"]["rules"]}
    eval_rule = rules["semgrep:python.lang.security.audit.eval-detected"]
    assert eval_rule["properties"]["security-severity"] == "9.5"
    assert eval_rule["properties"]["tags"][0] == "security"
    assert "external/cwe/cwe-95" in eval_rule["properties"]["tags"]
    assert eval_rule["properties"]["precision"] == "high"
    assert eval_rule["helpUri"].startswith("https://semgrep.dev/")
    assert eval_rule["defaultConfiguration"]["level"] == "error"
    assert "external/cwe/cwe-78" in rules["bandit:B602"]["properties"]["tags"]
    assert rules["llm:injection"]["properties"]["precision"] == "low"  # location unverified
    info = rules["semgrep:govbot.python.weak-hash"]
    assert "security-severity" not in info["properties"]
    assert "security" not in info["properties"]["tags"]


def test_results_point_at_their_rules() -> None:
    for run in to_sarif(make_report(findings=many_findings(200)))["runs"]:
        rules = run["tool"]["driver"]["rules"]
        assert [r["id"] for r in rules] == sorted({r["id"] for r in rules})
        for result in run["results"]:
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_levels_lines_uris_and_fingerprints() -> None:
    results = {r["ruleId"]: r for r in all_results(to_sarif(make_report()))}
    secret = results["secrets:AWS Access Key"]
    assert secret["level"] == "error"
    assert secret["partialFingerprints"] == {FINGERPRINT_KEY: "fp-secrets:AWS Access Key-config/settings.py-3"}
    assert secret["properties"]["govbot-secret-hash"] == "1a2b3c4d5e6f"
    llm = results["llm:injection"]
    assert llm["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}  # no line -> 1
    weak = results["semgrep:govbot.python.weak-hash"]
    region = weak["locations"][0]["physicalLocation"]
    assert region["region"]["startLine"] == 1  # line 0 -> 1
    assert region["artifactLocation"]["uri"] == "app/old%20dir/hash.py"
    assert weak["level"] == "note"
    assert weak["properties"]["govbot-in-diff"] is False
    assert results["semgrep:python.lang.security.audit.eval-detected"]["locations"][0]["physicalLocation"][
        "region"
    ] == {"startLine": 42, "endLine": 44}


def test_suppressed_finding_carries_an_in_source_suppression() -> None:
    results = [r for r in all_results(to_sarif(make_report())) if "suppressions" in r]
    assert len(results) == 1
    assert results[0]["suppressions"] == [{"kind": "inSource", "status": "underReview", "justification": "nosec"}]


def test_pull_request_level_findings_are_left_out() -> None:
    sarif = to_sarif(make_report())
    assert not any(r["ruleId"].startswith("authorship:") for r in all_results(sarif))
    assert "govbot-authorship" not in runs_by_driver(sarif)


def test_failed_tool_without_results_uploads_no_run_but_a_clean_tool_does() -> None:
    report = make_report(
        findings=(),
        tools=(
            ToolRun(name="bandit", version="1.7.9", status=ToolStatus.TIMEOUT, error="took too long"),
            ToolRun(name="semgrep", version="1.90.0", status=ToolStatus.OK, files=3),
        ),
        llm=LLMSummary(status=LLMStatus.INCOMPLETE, reason="all models failed"),
    )
    runs = runs_by_driver(to_sarif(report))
    assert list(runs) == ["semgrep"]  # an empty run closes semgrep's fixed alerts
    assert runs["semgrep"]["results"] == []
    assert runs["semgrep"]["invocations"] == [{"executionSuccessful": True}]


def test_failed_tool_with_results_reports_the_failure() -> None:
    report = make_report(
        findings=(finding(),),
        tools=(ToolRun(name="bandit", status=ToolStatus.FAILED, error="crashed\non file x"),),
    )
    invocation = runs_by_driver(to_sarif(report))["bandit"]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["message"]["text"] == "bandit failed: crashed on file x"


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        ("src/a.py", "src/a.py"),
        ("./src/a.py", "src/a.py"),
        ("/abs/a.py", "abs/a.py"),
        ("win\\dir\\a.py", "win/dir/a.py"),
        ("a b/#c?.py", "a%20b/%23c%3F.py"),
        ("dir/ünï.py", "dir/%C3%BCn%C3%AF.py"),
        ("", ""),
    ],
)
def test_sarif_uri(path: str, uri: str) -> None:
    assert sarif_uri(path) == uri


def test_deterministic_and_independent_of_input_order() -> None:
    report = make_report(findings=many_findings(300) + make_report().findings)
    assert json.dumps(to_sarif(report)) == json.dumps(to_sarif(shuffled(report)))


@pytest.mark.slow
def test_cap_on_results_per_run_keeps_the_most_severe() -> None:
    n = MAX_RESULTS_PER_RUN + 10
    base = finding("semgrep:x", tool="semgrep", severity=Severity.LOW, cwe=())
    findings = [base.model_copy(update={"line": i + 1, "fingerprint": f"f{i}"}) for i in range(n - 1)]
    findings.append(base.model_copy(update={"severity": Severity.CRITICAL, "line": n, "fingerprint": "top"}))
    run = runs_by_driver(to_sarif(make_report(findings=tuple(findings))))["semgrep"]
    assert len(run["results"]) == MAX_RESULTS_PER_RUN
    assert run["properties"]["govbot-results-left-out"] == 10
    assert any(r["partialFingerprints"][FINGERPRINT_KEY] == "top" for r in run["results"])


def test_message_text_cannot_carry_embedded_links() -> None:
    assert sarif_text("see [x](http://e) and a\\[b]") == "see \\[x\\](http://e) and a\\\\\\[b\\]"
    unescaped_bracket = re.compile(r"(?<!\\)(?:\\\\)*[\[\]]")
    texts = [r["message"]["text"] for r in all_results(to_sarif(hostile_report()))]
    assert texts
    for text in texts:
        assert not unescaped_bracket.search(text.replace("\\\\", "")), text
        assert "\n" not in text and "\x1b" not in text
