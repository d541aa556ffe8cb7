"""Edge in, GitHub path: build a ``ChangeSet`` from the REST API, and read PR content as data.

Nothing here checks out, runs or follows anything from the pull request: file bodies are git
blobs fetched by id, handed to the scanners as bytes (a symlink's blob is its target, as data).

The files API carries no file modes, so the head commit's git tree supplies them (symlinks,
submodules, executable bits, sizes), and the base tree tells mode-only changes apart. Extra
semgrep rule files named by the policy are read from the BASE commit's tree, never the head.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Collection, Mapping, Sequence

from govbot.bot.github.port import (
    MAX_LISTED_FILES,
    CommitData,
    GitHubError,
    GitHubPort,
    PullData,
    PullFile,
    TreeEntry,
    TreeListing,
)
from govbot.checks.authorship import instruction_links
from govbot.core.diff import kind_for_mode, parse_hunks
from govbot.core.errors import GitError, PolicyError
from govbot.core.models import (
    ChangedFile,
    ChangeSet,
    Commit,
    FileKind,
    FileStatus,
    Hunk,
    PullRequestMeta,
)
from govbot.policy.base import too_large

MAX_LISTED_COMMITS = 250  # GET /pulls/{n}/commits returns at most 250 commits
DIFF_MAX_FILES = 300  # GitHub's limits for a pull request's diff
DIFF_MAX_LINES = 20_000
MAX_TREE_READS = 200  # directory listings after a truncated recursive tree, per commit
SYMLINK_MODE, SUBMODULE_MODE = "120000", "160000"

_STATUS = {
    "added": FileStatus.ADDED,
    "removed": FileStatus.DELETED,
    "modified": FileStatus.MODIFIED,
    "renamed": FileStatus.RENAMED,
    "copied": FileStatus.COPIED,
    "changed": FileStatus.TYPE_CHANGED,
    "unchanged": FileStatus.MODIFIED,
}


def parse_patch(patch: str) -> tuple[tuple[Hunk, ...], frozenset[int]] | None:
    """Hunks and added line numbers of one file's ``patch`` from the files API; None if it
    cannot be parsed (the file's changed lines are then unknown)."""
    try:
        return parse_hunks(patch)
    except GitError:
        return None


_SUBMODULE_LINE = re.compile(r"[+-]Subproject commit [0-9a-f]{40}")


def _kind(f: PullFile) -> FileKind:
    # The files API carries no modes; a submodule's patch is nothing but its pointer lines.
    body = [ln for ln in (f.patch or "").splitlines() if ln and not ln.startswith(("@@", "\\"))]
    if body and all(_SUBMODULE_LINE.fullmatch(ln) for ln in body):
        return FileKind.SUBMODULE
    return FileKind.REGULAR


def changed_file(f: PullFile) -> ChangedFile:
    status = _STATUS.get(f.status, FileStatus.MODIFIED)
    parsed = parse_patch(f.patch) if f.patch else None
    hunks, added = parsed or ((), frozenset[int]())
    deleted = status is FileStatus.DELETED
    # A pure rename or copy has no patch and no changes either: that is not binary.
    moved = status in (FileStatus.RENAMED, FileStatus.COPIED)
    binary = f.patch is None and f.changes == 0 and not moved and not deleted
    return ChangedFile(
        path=f.filename,
        old_path=f.previous_filename,
        status=status,
        kind=_kind(f),
        binary=binary,
        hunks=hunks,
        # "binary" per the API may come from the PR's .gitattributes: its content decides later.
        lines_unknown=parsed is None and not deleted and (f.changes > 0 or binary),
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
        unanalysed=(f"{pr.changed_files - len(files):,} changed file(s) were not listed by GitHub",)
        if pr.changed_files > len(files) else (),
    )


def load_change(gh: GitHubPort, pr: PullData) -> ChangeSet:
    """Files and commits of the pull request, with modes from the head tree (and, for files with
    no content change, the base tree). Tree limits are reported in ``truncated``."""
    change = build_change(pr, gh.list_files(pr.number), gh.list_commits(pr.number))
    head_paths = [f.path for f in change.files if f.status is not FileStatus.DELETED]
    walker = TreeWalker(gh, pr.head_sha)
    head, notes = tree_entries(walker, head_paths, "head") if head_paths else ({}, ())
    candidates = [f.old_path or f.path for f in change.files if _maybe_mode_only(f)]
    base: dict[str, TreeEntry] = {}
    if candidates:
        base, base_notes = tree_entries(TreeWalker(gh, pr.base_sha), candidates, "base")
        notes += base_notes
    change = apply_tree_modes(change, head, base, notes)
    if not head_paths:
        return change
    return change.model_copy(update={"instruction_links": head_instruction_links(gh, walker)})


MAX_LINKED_BYTES = 256 * 1024


def head_instruction_links(gh: GitHubPort, walker: TreeWalker) -> tuple[tuple[str, str], ...]:
    """Files that are agent instructions by a symlink or an ``@path`` import at the head
    (``checks/authorship.py::instruction_links``), from the head tree's listing (already read
    for the modes) and a blob read per instruction file; best effort on a truncated tree."""
    try:
        listing = walker.recursive()
    except GitHubError:
        return ()
    blobs = {e.path: e for e in listing.entries if e.type == "blob"}

    def read(path: str) -> bytes | None:
        entry = blobs.get(path)
        if entry is None or (entry.size or 0) > MAX_LINKED_BYTES:
            return None
        try:
            return gh.read_blob(entry.sha)
        except GitHubError:
            return None

    return instruction_links([(p, e.mode) for p, e in blobs.items()], read)


# --------------------------------------------------------------------------------------------
# Git trees: modes, kinds and sizes the files API does not carry


class TreeWalker:
    """One commit's tree through the git trees API: a recursive listing, and when GitHub
    truncates that, directory-by-directory listings (at most ``max_reads`` of them)."""

    def __init__(self, gh: GitHubPort, commit: str, max_reads: int = MAX_TREE_READS) -> None:
        self._gh = gh
        self._commit = commit
        self._max_reads = max_reads
        self._dir_sha: dict[str, str] = {}
        self._listed: dict[str, dict[str, TreeEntry]] = {}
        self._root: TreeListing | None = None
        self.reads = 0

    def recursive(self, directory: str = "") -> TreeListing:
        """Every entry under ``directory`` (paths from the repository root); may be truncated."""
        if directory:
            sha = self._sha_of(directory)
            if sha is None:
                return TreeListing(sha="", entries=(), truncated=False)
        else:
            if self._root is not None:
                return self._root
            sha = self._commit  # the trees API takes a commit id for its root tree
        listing = self._gh.read_tree(sha, recursive=True)
        prefix = f"{directory}/" if directory else ""
        entries = tuple(_under(prefix, e) for e in listing.entries)
        self._dir_sha.setdefault(directory, listing.sha)
        self._dir_sha.update({e.path: e.sha for e in entries if e.type == "tree"})
        result = TreeListing(sha=listing.sha, entries=entries, truncated=listing.truncated)
        if not directory:
            self._root = result  # read once: the modes and the instruction links both need it
        return result

    def entry(self, path: str) -> TreeEntry | None:
        """One entry by path, through the listing of its directory. Raises ``TreeLimit``."""
        parent, name = posixpath.split(path)
        listing = self._listing(parent)
        return listing.get(name) if listing is not None else None

    def _listing(self, directory: str) -> dict[str, TreeEntry] | None:
        if directory not in self._listed:
            sha = self._sha_of(directory) if directory else self._dir_sha.get("", self._commit)
            if sha is None:
                return None
            if self.reads >= self._max_reads:
                raise TreeLimit(self._max_reads)
            self.reads += 1
            prefix = f"{directory}/" if directory else ""
            entries = [_under(prefix, e) for e in self._gh.read_tree(sha).entries]
            self._listed[directory] = {posixpath.basename(e.path): e for e in entries}
            self._dir_sha.update({e.path: e.sha for e in entries if e.type == "tree"})
        return self._listed[directory]

    def _sha_of(self, directory: str) -> str | None:
        if directory in self._dir_sha:
            return self._dir_sha[directory]
        entry = self.entry(directory)
        return entry.sha if entry is not None and entry.type == "tree" else None


class TreeLimit(Exception):
    def __init__(self, reads: int) -> None:
        super().__init__(f"more than {reads} directory listings needed")


def _under(prefix: str, e: TreeEntry) -> TreeEntry:
    return TreeEntry(path=prefix + e.path, mode=e.mode, type=e.type, sha=e.sha, size=e.size)


def tree_entries(walker: TreeWalker, paths: Collection[str], label: str
                 ) -> tuple[dict[str, TreeEntry], tuple[str, ...]]:
    """Tree entries of ``paths``, and a note for every path whose mode stayed unknown."""
    wanted = set(paths)
    try:
        listing = walker.recursive()
    except GitHubError as exc:
        return {}, (f"file modes of the {label} commit could not be read ({exc}); symlinks and "
                    f"submodules among {len(wanted):,} file(s) were not identified",)
    found = {e.path: e for e in listing.entries if e.path in wanted}
    missing = sorted(wanted - found.keys())
    if listing.truncated and missing:
        try:
            for path in list(missing):
                entry = walker.entry(path)
                if entry is not None:
                    found[path] = entry
                    missing.remove(path)
        except (TreeLimit, GitHubError):
            pass
    if not listing.truncated or not missing:
        return found, ()
    return found, (
        f"the {label} commit's tree is too large for GitHub to list in one request (truncated), and "
        f"{len(missing):,} file(s) could not be looked up directory by directory: their modes are "
        "unknown, so symlinks and submodules among them were not identified",
    )


def _maybe_mode_only(f: ChangedFile) -> bool:
    """No content change reported: a mode change, or a binary file (the base tree tells)."""
    return (f.status in (FileStatus.MODIFIED, FileStatus.TYPE_CHANGED) and f.patch is None
            and f.additions == 0 and f.deletions == 0)


def apply_tree_modes(change: ChangeSet, head: Mapping[str, TreeEntry], base: Mapping[str, TreeEntry],
                     notes: Sequence[str] = ()) -> ChangeSet:
    """The change with kinds, modes, sizes and mode-only changes from the trees. Pure."""
    files = []
    for f in change.files:
        update: dict[str, object] = {}
        new = head.get(f.path)
        if new is not None:
            kind = kind_for_mode(new.mode)
            update.update(new_mode=new.mode, kind=kind, size=new.size)
            if kind is not FileKind.REGULAR:
                update["binary"] = False
        old = base.get(f.old_path or f.path)
        if old is not None and f.status is not FileStatus.ADDED:
            update["old_mode"] = old.mode
            if new is not None and _maybe_mode_only(f) and old.sha == new.sha and old.mode != new.mode:
                update.update(mode_only=True, binary=False)
        files.append(f.model_copy(update=update) if update else f)
    return change.model_copy(update={"files": tuple(files), "truncated": (*change.truncated, *notes)})


# --------------------------------------------------------------------------------------------
# Content


class GitHubContent:
    """``ContentSource`` reading head-side blobs by id through the API (PR content as data)."""

    def __init__(self, gh: GitHubPort, max_bytes: int) -> None:
        self._gh = gh
        self._max_bytes = max_bytes

    def read(self, files: Sequence[ChangedFile]) -> dict[str, bytes]:
        wanted = [f for f in files if f.head_blob and (f.size is None or f.size <= self._max_bytes)]
        blobs = self._gh.read_blobs([f.head_blob for f in wanted if f.head_blob])
        # A failed read is left out: the pipeline reports it as "content could not be read".
        return {f.path: data for f in wanted if isinstance(data := blobs.get(f.head_blob or ""), bytes)}

    def read_base(self, files: Sequence[ChangedFile], base: str) -> dict[str, bytes]:
        """The base version of each file (its old path for a rename), one API read per file:
        called only for the few files that have findings."""
        out: dict[str, bytes] = {}
        for f in files:
            try:
                data = self._gh.read_file(f.old_path or f.path, base)
            except GitHubError:
                continue  # not compared: its findings count as new
            if data is not None and len(data) <= self._max_bytes:
                out[f.path] = data
        return out


class GitHubBaseTree:
    """``BaseTree`` of the PR's base commit through the API: the policy by the contents API,
    rule files from one recursive tree listing and read as blobs by id, sizes checked first."""

    def __init__(self, gh: GitHubPort, sha: str) -> None:
        self._gh = gh
        self.sha = sha
        self.label = sha[:12]
        self._listed: dict[str, TreeEntry] = {}

    def read_file(self, path: str, max_bytes: int) -> bytes | None:
        entry = self._listed.get(path)
        if entry is None:
            data = self._gh.read_file(path, self.sha)
        else:
            if entry.size is not None and entry.size > max_bytes:
                raise too_large(path, entry.size, max_bytes, self.label)
            blob = self._gh.read_blobs([entry.sha]).get(entry.sha)
            if isinstance(blob, GitHubError):
                raise GitHubError(f"{path} at the base commit could not be read: {blob}", blob.status)
            data = blob
        if data is not None and len(data) > max_bytes:
            raise too_large(path, len(data), max_bytes, self.label)
        return data

    def files_matching(self, globs: Sequence[str]) -> list[str]:
        entries = base_tree_files(TreeWalker(self._gh, self.sha), globs, self.sha)
        self._listed.update((e.path, e) for e in entries)
        return [e.path for e in entries]


def base_tree_files(walker: TreeWalker, globs: Sequence[str], base_sha: str) -> list[TreeEntry]:
    """Regular files of the base commit that the globs could match (symlinks are not followed).

    A truncated recursive listing is completed from the globs' literal leading directories;
    a glob that could match anywhere in such a tree is a configuration error, never a guess.
    """
    listing = walker.recursive()
    entries = list(listing.entries)
    try:
        if listing.truncated:
            entries = _listed_under(walker, globs, base_sha)
    except TreeLimit as exc:
        raise PolicyError("policy", [f"semgrep.rules: the base commit's tree is too deep to walk ({exc})"]) from exc
    return [e for e in entries if e.type == "blob" and e.mode in ("100644", "100755")]


def _listed_under(walker: TreeWalker, globs: Sequence[str], base_sha: str) -> list[TreeEntry]:
    prefixes = {_literal_dir(g) for g in globs}
    if "" in prefixes:
        raise PolicyError("policy", [
            f"the base commit {base_sha[:12]} has too many files for GitHub to list at once; start every "
            f"semgrep.rules glob with a fixed directory (e.g. .semgrep/**/*.yml), not {globs}"])
    entries: list[TreeEntry] = []
    for prefix in sorted(prefixes):
        sub = walker.recursive(prefix)
        if sub.truncated:
            raise PolicyError("policy", [f"the directory {prefix} of the base commit is too large for GitHub "
                                         "to list; narrow the semgrep.rules globs"])
        entries.extend(sub.entries)
    return entries


def _literal_dir(glob: str) -> str:
    """The directory part of a glob before its first wildcard ('' if it may match anywhere)."""
    if "/" not in glob.strip("/"):
        return ""  # no slash: matches the basename in any directory
    literal: list[str] = []
    for part in glob.split("/")[:-1]:
        if any(ch in part for ch in "*?[{"):
            break
        literal.append(part)
    return "/".join(literal)
