"""Build a ``ChangeSet`` from a plain unified diff (``git diff`` or a ``.diff`` download), for
``govbot route`` and ``govbot eval``, which have no repository to read from."""

from __future__ import annotations

from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchSet

from govbot.core.errors import ConfigError
from govbot.core.models import ChangedFile, ChangeSet, FileStatus, Hunk


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
