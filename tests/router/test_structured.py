"""Native structured output on each provider, and the one bounded repair step (official SDKs
against the local fake server)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fakellm import FakeLLM, Reply, review_json
from test_review import FAST, LINT, SECURITY, change_of, config, env_for, finding, request_for

from govbot.core.models import LLMStatus
from govbot.policy.llm_config import Endpoint, Tiers
from govbot.prompts.schema import REVIEW, InvalidOutput, LLMReviewOut, parse_output, strict_schema
from govbot.router.review import review


def _objects(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [o for n in node for o in _objects(n)]
    if not isinstance(node, dict):
        return []
    found = [node] if node.get("type") == "object" else []
    for key, value in node.items():
        if key in ("properties", "$defs"):
            found += [o for v in value.values() for o in _objects(v)]
        else:
            found += _objects(value)
    return found


def test_strict_schema_requires_every_property_and_forbids_others() -> None:
    schema = REVIEW.schema()
    objects = _objects(schema)
    assert len(objects) == 2  # the review and one finding
    for obj in objects:
        assert obj["additionalProperties"] is False
        assert sorted(obj["required"]) == sorted(obj["properties"])
    finding_props = schema["$defs"]["LLMFindingOut"]["properties"]
    assert {"type": "null"} in finding_props["line"]["anyOf"]  # optional -> nullable
    assert {"type": "null"} in finding_props["explanation"]["anyOf"]
    assert "default" not in json.dumps(schema) and "minLength" not in json.dumps(schema)
    # a strict-mode reply (every key, null for "not given") validates to the defaults
    reply = {"summary": None, "security_concern": False, "confidence": 0.9, "findings": [
        {"category": "injection", "severity": "high", "path": "a.py", "line": None, "end_line": None,
         "title": "t", "explanation": None, "cwe": None, "confidence": None}]}
    parsed = parse_output(json.dumps(reply), LLMReviewOut)
    assert parsed.repairs == () and parsed.value.findings[0].confidence == "medium"
    assert strict_schema({"type": "object", "properties": {"a": {"type": "string"}}})["required"] == ["a"]


def test_openai_request_carries_strict_json_schema(fake_llm: FakeLLM) -> None:
    out = review(request_for(change_of(LINT)), config(), env_for(fake_llm), FAST)
    assert out.llm.status is LLMStatus.OK
    fmt = fake_llm.requests[0].json["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["strict"] is True and fmt["json_schema"]["name"] == "govbot_review"
    assert fmt["json_schema"]["schema"] == REVIEW.schema()
    assert "tools" not in fake_llm.requests[0].json
    # sent (and billed) once: natively, not again as text in the system prompt
    assert "JSON Schema" not in fake_llm.requests[0].json["messages"][0]["content"]


def test_anthropic_request_forces_the_output_tool_and_reads_its_input(fake_llm: FakeLLM) -> None:
    fake_llm.script("claude-opus-4-6", Reply(text=review_json([finding("src/auth/login.py", 12)], concern=True)))
    out = review(request_for(change_of(SECURITY)), config(), env_for(fake_llm), FAST)
    body = fake_llm.requests[0].json
    assert fake_llm.requests[0].path == "/v1/messages"
    assert body["tools"] == [{"name": "govbot_review", "description": REVIEW.description,
                              "input_schema": REVIEW.schema()}]
    assert body["tool_choice"] == {"type": "tool", "name": "govbot_review", "disable_parallel_tool_use": True}
    assert out.llm.status is LLMStatus.OK and [f.rule_id for f in out.findings] == ["llm:injection"]
    assert len(fake_llm.requests) == 1  # no tool_result round trip
    assert "JSON Schema" not in body["system"]  # the tool's input_schema carries it


@pytest.mark.parametrize(("model", "json_mode", "expected"), [
    ("gpt-oss-20b", None, "json_schema"),      # catalogue declares schema
    ("qwen2.5-coder:7b", None, "json_object"),  # catalogue declares object
    ("codellama:7b", None, None),               # catalogue declares prompt only
    ("some-unlisted-model", None, "json_object"),
    ("codellama:7b", "schema", "json_schema"),  # the endpoint's setting wins
])
def test_onprem_format_follows_the_declared_capability(
    fake_llm: FakeLLM, model: str, json_mode: str | None, expected: str | None
) -> None:
    ep = Endpoint(kind="openai_compatible", base_url=fake_llm.url + "/v1", on_prem=True, json_mode=json_mode)  # type: ignore[arg-type]
    cfg = config(endpoints={"local": ep.model_dump()}, tiers=Tiers(mini=[f"local/{model}"]).model_dump())
    out = review(request_for(change_of(LINT)), cfg, env_for(fake_llm), FAST)
    assert out.llm.status is LLMStatus.OK
    fmt = fake_llm.requests[0].json.get("response_format")
    assert (fmt or {}).get("type") == expected
    system = fake_llm.requests[0].json["messages"][0]["content"]
    if expected == "json_schema":
        assert fmt is not None and fmt["json_schema"]["strict"] is True
        assert "JSON Schema" not in system
    else:  # json_object or prompt only: the schema must be in the prompt, it is nowhere else
        assert "The JSON object must match this JSON Schema:" in system and '"security_concern"' in system


NEAR_MISS = json.dumps({
    "security_concern": True, "confidence": "0.8", "verdict": "approve",
    "findings": [{"category": "Command Execution", "severity": "High", "path": "src/auth/login.py", "line": 12,
                  "title": "shell", "cwe": "CWE-78", "confidence": "HIGH"}],
})


def test_near_miss_reply_is_repaired_once_and_recorded(fake_llm: FakeLLM) -> None:
    fake_llm.script("claude-opus-4-6", Reply(text="Here is my review:\n```json\n" + NEAR_MISS + "\n```"))
    out = review(request_for(change_of(SECURITY)), config(), env_for(fake_llm), FAST)
    assert out.llm.status is LLMStatus.OK
    assert fake_llm.models_called() == ["claude-opus-4-6"]  # no second paid call
    call = out.llm.calls[0]
    assert call.status == "ok"
    assert "findings[].category: 'Command Execution' -> 'command_execution'" in call.repairs
    assert "dropped unknown key 'verdict'" in call.repairs
    assert "findings[].cwe: single value wrapped in a list" in call.repairs
    assert [(f.rule_id, f.confidence) for f in out.findings] == [("llm:command_execution", "high")]


def test_unknown_category_maps_to_other_but_a_missing_required_value_is_invalid(fake_llm: FakeLLM) -> None:
    parsed = parse_output(json.dumps({"security_concern": False, "confidence": 0.5, "findings": [
        {"category": "vibes", "severity": "low", "path": "a.py", "title": "t"}]}), LLMReviewOut)
    assert parsed.value.findings[0].category == "other"
    with pytest.raises(InvalidOutput):
        parse_output('{"confidence": 0.5}', LLMReviewOut)  # security_concern missing: not invented
    with pytest.raises(InvalidOutput):
        parse_output('{"a": 1} {"b": 2}', LLMReviewOut)  # two objects: which is the answer is a guess
    fake_llm.script("claude-opus-4-6", Reply(text='{"confidence": 0.9, "findings": []}'))
    out = review(request_for(change_of(SECURITY)), config(), env_for(fake_llm), FAST)
    assert fake_llm.models_called() == ["claude-opus-4-6", "gpt-5"]  # invalid -> the next model
    assert [c.status for c in out.llm.calls] == ["invalid_output", "ok"]
