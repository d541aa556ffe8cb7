"""Load the policy file: parse YAML safely, then validate into strict models.

Errors name the file, the line and the allowed values. Anchors and aliases (the "billion laughs"
bomb), duplicate keys, non-mapping documents and oversized files are refused before validation.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent

from govbot.core.errors import PolicyError
from govbot.policy.model import Policy

MAX_POLICY_BYTES = 256 * 1024
DEFAULT_POLICY_PATH = ".github/govbot.yml"
# Extra semgrep rule files named by semgrep.rules, read from the base branch (CLI and Action alike).
MAX_RULE_FILES = 100
MAX_RULE_FILE_BYTES = 4 * MAX_POLICY_BYTES


def default_policy() -> Policy:
    """govbot's built-in policy, used when the repository has none: every default, and the
    built-in rules of ``policy/data/default_rules.yml``."""
    return Policy()


def load_policy_text(data: bytes | str, source: str) -> Policy:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_POLICY_BYTES:
        raise PolicyError(source, [f"{source}: file is {len(raw)} bytes; the limit is {MAX_POLICY_BYTES}"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(source, [f"{source}: not UTF-8 ({exc.reason} at byte {exc.start})"]) from exc
    doc = _parse_yaml(text, source)
    if doc is None:
        doc = CommentedMap()
    if not isinstance(doc, CommentedMap):
        raise PolicyError(source, [f"{source}:1: the policy must be a mapping (key: value), not a list or scalar"])
    try:
        return Policy.model_validate(_plain(doc))
    except ValidationError as exc:
        raise PolicyError(source, [m for err in exc.errors() for m in _describe(err, doc, source)]) from exc


def load_policy_checked(data: bytes | str, source: str) -> tuple[Policy, list[str]]:
    """Load a policy and also return warnings about rules that are valid but probably do not mean
    what they say (``govbot policy validate`` prints them), each at its own line."""
    policy = load_policy_text(data, source)
    doc = _parse_yaml(data.decode("utf-8") if isinstance(data, bytes) else data, source)
    return policy, [f"{source}:{_line_of(doc, loc)}: {_dotted(loc)}: {msg}" for loc, msg in policy_warnings(policy)]


_GATING = ("block", "require_review")


def policy_warnings(policy: Policy) -> list[tuple[tuple[str | int, ...], str]]:
    """Rules that fire on more than their author probably meant. Pure."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    for i, rule in enumerate(policy.rules):
        m = rule.match
        if rule.action.value in _GATING and m.finding_level and m.in_diff is None and m.tool != ["llm"]:
            out.append((("rules", i, "match"), (
                f"rule {rule.id!r} ({rule.action.value}) has no 'in_diff': it also fires on findings "
                "outside the changed lines, so any change that touches a file with an old issue is "
                f"{'blocked' if rule.action.value == 'block' else 'held for review'}; add 'in_diff: true' "
                "unless that is what you want (or 'in_diff: false' to say so)")))
    return out


def _parse_yaml(text: str, source: str) -> Any:
    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    try:
        for event in yaml.parse(text):
            if isinstance(event, AliasEvent):
                line = event.start_mark.line + 1 if event.start_mark else 0
                raise PolicyError(source, [f"{source}:{line}: YAML aliases (*name) are not allowed in a policy"])
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise PolicyError(source, [f"{source}:{line}: {problem}"]) from exc
    except YAMLError as exc:
        raise PolicyError(source, [f"{source}: invalid YAML: {exc}"]) from exc


def _plain(node: Any) -> Any:
    """ruamel's round-trip containers as plain dicts and lists (pydantic strictness applies)."""
    if isinstance(node, CommentedMap):
        return {str(k) if not isinstance(k, str) else k: _plain(v) for k, v in node.items()}
    if isinstance(node, CommentedSeq):
        return [_plain(v) for v in node]
    return node


def _describe(err: Any, doc: CommentedMap, source: str) -> list[str]:
    loc = tuple(err["loc"])
    if err["type"] == "govbot_located":
        # The model's own cross-field checks: one line per problem, at the problem's own key.
        return [f"{source}:{_line_of(doc, loc + sub)}: {_dotted(loc + sub)}: {msg}"
                for sub, msg in err["ctx"]["problems"]]
    line = _line_of(doc, loc)
    where = _dotted(loc)
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        parent = _lookup(Policy, loc[:-1])
        allowed = ", ".join(sorted(parent)) if parent else ""
        msg = f"unknown key {loc[-1]!r}" + (f"; allowed keys: {allowed}" if allowed else "")
    elif err["type"] in ("enum", "literal_error"):
        expected = err.get("ctx", {}).get("expected", "")
        msg = f"{err['input']!r} is not allowed; expected {expected}"
    elif err["type"] == "value_error":
        msg = msg.removeprefix("Value error, ")
    elif err["type"] == "too_short" and isinstance(err.get("input"), list):
        msg = "an empty list never matches anything; name at least one value or remove the key"
    return [f"{source}:{line}: {where}: {msg}"]


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _line_of(doc: Any, loc: tuple[Any, ...]) -> int:
    """The 1-based line of the deepest node on ``loc`` that exists in the YAML."""
    node, line = doc, 1
    for part in loc:
        if isinstance(node, CommentedMap) and isinstance(part, str) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def _lookup(model: Any, loc: tuple[Any, ...]) -> list[str] | None:
    """Allowed field names of the model reached by following ``loc`` through the policy model."""
    from typing import get_args

    current = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return None
        current = _model_in(field.annotation, get_args)
        if current is None:
            return None
    fields = getattr(current, "model_fields", None)
    return list(fields) if fields else None


def _model_in(annotation: Any, get_args: Any) -> Any:
    if hasattr(annotation, "model_fields"):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg, get_args)
        if found is not None:
            return found
    return None
