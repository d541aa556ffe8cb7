"""A fake GitHub REST API on 127.0.0.1, speaking the JSON shapes PyGithub expects.

It keeps a small in-memory repository (pull requests, files, commits, blobs, contents by ref,
issue comments, labels, check runs, statuses, reviews, collaborator permissions), records every
request, paginates with ``Link`` headers, sends rate-limit headers, and injects faults:

* ``Fault(..., status=403, headers={"Retry-After": "1"})``: a secondary rate limit;
* ``Fault(..., status=502)``: a gateway error, nothing applied;
* ``Fault(..., status=502, apply=True)``: the request IS applied, then answered with 502;
* ``flaky_once = {"GET"}``: the first request of every distinct method, path and query answers 502
  (nothing applied), so a test can show that every such call is retried;
* ``Gate(method, path, parties)``: the first ``parties`` matching requests wait for each other
  before any is answered, so two clients race exactly where a test wants them to.

``latency_s`` delays every answer (outside the state lock, so concurrent requests overlap as on
the real API). Git trees (``GET /git/trees/{sha}``, commit or tree ids, ``recursive=1``) are
derived from the base commit's ``contents`` and the pull request's head files, with the modes
given in ``FakeFile.mode`` / ``modes``; ``tree_truncate_at`` cuts recursive listings short and
marks them ``truncated``, as GitHub does for huge trees.

Tests drive govbot's real entry point against it, then assert on ``requests`` and the state.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

OWNER, NAME = "octo", "shop"
FULL = f"{OWNER}/{NAME}"
SECONDARY_LIMIT = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
Json = Any


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Json
    status: int = 0


@dataclass
class Fault:
    method: str
    path: str  # regular expression, full match on the URL path
    status: int
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    apply: bool = False  # perform the request, then answer with the fault anyway
    message: str = "Server Error"


@dataclass
class Gate:
    method: str
    path: str  # regular expression, full match on the URL path (query ignored)
    parties: int = 2
    barrier: threading.Barrier | None = None
    left: int = 0

    def __post_init__(self) -> None:
        self.barrier = threading.Barrier(self.parties, timeout=10)
        self.left = self.parties


@dataclass
class User:
    login: str
    id: int
    type: str = "User"

    def json(self, base: str) -> Json:
        return {"login": self.login, "id": self.id, "type": self.type, "node_id": f"U_{self.id}",
                "url": f"{base}/users/{quote(self.login)}", "site_admin": False}


@dataclass
class FakeFile:
    filename: str
    content: bytes | None  # head-side content; None for a removed file
    status: str = "modified"
    patch: str | None = None
    additions: int = 0
    deletions: int = 0
    previous_filename: str | None = None
    mode: str = "100644"  # 100755, 120000 (symlink: content is the target), 160000 (content: commit id)


@dataclass
class FakeCommit:
    sha: str
    message: str
    author: User | None
    author_name: str = "Dev"
    author_email: str = "dev@example.com"
    parents: tuple[str, ...] = ()


@dataclass
class FakePull:
    number: int
    author: User
    title: str
    body: str
    head_sha: str
    base_sha: str
    head_ref: str = "feature"
    base_ref: str = "main"
    fork: bool = False
    state: str = "open"
    draft: bool = False
    labels: list[str] = field(default_factory=list)
    files: list[FakeFile] = field(default_factory=list)
    commits: list[FakeCommit] = field(default_factory=list)
    reviews: list[dict[str, Json]] = field(default_factory=list)
    changed_files: int | None = None  # override what the PR reports (e.g. over GitHub's caps)


def blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class TreeItem:
    path: str  # relative to the tree it is listed in
    mode: str
    type: str  # blob | tree | commit
    sha: str
    size: int | None


def _tree_sha(items: list[TreeItem]) -> str:
    raw = "\n".join(f"{i.mode} {i.type} {i.sha}\t{i.path}" for i in items).encode()
    return hashlib.sha1(b"tree\0" + raw, usedforsecurity=False).hexdigest()


def build_trees(files: dict[str, tuple[str, bytes]]) -> tuple[str, dict[str, list[TreeItem]]]:
    """Root tree id and every tree object (id -> direct children) of a flat {path: (mode, data)}."""
    children: dict[str, dict[str, tuple[str, bytes] | None]] = {"": {}}
    for path, entry in files.items():
        parts = path.split("/")
        for depth in range(1, len(parts)):
            parent, name = "/".join(parts[: depth - 1]), parts[depth - 1]
            children.setdefault(parent, {})[name] = None
            children.setdefault("/".join(parts[:depth]), {})
        children.setdefault("/".join(parts[:-1]), {})[parts[-1]] = entry
    trees: dict[str, list[TreeItem]] = {}

    def make(directory: str) -> str:
        items = []
        for name, entry in sorted(children[directory].items()):
            full = f"{directory}/{name}" if directory else name
            if entry is None:
                items.append(TreeItem(name, "040000", "tree", make(full), None))
            elif entry[0] == "160000":
                items.append(TreeItem(name, "160000", "commit", entry[1].decode(), None))
            else:
                items.append(TreeItem(name, entry[0], "blob", blob_sha(entry[1]), len(entry[1])))
        sha = _tree_sha(items)
        trees[sha] = items
        return sha

    return make(""), trees


class FakeGitHub:
    """The server. Use as a context manager; ``url`` is the API base (like GITHUB_API_URL)."""

    def __init__(self, *, prefix: str = "", latency_s: float = 0.0) -> None:
        self.prefix = prefix  # e.g. "/api/v3" to look like GitHub Enterprise Server
        self.latency_s = latency_s  # added to every answer, like the round trip to api.github.com
        self.lock = threading.RLock()
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.gates: list[Gate] = []
        self.flaky_once: set[str] = set()  # methods whose first request per path and query answers 502
        self._flaked: set[tuple[str, str]] = set()
        self.pulls: dict[int, FakePull] = {}
        self.blobs: dict[str, bytes] = {}
        self.contents: dict[tuple[str, str], bytes] = {}  # (ref, path) -> bytes
        self.modes: dict[tuple[str, str], str] = {}  # (ref, path) -> mode, for base-side entries
        # (base, head) -> (status, merge base, files) for GET /compare/{base}...{head}
        self.compares: dict[tuple[str, str], tuple[str, str, list[FakeFile]]] = {}
        self.tree_truncate_at: int | None = None  # recursive listings longer than this are cut
        self.max_concurrent = 0  # the most requests the server was handling at once
        self._in_flight = 0
        self.comments: dict[int, dict[str, Json]] = {}
        self.repo_labels: dict[str, dict[str, Json]] = {}
        self.check_runs: dict[int, dict[str, Json]] = {}
        self.statuses: list[dict[str, Json]] = []
        self.permissions: dict[str, str] = {}
        self.read_only = False  # every write answers 403, like a fork PR's token
        self.checks_forbidden = False  # no `checks: write`: check-run writes answer 403
        self.bot = User("github-actions[bot]", 41898282, "Bot")
        self.rate_remaining = 5000
        self._ids = itertools.count(1000)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> FakeGitHub:
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def origin(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        return self.origin + self.prefix

    @property
    def repo_url(self) -> str:
        return f"{self.url}/repos/{FULL}"

    # -- state helpers --------------------------------------------------------------------

    def add_pull(self, pull: FakePull) -> FakePull:
        for f in pull.files:
            if f.content is not None:
                self.blobs[blob_sha(f.content)] = f.content
        self.pulls[pull.number] = pull
        return pull

    def push_file(self, number: int, f: FakeFile) -> None:
        if f.content is not None:
            self.blobs[blob_sha(f.content)] = f.content
        self.pulls[number].files.append(f)

    def approve(self, number: int, user: User, commit_id: str, state: str = "APPROVED") -> None:
        self.pulls[number].reviews.append(
            {"id": next(self._ids), "user": user, "state": state, "commit_id": commit_id}
        )

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method != "GET"]

    def calls(self, method: str, pattern: str) -> list[Recorded]:
        rx = re.compile(pattern)
        return [r for r in self.requests if r.method == method and rx.fullmatch(r.path)]

    def issue_labels(self, number: int) -> list[str]:
        return sorted(self.pulls[number].labels)

    def comments_on(self, number: int) -> list[dict[str, Json]]:
        return [c for _, c in sorted(self.comments.items()) if c["number"] == number]

    # -- request handling (called from the server threads) --------------------------------

    def serve(self, method: str, raw_path: str, body: Json) -> tuple[int, dict[str, str], Json]:
        with self.lock:
            self._in_flight += 1
            self.max_concurrent = max(self.max_concurrent, self._in_flight)
        try:
            if self.latency_s:
                time.sleep(self.latency_s)
            self._pass_gate(method, raw_path)
            return self.handle(method, raw_path, body)
        finally:
            with self.lock:
                self._in_flight -= 1

    def handle(self, method: str, raw_path: str, body: Json) -> tuple[int, dict[str, str], Json]:
        split = urlsplit(raw_path)
        path = unquote(split.path)
        if self.prefix and path.startswith(self.prefix):
            path = path[len(self.prefix):]
        query = parse_qs(split.query)
        with self.lock:
            record = Recorded(method, path, query, body)
            self.requests.append(record)
            self.rate_remaining -= 1
            fault = self._take_fault(method, path)
            if fault is None and method in self.flaky_once and (method, raw_path) not in self._flaked:
                self._flaked.add((method, raw_path))
                fault = Fault(method, path, 502, message="Bad Gateway (flaky)")
            if fault is not None and not fault.apply:
                record.status = fault.status
                return fault.status, fault.headers, {"message": fault.message}
            status, headers, payload = self._route(method, path, query, body)
            if fault is not None:
                record.status = fault.status
                return fault.status, fault.headers, {"message": fault.message}
            record.status = status
            return status, headers, payload

    def _pass_gate(self, method: str, raw_path: str) -> None:
        path = unquote(urlsplit(raw_path).path)
        if self.prefix and path.startswith(self.prefix):
            path = path[len(self.prefix):]
        with self.lock:
            gate = next((g for g in self.gates if g.left > 0 and g.method == method
                         and re.fullmatch(g.path, path)), None)
            if gate is not None:
                gate.left -= 1
        if gate is not None and gate.barrier is not None:
            gate.barrier.wait()  # outside the lock: the other party must get in

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.method == method and re.fullmatch(fault.path, path):
                fault.times -= 1
                return fault
        return None

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Json
               ) -> tuple[int, dict[str, str], Json]:
        prefix = f"/repos/{FULL}"
        if not path.startswith(prefix):
            return _not_found()
        rest = path[len(prefix):]
        is_write = method != "GET"
        if is_write and self.read_only:
            return 403, {}, {"message": "Resource not accessible by integration"}
        if is_write and self.checks_forbidden and rest.startswith("/check-runs"):
            return 403, {}, {"message": "Resource not accessible by integration"}
        for verb, pattern, fn in self._routes():
            if verb != method:
                continue
            m = re.fullmatch(pattern, rest)
            if m:
                return fn(m, query, body)
        return _not_found()

    def _routes(self) -> list[tuple[str, str, Callable[[re.Match[str], dict[str, list[str]], Json],
                                                          tuple[int, dict[str, str], Json]]]]:
        return [
            ("GET", r"", lambda m, q, b: (200, {}, self._repo_json())),
            ("GET", r"/pulls/(\d+)", lambda m, q, b: self._pull(int(m[1]))),
            ("GET", r"/pulls/(\d+)/files", lambda m, q, b: self._pull_files(int(m[1]), q)),
            ("GET", r"/pulls/(\d+)/commits", lambda m, q, b: self._pull_commits(int(m[1]), q)),
            ("GET", r"/pulls/(\d+)/reviews", lambda m, q, b: self._reviews(int(m[1]), q)),
            ("GET", r"/compare/([0-9a-f]{40})\.\.\.([0-9a-f]{40})", lambda m, q, b: self._compare(m[1], m[2])),
            ("GET", r"/git/blobs/([0-9a-f]{40})", lambda m, q, b: self._blob(m[1])),
            ("GET", r"/git/trees/([0-9a-f]{40})", lambda m, q, b: self._tree(m[1], q)),
            ("GET", r"/contents/(.+)", lambda m, q, b: self._content(m[1], q)),
            ("GET", r"/issues/(\d+)/comments", lambda m, q, b: self._list_comments(int(m[1]), q)),
            ("POST", r"/issues/(\d+)/comments", lambda m, q, b: self._create_comment(int(m[1]), b)),
            ("GET", r"/issues/comments/(\d+)", lambda m, q, b: self._get_comment(int(m[1]))),
            ("PATCH", r"/issues/comments/(\d+)", lambda m, q, b: self._edit_comment(int(m[1]), b)),
            ("DELETE", r"/issues/comments/(\d+)", lambda m, q, b: self._delete_comment(int(m[1]))),
            ("GET", r"/issues/(\d+)/labels", lambda m, q, b: self._issue_labels(int(m[1]))),
            ("POST", r"/issues/(\d+)/labels", lambda m, q, b: self._add_labels(int(m[1]), b)),
            ("DELETE", r"/issues/(\d+)/labels/(.+)", lambda m, q, b: self._remove_label(int(m[1]), m[2])),
            ("GET", r"/labels/(.+)", lambda m, q, b: self._get_label(m[1])),
            ("POST", r"/labels", lambda m, q, b: self._create_label(b)),
            ("GET", r"/commits/([0-9a-f]{40})", lambda m, q, b: (200, {}, self._commit_json(m[1]))),
            ("GET", r"/commits/([0-9a-f]{40})/check-runs", lambda m, q, b: self._list_check_runs(m[1], q)),
            ("POST", r"/check-runs", lambda m, q, b: self._create_check_run(b)),
            ("GET", r"/check-runs/(\d+)", lambda m, q, b: (200, {}, self.check_runs[int(m[1])])),
            ("PATCH", r"/check-runs/(\d+)", lambda m, q, b: self._edit_check_run(int(m[1]), b)),
            ("POST", r"/statuses/([0-9a-f]{40})", lambda m, q, b: self._create_status(m[1], b)),
            ("GET", r"/collaborators/([^/]+)/permission", lambda m, q, b: self._permission(m[1])),
        ]

    # -- JSON shapes ----------------------------------------------------------------------

    def _repo_json(self, full: str = FULL) -> Json:
        owner = full.split("/", maxsplit=1)[0]
        return {"id": 1 if full == FULL else 2, "name": full.split("/")[1], "full_name": full,
                "private": False, "owner": User(owner, 9000).json(self.url), "fork": full != FULL,
                "url": f"{self.url}/repos/{full}", "default_branch": "main"}

    def _pull_json(self, p: FakePull) -> Json:
        head_repo = f"contributor/{NAME}" if p.fork else FULL
        url = f"{self.repo_url}/pulls/{p.number}"
        return {
            "url": url, "id": 50_000 + p.number, "number": p.number, "state": p.state,
            "html_url": f"{self.origin}/{FULL}/pull/{p.number}",
            "issue_url": f"{self.repo_url}/issues/{p.number}",
            "comments_url": f"{self.repo_url}/issues/{p.number}/comments",
            "review_comments_url": f"{url}/comments", "commits_url": f"{url}/commits",
            "title": p.title, "body": p.body, "user": p.author.json(self.url),
            "labels": [self._label_json(name) for name in p.labels], "draft": p.draft,
            "merged": False, "mergeable": None, "locked": False,
            "head": {"label": f"x:{p.head_ref}", "ref": p.head_ref, "sha": p.head_sha,
                     "repo": self._repo_json(head_repo), "user": p.author.json(self.url)},
            "base": {"label": f"{OWNER}:{p.base_ref}", "ref": p.base_ref, "sha": p.base_sha,
                     "repo": self._repo_json(), "user": User(OWNER, 9000).json(self.url)},
            "author_association": "CONTRIBUTOR",
            "commits": len(p.commits),
            "additions": sum(f.additions for f in p.files),
            "deletions": sum(f.deletions for f in p.files),
            "changed_files": p.changed_files if p.changed_files is not None else len(p.files),
        }

    def _pull(self, number: int) -> tuple[int, dict[str, str], Json]:
        p = self.pulls.get(number)
        return (200, {}, self._pull_json(p)) if p else _not_found()

    def _page(self, path: str, items: list[Json], q: dict[str, list[str]], cap: int | None = None
              ) -> tuple[int, dict[str, str], Json]:
        if cap is not None:
            items = items[:cap]
        per_page = min(int(q.get("per_page", ["30"])[0]), 100)
        page = int(q.get("page", ["1"])[0])
        last = max((len(items) + per_page - 1) // per_page, 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []
        extra = "".join(f"&{k}={quote(v[0])}" for k, v in sorted(q.items()) if k not in ("page", "per_page"))
        base = f"{self.url}{path}?per_page={per_page}{extra}"
        if page < last:
            links.append(f'<{base}&page={page + 1}>; rel="next"')
            links.append(f'<{base}&page={last}>; rel="last"')
        if page > 1:
            links.append(f'<{base}&page=1>; rel="first"')
            links.append(f'<{base}&page={page - 1}>; rel="prev"')
        return 200, ({"Link": ", ".join(links)} if links else {}), chunk

    def _pull_files(self, number: int, q: dict[str, list[str]]) -> tuple[int, dict[str, str], Json]:
        p = self.pulls[number]
        items = [self._file_json(f, p.head_sha) for f in p.files]
        return self._page(f"/repos/{FULL}/pulls/{number}/files", items, q, cap=3000)

    def _file_json(self, f: FakeFile, head_sha: str) -> Json:
        sha = blob_sha(f.content) if f.content is not None else "0" * 40
        if f.mode == "160000" and f.content is not None:
            sha = f.content.decode()  # a submodule's entry is the commit it points to
        item: Json = {"sha": sha, "filename": f.filename, "status": f.status,
                      "additions": f.additions, "deletions": f.deletions,
                      "changes": f.additions + f.deletions,
                      "blob_url": f"{self.origin}/{FULL}/blob/{head_sha}/{quote(f.filename)}",
                      "raw_url": f"{self.origin}/{FULL}/raw/{head_sha}/{quote(f.filename)}",
                      "contents_url": f"{self.repo_url}/contents/{quote(f.filename)}?ref={head_sha}"}
        if f.patch is not None:
            item["patch"] = f.patch
        if f.previous_filename:
            item["previous_filename"] = f.previous_filename
        return item

    def _compare(self, base: str, head: str) -> tuple[int, dict[str, str], Json]:
        found = self.compares.get((base, head))
        if found is None:
            return 404, {}, {"message": "Not Found"}
        status, merge_base, files = found
        return 200, {}, {
            "url": f"{self.repo_url}/compare/{base}...{head}", "status": status,
            "ahead_by": 1, "behind_by": 0 if status == "ahead" else 1, "total_commits": 1,
            "base_commit": self._commit_json(base), "merge_base_commit": self._commit_json(merge_base),
            "commits": [], "files": [self._file_json(f, head) for f in files],
        }

    def _commit_json(self, sha: str, c: FakeCommit | None = None) -> Json:
        c = c or FakeCommit(sha=sha, message="", author=None)
        person = {"name": c.author_name, "email": c.author_email, "date": "2024-05-01T10:00:00Z"}
        return {
            "sha": sha, "node_id": f"C_{sha[:8]}", "url": f"{self.repo_url}/commits/{sha}",
            "html_url": f"{self.origin}/{FULL}/commit/{sha}",
            "commit": {"author": person, "committer": person, "message": c.message,
                       "tree": {"sha": "f" * 40, "url": f"{self.repo_url}/git/trees/{'f' * 40}"},
                       "url": f"{self.repo_url}/git/commits/{sha}"},
            "author": c.author.json(self.url) if c.author else None,
            "committer": c.author.json(self.url) if c.author else None,
            "parents": [{"sha": s, "url": f"{self.repo_url}/commits/{s}"} for s in c.parents],
        }

    def _pull_commits(self, number: int, q: dict[str, list[str]]) -> tuple[int, dict[str, str], Json]:
        p = self.pulls[number]
        items = [self._commit_json(c.sha, c) for c in p.commits]
        return self._page(f"/repos/{FULL}/pulls/{number}/commits", items, q, cap=250)

    def _reviews(self, number: int, q: dict[str, list[str]]) -> tuple[int, dict[str, str], Json]:
        p = self.pulls[number]
        items = [
            {"id": r["id"], "user": r["user"].json(self.url), "body": "", "state": r["state"],
             "commit_id": r["commit_id"], "submitted_at": "2024-05-01T12:00:00Z",
             "html_url": f"{self.origin}/{FULL}/pull/{number}#review-{r['id']}",
             "pull_request_url": f"{self.repo_url}/pulls/{number}", "author_association": "MEMBER"}
            for r in p.reviews
        ]
        return self._page(f"/repos/{FULL}/pulls/{number}/reviews", items, q)

    def _blob(self, sha: str) -> tuple[int, dict[str, str], Json]:
        data = self.blobs.get(sha)
        if data is None:
            return _not_found()
        encoded = base64.encodebytes(data).decode()  # GitHub wraps base64 at 60 columns too
        return 200, {}, {"sha": sha, "size": len(data), "content": encoded, "encoding": "base64",
                         "url": f"{self.repo_url}/git/blobs/{sha}", "node_id": f"B_{sha[:8]}"}

    def commit_files(self, sha: str) -> dict[str, tuple[str, bytes]] | None:
        """The files of a commit: the base (``contents`` at that ref) or a PR head (base + files)."""
        base = {path: (self.modes.get((ref, path), "100644"), data)
                for (ref, path), data in self.contents.items() if ref == sha}
        for p in self.pulls.values():
            if p.head_sha == sha:
                files = {path: (self.modes.get((p.base_sha, path), "100644"), data)
                         for (ref, path), data in self.contents.items() if ref == p.base_sha}
                for f in p.files:
                    files.pop(f.previous_filename or f.filename, None)
                    if f.content is not None:
                        files[f.filename] = (f.mode, f.content)
                return files
        return base or None

    def _tree(self, sha: str, q: dict[str, list[str]]) -> tuple[int, dict[str, str], Json]:
        files = self.commit_files(sha)
        trees: dict[str, list[TreeItem]] = {}
        if files is not None:
            root, trees = build_trees(files)
            sha_out = root
        else:  # a tree id from an earlier listing
            for p in self.pulls.values():
                for commit in (p.head_sha, p.base_sha):
                    found = self.commit_files(commit)
                    if found is not None:
                        trees.update(build_trees(found)[1])
            if sha not in trees:
                return _not_found()
            sha_out = sha
        listing: list[TreeItem] = []

        def walk(tree: str, prefix: str) -> None:
            for item in trees[tree]:
                listing.append(TreeItem(prefix + item.path, item.mode, item.type, item.sha, item.size))
                if item.type == "tree" and q.get("recursive"):
                    walk(item.sha, prefix + item.path + "/")

        walk(sha_out, "")
        truncated = False
        if q.get("recursive") and self.tree_truncate_at is not None and len(listing) > self.tree_truncate_at:
            listing, truncated = listing[: self.tree_truncate_at], True
        for f in (files or {}).values():
            if f[0] != "160000":
                self.blobs.setdefault(blob_sha(f[1]), f[1])
        entries = [
            {"path": i.path, "mode": i.mode, "type": i.type, "sha": i.sha,
             "url": f"{self.repo_url}/git/{i.type}s/{i.sha}", **({"size": i.size} if i.size is not None else {})}
            for i in listing
        ]
        return 200, {}, {"sha": sha_out, "url": f"{self.repo_url}/git/trees/{sha_out}", "tree": entries,
                         "truncated": truncated}

    def _content(self, path: str, q: dict[str, list[str]]) -> tuple[int, dict[str, str], Json]:
        ref = q.get("ref", ["main"])[0]
        data = self.contents.get((ref, path))
        if data is None:
            return _not_found()
        sha = blob_sha(data)
        self.blobs[sha] = data
        return 200, {}, {"type": "file", "encoding": "base64", "size": len(data), "name": path.rsplit("/", 1)[-1],
                         "path": path, "content": base64.encodebytes(data).decode(), "sha": sha,
                         "url": f"{self.repo_url}/contents/{quote(path)}?ref={ref}"}

    def _comment_json(self, c: dict[str, Json]) -> Json:
        return {"id": c["id"], "node_id": f"IC_{c['id']}", "url": f"{self.repo_url}/issues/comments/{c['id']}",
                "html_url": f"{self.origin}/{FULL}/pull/{c['number']}#issuecomment-{c['id']}",
                "body": c["body"], "user": c["user"].json(self.url),
                "created_at": "2024-05-01T12:00:00Z", "updated_at": "2024-05-01T12:00:00Z",
                "issue_url": f"{self.repo_url}/issues/{c['number']}", "author_association": "NONE"}

    def add_comment(self, number: int, body: str, user: User | None = None) -> int:
        cid = next(self._ids)
        self.comments[cid] = {"id": cid, "number": number, "body": body, "user": user or self.bot}
        return cid

    def _list_comments(self, number: int, q: dict[str, list[str]]) -> tuple[int, dict[str, str], Json]:
        items = [self._comment_json(c) for c in self.comments_on(number)]
        return self._page(f"/repos/{FULL}/issues/{number}/comments", items, q)

    def _create_comment(self, number: int, body: Json) -> tuple[int, dict[str, str], Json]:
        text = body["body"]
        if len(text) > 65536:
            return 422, {}, {"message": "Validation Failed", "errors": [{"field": "body", "code": "custom",
                             "message": "body is too long (maximum is 65536 characters)"}]}
        cid = self.add_comment(number, text)
        return 201, {}, self._comment_json(self.comments[cid])

    def _get_comment(self, cid: int) -> tuple[int, dict[str, str], Json]:
        c = self.comments.get(cid)
        return (200, {}, self._comment_json(c)) if c else _not_found()

    def _edit_comment(self, cid: int, body: Json) -> tuple[int, dict[str, str], Json]:
        c = self.comments.get(cid)
        if c is None:
            return _not_found()
        if len(body["body"]) > 65536:
            return 422, {}, {"message": "Validation Failed"}
        c["body"] = body["body"]
        return 200, {}, self._comment_json(c)

    def _delete_comment(self, cid: int) -> tuple[int, dict[str, str], Json]:
        if self.comments.pop(cid, None) is None:
            return _not_found()
        return 204, {}, None

    def _label_json(self, name: str) -> Json:
        meta = self.repo_labels.get(name, {"color": "ededed", "description": None})
        return {"id": abs(hash(name)) % 10**9, "node_id": "LA_x", "name": name, "color": meta["color"],
                "description": meta["description"], "default": False,
                "url": f"{self.repo_url}/labels/{quote(name, safe='')}"}

    def _issue_labels(self, number: int) -> tuple[int, dict[str, str], Json]:
        return 200, {}, [self._label_json(n) for n in self.pulls[number].labels]

    def _add_labels(self, number: int, body: Json) -> tuple[int, dict[str, str], Json]:
        names = body["labels"] if isinstance(body, dict) else body
        p = self.pulls[number]
        for name in names:
            self.repo_labels.setdefault(name, {"color": "ededed", "description": None})
            if name not in p.labels:
                p.labels.append(name)
        return 200, {}, [self._label_json(n) for n in p.labels]

    def _remove_label(self, number: int, name: str) -> tuple[int, dict[str, str], Json]:
        p = self.pulls[number]
        if name not in p.labels:
            return 404, {}, {"message": "Label does not exist"}
        p.labels.remove(name)
        return 200, {}, [self._label_json(n) for n in p.labels]

    def _get_label(self, name: str) -> tuple[int, dict[str, str], Json]:
        return (200, {}, self._label_json(name)) if name in self.repo_labels else _not_found()

    def _create_label(self, body: Json) -> tuple[int, dict[str, str], Json]:
        name = body["name"]
        if name in self.repo_labels:
            return 422, {}, {"message": "Validation Failed", "errors": [{"code": "already_exists"}]}
        self.repo_labels[name] = {"color": body.get("color", "ededed"), "description": body.get("description")}
        return 201, {}, self._label_json(name)

    def _check_run_json(self, cid: int) -> Json:
        return self.check_runs[cid]

    def _list_check_runs(self, sha: str, q: dict[str, list[str]]) -> tuple[int, dict[str, str], Json]:
        name = q.get("check_name", [None])[0]
        runs = [r for _, r in sorted(self.check_runs.items())
                if r["head_sha"] == sha and (name is None or r["name"] == name)]
        return 200, {}, {"total_count": len(runs), "check_runs": runs}

    def _create_check_run(self, body: Json) -> tuple[int, dict[str, str], Json]:
        cid = next(self._ids)
        output = body.get("output") or {}
        self.check_runs[cid] = {
            "id": cid, "name": body["name"], "head_sha": body["head_sha"], "node_id": f"CR_{cid}",
            "status": body.get("status", "queued"), "conclusion": body.get("conclusion"),
            "url": f"{self.repo_url}/check-runs/{cid}", "html_url": f"{self.origin}/{FULL}/runs/{cid}",
            "details_url": body.get("details_url"), "external_id": body.get("external_id", ""),
            "started_at": "2024-05-01T12:00:00Z", "completed_at": body.get("completed_at"),
            "output": {"title": output.get("title"), "summary": output.get("summary"),
                       "text": output.get("text"), "annotations_count": len(output.get("annotations", []))},
            "annotations": list(output.get("annotations", [])),
            "app": {"id": 15368, "slug": "github-actions", "name": "GitHub Actions"},
            "check_suite": {"id": 1},
        }
        return 201, {}, self.check_runs[cid]

    def _edit_check_run(self, cid: int, body: Json) -> tuple[int, dict[str, str], Json]:
        run = self.check_runs.get(cid)
        if run is None:
            return _not_found()
        for key in ("status", "conclusion", "completed_at", "details_url"):
            if key in body:
                run[key] = body[key]
        if "output" in body:
            output = body["output"]
            run["annotations"].extend(output.get("annotations", []))
            run["output"] = {"title": output.get("title"), "summary": output.get("summary"),
                             "text": output.get("text"), "annotations_count": len(run["annotations"])}
        return 200, {}, run

    def _create_status(self, sha: str, body: Json) -> tuple[int, dict[str, str], Json]:
        status = {"id": next(self._ids), "sha": sha, "state": body["state"],
                  "description": body.get("description"), "context": body.get("context", "default"),
                  "target_url": body.get("target_url"), "url": f"{self.repo_url}/statuses/{sha}",
                  "created_at": "2024-05-01T12:00:00Z", "updated_at": "2024-05-01T12:00:00Z"}
        self.statuses.append(status)
        return 201, {}, status

    def _permission(self, login: str) -> tuple[int, dict[str, str], Json]:
        perm = self.permissions.get(login)
        if perm is None:
            return 404, {}, {"message": f"{login} is not a user"}
        user = User(login, 7000 + len(login))
        return 200, {}, {"permission": perm, "role_name": perm, "user": user.json(self.url)}


def _not_found() -> tuple[int, dict[str, str], Json]:
    return 404, {}, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}


def _make_handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as separate writes

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            if not self.headers.get("Authorization", "").startswith(("token ", "Bearer ")):
                status, headers, payload = 401, {}, {"message": "Requires authentication"}
            else:
                status, headers, payload = fake.serve(self.command, self.path, body)
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-RateLimit-Limit", "5000")
            self.send_header("X-RateLimit-Remaining", str(max(fake.rate_remaining, 0)))
            self.send_header("X-RateLimit-Reset", "4102444800")
            self.send_header("X-RateLimit-Used", str(5000 - fake.rate_remaining))
            self.send_header("X-RateLimit-Resource", "core")
            self.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

    return Handler
