"""The GitHub port: the values that cross it, its errors and the ``GitHubPort`` Protocol.

No PyGithub here: everything else in govbot (flows, publishing, enforcement, the change loader)
talks to GitHub through these types, so it can run against the PyGithub adapter
(``bot/github/pygithub.py``), a local HTTP fake or an in-memory fake.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from govbot.core.errors import GovbotError

MAX_LISTED_FILES = 3000  # GitHub's cap on GET /pulls/{n}/files
MAX_COMPARED_FILES = 300  # GitHub's cap on the files of GET /compare/{base}...{head}
MAX_ANNOTATIONS_PER_REQUEST = 50  # GitHub's cap per check-run create/update
WRITER_PERMISSIONS = frozenset({"admin", "maintain", "write"})


# --------------------------------------------------------------------------------------------
# Errors


class GitHubError(GovbotError):
    """GitHub answered with an error govbot cannot work around (exit code 2)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class NotFound(GitHubError):
    pass


class PermissionDenied(GitHubError):
    """403 that is not a rate limit: e.g. a read-only token on a pull request from a fork."""


class GitHubServerError(GitHubError):
    """5xx or connection failure on a call that was not retried (non-idempotent) or ran out."""


class RateLimited(GitHubError):
    """Still rate limited when the retry budget ran out."""


# --------------------------------------------------------------------------------------------
# Values crossing the port


@dataclass(frozen=True)
class UserRef:
    login: str
    id: int | None = None
    type: str | None = None  # "User" | "Bot" | "Organization"

    @property
    def is_bot(self) -> bool:
        return self.type == "Bot" or self.login.endswith("[bot]")


@dataclass(frozen=True)
class PullData:
    number: int
    state: str  # open | closed
    merged: bool
    draft: bool
    title: str
    body: str
    user: UserRef
    head_sha: str
    head_ref: str
    head_repo: str | None  # full name; None when the fork was deleted
    base_sha: str
    base_ref: str
    base_repo: str
    labels: tuple[str, ...]
    changed_files: int
    additions: int
    deletions: int
    commits: int
    default_branch: str = ""  # the base repository's default branch ("": not known)

    @property
    def from_fork(self) -> bool:
        return self.head_repo != self.base_repo


@dataclass(frozen=True)
class PullFile:
    filename: str
    status: str  # added | removed | modified | renamed | copied | changed | unchanged
    sha: str | None
    additions: int
    deletions: int
    changes: int
    patch: str | None
    previous_filename: str | None = None


@dataclass(frozen=True)
class CompareData:
    """``GET /compare/{base}...{head}``: how ``head`` relates to ``base`` and the files between them."""

    status: str  # ahead | identical | behind | diverged
    merge_base: str  # the merge base's SHA
    files: tuple[PullFile, ...]

    @property
    def ancestor(self) -> bool:
        """``base`` is an ancestor of ``head`` (no force-push or rebase in between)."""
        return self.status in ("ahead", "identical")

    @property
    def complete(self) -> bool:
        """GitHub lists at most 300 files; a longer comparison cannot be trusted file by file."""
        return len(self.files) < MAX_COMPARED_FILES


@dataclass(frozen=True)
class CommitData:
    sha: str
    parents: tuple[str, ...]
    message: str
    author_name: str
    author_email: str
    committer_name: str
    committer_email: str
    author: UserRef | None
    committer: UserRef | None


@dataclass(frozen=True)
class CommentData:
    id: int
    body: str
    user: UserRef


@dataclass(frozen=True)
class ReviewData:
    id: int
    user: UserRef
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED | PENDING
    commit_id: str | None
    submitted_at: datetime | None


@dataclass(frozen=True)
class Annotation:
    path: str
    start_line: int
    end_line: int
    level: str  # notice | warning | failure
    message: str
    title: str = ""


@dataclass(frozen=True)
class CheckRunData:
    id: int
    conclusion: str | None
    title: str
    summary: str
    text: str


@dataclass(frozen=True)
class TreeEntry:
    path: str  # relative to the repository root
    mode: str  # 100644 | 100755 | 120000 (symlink) | 160000 (submodule) | 040000 (tree)
    type: str  # blob | tree | commit
    sha: str
    size: int | None = None  # blobs only


@dataclass(frozen=True)
class TreeListing:
    sha: str  # the tree's own id
    entries: tuple[TreeEntry, ...]
    truncated: bool  # GitHub cut a recursive listing short (over 100,000 entries or 7 MB)


@dataclass(frozen=True)
class CheckOutput:
    title: str
    summary: str
    text: str = ""
    annotations: tuple[Annotation, ...] = ()


class GitHubPort(Protocol):
    """What govbot needs from GitHub, for one repository."""

    def get_pull(self, number: int) -> PullData: ...
    def list_files(self, number: int) -> list[PullFile]: ...
    def list_commits(self, number: int) -> list[CommitData]: ...
    def compare(self, base: str, head: str) -> CompareData: ...
    def read_blob(self, sha: str) -> bytes: ...
    def read_blobs(self, shas: Sequence[str]) -> dict[str, bytes | GitHubError]: ...
    def read_tree(self, sha: str, recursive: bool = False) -> TreeListing: ...
    def read_file(self, path: str, ref: str) -> bytes | None: ...
    def list_comments(self, number: int) -> list[CommentData]: ...
    def create_comment(self, number: int, body: str) -> CommentData: ...
    def edit_comment(self, number: int, comment_id: int, body: str) -> None: ...
    def delete_comment(self, number: int, comment_id: int) -> None: ...
    def ensure_label(self, name: str, color: str, description: str) -> None: ...
    def add_labels(self, number: int, names: Sequence[str]) -> None: ...
    def remove_label(self, number: int, name: str) -> None: ...
    def find_check_run(self, head_sha: str, name: str) -> CheckRunData | None: ...
    def create_check_run(self, head_sha: str, name: str, conclusion: str, output: CheckOutput,
                         details_url: str | None) -> int: ...
    def update_check_run(self, check_run_id: int, conclusion: str, output: CheckOutput) -> None: ...
    def create_status(self, sha: str, state: str, description: str, context: str,
                      target_url: str | None) -> None: ...
    def list_reviews(self, number: int) -> list[ReviewData]: ...
    def permission(self, login: str) -> str: ...
