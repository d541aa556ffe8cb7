"""Redact secrets from every text before it leaves the machine.

Three layers, applied to diff lines, PR title, body, commit messages and finding texts:

1. lines the secret scanner flagged (``Finding(tool="secrets", path, line)``) are replaced whole,
   and a file flagged without a line is withheld whole;
2. detect-secrets' plugins (default settings, in process) scan every line; a hit replaces the
   secret value and the full match of regex detectors (some report only a prefix such as ``ghp``);
3. a few well-known key formats detect-secrets does not cover, and PEM private-key blocks
   (whose body lines no line scanner flags) are redacted as well.

A line that still makes a detector fire after all that is replaced whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.settings import default_settings, get_plugins

from govbot.core.diff import iter_patch
from govbot.core.models import Finding

REDACTED = "[REDACTED]"
REDACTED_LINE = "[REDACTED: line with a secret]"
WITHHELD_FILE = "[REDACTED: file withheld, the secret scanner flagged it]"

_EXTRA = (
    re.compile(r"sk-ant-[A-Za-z0-9_\-]{20,}"),
    re.compile(r"\bsk-[A-Za-z0-9_\-]{20,}"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),
    re.compile(r"\bAIza[0-9A-Za-z_\-]{30,}"),
    re.compile(r"\bglpat-[0-9A-Za-z_\-]{20,}"),
    re.compile(r"\bxox[abposr]-[0-9A-Za-z\-]{10,}"),
    re.compile(r"\beyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}"),
)
# Free text has no file type for detect-secrets' keyword detector: "password: hunter2" in a PR body.
_TEXT_KEYWORD = re.compile(
    r"(?i)\b(?:password|passwd|pwd|secret|token|api[_ -]?key|access[_ -]?key|client[_ -]?secret|credentials?)"
    r"\b[\"']?\s*(?:[:=]|\bis\b)\s*(?P<v>\"[^\"\n]{4,}\"|'[^'\n]{4,}'|[^\s\"'(),;\[\]{}<>]{6,})"
)
_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")


@dataclass
class Redaction:
    """Counts what was redacted (never what it was)."""

    values: int = 0
    lines: int = 0
    files: int = 0

    @property
    def total(self) -> int:
        return self.values + self.lines + self.files


class Redactor:
    """Holds detect-secrets' plugin instances, built once with default settings."""

    def __init__(self, plugins: Sequence[Any]) -> None:
        self._plugins = tuple(plugins)

    @classmethod
    def default(cls) -> Redactor:
        with default_settings():
            return cls(list(get_plugins()))

    def _hits(self, line: str, filename: str) -> list[str]:
        values: list[str] = []
        for plugin in self._plugins:
            found = plugin.analyze_line(filename=filename, line=line, line_number=1)
            if not found:
                continue
            values.extend(str(s.secret_value) for s in found if s.secret_value)
            if isinstance(plugin, RegexBasedDetector):
                values.extend(m.group(0) for rx in plugin.denylist for m in rx.finditer(line))
        values.extend(m.group(0) for rx in _EXTRA for m in rx.finditer(line))
        return values

    def line(self, line: str, filename: str, counts: Redaction, *, free_text: bool = False) -> str:
        values = self._hits(line, filename)
        if free_text:
            values.extend(m.group("v") for m in _TEXT_KEYWORD.finditer(line))
        if not values:
            return line
        out = line
        for value in sorted(set(values), key=len, reverse=True):
            out = out.replace(value, REDACTED)
        counts.values += 1
        if self._hits(out, filename):
            counts.lines += 1
            return REDACTED_LINE
        return out

    def text(self, text: str, counts: Redaction, filename: str = "pull-request.txt") -> str:
        """Redact free text (title, body, commit message) line by line, PEM blocks included."""
        out: list[str] = []
        in_key = False
        for line in text.splitlines(keepends=True):
            body = line.rstrip("\r\n")
            end = line[len(body):]
            in_key, redacted = self._pem(body, in_key, counts)
            out.append((redacted if redacted is not None else self.line(body, filename, counts, free_text=True)) + end)
        return "".join(out)

    def _pem(self, content: str, in_key: bool, counts: Redaction) -> tuple[bool, str | None]:
        if _PEM_BEGIN.search(content):
            counts.lines += 1
            return not _PEM_END.search(content), REDACTED_LINE
        if in_key:
            counts.lines += 1
            return not _PEM_END.search(content), REDACTED_LINE
        return False, None

    def patch(self, path: str, patch: str, flagged: Iterable[int | None], counts: Redaction) -> str:
        """Redact one file's unified diff. ``flagged`` are new-side line numbers from the secret
        scanner; ``None`` among them withholds the whole file."""
        flagged_set = set(flagged)
        if None in flagged_set:
            counts.files += 1
            header = [pl.text for pl in iter_patch(patch) if pl.kind == "header"]
            return "\n".join([*(self.line(h, path, counts) for h in header), WITHHELD_FILE]) + "\n"
        out: list[str] = []
        in_key = {"added": False, "removed": False, "context": False}
        for pl in iter_patch(patch):
            if pl.kind not in ("added", "removed", "context"):
                out.append(self.line(pl.text, path, counts))
                continue
            tag = {"added": "+", "removed": "-", "context": " "}[pl.kind]
            if pl.new_no is not None and pl.new_no in flagged_set:
                counts.lines += 1
                out.append(tag + REDACTED_LINE)
                continue
            state, redacted = self._pem(pl.text, in_key[pl.kind], counts)
            in_key[pl.kind] = state
            if pl.kind == "context":  # a key block seen from both sides
                in_key["added"] = in_key["removed"] = state
            out.append(tag + (redacted if redacted is not None else self.line(pl.text, path, counts)))
        return "\n".join(out) + ("\n" if out else "")


def flagged_lines(findings: Sequence[Finding]) -> Mapping[str, list[int | None]]:
    """Secret-scanner locations per path (the finding never carries the secret itself)."""
    found: dict[str, list[int | None]] = {}
    for f in findings:
        if f.tool == "secrets":
            found.setdefault(f.path, []).append(f.line)
    return found
