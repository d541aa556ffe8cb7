"""Incremental review: on a new push, review only what changed since the last reviewed head.

Pure: the edges (the GitHub Action, the App) load the previous ``ReviewedState`` from the sticky
comment's hidden state and ask GitHub to compare the last reviewed head with the new one; these
functions decide what to review and what to carry over, with no I/O.

- First review, ``/govbot deep`` or ``/govbot recheck``, a base that moved, or history that was
  rewritten (the old head is not an ancestor of the new one: a force-push or rebase) -> full.
- Otherwise only the PR's hunks that touch lines changed since the last reviewed head are sent.
  An earlier LLM finding whose line was not touched is carried over (its line moved by the
  inserted/removed lines above it); one whose line changed and that the new review does not
  report again is marked resolved.
- A file whose change since the last review is lint-level by the router's own rules (docs,
  comments, whitespace, renames, lock files, version bumps: ``router/classify.py``) is not sent
  again, unless an earlier finding's lines are in that change: such a push cannot change what the
  code does, and the scanners still run on every push.
- Only the commit messages written since the last reviewed head are sent with the new hunks; the
  title and description always are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from govbot.core.diff import PatchLine, iter_patch
from govbot.core.models import Finding, Verification
from govbot.router.classify import RoutingRules, classify_file

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_OLD_START = re.compile(r"^@@ -(\d+)(?:,(\d+))?")


@dataclass(frozen=True)
class ReviewedState:
    """What the last LLM review covered: stored in the sticky comment's hidden state."""

    head: str
    base: str
    findings: tuple[Finding, ...] = ()  # the LLM findings shown then (fingerprinted, redacted, with scores)
    verdicts: Mapping[str, Verification] = field(default_factory=dict)  # scanner findings' scores, by fingerprint


@dataclass(frozen=True)
class Compare:
    """GitHub's compare of the last reviewed head with the new head, as the edge fetched it."""

    base: str  # the pull request's base SHA now
    head: str  # the new head
    ancestor: bool  # the last reviewed head is an ancestor of the new head
    patches: Mapping[str, str | None]  # path -> range-diff patch; None = changed without a patch (binary, too big)
    removed: frozenset[str] = frozenset()  # paths deleted since the last review


@dataclass(frozen=True)
class IncrementalPlan:
    mode: Literal["full", "incremental"]
    reason: str
    commits: str | None = None  # "X..Y" (short SHAs) when incremental
    # path -> new-side lines changed since the last review; None = the whole file
    changed: Mapping[str, frozenset[int] | None] = field(default_factory=dict)
    carried: tuple[Finding, ...] = ()  # earlier findings on untouched lines, at their new line
    touched: tuple[Finding, ...] = ()  # earlier findings on changed lines: resolved unless found again
    since: str | None = None  # the last reviewed head: commit messages up to it were sent before
    settled: tuple[tuple[str, str], ...] = ()  # (path, lint kind): changed since, lint-level, not sent
    verdicts: Mapping[str, Verification] = field(default_factory=dict)  # the last review's scanner scores
    # path -> new-side positions changed since the last review (added lines, and where lines were
    # removed); None = the whole file (no patch)
    positions: Mapping[str, frozenset[int] | None] = field(default_factory=dict)


def plan_incremental(
    previous: ReviewedState | None, compare: Compare | None, *, force: str | None = None,
    rules: RoutingRules | None = None,
) -> IncrementalPlan:
    """Decide full or incremental review (pure). ``force`` names a command that forces a full one;
    with ``rules``, files whose change since the last review is lint-level are not sent again."""
    if force:
        return IncrementalPlan("full", f"full review requested ({force})")
    if previous is None or compare is None:
        return IncrementalPlan("full", "first review of this pull request")
    if previous.base != compare.base:
        return IncrementalPlan("full", "the base branch moved since the last review")
    if not compare.ancestor:
        return IncrementalPlan("full", "history was rewritten since the last review (force-push or rebase)")
    changed: dict[str, frozenset[int] | None] = {}
    positions: dict[str, frozenset[int] | None] = {}
    for path, patch in compare.patches.items():
        changed[path] = None if patch is None else _added_lines(patch)
        positions[path] = None if patch is None else _changed_positions(patch)
    positions.update({path: None for path in compare.removed})
    carried: list[Finding] = []
    touched: list[Finding] = []
    for f in previous.findings:
        moved = _follow(f, compare)
        (carried if moved is not None else touched).append(moved or f)
    settled = _settled(compare, touched, rules) if rules is not None else ()
    commits = f"{previous.head[:7]}..{compare.head[:7]}"
    return IncrementalPlan("incremental", f"reviewed commits {commits}", commits, changed,
                           tuple(carried), tuple(touched), since=previous.head, settled=settled,
                           verdicts=previous.verdicts, positions=positions)


def _changed_positions(patch: str) -> frozenset[int]:
    """New-side lines the range diff added, plus the new-side line where it removed lines (pure)."""
    out: set[int] = set()
    nxt = 1  # the next new-side line
    for pl in iter_patch(patch):
        if pl.kind == "hunk":
            m = _HUNK.match(pl.text)
            if m:  # "+4,0" removes lines AFTER new line 4: the next new line is 5
                nxt = int(m.group(1)) + (1 if m.group(2) == "0" else 0)
        elif pl.new_no is not None:
            if pl.kind == "added":
                out.add(pl.new_no)
            nxt = pl.new_no + 1
        elif pl.kind == "removed":
            out.add(nxt)
    return frozenset(out)


def steady_verdicts(plan: IncrementalPlan, findings: Sequence[Finding], around: int) -> dict[str, Verification]:
    """The earlier verifier scores that still hold (pure): a finding keeps its score when nothing
    changed within ``around`` lines of it (the context the verifier saw) since the last review.

    ``findings`` are this run's scanner findings and the carried LLM findings (at their new lines);
    a scanner finding's score comes from the plan's record, an LLM finding's from the finding.
    A full review keeps none: everything is scored again.
    """
    if plan.mode == "full":
        return {}
    out: dict[str, Verification] = {}
    for f in findings:
        score = f.verification if f.tool == "llm" else plan.verdicts.get(f.fingerprint)
        if score is None or f.line is None:
            continue
        if f.path in plan.positions:
            where = plan.positions[f.path]
            last = f.end_line or f.line
            if where is None or any(f.line - around <= n <= last + around for n in where):
                continue  # its context changed: score it again
        out[f.fingerprint] = score
    return out


def _settled(compare: Compare, touched: Sequence[Finding], rules: RoutingRules) -> tuple[tuple[str, str], ...]:
    """Files whose range diff is lint-level and holds no earlier finding's lines (pure)."""
    held = {f.path for f in touched}
    out = []
    for path, patch in sorted(compare.patches.items()):
        if patch is None or path in held:
            continue
        kind = classify_file(path, patch, rules).lint
        if kind is not None:
            out.append((path, kind))
    return tuple(out)


def _added_lines(patch: str) -> frozenset[int]:
    return frozenset(pl.new_no for pl in iter_patch(patch) if pl.kind == "added" and pl.new_no is not None)


def _follow(f: Finding, compare: Compare) -> Finding | None:
    """The finding at its new line when its lines are untouched since the last review, else None."""
    if f.path in compare.removed:
        return None
    if f.path not in compare.patches:
        return f
    patch = compare.patches[f.path]
    if patch is None or f.line is None:
        return None  # cannot tell where it went: let the review look again
    last = f.end_line or f.line
    shift = 0
    cursor = 0  # the next old-side line the patch would consume
    for pl in iter_patch(patch):
        if pl.kind == "hunk":
            cursor = _old_start(pl.text, cursor)
        elif pl.kind in ("context", "removed") and pl.old_no is not None:
            if pl.kind == "removed" and f.line <= pl.old_no <= last:
                return None  # a line of the finding changed
            if pl.kind == "removed" and pl.old_no < f.line:
                shift -= 1
            cursor = pl.old_no + 1
        elif pl.kind == "added" and cursor <= f.line:
            shift += 1  # inserted above the finding (or a line inside its span: see below)
    if f.end_line and any(  # an insertion inside a multi-line finding changes it
        pl.kind == "added" for pl in _inside(patch, f.line, last)
    ):
        return None
    if shift == 0:
        return f
    end = f.end_line + shift if f.end_line else None
    return f.model_copy(update={"line": f.line + shift, "end_line": end})


def _old_start(header: str, default: int) -> int:
    m = _OLD_START.match(header)
    if not m:
        return default
    # "-5,0" inserts AFTER old line 5: the next old line is 6
    return int(m.group(1)) + (1 if m.group(2) == "0" else 0)


def _inside(patch: str, first: int, last: int) -> list[PatchLine]:
    """Lines the patch inserts strictly between old lines ``first`` and ``last``."""
    out: list[PatchLine] = []
    cursor = 0
    for pl in iter_patch(patch):
        if pl.kind == "hunk":
            cursor = _old_start(pl.text, cursor)
        elif pl.kind in ("context", "removed") and pl.old_no is not None:
            cursor = pl.old_no + 1
        elif pl.kind == "added" and first < cursor <= last:
            out.append(pl)
    return out


def scope_patch(patch: str, changed: frozenset[int] | None) -> str:
    """The PR patch of one file reduced to the hunks that contain a changed line (pure).

    ``None`` keeps the whole patch. The file header is kept, so line numbers stay those of the
    pull request's diff and the reviewer's findings can be checked against it as usual.
    """
    if changed is None:
        return patch
    lines = patch.splitlines(keepends=True)
    head: list[str] = []
    hunks: list[list[str]] = []
    for line in lines:
        if line.startswith("@@"):
            hunks.append([line])
        elif hunks:
            hunks[-1].append(line)
        else:
            head.append(line)
    kept = [h for h in hunks if _hunk_lines(h) & changed]
    return "".join(head) + "".join("".join(h) for h in kept) if kept else ""


def _hunk_lines(hunk: list[str]) -> frozenset[int]:
    m = _HUNK.match(hunk[0])
    if not m:
        return frozenset()
    start, count = int(m.group(1)), int(m.group(2) or 1)
    return frozenset(range(start, start + max(count, 1)))


def scope_patches(patches: Mapping[str, str], plan: IncrementalPlan) -> dict[str, str]:
    """The PR's per-file patches to send: everything for a full review, else only touched hunks."""
    if plan.mode == "full":
        return dict(patches)
    out = {}
    for path, patch in patches.items():
        if path not in plan.changed or any(path == p for p, _ in plan.settled):
            continue
        scoped = scope_patch(patch, plan.changed[path])
        if scoped.strip():
            out[path] = scoped
    return out


def merge_findings(plan: IncrementalPlan, new: Sequence[Finding]) -> tuple[tuple[Finding, ...], tuple[Finding, ...]]:
    """(findings to show, resolved): the new review's findings plus the carried ones it does not
    repeat; an earlier finding on a changed line that is not found again is resolved (pure)."""
    found = {f.fingerprint for f in new}
    shown = [*new, *(f for f in plan.carried if f.fingerprint not in found)]
    resolved = tuple(f for f in plan.touched if f.fingerprint not in found)
    return tuple(sorted(shown, key=lambda f: (f.path, f.line or 0, f.rule_id))), resolved
