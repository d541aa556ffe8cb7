"""Redact secrets from every text before it leaves the machine.

Three layers, applied to diff lines, PR title, body, commit messages and finding texts:

1. lines the secret scanner flagged (``Finding(tool="secrets", path, line)``) are replaced whole,
   and a file flagged without a line is withheld whole;
2. detect-secrets' plugins (default settings, in process) scan every line; a hit replaces the
   secret value and the full match of regex detectors (some report only a prefix such as ``ghp``);
3. a few well-known key formats detect-secrets does not cover, and private-key blocks (PEM,
   OpenSSH, PGP, PuTTY ``.ppk``, four-dash SSH2), whose body lines no line scanner flags, are
   redacted as whole blocks, before and whatever any other layer decides for their lines.

A line that still makes a detector fire after all that is replaced whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.settings import default_settings, get_plugins

from govbot.core.diff import PatchLine, iter_patch
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
    re.compile(r"\bnpm_[A-Za-z0-9]{36}"),
    re.compile(r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}"),
    re.compile(r"\bxox[abposr]-[0-9A-Za-z\-]{10,}"),
    re.compile(r"\beyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}"),
)
# Free text has no file type for detect-secrets' keyword detector: "password: hunter2" in a PR body.
_TEXT_KEYWORD = re.compile(
    r"(?i)\b(?:password|passwd|pwd|secret|token|api[_ -]?key|access[_ -]?key|client[_ -]?secret|credentials?)"
    r"\b[\"']?\s*(?:[:=]|\bis\b)\s*(?P<v>\"[^\"\n]{4,}\"|'[^'\n]{4,}'|[^\s\"'(),;\[\]{}<>]{6,})"
)
# A private key is a block: its BEGIN line, its body and its END line go as one. PEM/OpenSSH/PGP
# use five dashes, ssh.com/RFC 4716 SSH2 keys four; PuTTY .ppk files run from their header line to
# the Private-MAC (v2) or Private-Hash (v3) line.
_KEY_BEGIN = re.compile(
    r"-{4,5} ?BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)? ?-{4,5}|PuTTY-User-Key-File-\d+:"
)
_KEY_END = re.compile(r"-{4,5} ?END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)? ?-{4,5}|Private-(?:MAC|Hash):")
# Seen with no BEGIN before it (a hunk that starts mid-key): the lines above it are key body too.
_KEY_MIDDLE = re.compile(r"^(?:Private-Lines:|Public-Lines:)")


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
        """Redact free text (title, body, commit message) line by line, key blocks as blocks."""
        lines = text.splitlines(keepends=True)
        bodies = [line.rstrip("\r\n") for line in lines]
        blocked = key_block_lines(bodies)
        out: list[str] = []
        for i, (line, body) in enumerate(zip(lines, bodies, strict=True)):
            end = line[len(body):]
            if i in blocked:
                counts.lines += 1
                out.append(REDACTED_LINE + end)
            else:
                out.append(self.line(body, filename, counts, free_text=True) + end)
        return "".join(out)

    def path(self, path: str, counts: Redaction) -> str:
        """A file name as it may be shown or sent: a secret in the name is redacted like text."""
        if not path:
            return path
        return self.line(path, "file-name.txt", counts, free_text=True)

    def patch(self, path: str, patch: str, flagged: Iterable[int | None], counts: Redaction) -> str:
        """Redact one file's unified diff. ``flagged`` are new-side line numbers from the secret
        scanner; ``None`` among them withholds the whole file."""
        flagged_set = set(flagged)
        lines = list(iter_patch(patch))
        if None in flagged_set:
            counts.files += 1
            header = [pl.text for pl in lines if pl.kind == "header"]
            return "\n".join([*(self.line(h, path, counts) for h in header), WITHHELD_FILE]) + "\n"
        blocked = _patch_key_blocks(lines)
        out: list[str] = []
        for i, pl in enumerate(lines):
            tag = _TAGS.get(pl.kind)
            if tag is None:
                # Outside a hunk (headers, notes, what a desynchronised count leaves): redact as
                # strictly as code, so nothing the parser mis-files leaves in clear.
                out.append(REDACTED_LINE if i in blocked else self.line(pl.text, path, counts, free_text=True))
            elif i in blocked or (pl.kind != "removed" and pl.new_no in flagged_set):
                counts.lines += 1
                out.append(tag + REDACTED_LINE)
            else:  # code lines get the free-text keyword rule too: `password = "*0000000"`
                out.append(tag + self.line(pl.text, path, counts, free_text=True))
        return "\n".join(out) + ("\n" if out else "")


_TAGS = {"added": "+", "removed": "-", "context": " "}


def key_block_lines(lines: Sequence[str]) -> frozenset[int]:
    """Indexes of the lines that belong to a private-key block (BEGIN to END, both included).

    An END (or a PuTTY ``Private-Lines:``) with no BEGIN before it means the text starts inside
    a key: every line since the last closed block belongs to it. A block never closed runs to
    the end. Over-redacting a line is the safe failure here."""
    inside: set[int] = set()
    start: int | None = None
    last_close = -1
    for i, line in enumerate(lines):
        if start is None:
            if _KEY_BEGIN.search(line):
                start = i
            elif _KEY_END.search(line) or _KEY_MIDDLE.search(line):
                inside.update(range(last_close + 1, i))
                start = i
        if start is not None:
            inside.add(i)
            opened = _KEY_BEGIN.search(line) if i == start else None
            if _KEY_END.search(line[opened.end():] if opened else line):
                start, last_close = None, i
    return frozenset(inside)


def _patch_key_blocks(lines: Sequence[PatchLine]) -> frozenset[int]:
    """Key-block lines of a diff, seen from each side (old: removed + context, new: added +
    context); a line in a block on either side is in a block. Lines outside the hunk counts
    (headers, or what a desynchronised count leaves there) belong to both sides."""
    blocked: set[int] = set()
    for side in ("removed", "added"):
        idx = [i for i, pl in enumerate(lines) if pl.kind in (side, "context", "header", "note")]
        blocked.update(idx[j] for j in key_block_lines([lines[i].text for i in idx]))
    return frozenset(blocked)


def flagged_lines(findings: Sequence[Finding]) -> Mapping[str, list[int | None]]:
    """Secret-scanner locations per path (the finding never carries the secret itself)."""
    found: dict[str, list[int | None]] = {}
    for f in findings:
        if f.tool == "secrets":
            found.setdefault(f.path, []).append(f.line)
    return found
