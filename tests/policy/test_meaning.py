"""A policy means what it says: rules that can never fire are errors, each at its own line, and
the validator agrees with the published JSON Schema on types."""

from __future__ import annotations

import functools
from typing import Any

import jsonschema
import pytest

from govbot.core.errors import PolicyError
from govbot.policy.loader import load_policy_checked, load_policy_text
from govbot.policy.schema import policy_schema


@functools.cache
def schema_validator() -> jsonschema.Draft202012Validator:
    """The published schema, checked against its metaschema once (jsonschema.validate re-checks
    the schema on every call: ~0.1 s each)."""
    schema = policy_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)

SRC = "govbot.yml"


def problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as exc:
        load_policy_text(text, SRC)
    return exc.value.problems


def one_rule(match: str, action: str = "warn") -> str:
    return f"version: 1\nrules:\n  - id: r\n    match: {match}\n    action: {action}\n"


@pytest.mark.parametrize(("match", "expected"), [
    ("{agent: [claud]}", "unknown agent 'claud'"),
    ("{signal: [trailr]}", "'trailr' is not allowed; expected 'trailer'"),
    ("{tool: [bandt]}", "'bandt' is not allowed"),
    ("{rule_id: [B608]}", "did you mean 'bandit:B608'?"),
    ("{rule_id: ['python.sql*']}", "has no tool prefix"),
    ("{rule_id: ['sast:x']}", "unknown tool prefix 'sast'"),
    ("{paths: ['src/auth/']}", "write 'src/auth/**'"),
    ("{touches: ['docs/']}", "write 'docs/**'"),
    ("{tool: []}", "an empty list never matches"),
    ("{cwe: []}", "an empty list never matches"),
    ("{severity: high, max_severity: low}", "max_severity 'low' is below severity 'high'"),
    ("{confidence: [certain]}", "'certain' is not allowed"),
    ("{baseline: [old]}", "'old' is not allowed"),
])
def test_rules_that_can_never_fire_are_errors(match: str, expected: str) -> None:
    found = problems(one_rule(match))
    assert len(found) == 1 and expected in found[0], found
    assert found[0].startswith(f"{SRC}:4: rules[0].match"), found


@pytest.mark.parametrize("match", ["{rule_id: ['*sql*']}", "{rule_id: ['sem*:python.*']}", "{agent: [Claude]}",
                                   "{paths: ['src/**']}", "{severity: medium, max_severity: medium}"])
def test_rules_that_can_fire_load(match: str) -> None:
    load_policy_text(one_rule(match), SRC)


def test_extra_agents_extend_the_closed_set() -> None:
    text = ("version: 1\nauthorship:\n  extra_agents:\n    - name: inhouse-bot\n      names: ['Inhouse Bot']\n"
            "rules:\n  - id: r\n    match: {agent: [inhouse-bot]}\n    action: warn\n")
    load_policy_text(text, SRC)


def test_duplicate_ids_and_foreign_labels_are_each_at_their_own_line() -> None:
    text = """version: 1
rules:
  - id: a
    match: {tool: [bandit]}
    action: warn
  - id: b
    match: {tool: [semgrep]}
    action: require_review
    label: not-allowed
  - id: a
    match: {tool: [secrets]}
    action: warn
"""
    assert problems(text) == [
        f"{SRC}:9: rules[1].label: label 'not-allowed' is not in labels.allowlist",
        f"{SRC}:10: rules[2].id: duplicate rule id 'a' (first at rules[0])",
    ]


def test_path_rule_without_in_diff_warns_and_explains() -> None:
    text = """version: 1
rules:
  - id: sql
    match: {cwe: [CWE-89]}
    action: block
  - id: scoped
    match: {paths: ["src/**"], in_diff: true}
    action: block
  - id: advisory
    match: {paths: ["tests/**"]}
    action: comment
"""
    _, warnings = load_policy_checked(text, SRC)
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{SRC}:4: rules[0].match: rule 'sql' (block) has no 'in_diff'")
    assert "add 'in_diff: true'" in warnings[0]


def _set(doc: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


def _doc() -> dict[str, Any]:
    return {"version": 1, "settings": {"llm_incomplete_blocks_security": True},
            "limits": {"tool_timeout_s": 60, "max_file_bytes": 2048},
            "llm": {"enabled": True, "max_retries": 2},
            "rules": [{"id": "r", "match": {"in_diff": True, "tool": ["bandit"]}, "action": "warn"}]}


@pytest.mark.parametrize("path", [("settings", "llm_incomplete_blocks_security"), ("llm", "enabled"),
                                  ("rules", 0, "match", "in_diff"), ("limits", "max_file_bytes"),
                                  ("limits", "tool_timeout_s"), ("llm", "max_retries")])
@pytest.mark.parametrize("bad", ["yes", "1", "true"])
def test_validator_and_schema_agree_on_strict_types(path: tuple[str | int, ...], bad: Any) -> None:
    from govbot.policy.model import Policy

    schema_validator().validate(_doc())
    Policy.model_validate(_doc())
    doc = _set(_doc(), path, bad)
    with pytest.raises(jsonschema.ValidationError):
        schema_validator().validate(doc)
    with pytest.raises(ValueError):
        Policy.model_validate(doc)


@pytest.mark.parametrize("path", [("settings", "llm_incomplete_blocks_security"), ("rules", 0, "match", "in_diff")])
def test_an_integer_is_not_a_boolean_for_either(path: tuple[str | int, ...]) -> None:
    from govbot.policy.model import Policy

    doc = _set(_doc(), path, 1)
    with pytest.raises(jsonschema.ValidationError):
        schema_validator().validate(doc)
    with pytest.raises(ValueError):
        Policy.model_validate(doc)
