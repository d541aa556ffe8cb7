"""Findings relative to the base: is a finding NEW in this change, or was it already there?

A finding the change only moved, re-wrapped, re-quoted or re-indented is not new. Like
``semgrep ci --baseline-commit`` and code-scanning alert matching, govbot scans the BASE version
of the files that have findings and matches them by identity, not by line number:

* secrets by the hash of the secret value (quotes, wrapping and position do not matter);
* static-analysis findings by rule id plus the matched code, with whitespace removed and quote
  characters unified (a black or ruff-format run changes neither).

Matching counts occurrences: two identical findings in the head and one in the base make one
pre-existing and one new. Pure functions; the pipeline runs the scanners.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from govbot.core.models import ChangedFile, FileStatus, Finding

BASELINE_TOOLS = frozenset({"secrets", "semgrep", "bandit"})
NEW = "new"
PRE_EXISTING = "pre_existing"
_SPAN_LINES = 20
_QUOTES = str.maketrans({"'": '"', "`": '"'})

LineReader = Callable[[str, int | None], str]


def files_needing_base(findings: Iterable[Finding], files: Sequence[ChangedFile]) -> list[ChangedFile]:
    """Modified files with a scanner finding in the diff: only code that stays at its path can
    hold a finding that already existed. A renamed or copied file is compared with nothing: the
    code is new where it lands (issue 9, class 7), so ``git mv`` of vulnerable code into a new
    place is reported as new, not matched against its old path."""
    paths = _in_diff_paths(findings)
    return [f for f in files if f.path in paths and _has_base(f)]


def base_scan_plan(findings: Iterable[Finding], files: Sequence[ChangedFile]) -> dict[str, list[str]]:
    """Per scanner, the files the base version must be scanned with: only the tools that
    reported in the diff of a file ``files_needing_base`` keeps, each only on its own such
    files. Nothing else can change a finding's state (``classify`` compares by tool and file)."""
    keep = {f.path for f in files if _has_base(f)}
    plan: dict[str, set[str]] = {}
    for f in findings:
        if f.tool in BASELINE_TOOLS and f.in_diff and f.path in keep:
            plan.setdefault(f.tool, set()).add(f.path)
    return {tool: sorted(paths) for tool, paths in sorted(plan.items())}


def _has_base(f: ChangedFile) -> bool:
    return f.status is FileStatus.MODIFIED and f.old_path in (None, f.path)


def _in_diff_paths(findings: Iterable[Finding]) -> set[str]:
    return {f.path for f in findings if f.tool in BASELINE_TOOLS and f.in_diff}


def identity(f: Finding, line_at: LineReader) -> tuple[str, ...]:
    """What makes two findings 'the same' across versions of a file (never a line number)."""
    if f.tool == "secrets" and f.secret_hash:
        return (f.path, "secret", f.secret_hash)
    return (f.path, f.rule_id, code_key(f, line_at))


def code_key(f: Finding, line_at: LineReader) -> str:
    if f.line is None:
        return ""
    end = f.end_line if f.end_line and f.end_line >= f.line else f.line
    text = "".join(line_at(f.path, n) for n in range(f.line, min(end, f.line + _SPAN_LINES) + 1))
    return "".join(text.split()).translate(_QUOTES)


def classify(
    head: Sequence[Finding],
    head_line: LineReader,
    base: Sequence[Finding],
    base_line: LineReader,
    compared: Iterable[tuple[str, str]],
) -> list[Finding]:
    """Mark scanner findings ``new`` or ``pre_existing`` where their tool finished a scan of the
    file's base version (``compared``: (tool, path) pairs); scanner findings elsewhere are
    ``new`` when in the diff (an added file, a tool or file without a completed base scan) and
    left unmarked otherwise, as are govbot's own and the LLM's. ``base`` needs no normalising:
    only its rule ids, secret hashes and lines are read."""
    done = set(compared)
    remaining = Counter(identity(b, base_line) for b in base if b.tool in BASELINE_TOOLS)
    states: dict[int, str | None] = {}
    # Findings outside the changed lines take the base's matches first: of two equal findings,
    # the one on an added line is the new one.
    for i in sorted(range(len(head)), key=lambda k: head[k].in_diff):
        f = head[i]
        if f.tool not in BASELINE_TOOLS:
            continue
        # Not compared: new if it is in the change (an added file has no base), else unknown.
        state: str | None = NEW if f.in_diff else None
        if (f.tool, f.path) in done:
            key = identity(f, head_line)
            state = PRE_EXISTING if remaining[key] > 0 else NEW
            remaining[key] -= state == PRE_EXISTING
        states[i] = state
    out: list[Finding] = []
    for i, f in enumerate(head):
        state = states.get(i)
        out.append(f if state is None else f.model_copy(update={"baseline": state, "message": _message(f, state)}))
    return out


def _message(f: Finding, state: str) -> str:
    """A secret's message says whether this change added it: the advice differs (rotate what was
    just pushed; an old one is known already and is not this author's doing)."""
    if f.tool != "secrets":
        return f.message
    if state == PRE_EXISTING:
        return f"{f.message}; already on the base branch, not added by this change"
    return f"{f.message}; added by this change"
