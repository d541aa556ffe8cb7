from __future__ import annotations

import json

import pytest

from govbot.core.errors import PolicyError
from govbot.policy.loader import default_policy, load_policy_text
from govbot.policy.schema import policy_schema

SRC = ".github/govbot.yml"


def problems(text: str | bytes) -> list[str]:
    with pytest.raises(PolicyError) as exc:
        load_policy_text(text, SRC)
    return exc.value.problems


def test_full_policy_loads() -> None:
    policy = load_policy_text(
        """
version: 1
settings:
  diff_scope: diff_context
  fail_on: block
labels:
  review: needs-security
  allowlist: [needs-security, govbot:blocked, ai-generated]
rules:
  - id: devin-blocked
    match: {agent: [devin]}
    action: block
  - id: ai-review
    match: {ai_generated: true}
    action: require_review
  - id: sql
    match: {cwe: [CWE-89], paths: ["src/**/*.py"], severity: medium}
    action: block
""",
        SRC,
    )
    assert policy.labels.review == "needs-security"
    assert [r.id for r in policy.rules] == ["devin-blocked", "ai-review", "sql"]


def test_unknown_key_names_line_and_allowed_keys() -> None:
    [p] = problems("version: 1\nrules:\n  - id: x\n    match: {tool: [bandit]}\n    action: warn\n    lable: x\n")
    assert p.startswith(f"{SRC}:6: rules[0].lable: unknown key 'lable'")
    assert "allowed keys: action, description, id, label, match, message" in p


def test_wrong_enum_lists_allowed_values() -> None:
    [p] = problems("rules:\n  - id: x\n    match: {tool: [bandit]}\n    action: blok\n")
    assert ":4: rules[0].action: 'blok' is not allowed; expected 'comment', 'warn', 'require_review' or 'block'" in p


def test_wrong_type() -> None:
    [p] = problems("limits:\n  tool_timeout_s: soon\n")
    assert p.startswith(f"{SRC}:2: limits.tool_timeout_s")


@pytest.mark.parametrize(
    "glob, why",
    [("/etc/*", "absolute"), ("src/../x", "'..'"), ("src/[a.py", "unbalanced"), ("{a,b", "unbalanced")],
)
def test_bad_globs(glob: str, why: str) -> None:
    [p] = problems(f'rules:\n  - id: x\n    match: {{paths: ["{glob}"]}}\n    action: warn\n')
    assert why in p and ":3:" in p


def test_yaml_bomb_is_refused_before_expansion() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(9)
    )
    [p] = problems(bomb)
    assert "aliases" in p


def test_duplicate_keys_refused() -> None:
    [p] = problems("settings:\n  diff_scope: added\n  diff_scope: file\n")
    assert "duplicate key" in p and ":3:" in p


def test_huge_and_binary_files_refused() -> None:
    assert "limit" in problems("#" * 300_000)[0]
    assert "not UTF-8" in problems(b"rules: \xff\xfe\n")[0]


def test_list_document_refused() -> None:
    assert "must be a mapping" in problems("- a\n- b\n")[0]


def test_label_outside_allowlist_refused() -> None:
    [p] = problems("rules:\n  - id: x\n    match: {tool: [bandit]}\n    action: block\n    label: deploy-now\n")
    assert "not in labels.allowlist" in p


def test_empty_match_refused() -> None:
    assert "at least one condition" in problems("rules:\n  - id: x\n    match: {}\n    action: warn\n")[0]


def test_empty_file_is_the_default() -> None:
    assert load_policy_text("", SRC) == default_policy()


def test_schema_is_json_and_strict() -> None:
    schema = policy_schema()
    json.dumps(schema)
    assert schema["additionalProperties"] is False
    assert "rules" in schema["properties"]


def test_content_heuristics_alone_cannot_block() -> None:
    [p] = problems("rules:\n  - id: h\n    match: {signal: [content_heuristic]}\n    action: block\n")
    assert "advisory" in p
    load_policy_text("rules:\n  - id: h\n    match: {signal: [content_heuristic]}\n    action: require_review\n", SRC)
