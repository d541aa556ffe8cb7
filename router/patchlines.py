"""Walk the lines of one file's unified diff, with line numbers, without trusting its content.

Hunk bodies are read by the counts in their ``@@`` headers, so a removed SQL comment ``--- x``
or an added ``+++`` line is never mistaken for a file header.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")

Kind = Literal["header", "hunk", "context", "added", "removed", "note"]


@dataclass(frozen=True)
class PatchLine:
    kind: Kind
    text: str  # without the leading '+', '-' or ' ' for body lines; the whole line otherwise
    old_no: int | None = None
    new_no: int | None = None

    @property
    def changed(self) -> bool:
        return self.kind in ("added", "removed")


def iter_patch(patch: str) -> Iterator[PatchLine]:
    old_left = new_left = 0
    old_no = new_no = 0
    for raw in patch.splitlines():
        if old_left > 0 or new_left > 0:
            if raw.startswith("\\"):
                yield PatchLine("note", raw)
                continue
            tag, body = raw[:1], raw[1:]
            if tag == "+":
                yield PatchLine("added", body, new_no=new_no)
                new_no += 1
                new_left -= 1
                continue
            if tag == "-":
                yield PatchLine("removed", body, old_no=old_no)
                old_no += 1
                old_left -= 1
                continue
            if tag in (" ", ""):
                yield PatchLine("context", body, old_no=old_no, new_no=new_no)
                old_no += 1
                new_no += 1
                old_left -= 1
                new_left -= 1
                continue
            old_left = new_left = 0  # malformed count: fall through to header handling
        m = _HUNK.match(raw)
        if m:
            old_no, new_no = int(m.group(1)), int(m.group(3))
            old_left = int(m.group(2)) if m.group(2) is not None else 1
            new_left = int(m.group(4)) if m.group(4) is not None else 1
            yield PatchLine("hunk", raw)
        elif raw.startswith("\\"):
            yield PatchLine("note", raw)
        else:
            yield PatchLine("header", raw)


def changed_lines(patch: str) -> tuple[list[str], list[str]]:
    """(removed, added) line texts."""
    removed: list[str] = []
    added: list[str] = []
    for line in iter_patch(patch):
        if line.kind == "added":
            added.append(line.text)
        elif line.kind == "removed":
            removed.append(line.text)
    return removed, added


def hunk_new_lines(patch: str) -> frozenset[int]:
    """New-side line numbers shown in the diff (added and context lines)."""
    return frozenset(
        line.new_no for line in iter_patch(patch) if line.new_no is not None and line.kind != "removed"
    )
