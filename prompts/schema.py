"""The LLM's output contract: a pydantic model sent as JSON Schema and validated on receipt.

Unknown keys (a model "suggesting" labels or a decision) are dropped and recorded, never obeyed:
govbot reads only the fields below, and findings can only add to the report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Generic, Literal, TypeVar, Union, cast, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Category = Literal[
    "injection",
    "authn",
    "authz",
    "secrets",
    "crypto",
    "input_validation",
    "web",
    "deserialization",
    "path_traversal",
    "ssrf",
    "command_execution",
    "supply_chain",
    "ci_cd",
    "data_exposure",
    "logic",
    "error_handling",
    "concurrency",
    "performance",
    "maintainability",
    "other",
]

SECURITY_CATEGORIES: frozenset[str] = frozenset(
    {
        "injection", "authn", "authz", "secrets", "crypto", "input_validation", "web",
        "deserialization", "path_traversal", "ssrf", "command_execution", "supply_chain", "ci_cd",
        "data_exposure",
    }
)


M = TypeVar("M", bound=BaseModel)


class _Out(BaseModel):
    """Strict-mode providers send every key, ``null`` for "not given": null means the default.
    An unknown key fails validation; the repair step drops it and records that it did."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _null_is_default(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        optional = {k for k, f in cls.model_fields.items() if not f.is_required()}
        return {k: v for k, v in data.items() if not (v is None and k in optional)}


class LLMFindingOut(_Out):

    category: Category
    severity: Literal["info", "low", "medium", "high", "critical"]
    path: Annotated[str, Field(min_length=1, max_length=1000)]
    line: Annotated[int, Field(ge=1)] | None = Field(default=None, description="new-side line number")
    end_line: Annotated[int, Field(ge=1)] | None = None
    title: Annotated[str, Field(min_length=1, max_length=200)]
    explanation: Annotated[str, Field(max_length=2000)] = ""
    cwe: list[Annotated[str, Field(pattern=r"^CWE-[0-9]{1,5}$")]] = Field(default_factory=list, max_length=5)
    confidence: Literal["low", "medium", "high"] = "medium"


class LLMReviewOut(_Out):

    summary: Annotated[str, Field(max_length=2000)] = ""
    security_concern: bool = Field(description="true if the change may weaken security in any way")
    confidence: Annotated[float, Field(ge=0, le=1)] = Field(
        description="how sure the reviewer is that the review is complete and correct"
    )
    findings: list[LLMFindingOut] = Field(default_factory=list, max_length=50)


class VerdictOut(_Out):
    id: Annotated[str, Field(min_length=1, max_length=40)] = Field(description="the finding's id as given")
    score: Annotated[float, Field(ge=0, le=1)] = Field(
        description="probability that the finding is a real, exploitable problem in this code"
    )
    reason: Annotated[str, Field(max_length=600)] = ""


class VerifierOut(_Out):
    verdicts: list[VerdictOut] = Field(default_factory=list, max_length=100)


class InvalidOutput(Exception):
    """The reply was not JSON matching the output model (a typed error: move to the next model)."""


@dataclass(frozen=True)
class Contract(Generic[M]):
    """What a call must return: the pydantic model, and its name as a tool / json_schema."""

    name: str
    description: str
    model: type[M]

    def schema(self) -> dict[str, Any]:
        """The JSON Schema in the form strict structured output needs (see ``strict_schema``)."""
        return strict_schema(self.model.model_json_schema())

    def parse(self, text: str) -> Parsed[M]:
        return parse_output(text, self.model)


_DROP = frozenset({"default", "minLength", "maxLength", "title"})


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite a pydantic JSON Schema for OpenAI strict mode (also valid as an Anthropic tool
    ``input_schema``): every object lists every property as required and forbids other keys; a
    property that was optional becomes nullable (null = "use the default"); keywords strict mode
    rejects (``default``, string lengths) are dropped (the lengths are still enforced on receipt).
    """

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(n) for n in node]
        if not isinstance(node, dict):
            return node
        out = {k: walk(v) for k, v in node.items() if k not in _DROP and k not in ("properties", "$defs")}
        for key in ("properties", "$defs"):  # maps of names, not schema keywords
            if key in node:
                out[key] = {name: walk(sub) for name, sub in node[key].items()}
        if out.get("type") == "object" and "properties" in node:
            required = set(node.get("required", ()))
            props = out["properties"]
            for name in list(props):
                if name not in required:
                    props[name] = _nullable(props[name])
            out["required"] = list(props)
            out["additionalProperties"] = False
        return out

    return cast("dict[str, Any]", walk(schema))


def _nullable(prop: dict[str, Any]) -> dict[str, Any]:
    if "anyOf" in prop:
        if any(p.get("type") == "null" for p in prop["anyOf"]):
            return prop
        return {**prop, "anyOf": [*prop["anyOf"], {"type": "null"}]}
    if "$ref" in prop:
        return {"anyOf": [prop, {"type": "null"}]}
    keep = {k: v for k, v in prop.items() if k == "description"}
    inner = {k: v for k, v in prop.items() if k != "description"}
    return {**keep, "anyOf": [inner, {"type": "null"}]}


REVIEW = Contract("govbot_review", "Submit the review of this part of the pull request.", LLMReviewOut)
VERIFY = Contract("govbot_verdicts", "Submit one verdict per finding.", VerifierOut)


def output_schema() -> dict[str, Any]:
    return REVIEW.schema()


def output_schema_text() -> str:
    return json.dumps(output_schema(), indent=1, sort_keys=True)


@dataclass(frozen=True)
class Parsed(Generic[M]):
    value: M
    repairs: tuple[str, ...] = ()  # what the one bounded repair step changed, for the call record


def parse_output(text: str, model: type[M]) -> Parsed[M]:
    """Validate a reply; if it fails, apply ONE bounded repair (``repair``) and validate again.

    The repair never calls a model and never invents content: it unwraps the JSON object from
    surrounding prose or a code fence, drops unknown keys, maps a near-miss enum value to its
    canonical spelling (or ``other`` for a category), fixes scalar-vs-list and numeric-string
    types. Anything else is still invalid output.
    """
    body = text.strip()
    try:
        return Parsed(model.model_validate_json(body))
    except ValidationError:
        pass
    data, repairs = _extract(body)
    if data is None:
        raise InvalidOutput("reply is not a JSON object")
    fixed = repair(data, model, repairs)
    try:
        return Parsed(model.model_validate(fixed), tuple(repairs))
    except ValidationError as exc:
        raise InvalidOutput(
            f"reply does not match the {model.__name__} schema ({exc.error_count()} error(s)"
            + (f" after repair: {', '.join(repairs)}" if repairs else "") + ")"
        ) from exc


def parse_review(text: str) -> LLMReviewOut:
    return parse_output(text, LLMReviewOut).value


def _extract(body: str) -> tuple[Any, list[str]]:
    try:
        return json.loads(body), []
    except ValueError:
        pass
    start = body.find("{")
    if start < 0:
        return None, []
    try:
        data, end = json.JSONDecoder().raw_decode(body, start)
    except ValueError:
        return None, []
    rest = body[end:].strip().strip("`").strip()
    if "{" in rest:  # a second object: which one is the answer is a guess, not a repair
        return None, []
    return data, ["unwrapped the JSON object from surrounding text"]


_ENUM_ALIASES = {"moderate": "medium", "med": "medium", "crit": "critical", "informational": "info",
                 "information": "info", "warning": "low"}


def repair(data: Any, model: type[BaseModel], repairs: list[str], where: str = "") -> Any:
    """The bounded, pure repair of one parsed reply against ``model`` (see ``parse_output``)."""
    if not isinstance(data, dict):
        return data
    fields = model.model_fields
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = key if key in fields else _canon(key)
        field = fields.get(name)
        if field is None:
            repairs.append(f"dropped unknown key {where}{key!r}"[:120])
            continue
        out[name] = _repair_value(value, field.annotation, f"{where}{name}", repairs)
    return out


def _repair_value(value: Any, annotation: Any, where: str, repairs: list[str]) -> Any:
    args = [a for a in get_args(annotation) if a is not type(None)]
    origin = get_origin(annotation)
    if origin is Annotated:
        return _repair_value(value, args[0], where, repairs)
    if origin is Literal:
        return _repair_enum(value, [str(a) for a in get_args(annotation)], where, repairs)
    if origin is list:
        item = args[0] if args else Any
        if not isinstance(value, list):
            repairs.append(f"{where}: single value wrapped in a list")
            value = [value]
        return [_repair_value(v, item, f"{where}[]", repairs) for v in value]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return repair(value, annotation, repairs, f"{where}.")
    if origin in (Union, UnionType):
        for arg in args:
            if get_origin(arg) is Annotated or arg in (int, float):
                return _repair_value(value, arg, where, repairs)
        return value
    if annotation in (int, float) and isinstance(value, str):
        return _repair_number(value, annotation is int, where, repairs)
    return value


def _repair_enum(value: Any, allowed: list[str], where: str, repairs: list[str]) -> Any:
    if not isinstance(value, str) or value in allowed:
        return value
    canon = _canon(value)
    canon = _ENUM_ALIASES.get(canon, canon)
    if canon in allowed:
        repairs.append(f"{where}: {value[:30]!r} -> {canon!r}")
        return canon
    if "other" in allowed:
        repairs.append(f"{where}: unknown value -> 'other'")
        return "other"
    return value


def _repair_number(value: str, integer: bool, where: str, repairs: list[str]) -> Any:
    try:
        number = float(value.strip().rstrip("%"))
    except ValueError:
        return value
    number = number / 100 if value.strip().endswith("%") else number
    repairs.append(f"{where}: number given as text")
    return int(number) if integer and number.is_integer() else number


def _canon(text: str) -> str:
    return "_".join(text.strip().lower().replace("-", " ").replace("/", " ").split())
