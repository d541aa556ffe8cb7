"""Pure parsing of git's machine-readable diff output into ``ChangedFile`` values.

Statuses, modes and exact path bytes come from ``git diff --raw -z`` (NUL-separated, so file
names with spaces, newlines, quotes or leading dashes survive untouched). Hunks and added line
numbers come from the unified patch, parsed by the ``unidiff`` library; git emits both lists in
the same order, which ``merge_raw_and_patch`` checks.

Also here: walking one file's unified diff line by line without trusting its content
(``iter_patch``), and a ``ChangeSet`` from a plain unified diff (``changeset_from_diff``, for
``govbot route`` and ``govbot eval``, which have no repository to read from).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchedFile, PatchSet

from govbot.core.errors import ConfigError, GitError
from govbot.core.models import ChangedFile, ChangeSet, FileKind, FileStatus, Hunk

_NULL_SHA = "0" * 40
_FILE_HEADER = re.compile(r"^diff --git ", re.MULTILINE)
_STATUS = {
    "A": FileStatus.ADDED,
    "M": FileStatus.MODIFIED,
    "D": FileStatus.DELETED,
    "R": FileStatus.RENAMED,
    "C": FileStatus.COPIED,
    "T": FileStatus.TYPE_CHANGED,
}


@dataclass(frozen=True)
class RawEntry:
    old_mode: str
    new_mode: str
    old_sha: str
    new_sha: str
    status: FileStatus
    path: str
    old_path: str | None


def kind_for_mode(mode: str) -> FileKind:
    if mode == "120000":
        return FileKind.SYMLINK
    if mode == "160000":
        return FileKind.SUBMODULE
    if mode == "100755":
        return FileKind.EXECUTABLE
    return FileKind.REGULAR


def parse_raw_z(data: bytes) -> list[RawEntry]:
    """Parse ``git diff --raw -z --no-abbrev`` output."""
    parts = data.split(b"\0")
    entries: list[RawEntry] = []
    i = 0
    while i < len(parts):
        head = parts[i]
        if not head:
            i += 1
            continue
        if not head.startswith(b":"):
            raise GitError(f"unexpected git diff --raw record: {head[:80]!r}")
        fields = head[1:].decode("ascii").split(" ")
        if len(fields) != 5:
            raise GitError(f"unexpected git diff --raw header: {head[:80]!r}")
        old_mode, new_mode, old_sha, new_sha, status_field = fields
        code = status_field[0]
        if code not in _STATUS:
            raise GitError(f"unsupported git diff status {status_field!r}")
        two_paths = code in "RC"
        if i + 1 + int(two_paths) >= len(parts):
            raise GitError("truncated git diff --raw output")
        first = _decode_path(parts[i + 1])
        if two_paths:
            second = _decode_path(parts[i + 2])
            entries.append(RawEntry(old_mode, new_mode, old_sha, new_sha, _STATUS[code], second, first))
            i += 3
        else:
            entries.append(RawEntry(old_mode, new_mode, old_sha, new_sha, _STATUS[code], first, None))
            i += 2
    return entries


def _decode_path(raw: bytes) -> str:
    # Non-UTF-8 file names are kept reversible (surrogateescape) rather than lost.
    return raw.decode("utf-8", "surrogateescape")


def split_patch(patch_text: str) -> list[str]:
    """One section per file. Content lines always start with ' ', '+', '-' or '\\', so a line that
    starts with ``diff --git`` is always a file header."""
    starts = [m.start() for m in _FILE_HEADER.finditer(patch_text)]
    if not starts:
        return []
    return [patch_text[a:b] for a, b in zip(starts, [*starts[1:], len(patch_text)], strict=True)]


def merge_raw_and_patch(entries: list[RawEntry], patch_text: str) -> list[ChangedFile]:
    """Combine raw entries with the hunks of ``git diff`` for the same two trees.

    Each file's section is parsed on its own, so memory stays bounded by the largest file rather
    than the whole change (unidiff keeps an object per line).
    """
    sections = split_patch(patch_text)
    # A type change (file <-> symlink) is one --raw entry but two patches: deletion, then addition.
    expected = sum(2 if e.status is FileStatus.TYPE_CHANGED else 1 for e in entries)
    if len(sections) != expected:
        raise GitError(f"git's patch lists {len(sections)} files but --raw lists {expected}; refusing to guess")
    files: list[ChangedFile] = []
    it = iter(sections)
    for entry in entries:
        section = next(it)
        if entry.status is FileStatus.TYPE_CHANGED:
            section = next(it)
        files.append(_changed_file(entry, _parse_one(section), section))
    return files


def _parse_one(section: str) -> PatchedFile:
    try:
        patch = PatchSet(section)
    except UnidiffParseError as exc:
        raise GitError(f"could not parse git's patch output: {exc}") from exc
    if len(patch) != 1:
        raise GitError(f"expected one file in a patch section, found {len(patch)}")
    file: PatchedFile = patch[0]
    return file


def hunks_and_added(pf: PatchedFile) -> tuple[tuple[Hunk, ...], frozenset[int]]:
    hunks = tuple(
        Hunk(old_start=h.source_start, old_lines=h.source_length, new_start=h.target_start, new_lines=h.target_length)
        for h in pf
    )
    added = frozenset(
        line.target_line_no for h in pf for line in h if line.is_added and line.target_line_no is not None
    )
    return hunks, added


def parse_hunks(patch: str) -> tuple[tuple[Hunk, ...], frozenset[int]]:
    """Hunks and added lines of a patch that has hunks only (GitHub's files API ``patch``).

    unidiff needs file headers, so two fixed ones are prepended; the real names never enter the
    parser. Raises GitError when the text is not a patch.
    """
    text = "--- a/file\n+++ b/file\n" + patch + ("" if patch.endswith("\n") else "\n")
    hunks, added = hunks_and_added(_parse_one(text))
    if patch.strip() and not hunks:
        raise GitError("the patch has text but no hunks")
    return hunks, added


def _changed_file(entry: RawEntry, pf: PatchedFile, section: str) -> ChangedFile:
    deleted = entry.status is FileStatus.DELETED
    mode = entry.old_mode if deleted else entry.new_mode
    hunks, added = hunks_and_added(pf)
    mode_only = (
        entry.status is FileStatus.MODIFIED
        and entry.old_sha == entry.new_sha
        and entry.old_mode != entry.new_mode
    )
    return ChangedFile(
        path=entry.path,
        old_path=entry.old_path,
        status=entry.status,
        kind=kind_for_mode(mode),
        old_mode=None if entry.old_mode == "000000" else entry.old_mode,
        new_mode=None if entry.new_mode == "000000" else entry.new_mode,
        binary=bool(pf.is_binary_file),
        mode_only=mode_only,
        hunks=hunks,
        added_lines=added,
        additions=pf.added,
        deletions=pf.removed,
        head_blob=None if entry.new_sha == _NULL_SHA else entry.new_sha,
        base_blob=None if entry.old_sha == _NULL_SHA else entry.old_sha,
        patch=section,
    )


# Code that lands at a path it did not have in the base is new there, whatever git calls it: a
# rename or a copy moves code into a new place (another package, a web-facing module, a path
# the policy treats differently), so every line of it is part of the change (issue 9, class 7).
WHOLE_FILE_STATUSES = frozenset({FileStatus.ADDED, FileStatus.RENAMED, FileStatus.COPIED})


def all_lines_changed(file: ChangedFile) -> bool:
    """Whether every line of ``file`` counts as changed: new at its path, or lines not known."""
    return file.status in WHOLE_FILE_STATUSES or file.lines_unknown


def span_in_scope(file: ChangedFile, line: int | None, end_line: int | None, scope: str) -> bool:
    """A finding spanning ``line``..``end_line`` is in scope if any of its lines is (at most
    ``MAX_SPAN`` lines are looked at; a longer span counts as in scope)."""
    if line is None or end_line is None or end_line <= line:
        return in_scope(file, line, scope)
    if end_line - line > MAX_SPAN:
        return True
    return any(in_scope(file, n, scope) for n in range(line, end_line + 1))


MAX_SPAN = 200


def in_scope(file: ChangedFile, line: int | None, scope: str, context: int = 0) -> bool:
    """Whether a finding at ``line`` of ``file`` belongs to the change under a diff scope.

    Hunks come from ``git diff -U3`` (or GitHub's patches), so they already hold 3 context lines.
    """
    if scope == "file" or all_lines_changed(file):
        return True
    if line is None:
        return scope == "file"
    if scope == "added":
        return line in file.added_lines
    return any(h.new_start - context <= line <= h.new_end + context for h in file.hunks)


def cuts(file: ChangedFile) -> frozenset[int]:
    """New-side lines ``n`` such that the change removed lines between ``n`` and ``n + 1``
    (removing ``shell=False`` from the middle of a call changes the call). Without a patch, every
    pair of lines inside a hunk that removed something counts as cut."""
    if file.patch is None:
        return frozenset(n for h in file.hunks if h.old_lines for n in range(h.new_start - 1, h.new_end + 1))
    out: set[int] = set()
    last_new = 0  # the new-side number of the last line seen in the current hunk
    for pl in iter_patch(file.patch):
        if pl.kind == "hunk":
            m = _HUNK.match(pl.text)
            start = int(m.group(3)) if m else 1
            last_new = start if m and m.group(4) == "0" else start - 1  # "+4,0": after line 4
        elif pl.kind == "removed":
            out.add(last_new)
        elif pl.new_no is not None:
            last_new = pl.new_no
    return frozenset(out)


def span_touched(file: ChangedFile, line: int | None, end_line: int | None) -> bool:
    """Whether the change wrote any line of a finding's span, or cut lines out from inside it —
    the span the diff scope looks at (a span longer than ``MAX_SPAN`` counts as touched)."""
    if all_lines_changed(file):
        return True
    if line is None:
        return False
    end = end_line if end_line is not None and end_line >= line else line
    if end - line > MAX_SPAN:
        return True
    if any(n in file.added_lines for n in range(line, end + 1)):
        return True
    return end > line and any(line <= n < end for n in cuts(file))


# --------------------------------------------------------------------------------------------
# One file's unified diff, line by line. Hunk bodies are read by the counts in their ``@@``
# headers, so a removed SQL comment ``--- x`` or an added ``+++`` line is never mistaken for a
# file header.

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
    # Lines end at "\n" only: str.splitlines would also break at "\r", "\x1e", "\u2028" ...,
    # which are content inside a diff line, and a broken-off piece would leave the hunk.
    for raw in patch.split("\n")[: -1 if patch.endswith("\n") else None]:
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


# --------------------------------------------------------------------------------------------
# A ``ChangeSet`` from a plain unified diff (``git diff`` or a ``.diff`` download).


def _strip(path: str) -> str:
    return path[2:] if path.startswith(("a/", "b/")) else path


def changeset_from_diff(text: str, *, base: str = "base", head: str = "head") -> ChangeSet:
    try:
        patch = PatchSet(text)
    except UnidiffParseError as exc:
        raise ConfigError(f"not a unified diff: {exc}") from exc
    files = []
    for pf in patch:
        if pf.is_added_file:
            status = FileStatus.ADDED
        elif pf.is_removed_file:
            status = FileStatus.DELETED
        elif pf.is_rename:
            status = FileStatus.RENAMED
        else:
            status = FileStatus.MODIFIED
        path = _strip(pf.source_file if pf.is_removed_file else pf.target_file)
        old = _strip(pf.source_file) if pf.is_rename else None
        files.append(
            ChangedFile(
                path=path,
                old_path=old,
                status=status,
                binary=bool(pf.is_binary_file),
                hunks=tuple(
                    Hunk(old_start=h.source_start, old_lines=h.source_length, new_start=h.target_start,
                         new_lines=h.target_length)
                    for h in pf
                ),
                added_lines=frozenset(
                    line.target_line_no for h in pf for line in h if line.is_added and line.target_line_no
                ),
                additions=pf.added,
                deletions=pf.removed,
                patch=str(pf),
            )
        )
    return ChangeSet(base=base, head=head, files=tuple(files))
