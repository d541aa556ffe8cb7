"""Edge in, local path: read a change set, commits and base-branch files from a git repository.

Only git's machine-readable output is used (``--raw -z``, ``cat-file --batch``, ``log -z``), so
hostile file names and commit messages are data, never syntax. Nothing here follows a symlink
or writes to the repository.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from govbot.checks.authorship import instruction_links
from govbot.checks.runner import RunResult, run
from govbot.core.diff import merge_raw_and_patch, parse_raw_z
from govbot.core.errors import GitError
from govbot.core.models import ChangedFile, ChangeSet, Commit
from govbot.policy.base import too_large

GIT_TIMEOUT_S = 120.0
MAX_COMMITS = 5000
MAX_MESSAGE_BYTES = 100_000
_FIELD = "\x1f"


@dataclass(frozen=True)
class Repo:
    path: Path

    def git(self, *args: str, stdin: bytes | None = None, check: bool = True) -> RunResult:
        argv = ["git", "-C", str(self.path), "-c", "core.quotePath=false", "--no-pager", *args]
        # git reads objects and runs nothing from the repository: no per-start confinement (vfork).
        result = run(argv, timeout_s=GIT_TIMEOUT_S, stdin=stdin, env=_git_env(), confine=False)
        if result.missing:
            raise GitError("git is not installed or not on PATH")
        if result.timed_out:
            raise GitError(f"git {args[0]} timed out after {GIT_TIMEOUT_S:.0f}s")
        if check and result.returncode != 0:
            raise GitError(f"git {args[0]} failed: {result.stderr_tail(300)}")
        return result


def _git_env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    # Never let a hostile repository's config run programs or reach the network for us.
    env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "GIT_CONFIG_NOSYSTEM": "1"})
    return env


def open_repo(path: Path) -> Repo:
    if not path.exists():
        raise GitError(f"{path}: no such directory")
    if not path.is_dir():
        raise GitError(f"{path}: not a directory")
    repo = Repo(path)
    result = repo.git("rev-parse", "--show-toplevel", check=False)
    if result.returncode == 0:
        return Repo(Path(result.stdout.decode().strip()))
    # A bare repository (a CI mirror, a server-side clone) has objects and refs but no work tree:
    # enough, since govbot reads blobs by id and never the working tree.
    bare = repo.git("rev-parse", "--is-bare-repository", check=False)
    if bare.returncode == 0 and bare.stdout.decode().strip() == "true":
        git_dir = repo.git("rev-parse", "--absolute-git-dir").stdout.decode().strip()
        return Repo(Path(git_dir))
    raise GitError(f"{path}: not a git repository")


def resolve(repo: Repo, ref: str) -> str:
    if not ref or ref.startswith("-") or "\x00" in ref:
        raise GitError(f"invalid ref {ref!r}")
    result = repo.git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", check=False)
    if result.returncode != 0:
        raise GitError(f"ref {ref!r} not found in {repo.path} (fetch it, or check the name)")
    return result.stdout.decode().strip()


def merge_base(repo: Repo, base: str, head: str) -> str:
    """Where ``head`` forked from ``base``. Without one, diffing the two tips would blame every
    change on the base branch on the PR (issue 9, class 13): an error with the fix, never a guess."""
    result = repo.git("merge-base", base, head, check=False)
    if result.returncode == 0 and result.stdout.strip():
        return result.stdout.decode().strip()
    shallow = repo.git("rev-parse", "--is-shallow-repository", check=False).stdout.decode().strip() == "true"
    if shallow:
        raise GitError(
            f"no merge base between {base[:12]} and {head[:12]}: this clone is shallow. Fetch the history "
            "(`git fetch --unshallow`, or `fetch-depth: 0` on actions/checkout) and run again"
        )
    raise GitError(
        f"no merge base between {base[:12]} and {head[:12]}: the branches share no history. Compare "
        "branches that have a common ancestor (or fetch the missing history) and run again"
    )


# --text: whether a file is binary is decided from its content, never from the PR's own
# .gitattributes (a "*.py -diff" line would otherwise hide files from every scanner).
_DIFF_OPTS = ("--no-color", "--no-ext-diff", "--no-textconv", "--text", "--find-renames", "--ignore-submodules=none")


def load_change(repo: Repo, base_ref: str, head_ref: str) -> ChangeSet:
    """The change a PR from ``head_ref`` into ``base_ref`` would make (three-dot semantics)."""
    base = resolve(repo, base_ref)
    head = resolve(repo, head_ref)
    start = merge_base(repo, base, head)
    raw = repo.git("diff", "--raw", "-z", "--no-abbrev", *_DIFF_OPTS, start, head).stdout
    patch = repo.git("diff", "-U3", *_DIFF_OPTS, start, head).stdout
    entries = parse_raw_z(raw)
    files = merge_raw_and_patch(entries, patch.decode("utf-8", "surrogateescape"))
    sizes = blob_sizes(repo, [f.head_blob for f in files if f.head_blob])
    files = [f.model_copy(update={"size": sizes.get(f.head_blob or "")}) for f in files]
    return ChangeSet(
        base=start,
        head=head,
        files=tuple(files),
        commits=tuple(load_commits(repo, start, head)),
        head_ref=branch_name(repo, head_ref),
        instruction_links=head_instruction_links(repo, head) if files else (),
    )


MAX_LINKED_BYTES = 256 * 1024


def head_instruction_links(repo: Repo, head: str) -> tuple[tuple[str, str], ...]:
    """Files that are agent instructions by a symlink or an ``@path`` import at ``head``
    (``checks/authorship.py::instruction_links``), read from blobs, never the working tree."""
    blobs = [e for e in tree_entries(repo, head) if e.kind == "blob"]
    entries = [(e.path, e.mode) for e in blobs]
    shas = {e.path: e.sha for e in blobs}

    def read(path: str) -> bytes | None:
        sha = shas.get(path)
        if sha is None or blob_sizes(repo, [sha]).get(sha, 0) > MAX_LINKED_BYTES:
            return None
        return read_blobs(repo, [sha]).get(sha)

    return instruction_links(entries, read)


def branch_name(repo: Repo, ref: str) -> str | None:
    """The branch a ref names (``HEAD`` -> the checked-out branch), or None for a bare commit."""
    result = repo.git("rev-parse", "--symbolic-full-name", ref, check=False)  # ref already validated
    name = result.stdout.decode("utf-8", "replace").strip()
    if result.returncode != 0 or not name.startswith("refs/heads/"):
        return None
    return name.removeprefix("refs/heads/")


def load_commits(repo: Repo, base: str, head: str, limit: int = MAX_COMMITS) -> list[Commit]:
    fmt = _FIELD.join(["%H", "%P", "%an", "%ae", "%cn", "%ce", "%B"])
    out = repo.git("log", "-z", f"--max-count={limit}", f"--format={fmt}", f"{base}..{head}").stdout
    commits: list[Commit] = []
    for record in out.split(b"\0"):
        if not record.strip():
            continue
        fields = record.decode("utf-8", "replace").split(_FIELD, 6)
        if len(fields) != 7:
            continue
        sha, parents, an, ae, cn, ce, body = fields
        commits.append(
            Commit(
                sha=sha.strip(),
                parents=tuple(parents.split()),
                author_name=an,
                author_email=ae,
                committer_name=cn,
                committer_email=ce,
                message=body[:MAX_MESSAGE_BYTES],
            )
        )
    return commits


def blob_sizes(repo: Repo, shas: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(shas))
    if not wanted:
        return {}
    out = repo.git("cat-file", "--batch-check=%(objectname) %(objectsize)", stdin=_lines(wanted)).stdout
    sizes: dict[str, int] = {}
    for line in out.decode().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            sizes[parts[0]] = int(parts[1])
    return sizes


def read_blobs(repo: Repo, shas: Iterable[str]) -> dict[str, bytes]:
    """Contents of blobs by id, through one ``git cat-file --batch`` process."""
    wanted = sorted(set(shas))
    if not wanted:
        return {}
    data = _batch(repo, wanted)
    blobs: dict[str, bytes] = {}
    pos = 0
    for _ in wanted:
        nl = data.index(b"\n", pos)
        header = data[pos:nl].decode().split()
        pos = nl + 1
        if len(header) == 2 and header[1] == "missing":
            continue
        sha, size = header[0], int(header[2])
        blobs[sha] = data[pos : pos + size]
        pos += size + 1
    return blobs


def _batch(repo: Repo, shas: list[str]) -> bytes:
    # communicate() writes stdin and drains stdout together, so a large batch cannot deadlock.
    return repo.git("cat-file", "--batch", stdin=_lines(shas)).stdout


def _lines(items: list[str]) -> bytes:
    return "".join(f"{i}\n" for i in items).encode()


@dataclass(frozen=True)
class TreeEntry:
    path: str
    mode: str
    kind: str  # "blob", "tree", "commit"
    sha: str


def tree_entries(repo: Repo, ref: str, path: str | None = None) -> list[TreeEntry]:
    """``git ls-tree`` of ``ref``: the whole tree recursively, or the one entry at ``path``
    (empty when absent). Names are read from NUL-separated records, never the working tree."""
    if path is None:
        result = repo.git("ls-tree", "-r", "-z", "--end-of-options", ref)
    else:
        result = repo.git("ls-tree", "-z", "--end-of-options", ref, "--", path, check=False)
    if result.returncode != 0:
        return []
    entries = []
    for record in result.stdout.split(b"\0"):
        meta, _, name = record.partition(b"\t")
        fields = meta.decode("ascii", "replace").split()
        if name and len(fields) == 3:
            entries.append(TreeEntry(name.decode("utf-8", "surrogateescape"), *fields))
    return entries


class GitBaseTree:
    """``BaseTree`` of a local repository at ``ref``: blobs by id, never the working tree."""

    def __init__(self, repo: Repo, ref: str) -> None:
        self.repo = repo
        self.ref = ref
        self.label = ref[:12]

    def read_file(self, path: str, max_bytes: int) -> bytes | None:
        entry = next(iter(tree_entries(self.repo, self.ref, path)), None)
        if entry is None or entry.kind != "blob" or entry.mode == "120000":
            return None
        size = blob_sizes(self.repo, [entry.sha]).get(entry.sha, 0)
        if size > max_bytes:
            raise too_large(path, size, max_bytes, self.label)
        return read_blobs(self.repo, [entry.sha]).get(entry.sha)

    def files_matching(self, globs: Sequence[str]) -> list[str]:
        """Every regular file of the tree (git lists a whole tree in one call)."""
        return [e.path for e in tree_entries(self.repo, self.ref)
                if e.kind == "blob" and e.mode in ("100644", "100755")]


class GitBlobSource:
    """ContentSource for a local repository: blobs by id, never the working tree."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo

    def read(self, files: Sequence[ChangedFile]) -> dict[str, bytes]:
        blobs = read_blobs(self.repo, [f.head_blob for f in files if f.head_blob])
        return {f.path: blobs[f.head_blob] for f in files if f.head_blob in blobs}

    def read_base(self, files: Sequence[ChangedFile], base: str) -> dict[str, bytes]:
        """By blob id, as ``git diff --raw`` named it: the base commit is implied."""
        blobs = read_blobs(self.repo, [f.base_blob for f in files if f.base_blob])
        return {f.path: blobs[f.base_blob] for f in files if f.base_blob in blobs}
