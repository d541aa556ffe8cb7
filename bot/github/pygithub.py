"""The PyGithub adapter of the GitHub port (``bot/github/port.py``): the only module that imports
``github``.

The rest of govbot talks to GitHub through ``GitHubPort`` and plain frozen values, so tests can
drive it against a local fake server and the action never sees a PyGithub object.

Retries are govbot's own (tenacity), not PyGithub's urllib3 ``GithubRetry``: that one also
retries a POST after a 5xx, which turns "created, but the gateway answered 502" into two
comments. Here every call states whether it is idempotent:

* a request GitHub *rejected* (secondary/primary rate limit: 403/429) is retried for every
  method, after ``Retry-After`` (or ``X-RateLimit-Reset``, or one minute for a secondary limit
  without a header, as GitHub's docs ask);
* a 5xx or a dropped connection is retried only for idempotent calls; a failed POST surfaces as
  ``GitHubServerError`` and the caller reconciles (re-reads, then updates instead of creating);
* all waiting shares one total time budget per run; a wait that does not fit gives up at once.

Blob reads run on a small thread pool (``GitHubSettings.read_concurrency``). PyGithub's
``Requester`` is not safe to share between threads: its connection object keeps the verb, URL
and headers of "the" current request in attributes between ``request()`` and ``getresponse()``
(PyGithub/PyGithub#2052, still open), and ``requests.Session`` is not documented thread-safe
either. So every worker thread gets its own ``Github`` client (its own ``Requester`` and
session), created lazily (no request) and closed when the batch ends; every request still goes
through ``call_with_retries`` and the one shared, locked ``RetryBudget``.
"""

from __future__ import annotations

import base64
import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubException
from github.CheckRun import CheckRun
from github.Commit import Commit
from github.IssueComment import IssueComment
from github.PaginatedList import PaginatedList
from github.PullRequest import PullRequest
from github.Repository import Repository
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from govbot.bot.github.port import (
    MAX_ANNOTATIONS_PER_REQUEST,
    MAX_LISTED_FILES,
    Annotation,
    CheckOutput,
    CheckRunData,
    CommentData,
    CommitData,
    CompareData,
    GitHubError,
    GitHubServerError,
    NotFound,
    PermissionDenied,
    PullData,
    PullFile,
    RateLimited,
    ReviewData,
    TreeEntry,
    TreeListing,
    UserRef,
)

T = TypeVar("T")

# --------------------------------------------------------------------------------------------
# Retry policy


@dataclass(frozen=True)
class RetrySettings:
    budget_s: float = 600.0  # total time spent waiting on retries, per run
    max_attempts: int = 6
    backoff_s: float = 2.0  # first backoff for 5xx; doubles per attempt
    max_backoff_s: float = 60.0
    secondary_wait_s: float = 60.0  # GitHub: "wait at least one minute" without Retry-After


@dataclass
class RetryBudget:
    """The one shared time budget of a run, and the clock and sleep it uses (injectable)."""

    settings: RetrySettings = field(default_factory=RetrySettings)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    spent_s: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def remaining(self) -> float:
        with self._lock:
            return max(self.settings.budget_s - self.spent_s, 0.0)

    def reserve(self, seconds: float) -> bool:
        """Claim ``seconds`` of the budget if they fit (atomic across threads)."""
        with self._lock:
            if seconds > self.settings.budget_s - self.spent_s:
                return False
            self.spent_s += seconds
            return True


def _header(exc: GithubException, name: str) -> str | None:
    for key, value in (exc.headers or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None


def _is_rate_limit(exc: BaseException) -> bool:
    if not isinstance(exc, GithubException):
        return False
    if exc.status == 429:
        return True
    if exc.status != 403:
        return False
    if _header(exc, "retry-after") is not None or _header(exc, "x-ratelimit-remaining") == "0":
        return True
    message = str((exc.data or {}).get("message", "")) if isinstance(exc.data, dict) else ""
    return "rate limit" in message.lower()


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, GithubException):
        return exc.status >= 500
    return isinstance(exc, requests.ConnectionError | requests.Timeout)


def rate_limit_wait(exc: GithubException, budget: RetryBudget) -> float:
    """Seconds GitHub asks us to wait before retrying a rate-limited request."""
    retry_after = _header(exc, "retry-after")
    if retry_after is not None and retry_after.strip().isdigit():
        return float(retry_after.strip())
    reset = _header(exc, "x-ratelimit-reset")
    if _header(exc, "x-ratelimit-remaining") == "0" and reset and reset.isdigit():
        return max(float(reset) - budget.wall(), 0.0) + 1.0
    return budget.settings.secondary_wait_s


def call_with_retries(fn: Callable[[], T], *, idempotent: bool, budget: RetryBudget, what: str) -> T:
    """Run one GitHub call under the retry policy described in the module docstring."""
    settings = budget.settings

    def retryable(exc: BaseException) -> bool:
        return _is_rate_limit(exc) or (idempotent and _is_transient(exc))

    def wait_for(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, GithubException) and _is_rate_limit(exc):
            return rate_limit_wait(exc, budget)
        return float(min(settings.backoff_s * 2 ** (state.attempt_number - 1), settings.max_backoff_s))

    max_attempts = stop_after_attempt(settings.max_attempts)

    def stop(state: RetryCallState) -> bool:
        # Waits run in parallel on the blob-reading pool; each one is claimed from the shared
        # budget here, so the sum of all waits never exceeds it (a conservative bound).
        return max_attempts(state) or not budget.reserve(wait_for(state))

    retrying = Retrying(
        retry=retry_if_exception(retryable),
        stop=stop,
        wait=wait_for,
        sleep=budget.sleep,
        reraise=True,
    )
    try:
        return retrying(fn)
    except GithubException as exc:
        raise _translate(exc, what) from exc
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise GitHubServerError(f"{what}: connection failed: {type(exc).__name__}") from exc


def _translate(exc: GithubException, what: str) -> GitHubError:
    message = exc.data.get("message") if isinstance(exc.data, dict) else None
    text = f"{what}: GitHub answered {exc.status}" + (f" ({message})" if message else "")
    if _is_rate_limit(exc):
        return RateLimited(text + "; retry budget exhausted", exc.status)
    if exc.status == 404:
        return NotFound(text, exc.status)
    if exc.status == 403:
        return PermissionDenied(text, exc.status)
    if exc.status >= 500:
        return GitHubServerError(text, exc.status)
    return GitHubError(text, exc.status)


# --------------------------------------------------------------------------------------------
# PyGithub adapter


@dataclass(frozen=True)
class GitHubSettings:
    token: str
    repository: str  # owner/name
    api_url: str = "https://api.github.com"  # GITHUB_API_URL; GHES: https://host/api/v3
    timeout_s: int = 30
    seconds_between_writes: float = 1.0  # GitHub's guidance for content-creating requests
    per_page: int = 100
    read_concurrency: int = 8  # blob reads in flight at once; 1 reads them one by one


def _client(s: GitHubSettings, *, lazy: bool = False) -> Github:
    return Github(
        auth=Auth.Token(s.token),
        base_url=s.api_url.rstrip("/"),
        timeout=s.timeout_s,
        per_page=s.per_page,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=s.seconds_between_writes or None,
        user_agent="govbot",
        lazy=lazy,
    )


def _decode_blob(content: str, encoding: str) -> bytes:
    if encoding == "base64":
        return base64.b64decode(content)
    return content.encode("utf-8")


class _WorkerClients:
    """One lazy ``Github`` client per worker thread (see the module docstring), closed together."""

    def __init__(self, settings: GitHubSettings) -> None:
        self._settings = settings
        self._local = threading.local()
        self._lock = threading.Lock()
        self._clients: list[Github] = []

    def repo(self) -> Repository:
        repo: Repository | None = getattr(self._local, "repo", None)
        if repo is None:
            gh = _client(self._settings, lazy=True)
            with self._lock:
                self._clients.append(gh)
            repo = gh.get_repo(self._settings.repository)  # lazy: no request
            self._local.repo = repo
        return repo

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, []
        for gh in clients:
            gh.close()


def _pull_file(f: Any) -> PullFile:
    return PullFile(filename=f.filename, status=f.status, sha=f.sha, additions=f.additions,
                    deletions=f.deletions, changes=f.changes, patch=f.patch,
                    previous_filename=f.previous_filename)


def _user(obj: Any) -> UserRef | None:
    if obj is None:
        return None
    return UserRef(login=str(obj.login), id=obj.id, type=obj.type)


class PyGithubAdapter:
    """``GitHubPort`` over PyGithub, against ``GITHUB_API_URL`` (so GHES works)."""

    def __init__(self, settings: GitHubSettings, budget: RetryBudget | None = None) -> None:
        self._settings = settings
        self._budget = budget or RetryBudget()
        self._gh: Github | None = None
        self._repo: Repository | None = None
        self._pulls: dict[int, PullRequest] = {}
        self._comments: dict[int, IssueComment] = {}
        self._check_runs: dict[int, CheckRun] = {}

    # -- plumbing -------------------------------------------------------------------------

    @property
    def repo(self) -> Repository:
        if self._repo is None:
            s = self._settings
            self._gh = _client(s)
            # Not lazy: a lazy object would make its request on first attribute access, outside
            # the retry policy. One GET of the repository is the price.
            gh = self._gh
            self._repo = self._call(f"GET repository {s.repository}", lambda: gh.get_repo(s.repository))
        return self._repo

    def _call(self, what: str, fn: Callable[[], T], *, idempotent: bool = True) -> T:
        return call_with_retries(fn, idempotent=idempotent, budget=self._budget, what=what)

    def _collect(self, what: str, items: PaginatedList[Any], limit: int | None = None) -> list[Any]:
        """Read a paginated list. On a retry, PyGithub's PaginatedList keeps the pages it has
        and re-requests only the failed one, so one bad page does not restart the listing."""

        def read() -> list[Any]:
            out: list[Any] = []
            for item in items:
                out.append(item)
                if limit is not None and len(out) >= limit:
                    break
            return out

        return self._call(what, read)

    def _pull(self, number: int) -> PullRequest:
        if number not in self._pulls:
            self._pulls[number] = self._call(f"GET pull #{number}", lambda: self.repo.get_pull(number))
        return self._pulls[number]

    # -- reads ----------------------------------------------------------------------------

    def get_pull(self, number: int) -> PullData:
        self._pulls.pop(number, None)  # always fresh: the head may have moved
        pr = self._pull(number)
        return PullData(
            number=pr.number,
            state=pr.state,
            merged=bool(pr.merged),
            draft=bool(pr.draft),
            title=pr.title or "",
            body=pr.body or "",
            user=_user(pr.user) or UserRef(login="ghost"),
            head_sha=pr.head.sha,
            head_ref=pr.head.ref,
            head_repo=pr.head.repo.full_name if pr.head.repo is not None else None,
            base_sha=pr.base.sha,
            base_ref=pr.base.ref,
            base_repo=pr.base.repo.full_name,
            labels=tuple(sorted(label.name for label in pr.labels)),
            changed_files=pr.changed_files,
            additions=pr.additions,
            deletions=pr.deletions,
            commits=pr.commits,
            # Part of GET /pulls/{n}'s base.repo; read under the retries should PyGithub complete it.
            default_branch=self._call("GET base repository", lambda: str(pr.base.repo.default_branch or "")),
        )

    def list_files(self, number: int) -> list[PullFile]:
        files = self._collect(f"GET files of #{number}", self._pull(number).get_files(), MAX_LISTED_FILES)
        return [_pull_file(f) for f in files]

    def compare(self, base: str, head: str) -> CompareData:
        what = f"GET compare {base[:12]}...{head[:12]}"

        def read() -> CompareData:
            c = self.repo.compare(base, head)
            return CompareData(status=c.status, merge_base=c.merge_base_commit.sha,
                               files=tuple(_pull_file(f) for f in c.files))

        return self._call(what, read)

    def list_commits(self, number: int) -> list[CommitData]:
        commits = self._collect(f"GET commits of #{number}", self._pull(number).get_commits())
        out = []
        for c in commits:
            git = c.commit
            out.append(
                CommitData(
                    sha=c.sha,
                    parents=tuple(p.sha for p in c.parents),
                    message=git.message or "",
                    author_name=git.author.name or "" if git.author else "",
                    author_email=git.author.email or "" if git.author else "",
                    committer_name=git.committer.name or "" if git.committer else "",
                    committer_email=git.committer.email or "" if git.committer else "",
                    author=_user(c.author),
                    committer=_user(c.committer),
                )
            )
        return out

    def read_blob(self, sha: str) -> bytes:
        return self._blob(self.repo, sha)

    def _blob(self, repo: Repository, sha: str) -> bytes:
        blob = self._call(f"GET blob {sha[:12]}", lambda: repo.get_git_blob(sha))
        return _decode_blob(str(blob.content), str(blob.encoding))

    def read_blobs(self, shas: Sequence[str]) -> dict[str, bytes | GitHubError]:
        """Many blobs by id, ``read_concurrency`` at a time; a failed read maps to its error."""
        wanted = sorted(set(shas))
        workers = min(self._settings.read_concurrency, len(wanted))
        if workers <= 1:
            repo = self.repo
            return {sha: self._blob_or_error(repo, sha) for sha in wanted}
        clients = _WorkerClients(self._settings)
        try:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="govbot-github") as pool:
                results = list(pool.map(lambda sha: self._blob_or_error(clients.repo(), sha), wanted))
        finally:
            clients.close()
        return dict(zip(wanted, results, strict=True))

    def _blob_or_error(self, repo: Repository, sha: str) -> bytes | GitHubError:
        try:
            return self._blob(repo, sha)
        except GitHubError as exc:
            return exc

    def read_tree(self, sha: str, recursive: bool = False) -> TreeListing:
        """A tree (or a commit's root tree) through the git trees API, as plain values."""
        what = f"GET tree {sha[:12]}" + (" (recursive)" if recursive else "")
        tree = self._call(what, lambda: self.repo.get_git_tree(sha, recursive=recursive))
        entries = tuple(
            TreeEntry(
                path=e.path,
                mode=e.mode,
                type=e.type,
                sha=e.sha,
                size=e.size if isinstance(e.size, int) and e.type == "blob" else None,
            )
            for e in tree.tree
        )
        return TreeListing(sha=tree.sha, entries=entries, truncated=tree.truncated is True)

    def read_file(self, path: str, ref: str) -> bytes | None:
        """A regular file at ``ref`` through the contents API; None if absent or not a file."""
        try:
            content = self._call(f"GET {path}@{ref[:12]}", lambda: self.repo.get_contents(path, ref=ref))
        except NotFound:
            return None
        if isinstance(content, list) or content.type != "file":
            return None
        if content.encoding == "base64" and content.content is not None:
            return base64.b64decode(content.content)
        return self.read_blob(content.sha)  # files over 1 MB come without inline content

    def list_comments(self, number: int) -> list[CommentData]:
        comments = self._collect(f"GET comments of #{number}", self._pull(number).get_issue_comments())
        for c in comments:
            self._comments[c.id] = c
        return [_comment_data(c) for c in comments]

    def list_reviews(self, number: int) -> list[ReviewData]:
        reviews = self._collect(f"GET reviews of #{number}", self._pull(number).get_reviews())
        return [
            ReviewData(
                id=r.id,
                user=_user(r.user) or UserRef("ghost"),
                state=r.state,
                commit_id=r.commit_id,
                submitted_at=r.submitted_at,
            )
            for r in reviews
        ]

    def permission(self, login: str) -> str:
        try:
            repo = self.repo
            perm = self._call(f"GET permission of {login}", lambda: repo.get_collaborator_permission(login))
            return str(perm)
        except NotFound:
            return "none"

    def _commit(self, sha: str) -> Commit:
        # PyGithub's get_commit() makes a GET /commits/{sha} at once: it goes through the retries
        # like every other read (issue 9, class 17: a 502 here crashed the action).
        repo = self.repo
        return self._call(f"GET commit {sha[:12]}", lambda: repo.get_commit(sha))

    def find_check_run(self, head_sha: str, name: str) -> CheckRunData | None:
        commit = self._commit(head_sha)
        runs = self._collect(f"GET check runs of {head_sha[:12]}", commit.get_check_runs(check_name=name))
        runs = [r for r in runs if r.name == name]
        if not runs:
            return None
        latest = max(runs, key=lambda r: r.id)
        self._check_runs[latest.id] = latest
        out = latest.output
        return CheckRunData(
            id=latest.id,
            conclusion=latest.conclusion,
            title=(out.title if out is not None else None) or "",
            summary=(out.summary if out is not None else None) or "",
            text=(out.text if out is not None else None) or "",
        )

    # -- writes ---------------------------------------------------------------------------

    def create_comment(self, number: int, body: str) -> CommentData:
        c = self._call(
            f"POST comment on #{number}",
            lambda: self._pull(number).create_issue_comment(body),
            idempotent=False,
        )
        self._comments[c.id] = c
        return _comment_data(c)

    def edit_comment(self, number: int, comment_id: int, body: str) -> None:
        comment = self._comment(number, comment_id)
        self._call(f"PATCH comment {comment_id}", lambda: comment.edit(body))

    def delete_comment(self, number: int, comment_id: int) -> None:
        comment = self._comment(number, comment_id)
        with contextlib.suppress(NotFound):
            self._call(f"DELETE comment {comment_id}", comment.delete)

    def _comment(self, number: int, comment_id: int) -> IssueComment:
        if comment_id not in self._comments:
            self._comments[comment_id] = self._call(
                f"GET comment {comment_id}", lambda: self._pull(number).get_issue_comment(comment_id)
            )
        return self._comments[comment_id]

    def ensure_label(self, name: str, color: str, description: str) -> None:
        try:
            self._call(f"GET label {name}", lambda: self.repo.get_label(name))
            return
        except NotFound:
            pass
        try:
            # POST, but creating a label twice only yields 422 "already_exists": safe to retry.
            self._call(f"POST label {name}", lambda: self.repo.create_label(name, color, description))
        except GitHubError as exc:
            if exc.status != 422:
                raise

    def add_labels(self, number: int, names: Sequence[str]) -> None:
        if names:
            # Adding labels is a set union on GitHub's side: repeating it is harmless.
            self._call(f"POST labels on #{number}", lambda: self._pull(number).add_to_labels(*names))

    def remove_label(self, number: int, name: str) -> None:
        pull = self._pull(number)
        with contextlib.suppress(NotFound):
            self._call(f"DELETE label {name} on #{number}", lambda: pull.remove_from_labels(name))

    def create_check_run(self, head_sha: str, name: str, conclusion: str, output: CheckOutput,
                         details_url: str | None) -> int:
        first, rest = _annotation_batches(output.annotations)
        extra: dict[str, Any] = {"details_url": details_url} if details_url else {}
        run = self._call(
            f"POST check run {name}",
            lambda: self.repo.create_check_run(
                name=name,
                head_sha=head_sha,
                status="completed",
                conclusion=conclusion,
                completed_at=datetime.now(UTC),
                output=_output_payload(output, first),
                **extra,
            ),
            idempotent=False,
        )
        self._check_runs[run.id] = run
        self._append_annotations(run, conclusion, output, rest)
        return int(run.id)

    def update_check_run(self, check_run_id: int, conclusion: str, output: CheckOutput) -> None:
        run = self._check_runs.get(check_run_id) or self._call(
            f"GET check run {check_run_id}", lambda: self.repo.get_check_run(check_run_id)
        )
        first, rest = _annotation_batches(output.annotations)
        self._call(
            f"PATCH check run {check_run_id}",
            lambda: run.edit(
                status="completed",
                conclusion=conclusion,
                completed_at=datetime.now(UTC),
                output=_output_payload(output, first),
            ),
        )
        self._append_annotations(run, conclusion, output, rest)

    def _append_annotations(self, run: CheckRun, conclusion: str, output: CheckOutput,
                            batches: Iterable[tuple[Annotation, ...]]) -> None:
        # Annotations sent in successive updates are appended by GitHub (50 per request).
        for batch in batches:
            payload = _output_payload(output, batch)

            def send(payload: dict[str, Any] = payload) -> None:
                run.edit(conclusion=conclusion, output=payload)

            self._call(f"PATCH check run {run.id} annotations", send, idempotent=False)

    def create_status(self, sha: str, state: str, description: str, context: str,
                      target_url: str | None) -> None:
        commit = self._commit(sha)
        extra: dict[str, Any] = {"target_url": target_url} if target_url else {}
        # The latest status per context wins, so repeating the POST is harmless.
        description = description[:140]
        self._call(
            f"POST status {context}",
            lambda: commit.create_status(state=state, description=description, context=context, **extra),
        )


def _comment_data(c: IssueComment) -> CommentData:
    return CommentData(id=c.id, body=c.body or "", user=_user(c.user) or UserRef("ghost"))


def _annotation_batches(
    annotations: Sequence[Annotation],
) -> tuple[tuple[Annotation, ...], list[tuple[Annotation, ...]]]:
    n = MAX_ANNOTATIONS_PER_REQUEST
    batches = [tuple(annotations[i : i + n]) for i in range(0, len(annotations), n)]
    return (batches[0] if batches else ()), batches[1:]


def _output_payload(output: CheckOutput, annotations: Sequence[Annotation]) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "title": output.title[:255],
        "summary": output.summary[:65_535],
    }
    if output.text:
        payload["text"] = output.text[:65_535]
    if annotations:
        payload["annotations"] = [
            {
                "path": a.path,
                "start_line": a.start_line,
                "end_line": a.end_line,
                "annotation_level": a.level,
                "message": a.message[:4000],
                **({"title": a.title[:255]} if a.title else {}),
            }
            for a in annotations
        ]
    return payload
