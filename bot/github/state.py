"""The hidden state of a govbot run, stored in the check run and the sticky comment: what the last
full run decided, so review events and re-runs can act without re-analysing."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass

_STATE = re.compile(r"<!-- govbot:state ([A-Za-z0-9+/=]{1,4000}) -->")


@dataclass(frozen=True)
class RunState:
    head: str
    outcome: str
    complete: bool
    review_label: str

    def encode(self) -> str:
        raw = json.dumps(self.__dict__, sort_keys=True, separators=(",", ":")).encode()
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
                       review_label=str(data["review_label"]))
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
