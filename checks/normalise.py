"""Pure post-processing of raw scanner findings: fingerprints, diff scope, suppressions, dedupe.

Findings outside the diff scope are kept and marked ``in_diff=False`` (never silently dropped).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from govbot.core.diff import all_lines_changed, span_in_scope, span_touched
from govbot.core.fingerprint import finding_fingerprint
from govbot.core.models import ChangedFile, DiffScope, Finding, Severity, Suppression

SUPPRESSION_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("nosec", re.compile(r"#\s*nosec\b", re.IGNORECASE)),
    ("nosemgrep", re.compile(r"\bnosemgrep\b", re.IGNORECASE)),
    (
        "pragma: allowlist secret",
        re.compile(r"pragma:\s*allowlist[ -]?(?:next)?[ -]?(?:line)?[ -]?secret", re.IGNORECASE),
    ),
)
_MAX_LINE_CHARS = 10_000
_TOOL_PRIORITY = {"secrets": 0, "semgrep": 1, "bandit": 2, "govbot": 3, "llm": 4}


class SourceLines:
    """Head-side text of changed files, split into lines lazily.

    Only the most recently used files stay split (findings are processed in path order), so a
    3,000-file change does not hold every line of every file at once.
    """

    CACHE_FILES = 32

    def __init__(self, load: Callable[[str], bytes | None]) -> None:
        self._load = load
        self._lines: OrderedDict[str, list[str]] = OrderedDict()

    @classmethod
    def from_dir(cls, root: Path) -> SourceLines:
        """Files materialised under ``root`` (paths were checked when they were written)."""

        def load(path: str) -> bytes | None:
            try:
                return (root / path).read_bytes()
            except (OSError, ValueError):
                return None

        return cls(load)

    def lines(self, path: str) -> list[str]:
        if path in self._lines:
            self._lines.move_to_end(path)
            return self._lines[path]
        raw = self._load(path) or b""
        lines = raw.decode("utf-8", "replace").splitlines()
        self._lines[path] = lines
        if len(self._lines) > self.CACHE_FILES:
            self._lines.popitem(last=False)
        return lines

    def line(self, path: str, number: int | None) -> str:
        lines = self.lines(path)
        if number is None or not 1 <= number <= len(lines):
            return ""
        return lines[number - 1][:_MAX_LINE_CHARS]


def marker_in(text: str) -> str | None:
    for name, pattern in SUPPRESSION_MARKERS:
        if pattern.search(text):
            return name
    return None


def normalise(
    raw: Sequence[Finding],
    files: Mapping[str, ChangedFile],
    source: SourceLines,
    scope: DiffScope,
) -> list[Finding]:
    """Fingerprint, scope and mark suppressions; then merge what two tools both reported."""
    seen: dict[str, int] = {}
    out: list[Finding] = []
    for f in sorted(raw, key=_order):
        changed = files.get(f.path)
        updates: dict[str, object] = {
            "in_diff": changed is not None and span_in_scope(changed, f.line, f.end_line, scope),
            "suppression": _suppression(f, changed, source),
        }
        if not f.fingerprint:
            code = "\n".join(source.line(f.path, n) for n in _span(f))
            base = finding_fingerprint(f.rule_id, f.path, code)
            seen[base] = seen.get(base, -1) + 1
            updates["fingerprint"] = finding_fingerprint(f.rule_id, f.path, code, seen[base])
        out.append(f.model_copy(update=updates))
    return dedupe(out)


def _order(f: Finding) -> tuple[str, int, str]:
    return (f.path, f.line or 0, f.rule_id)


def _span(f: Finding) -> range:
    if f.line is None:
        return range(0)
    end = f.end_line if f.end_line and f.end_line >= f.line else f.line
    return range(f.line, min(end, f.line + 20) + 1)


def _suppression(f: Finding, changed: ChangedFile | None, source: SourceLines) -> Suppression | None:
    """The suppression comment on a finding's first line, or on a comment line just above it.

    It is honoured only for code the change left alone: it counts as added by the change when the
    comment line is new, or when the change wrote or cut into ANY line of the finding's span —
    the same span the diff scope looks at (issue 9, class 6: a ``# nosec`` on the first line of a
    multi-line call in the base no longer covers a new ``shell=True`` three lines below)."""
    if f.line is None:
        return None
    for number in (f.line, f.line - 1):
        marker = marker_in(source.line(f.path, number))
        if marker and (number == f.line or source.line(f.path, number).lstrip().startswith("#")):
            added = changed is not None and (
                span_touched(changed, number, number) or span_touched(changed, f.line, f.end_line)
            )
            return Suppression(marker=marker, added_by_change=added)
    return None


def added_suppressions(files: Sequence[ChangedFile], source: SourceLines) -> list[Finding]:
    """One finding per suppression comment that the change itself adds."""
    findings: list[Finding] = []
    for changed in files:
        if all_lines_changed(changed):  # a moved file's suppressions are new where they land
            numbers: Sequence[int] = range(1, len(source.lines(changed.path)) + 1)
        else:
            numbers = sorted(changed.added_lines)
        for number in numbers:
            text = source.line(changed.path, number)
            marker = marker_in(text)
            if marker is None:
                continue
            rule_id = "govbot:suppression-added"
            findings.append(
                Finding(
                    tool="govbot",
                    rule_id=rule_id,
                    severity=Severity.MEDIUM,
                    path=changed.path,
                    line=number,
                    message=f"the change adds a '{marker}' suppression; a reviewer should confirm it",
                    fingerprint=finding_fingerprint(rule_id, changed.path, text),
                    suppression=Suppression(marker=marker, added_by_change=True),
                )
            )
    return findings


NEAR_LINES = 2  # a source and its sink, reported by two tools on neighbouring lines


def dedupe(findings: Sequence[Finding]) -> list[Finding]:
    """Merge findings of different tools that share a CWE on the same line, or on lines at most
    ``NEAR_LINES`` apart with the same diff scope (bandit's B608 flags the f-string that builds a
    query, semgrep's taint rule the execute() one line below: one SQL injection, reported once);
    identical findings of one tool are kept once."""
    kept: list[Finding] = []
    index: dict[tuple[str, int | None, str], int] = {}
    by_cwe: dict[tuple[str, str], list[int]] = {}
    for f in sorted(findings, key=lambda x: (_TOOL_PRIORITY.get(x.tool, 9), -x.severity.rank, _order(x))):
        keys = [(f.path, f.line, c) for c in f.cwe] or [(f.path, f.line, f.rule_id)]
        hit = next((index[k] for k in keys if k in index and f.line is not None), None)
        if hit is None and f.line is not None:
            hit = next((i for c in f.cwe for i in by_cwe.get((f.path, c), ())
                        if _near(kept[i], f) and kept[i].tool != f.tool and kept[i].in_diff == f.in_diff), None)
        if hit is None or kept[hit].tool == f.tool:
            if hit is not None and kept[hit].rule_id == f.rule_id and kept[hit].fingerprint == f.fingerprint:
                continue  # the same tool reported the same thing twice
            index.update({k: len(kept) for k in keys if k not in index})
            for c in f.cwe:
                by_cwe.setdefault((f.path, c), []).append(len(kept))
            kept.append(f)
            continue
        # The first tool's finding keeps its documented severity (docs/rules.md): a co-reporting
        # tool is listed, never escalates it (bandit's B324 "high" next to a medium weak-hash rule).
        winner = kept[hit]
        also = tuple(sorted({*winner.also_reported_by, f"{f.tool}:{f.rule_id.split(':', 1)[-1]}"}))
        kept[hit] = winner.model_copy(update={"also_reported_by": also})
    return sorted(kept, key=_order)


def _near(a: Finding, b: Finding) -> bool:
    if a.line is None or b.line is None:
        return False
    a_end = a.end_line if a.end_line and a.end_line >= a.line else a.line
    b_end = b.end_line if b.end_line and b.end_line >= b.line else b.line
    return b.line <= a_end + NEAR_LINES and a.line <= b_end + NEAR_LINES


def severity_counts(findings: Sequence[Finding]) -> dict[Severity, int]:
    counts = dict.fromkeys(Severity, 0)
    for f in findings:
        counts[f.severity] += 1
    return counts
