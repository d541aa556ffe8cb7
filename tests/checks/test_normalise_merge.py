"""Merging findings across tools keeps the documented severity; messages keep their fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from govbot.checks.normalise import dedupe
from govbot.core.models import Finding, Severity

RULES = Path(__file__).resolve().parents[2] / "checks" / "rules"


def hit(tool: str, rule: str, severity: Severity) -> Finding:
    return Finding(tool=tool, rule_id=rule, severity=severity, path="a.py", line=4, message=f"{rule} says",
                   cwe=("CWE-327",), fingerprint=rule)


@pytest.mark.parametrize("bandit_rule", [("bandit:B324", Severity.HIGH), ("bandit:B303", Severity.MEDIUM)])
def test_co_reporting_tool_is_listed_and_never_escalates(bandit_rule: tuple[str, Severity]) -> None:
    merged = dedupe([hit("bandit", *bandit_rule), hit("semgrep", "semgrep:python.crypto.weak-hash", Severity.MEDIUM)])
    assert len(merged) == 1
    assert merged[0].rule_id == "semgrep:python.crypto.weak-hash"
    assert merged[0].severity is Severity.MEDIUM
    assert merged[0].also_reported_by == (bandit_rule[0],)


def _bundled_messages() -> list[tuple[str, str]]:
    out = []
    for path in sorted(RULES.glob("*.yml")):
        for rule in YAML(typ="safe").load(path.read_text("utf-8"))["rules"]:
            out.append((rule["id"], " ".join(rule["message"].split())))
    return out


@pytest.mark.parametrize(("rule_id", "message"), _bundled_messages())
def test_bundled_rule_messages_are_never_cut_in_the_comment(rule_id: str, message: str) -> None:
    from govbot.bot.render.markdown import _finding_row

    row = _finding_row(hit("semgrep", f"semgrep:{rule_id}", Severity.MEDIUM).model_copy(update={"message": message}))
    assert "…" not in message
    assert "…" not in row, f"{rule_id}: the comment cuts its message before the fix"


def test_source_and_sink_of_one_sql_injection_on_neighbouring_lines_are_one_finding() -> None:
    sink = Finding(tool="semgrep", rule_id="semgrep:python.sql-injection.formatted-query", severity=Severity.HIGH,
                   path="shop/orders.py", line=11, message="m", cwe=("CWE-89",), fingerprint="a")
    source = Finding(tool="bandit", rule_id="bandit:B608", severity=Severity.MEDIUM, path="shop/orders.py",
                     line=10, message="m", cwe=("CWE-89",), fingerprint="b")
    far = source.model_copy(update={"line": 30, "fingerprint": "c"})
    merged = dedupe([source, sink, far])
    assert [(f.rule_id, f.line, f.also_reported_by) for f in merged] == [
        ("semgrep:python.sql-injection.formatted-query", 11, ("bandit:B608",)), ("bandit:B608", 30, ())]
    assert merged[0].severity is Severity.HIGH
