"""The hidden state of a govbot run, stored in the check run and the sticky comment: what the last
full run decided, so review events and re-runs can act without re-analysing, and what the last
LLM review covered (head, base, the LLM findings shown), so the next push can be reviewed
incrementally (``govbot.router.incremental``). The App stores the same ``reviewed`` record."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from govbot.core.models import Finding, Verification
from govbot.router.incremental import ReviewedState

_STATE = re.compile(r"<!-- govbot:state ([A-Za-z0-9+/=]{1,60000}) -->")
_SHA = re.compile(r"^[0-9a-f]{7,64}$")
MAX_CARRIED = 50  # LLM findings remembered; the comment stays far below GitHub's 65,536 characters
_KEPT = ("tool", "rule_id", "severity", "path", "line", "end_line", "message", "cwe", "fingerprint", "confidence",
         "verified", "verification")
_FP = re.compile(r"^[0-9a-f]{8,64}$")


@dataclass(frozen=True)
class RunState:
    head: str
    outcome: str
    complete: bool
    review_label: str
    reviewed: ReviewedState | None = None  # the last LLM review, for incremental review

    def encode(self) -> str:
        data: dict[str, Any] = {"head": self.head, "outcome": self.outcome, "complete": self.complete,
                                "review_label": self.review_label}
        if self.reviewed is not None:
            data["reviewed"] = encode_reviewed(self.reviewed)
        raw = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
        # base64 keeps label names from closing the HTML comment ("-->").
        return f"<!-- govbot:state {base64.b64encode(raw).decode()} -->"

    @classmethod
    def decode(cls, text: str) -> RunState | None:
        m = _STATE.search(text)
        if not m:
            return None
        try:
            data = json.loads(base64.b64decode(m[1], validate=True))
            return cls(head=str(data["head"]), outcome=str(data["outcome"]), complete=bool(data["complete"]),
                       review_label=str(data["review_label"]), reviewed=decode_reviewed(data.get("reviewed")))
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None


def encode_reviewed(state: ReviewedState) -> dict[str, Any]:
    findings = [f.model_dump(mode="json", include=set(_KEPT)) for f in state.findings[:MAX_CARRIED]]
    verdicts = {fp: v.model_dump(mode="json") for fp, v in sorted(state.verdicts.items())[:MAX_CARRIED]}
    return {"head": state.head, "base": state.base, "findings": findings, "verdicts": verdicts}


def decode_reviewed(data: Any) -> ReviewedState | None:
    """A malformed or tampered record means "no previous review": the next review is full."""
    if not isinstance(data, dict):
        return None
    head, base = data.get("head"), data.get("base")
    if not (isinstance(head, str) and isinstance(base, str) and _SHA.match(head) and _SHA.match(base)):
        return None
    raw = data.get("verdicts", {})
    try:
        findings = tuple(Finding.model_validate(f) for f in data.get("findings", ())[:MAX_CARRIED])
        verdicts = {str(fp): Verification.model_validate(v) for fp, v in list(raw.items())[:MAX_CARRIED]}
    except (ValidationError, TypeError, AttributeError):
        return None
    if any(f.tool != "llm" for f in findings):
        return None  # only the LLM's findings are carried; scanners run again on every push
    if not all(_FP.match(fp) for fp in verdicts):
        return None
    return ReviewedState(head=head, base=base, findings=findings, verdicts=verdicts)
