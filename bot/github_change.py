"""Edge in, GitHub path: build a ``ChangeSet`` from the REST API, and read PR content as data.

Nothing here checks out, runs or follows anything from the pull request: file bodies are git
blobs fetched by id, handed to the scanners as bytes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchSet

from govbot.bot.github_api import (
    MAX_LISTED_FILES,
    CommitData,
    GitHubError,
    GitHubPort,
    PullData,
    PullFile,
)
from govbot.core.models import (
    ChangedFile,
    ChangeSet,
    Commit,
    FileKind,
    FileStatus,
    Hunk,
    PullRequestMeta,
)

MAX_LISTED_COMMITS = 250  # GET /pulls/{n}/commits returns at most 250 commits
DIFF_MAX_FILES = 300  # GitHub's limits for a pull request's diff
DIFF_MAX_LINES = 20_000

_STATUS = {
    "added": FileStatus.ADDED,
    "removed": FileStatus.DELETED,
    "modified": FileStatus.MODIFIED,
    "renamed": FileStatus.RENAMED,
    "copied": FileStatus.COPIED,
    "changed": FileStatus.TYPE_CHANGED,
    "unchanged": FileStatus.MODIFIED,
}


def parse_patch(patch: str) -> tuple[tuple[Hunk, ...], frozenset[int]]:
    """Hunks and added line numbers of one file's ``patch`` from the files API.

    GitHub sends only the hunks; unidiff needs file headers, so two fixed ones are prepended
    (the real names never enter the parser).
    """
    try:
        parsed = PatchSet("--- a/file\n+++ b/file\n" + patch + ("" if patch.endswith("\n") else "\n"))
    except UnidiffParseError:
        return (), frozenset()
    if len(parsed) != 1:
        return (), frozenset()
    pf = parsed[0]
    hunks = tuple(
        Hunk(old_start=h.source_start, old_lines=h.source_length, new_start=h.target_start,
             new_lines=h.target_length)
        for h in pf
    )
    added = frozenset(
        line.target_line_no for h in pf for line in h if line.is_added and line.target_line_no is not None
    )
    return hunks, added


_SUBMODULE_LINE = re.compile(r"[+-]Subproject commit [0-9a-f]{40}")


def _kind(f: PullFile) -> FileKind:
    # The files API carries no modes; a submodule's patch is nothing but its pointer lines.
    body = [ln for ln in (f.patch or "").splitlines() if ln and not ln.startswith(("@@", "\\"))]
    if body and all(_SUBMODULE_LINE.fullmatch(ln) for ln in body):
        return FileKind.SUBMODULE
    return FileKind.REGULAR


def changed_file(f: PullFile) -> ChangedFile:
    status = _STATUS.get(f.status, FileStatus.MODIFIED)
    hunks, added = parse_patch(f.patch) if f.patch else ((), frozenset[int]())
    deleted = status is FileStatus.DELETED
    return ChangedFile(
        path=f.filename,
        old_path=f.previous_filename,
        status=status,
        kind=_kind(f),
        binary=f.patch is None and f.changes == 0 and status is not FileStatus.RENAMED and not deleted,
        hunks=hunks,
        added_lines=added,
        additions=f.additions,
        deletions=f.deletions,
        head_blob=None if deleted else f.sha,
        patch=f.patch,
    )


def commit(c: CommitData) -> Commit:
    return Commit(
        sha=c.sha,
        parents=c.parents,
        message=c.message,
        author_name=c.author_name,
        author_email=c.author_email,
        committer_name=c.committer_name,
        committer_email=c.committer_email,
        author_login=c.author.login if c.author else None,
        author_id=c.author.id if c.author else None,
        author_type=c.author.type if c.author else None,
        committer_login=c.committer.login if c.committer else None,
        committer_id=c.committer.id if c.committer else None,
        committer_type=c.committer.type if c.committer else None,
    )


def pull_meta(pr: PullData) -> PullRequestMeta:
    return PullRequestMeta(
        number=pr.number,
        title=pr.title,
        body=pr.body,
        author_login=pr.user.login,
        author_id=pr.user.id,
        author_type=pr.user.type,
        head_ref=pr.head_ref,
        base_ref=pr.base_ref,
        head_sha=pr.head_sha,
        base_sha=pr.base_sha,
        labels=pr.labels,
        draft=pr.draft,
        from_fork=pr.from_fork,
    )


def limits_hit(pr: PullData, files: Sequence[PullFile], commits: Sequence[CommitData]) -> tuple[str, ...]:
    """Human lines for every GitHub limit that made the change set partial. Pure."""
    notes: list[str] = []
    if pr.changed_files > len(files):
        cap = f" (GitHub lists at most {MAX_LISTED_FILES:,})" if len(files) >= MAX_LISTED_FILES else ""
        notes.append(
            f"only {len(files):,} of {pr.changed_files:,} changed files could be listed{cap}; "
            "the rest were not analysed"
        )
    lines = pr.additions + pr.deletions
    if pr.changed_files > DIFF_MAX_FILES or lines > DIFF_MAX_LINES:
        notes.append(
            f"the diff exceeds GitHub's limits ({pr.changed_files:,} files, {lines:,} changed lines; "
            f"limits {DIFF_MAX_FILES} files / {DIFF_MAX_LINES:,} lines): per-file patches were used"
        )
    no_patch = [f for f in files if f.patch is None and f.changes > 0]
    if no_patch:
        notes.append(
            f"GitHub sent no patch for {len(no_patch):,} file(s) (too large or binary); their changed "
            "lines are unknown, so findings in them are placed by file only"
        )
    if pr.commits > len(commits):
        notes.append(
            f"only {len(commits):,} of {pr.commits:,} commits could be listed (GitHub lists at most "
            f"{MAX_LISTED_COMMITS}); authorship evidence may be incomplete"
        )
    return tuple(notes)


def build_change(pr: PullData, files: Sequence[PullFile], commits: Sequence[CommitData]) -> ChangeSet:
    """The ``ChangeSet`` of a pull request, from API values. Pure."""
    return ChangeSet(
        base=pr.base_sha,
        head=pr.head_sha,
        files=tuple(changed_file(f) for f in files),
        commits=tuple(commit(c) for c in commits),
        pr=pull_meta(pr),
        truncated=limits_hit(pr, files, commits),
    )


def load_change(gh: GitHubPort, pr: PullData) -> ChangeSet:
    return build_change(pr, gh.list_files(pr.number), gh.list_commits(pr.number))


class GitHubContent:
    """``ContentSource`` reading head-side blobs by id through the API (PR content as data)."""

    def __init__(self, gh: GitHubPort, max_bytes: int) -> None:
        self._gh = gh
        self._max_bytes = max_bytes

    def read(self, files: Sequence[ChangedFile]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for f in files:
            if not f.head_blob or (f.size is not None and f.size > self._max_bytes):
                continue
            try:
                out[f.path] = self._gh.read_blob(f.head_blob)
            except GitHubError:
                continue  # the pipeline reports it as "content could not be read"
        return out
