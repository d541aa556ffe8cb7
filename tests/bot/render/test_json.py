from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from govbot.bot.render.registry import report_json, report_schema
from govbot.core.models import SCHEMA_VERSION, ChangeSummary, Report, SkippedFile
from tests.bot.render.reports import hostile_report, make_report, many_findings, shuffled

ROOT = Path(__file__).resolve().parents[3]
PUBLISHED_SCHEMA = ROOT / "docs" / "report.schema.json"
REGENERATE = (
    ".venv/bin/python -c 'import json; from govbot.bot.render.registry import report_schema; "
    "print(json.dumps(report_schema(), indent=2))' > docs/report.schema.json"
)


def test_schema_version_comes_first_and_top_level_order_is_stable() -> None:
    data = json.loads(report_json(make_report()))
    assert list(data) == [
        "schema_version",
        "govbot_version",
        "change",
        "findings",
        "authorship",
        "route",
        "llm",
        "decision",
        "tools",
        "policy_source",
    ]
    assert data["schema_version"] == SCHEMA_VERSION


def test_findings_sorted_by_path_line_rule() -> None:
    data = json.loads(report_json(make_report()))
    keys = [(f["path"], -1 if f["line"] is None else f["line"], f["rule_id"]) for f in data["findings"]]
    assert keys == sorted(keys)
    assert keys[0][0] == ""  # the pull-request level finding has no path


def test_output_does_not_depend_on_input_order() -> None:
    report = make_report(findings=many_findings(300))
    assert report_json(report) == report_json(shuffled(report))
    skipped = (SkippedFile(path="b", reason="binary"), SkippedFile(path="a", reason="binary"))
    change = ChangeSummary(base="x", head="y", files_changed=2, files_analysed=0, files_skipped=skipped)
    reordered = change.model_copy(update={"files_skipped": skipped[::-1]})
    assert report_json(make_report(change=change)) == report_json(make_report(change=reordered))


def test_round_trips_to_the_same_report() -> None:
    report = make_report()
    text = report_json(report)
    again = Report.model_validate_json(text)
    assert report_json(again) == text
    assert {f.fingerprint for f in again.findings} == {f.fingerprint for f in report.findings}


def test_contract_fields_present() -> None:
    data = json.loads(report_json(make_report()))
    f = data["findings"][1]
    for key in ("tool", "rule_id", "severity", "path", "line", "message", "cwe", "fingerprint", "in_diff"):
        assert key in f
    assert {"base", "head", "files_changed", "files_analysed", "files_skipped"} <= set(data["change"])
    assert {"ai_generated", "confidence", "signals"} <= set(data["authorship"])
    assert {"tier", "model", "reasons"} <= set(data["route"])
    assert {"status", "calls", "cost_usd"} <= set(data["llm"])
    assert {"model", "input_tokens", "output_tokens", "cost_usd"} <= set(data["llm"]["calls"][0])
    assert {"outcome", "labels_add", "labels_remove", "reasons"} <= set(data["decision"])
    assert {"name", "version", "status", "files", "duration_s"} <= set(data["tools"][0])


def test_reports_validate_against_the_schema() -> None:
    validator = jsonschema.Draft202012Validator(report_schema())
    for report in (make_report(), hostile_report(), make_report(findings=(), tools=())):
        validator.validate(json.loads(report_json(report)))


def test_schema_rejects_what_the_contract_forbids() -> None:
    validator = jsonschema.Draft202012Validator(report_schema())
    data = json.loads(report_json(make_report()))
    data["findings"][0]["secret"] = "AKIA..."
    assert not validator.is_valid(data)
    data = json.loads(report_json(make_report()))
    del data["decision"]
    assert not validator.is_valid(data)
    data = json.loads(report_json(make_report()))
    data["findings"][0]["severity"] = "catastrophic"
    assert not validator.is_valid(data)


def test_schema_metadata() -> None:
    schema = report_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert list(schema)[:4] == ["$schema", "$id", "title", "description"]
    assert schema["$id"].endswith(SCHEMA_VERSION)
    assert "MAJOR" in schema["properties"]["schema_version"]["description"]
    assert "schema_version" in schema["required"]


def test_published_schema_is_up_to_date() -> None:
    published = json.loads(PUBLISHED_SCHEMA.read_text(encoding="utf-8"))
    assert published == report_schema(), f"regenerate with: {REGENERATE}"


def test_nothing_outside_the_model_is_added() -> None:
    report = make_report()
    data = json.loads(report_json(report))
    secret_finding = next(f for f in data["findings"] if f["tool"] == "secrets")
    assert secret_finding["secret_hash"] == "1a2b3c4d5e6f"
    assert set(secret_finding) == set(type(report.findings[0]).model_fields)
    assert report_json(report).endswith("}\n")


def test_documented_example_is_real_output() -> None:
    doc = (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
    example = doc.split("```json\n", 1)[1].split("```", 1)[0]
    jsonschema.Draft202012Validator(report_schema()).validate(json.loads(example))
    assert report_json(Report.model_validate_json(example)) == example
    for field in Report.model_fields:
        assert f"`{field}`" in doc
