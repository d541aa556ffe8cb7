"""An in-memory ``GitHubPort``: the flows' fake, beside the HTTP server in ``fakegithub.py``.

The HTTP fake tests the PyGithub adapter (real requests, retries, pagination); this one tests
what the flows decide and publish, in microseconds. It keeps what a repository would keep
(pull requests, blobs, files at a ref, comments, labels, check runs, statuses, reviews,
permissions) and records every write. ``read_only`` makes every write answer 403, as a token on
a fork's ``pull_request`` does.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from govbot.bot.github.port import (
    CheckOutput,
    CheckRunData,
    CommentData,
    CommitData,
    CompareData,
    GitHubError,
    NotFound,
    PermissionDenied,
    PullData,
    PullFile,
    ReviewData,
    TreeEntry,
    TreeListing,
    UserRef,
)

BOT = UserRef("github-actions[bot]", 41898282, "Bot")


def blob_sha(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


@dataclass
class CheckRun:
    id: int
    head_sha: str
    name: str
    conclusion: str
    output: CheckOutput


@dataclass
class FakeGitHub:
    pulls: dict[int, PullData] = field(default_factory=dict)
    files: dict[int, list[PullFile]] = field(default_factory=dict)
    commits: dict[int, list[CommitData]] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    trees: dict[str, dict[str, str]] = field(default_factory=dict)  # commit -> path -> blob sha
    comments: dict[int, list[CommentData]] = field(default_factory=dict)
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (color, description)
    check_runs: list[CheckRun] = field(default_factory=list)
    statuses: list[tuple[str, str, str, str]] = field(default_factory=list)  # sha, state, description, context
    reviews: dict[int, list[ReviewData]] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)
    parents: dict[str, str] = field(default_factory=dict)  # commit -> parent commit (for compare)
    compare_error: GitHubError | None = None  # compare() raises this (e.g. a 404 after a force-push)
    read_only: bool = False
    writes: list[str] = field(default_factory=list)
    _ids: int = 1000

    # ---- setting up ------------------------------------------------------------------------

    def add_pull(self, pr: PullData, files: dict[str, bytes], base_files: dict[str, bytes] | None = None,
                 commits: Sequence[CommitData] = ()) -> PullData:
        """A pull request adding ``files`` (path -> content) on top of ``base_files``."""
        base_files = base_files or {}
        for content in [*files.values(), *base_files.values()]:
            self.blobs[blob_sha(content)] = content
        self.trees[pr.base_sha] = {p: blob_sha(c) for p, c in base_files.items()}
        self.trees[pr.head_sha] = {**self.trees[pr.base_sha], **{p: blob_sha(c) for p, c in files.items()}}
        pull_files = []
        for path, content in files.items():
            lines = content.decode().splitlines()
            status = "modified" if path in base_files else "added"
            patch = f"@@ -0,0 +1,{len(lines)} @@\n" + "\n".join("+" + ln for ln in lines)
            pull_files.append(PullFile(path, status, blob_sha(content), len(lines), 0, len(lines), patch))
        pr = replace(pr, changed_files=len(pull_files))
        self.pulls[pr.number] = pr
        self.files[pr.number] = pull_files
        self.commits[pr.number] = list(commits)
        return pr

    def push(self, number: int, head_sha: str, files: dict[str, bytes], *, force: bool = False,
             base_sha: str | None = None) -> PullData:
        """A new head for pull request ``number`` with ``files`` changed on top of the old head
        (``force``: on top of the base instead, as a force-push; ``base_sha``: the base moved)."""
        pr = self.pulls[number]
        base = base_sha or pr.base_sha
        if base_sha is not None:
            self.trees[base_sha] = self.trees[pr.base_sha]
        start = base if force else pr.head_sha
        if not force:
            self.parents[head_sha] = pr.head_sha
        commits = [] if force else self.commits.get(number, [])
        self.commits[number] = [*commits, CommitData(head_sha, (start,), f"push {head_sha[:7]}", "Dev", "dev@x",
                                                     "Dev", "dev@x", None, None)]
        for content in files.values():
            self.blobs[blob_sha(content)] = content
        self.trees[head_sha] = {**self.trees[start], **{p: blob_sha(c) for p, c in files.items()}}
        base_tree = self.trees[base]
        self.files[number] = [
            _file(path, base_tree.get(path), sha, self.blobs) for path, sha in sorted(self.trees[head_sha].items())
            if base_tree.get(path) != sha
        ]
        self.pulls[number] = replace(pr, head_sha=head_sha, base_sha=base, changed_files=len(self.files[number]))
        return self.pulls[number]

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def _write(self, what: str) -> None:
        if self.read_only:
            raise PermissionDenied(f"{what}: Resource not accessible by integration", 403)
        self.writes.append(what)

    # ---- reads -----------------------------------------------------------------------------

    def get_pull(self, number: int) -> PullData:
        if number not in self.pulls:
            raise NotFound(f"pull request #{number}", 404)
        return self.pulls[number]

    def list_files(self, number: int) -> list[PullFile]:
        return list(self.files[number])

    def list_commits(self, number: int) -> list[CommitData]:
        return list(self.commits[number])

    def compare(self, base: str, head: str) -> CompareData:
        if self.compare_error is not None:
            raise self.compare_error
        if base not in self.trees or head not in self.trees:
            raise NotFound(f"compare {base[:7]}...{head[:7]}", 404)
        ancestors, commit = {head}, head
        while commit in self.parents:
            commit = self.parents[commit]
            ancestors.add(commit)
        status = "identical" if base == head else "ahead" if base in ancestors else "diverged"
        old, new = self.trees[base], self.trees[head]
        files = tuple(_file(path, old.get(path), new.get(path), self.blobs) for path in sorted({*old, *new})
                      if old.get(path) != new.get(path))
        return CompareData(status=status, merge_base=base if status != "diverged" else "", files=files)

    def read_blob(self, sha: str) -> bytes:
        if sha not in self.blobs:
            raise NotFound(f"blob {sha}", 404)
        return self.blobs[sha]

    def read_blobs(self, shas: Sequence[str]) -> dict[str, bytes | GitHubError]:
        out: dict[str, bytes | GitHubError] = {}
        for sha in shas:
            try:
                out[sha] = self.read_blob(sha)
            except GitHubError as exc:
                out[sha] = exc
        return out

    def read_tree(self, sha: str, recursive: bool = False) -> TreeListing:
        if sha not in self.trees:
            raise NotFound(f"tree {sha}", 404)
        if not recursive:
            raise NotImplementedError("the in-memory fake lists trees recursively only (never truncated)")
        entries = tuple(TreeEntry(path, "100644", "blob", blob, len(self.blobs[blob]))
                        for path, blob in sorted(self.trees[sha].items()))
        return TreeListing(sha=f"tree-{sha}", entries=entries, truncated=False)

    def read_file(self, path: str, ref: str) -> bytes | None:
        blob = self.trees.get(ref, {}).get(path)
        return None if blob is None else self.blobs[blob]

    def list_comments(self, number: int) -> list[CommentData]:
        return list(self.comments.get(number, []))

    def list_reviews(self, number: int) -> list[ReviewData]:
        return list(self.reviews.get(number, []))

    def permission(self, login: str) -> str:
        return self.permissions.get(login, "read")

    def find_check_run(self, head_sha: str, name: str) -> CheckRunData | None:
        for run in reversed(self.check_runs):
            if run.head_sha == head_sha and run.name == name:
                o = run.output
                return CheckRunData(run.id, run.conclusion, o.title, o.summary, o.text)
        return None

    # ---- writes ----------------------------------------------------------------------------

    def create_comment(self, number: int, body: str) -> CommentData:
        self._write(f"create_comment #{number}")
        comment = CommentData(self._next_id(), body, BOT)
        self.comments.setdefault(number, []).append(comment)
        return comment

    def edit_comment(self, number: int, comment_id: int, body: str) -> None:
        self._write(f"edit_comment {comment_id}")
        self.comments[number] = [replace(c, body=body) if c.id == comment_id else c for c in self.comments[number]]

    def delete_comment(self, number: int, comment_id: int) -> None:
        self._write(f"delete_comment {comment_id}")
        self.comments[number] = [c for c in self.comments[number] if c.id != comment_id]

    def ensure_label(self, name: str, color: str, description: str) -> None:
        if name not in self.labels:
            self._write(f"create_label {name}")
            self.labels[name] = (color, description)

    def add_labels(self, number: int, names: Sequence[str]) -> None:
        if names:
            self._write(f"add_labels #{number} {list(names)}")
            pr = self.pulls[number]
            self.pulls[number] = replace(pr, labels=tuple(dict.fromkeys([*pr.labels, *names])))

    def remove_label(self, number: int, name: str) -> None:
        self._write(f"remove_label #{number} {name}")
        pr = self.pulls[number]
        self.pulls[number] = replace(pr, labels=tuple(x for x in pr.labels if x != name))

    def create_check_run(self, head_sha: str, name: str, conclusion: str, output: CheckOutput,
                         details_url: str | None) -> int:
        self._write(f"create_check_run {name} {conclusion}")
        run = CheckRun(self._next_id(), head_sha, name, conclusion, output)
        self.check_runs.append(run)
        return run.id

    def update_check_run(self, check_run_id: int, conclusion: str, output: CheckOutput) -> None:
        self._write(f"update_check_run {check_run_id} {conclusion}")
        for run in self.check_runs:
            if run.id == check_run_id:
                run.conclusion, run.output = conclusion, output

    def create_status(self, sha: str, state: str, description: str, context: str, target_url: str | None) -> None:
        self._write(f"create_status {context} {state}")
        self.statuses.append((sha, state, description, context))

    # ---- helpers for tests -----------------------------------------------------------------

    def approve(self, number: int, login: str, commit: str) -> None:
        self.reviews.setdefault(number, []).append(
            ReviewData(self._next_id(), UserRef(login, None, "User"), "APPROVED", commit, datetime.now(UTC)))


def _file(path: str, old: str | None, new: str | None, blobs: dict[str, bytes]) -> PullFile:
    """A changed file between two trees, with a unified-diff patch as GitHub sends it."""
    before = blobs[old].decode().splitlines() if old else []
    after = blobs[new].decode().splitlines() if new else []
    patch = "\n".join(list(difflib.unified_diff(before, after, lineterm=""))[2:])
    status = "removed" if new is None else "added" if old is None else "modified"
    adds = sum(1 for ln in patch.splitlines() if ln.startswith("+"))
    dels = sum(1 for ln in patch.splitlines() if ln.startswith("-"))
    return PullFile(path, status, new, adds, dels, adds + dels, patch)
