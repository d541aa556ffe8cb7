"""Pure prompt rendering: templates are data files with ``{{ name }}`` placeholders.

Substitution is a single pass, so untrusted values containing ``{{ ... }}`` stay literal text. A
placeholder without a value, or a value without a placeholder, is an error, not a silent blank.
Untrusted text is fenced by the template between ``<<<UNTRUSTED <marker>`` and
``UNTRUSTED <marker>>>>`` lines, with a random marker per run that the PR author cannot guess.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from govbot.core.diff import iter_patch
from govbot.core.errors import GovbotError
from govbot.prompts.schema import VERIFY, output_schema_text

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
_MARKER = re.compile(r"^[A-Za-z0-9]{12,64}$")


class PromptError(GovbotError):
    """A template and its values do not fit together (a bug, reported loudly)."""


@dataclass(frozen=True)
class Prompt:
    system: str
    user: str
    # The output schema as text, for models without native structured output only: a provider that
    # takes the schema natively (OpenAI strict json_schema, an Anthropic forced tool) bills it once
    # there, so sending it again in the system prompt would pay for it twice on every request.
    schema: str = ""

    def system_with_schema(self) -> str:
        return f"{self.system}{self.schema}"


@lru_cache(maxsize=16)
def load_template(name: str) -> str:
    try:
        return resources.files("govbot.prompts").joinpath("templates", name).read_text("utf-8")
    except FileNotFoundError as exc:
        raise PromptError(f"prompt template {name!r} not found") from exc


def render(template: str, values: Mapping[str, str]) -> str:
    wanted = set(_PLACEHOLDER.findall(template))
    missing = sorted(wanted - set(values))
    unused = sorted(set(values) - wanted)
    if missing:
        raise PromptError(f"template variables without a value: {', '.join(missing)}")
    if unused:
        raise PromptError(f"values for variables the template does not use: {', '.join(unused)}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def numbered_diff(patch: str) -> str:
    """Prefix every diff body line with its new-side line number so the model can cite it."""
    out: list[str] = []
    for pl in iter_patch(patch):
        if pl.kind == "added":
            out.append(f"{pl.new_no:>6} +{pl.text}")
        elif pl.kind == "context":
            out.append(f"{pl.new_no:>6}  {pl.text}")
        elif pl.kind == "removed":
            out.append(f"{'':>6} -{pl.text}")
        else:
            out.append(pl.text)
    return "\n".join(out)


@dataclass(frozen=True)
class ReviewInput:
    """Already-redacted texts for one review request."""

    title: str
    body: str
    commit_messages: Sequence[str]
    scanner_findings: Sequence[str]
    patches: Sequence[str]  # unified diffs, one per file piece
    files: Sequence[str]
    chunk_number: int = 1
    chunk_count: int = 1
    note: str | None = None


def _check_marker(marker: str, untrusted: Sequence[str]) -> None:
    if not _MARKER.match(marker):
        raise PromptError("the fence marker must be 12-64 random letters and digits")
    if any(marker in text for text in untrusted):
        raise PromptError("the fence marker occurs in the untrusted text; draw a new one")


def review_prompt(data: ReviewInput, marker: str) -> Prompt:
    _check_marker(marker, [data.title, data.body, *data.commit_messages, *data.scanner_findings, *data.patches,
                           *data.files])
    system = render(load_template("review_system.md"), {"marker": marker})
    user = render(
        load_template("review_user.md"),
        {
            "marker": marker,
            "chunk_number": str(data.chunk_number),
            "chunk_count": str(data.chunk_count),
            # One name a line, inside the untrusted fence: a file name can carry text (issue 9, class 3).
            "chunk_files": "\n".join(data.files) or "(none)",
            "chunk_note": f"\n({data.note})" if data.note else "",
            "title": data.title or "(none)",
            "body": data.body or "(none)",
            "commit_messages": "\n---\n".join(data.commit_messages) or "(none)",
            "scanner_findings": "\n".join(f"- {f}" for f in data.scanner_findings) or "(none)",
            "diff": "\n".join(numbered_diff(p) for p in data.patches),
        },
    )
    return Prompt(system=system, user=user, schema=_schema_text(output_schema_text()))


def _schema_text(schema: str) -> str:
    return render(load_template("answer_schema.md"), {"output_schema": schema})


@dataclass(frozen=True)
class VerifyItem:
    """One already-redacted finding for the verifier, with its numbered diff context."""

    id: str
    headline: str  # "rule · severity · path:line · message"
    context: Sequence[str] = ()


def verify_prompt(items: Sequence[VerifyItem], marker: str) -> Prompt:
    _check_marker(marker, [t for i in items for t in (i.headline, *i.context)])
    blocks = []
    for item in items:
        body = "\n".join(item.context) if item.context else "(no diff context: the line is outside the diff)"
        blocks.append(f"### {item.id} · {item.headline}\n{body}")
    system = render(load_template("verify_system.md"), {"marker": marker})
    user = render(load_template("verify_user.md"),
                  {"marker": marker, "count": str(len(items)), "findings": "\n\n".join(blocks)})
    return Prompt(system=system, user=user, schema=_schema_text(json.dumps(VERIFY.schema(), indent=1, sort_keys=True)))
