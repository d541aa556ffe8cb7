"""Build the router's training set from git history: pure parsing plus one small git seam.

Rows are ``(repo, sha, label, evidence)``; diffs are regenerated from git mirrors, never stored.

Labels:

- ``security``: a fix commit named by an OSV advisory (``references`` with a ``/commit/<sha>``
  URL, or ``affected[].ranges[]`` of type GIT with a ``fixed`` event), or a commit whose message
  cites a CVE/GHSA/PYSEC id;
- ``lint``: typo/whitespace/comment-only/formatting changes (the diff is empty once whitespace,
  quotes and comments are normalised away), linter/formatter config, tool version bumps;
- ``feature``: every other non-merge commit of the same repositories (sampled).

Sources listed in the shared RESERVED list are refused, and so is TensorFlow (its advisories would
swamp every other project).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govbot.core.diff import changed_lines

# Kept for independent evaluation: never data, not even for tuning (shared/RESERVED.md).
RESERVED_REPOS = frozenset(
    name.lower()
    for name in (
        "pallets/flask", "pallets/werkzeug", "pallets/jinja", "pallets/click", "urllib3/urllib3",
        "psf/requests", "yaml/pyyaml", "paramiko/paramiko", "aio-libs/aiohttp", "tornadoweb/tornado",
        "encode/starlette", "encode/httpx", "Kludex/python-multipart", "python-pillow/Pillow",
        "lxml/lxml", "jupyter-server/jupyter_server", "gradio-app/gradio", "simonw/llm",
        "pydantic/pydantic-settings", "s2e-lab/SecurityEval", "s2e-lab/SALLM",
        "meta-llama/PurpleLlama", "eth-sri/sven",
        # former names of the same projects
        "kennethreitz/requests", "requests/requests", "mitsuhiko/jinja2", "mitsuhiko/flask",
        "mitsuhiko/werkzeug", "python-imaging/Pillow", "shazow/urllib3", "pyca/paramiko",
    )
)
RESERVED_OWNERS = frozenset({"pallets"})
EXCLUDED_REPOS = frozenset({"tensorflow/tensorflow"})
# Former names and forks that share one project's history: one repository per project, so that no
# commit can sit in a training fold under one name and in a test fold under another.
ALIASES = {
    "element-hq/synapse": "matrix-org/synapse",
    "rohe/pysaml2": "identitypython/pysaml2",
    "unrud/radicale": "kozea/radicale",
    "theupdateframework/tuf": "theupdateframework/python-tuf",
    "wichert/pyrad": "pyradius/pyrad",
    "samuelcolvin/pydantic": "pydantic/pydantic",
    "jimmo/micropython": "micropython/micropython",
    "legrandin/pycrypto": "dlitz/pycrypto",
    "shantonru/salt": "saltstack/salt",
    "twangboy/salt": "saltstack/salt",
    "gzpan123/pip": "pypa/pip",
    "trevp/tlslite": "tlsfuzzer/tlslite-ng",
    "secureauthcorp/impacket": "fortra/impacket",
    "starlite-api/starlite": "litestar-org/litestar",
    "toastdriven/django-tastypie": "django-tastypie/django-tastypie",
    "pytorchlightning/pytorch-lightning": "lightning-ai/pytorch-lightning",
}

_COMMIT_URL = re.compile(r"https?://github\.com/([\w.-]+)/([\w.-]+)/commit/([0-9a-f]{7,40})", re.I)
_REPO_URL = re.compile(r"https?://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?$", re.I)
ADVISORY_ID = re.compile(r"\b(CVE-\d{4}-\d{4,}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}|PYSEC-\d{4}-\d+)\b", re.I)


@dataclass(frozen=True)
class Row:
    repo: str  # owner/name, lower case
    sha: str
    label: str  # security | lint | feature
    evidence: str


def normalise_repo(owner: str, name: str) -> str:
    """``owner/name`` in lower case, former names and forks mapped to the project's one name."""
    name = name.removesuffix(".git")
    repo = f"{owner}/{name}".lower()
    return ALIASES.get(repo, repo)


def is_refused(repo: str) -> bool:
    """True for reserved evaluation sources and excluded repositories (case-insensitive)."""
    repo = repo.lower()
    owner = repo.split("/", 1)[0]
    return repo in RESERVED_REPOS or owner in RESERVED_OWNERS or repo in EXCLUDED_REPOS


def fix_commits(record: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """``(repo, sha, evidence)`` for every fix commit an OSV record names."""
    vid = str(record.get("id", "?"))
    found: dict[tuple[str, str], str] = {}
    for ref in record.get("references") or ():
        url = str(ref.get("url", ""))
        m = _COMMIT_URL.search(url)
        if m and str(ref.get("type", "")).upper() in {"FIX", "WEB", "PACKAGE"}:
            found.setdefault((normalise_repo(m[1], m[2]), m[3].lower()), f"{vid} reference {url}")
    for affected in record.get("affected") or ():
        for rng in affected.get("ranges") or ():
            if str(rng.get("type", "")).upper() != "GIT":
                continue
            m = _REPO_URL.match(str(rng.get("repo", "")))
            if not m:
                continue
            for event in rng.get("events") or ():
                sha = str(event.get("fixed", ""))
                if re.fullmatch(r"[0-9a-f]{7,40}", sha):
                    found.setdefault((normalise_repo(m[1], m[2]), sha.lower()), f"{vid} GIT range fixed")
    return [(repo, sha, ev) for (repo, sha), ev in sorted(found.items()) if not is_refused(repo)]


def advisory_rows(records: Iterable[Mapping[str, Any]]) -> list[Row]:
    """Security rows from OSV records, one per (repo, sha); the first advisory's evidence wins."""
    seen: dict[tuple[str, str], Row] = {}
    for record in records:
        for repo, sha, evidence in fix_commits(record):
            key = (repo, sha[:12])
            seen.setdefault(key, Row(repo, sha, "security", evidence))
    return sorted(seen.values(), key=lambda r: (r.repo, r.sha))


def load_osv_dir(root: Path) -> Iterator[dict[str, Any]]:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    for path in sorted(root.rglob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            yield data


# --- commit heuristics -------------------------------------------------------------------

LINT_MESSAGE = re.compile(
    r"(?i)\b(typos?|spelling|misspell\w*|whitespace|trailing space|indentation|reformat\w*|formatting|"
    r"black|isort|ruff( format)?|flake8|pylint|autopep8|yapf|pre-commit|lint(er|ing)?|"
    r"codespell|pyupgrade|docstrings?|comments?)\b"
)
LINT_CONFIG_FILES = re.compile(
    r"(^|/)(\.pre-commit-config\.yaml|\.flake8|\.pylintrc|pylintrc|\.isort\.cfg|\.editorconfig|"
    r"\.codespellrc|ruff\.toml|\.ruff\.toml|\.yamllint(\.ya?ml)?|\.coveragerc|mypy\.ini|\.mypy\.ini|"
    r"\.prettierrc(\.\w+)?|\.eslintrc(\.\w+)?|tox\.ini|\.git-blame-ignore-revs|\.gitignore|\.mailmap)$"
)
DOC_FILES = re.compile(
    r"(?i)(\.(md|rst|txt|adoc)$|(^|/)(docs?|changelog|changes|news)/|(^|/)(AUTHORS|CONTRIBUTORS|LICEN[CS]E)\b)"
)
_COMMENT = re.compile(r"#.*$")


def _normalise_code(line: str) -> str:
    line = _COMMENT.sub("", line)
    line = line.replace("'", '"')
    return re.sub(r"[\s,()]+", "", line)


def semantically_empty(patch: str) -> bool:
    """True when added and removed code are equal after dropping whitespace, commas, parentheses,
    comments and quote style: a reformat, comment edit or whitespace change."""
    removed, added = changed_lines(patch)
    return _normalised(added) == _normalised(removed)


def _normalised(lines: Sequence[str]) -> str:
    return "".join(_normalise_code(x) for x in lines)


def is_lint_commit(message: str, files: Mapping[str, str]) -> str | None:
    """The reason a commit is lint-level, or None. ``files`` maps path -> that file's patch.

    Lint-level when every changed file is docs, lint/formatter config, or a code file whose change
    is semantically empty; or when the message names a formatter/linter/typo and every code change
    is semantically empty.
    """
    if not files:
        return None
    kinds = []
    for path, patch in files.items():
        if LINT_CONFIG_FILES.search(path):
            kinds.append("config")
        elif DOC_FILES.search(path):
            kinds.append("docs")
        elif path.endswith((".py", ".pyi", ".js", ".ts", ".c", ".h", ".go", ".rs", ".java", ".rb")):
            if not semantically_empty(patch):
                return None
            kinds.append("format")
        else:
            return None
    if all(k == "docs" for k in kinds) and not LINT_MESSAGE.search(message):
        return None  # documentation features are not lint-level unless the message says so
    m = LINT_MESSAGE.search(message)
    return "lint: " + ",".join(sorted(set(kinds))) + (f" (message: {m[0]})" if m else "")


def cited_ids(message: str) -> list[str]:
    return sorted({m.upper() for m in ADVISORY_ID.findall(message)})


# --- git seam ----------------------------------------------------------------------------


def git(gitdir: Path, *args: str, timeout: float = 60) -> str:
    out = subprocess.run(
        ["git", f"--git-dir={gitdir}", *args], capture_output=True, timeout=timeout, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"git {' '.join(args[:2])} failed: {out.stderr.decode(errors='replace')[:200]}")
    return out.stdout.decode("utf-8", errors="replace")


def resolve_sha(gitdir: Path, sha: str) -> str | None:
    try:
        return git(gitdir, "rev-parse", "--verify", "--quiet", f"{sha}^{{commit}}").strip() or None
    except RuntimeError:
        return None


def commit_diff(gitdir: Path, sha: str, max_bytes: int = 400_000) -> tuple[str, str]:
    """``(message, unified diff against the first parent)`` of one commit."""
    message = git(gitdir, "log", "-1", "--format=%B", sha)
    diff = git(gitdir, "show", "--format=", "--no-color", "--no-ext-diff", "-M", "--first-parent", sha)
    return message, diff[:max_bytes]


def split_files(diff: str) -> dict[str, str]:
    files: dict[str, str] = {}
    current: str | None = None
    buf: list[str] = []
    for line in diff.splitlines():
        if line.startswith("diff --git "):
            if current is not None:
                files[current] = "\n".join(buf)
            parts = line.split(" b/", 1)
            current = parts[1] if len(parts) == 2 else line
            buf = []
        else:
            buf.append(line)
    if current is not None:
        files[current] = "\n".join(buf)
    return files


def history(gitdir: Path, limit: int) -> list[tuple[str, str]]:
    """``(sha, subject+body)`` of the newest ``limit`` non-merge commits on HEAD."""
    out = git(gitdir, "log", "--no-merges", f"-n{limit}", "--format=%H%x00%B%x01", "HEAD", timeout=120)
    rows = []
    for raw in out.split("\x01"):
        chunk = raw.strip("\n")
        if "\x00" in chunk:
            sha, msg = chunk.split("\x00", 1)
            rows.append((sha.strip(), msg))
    return rows


_SECURITY_WORDS = re.compile(r"(?i)\b(security|vulnerab\w*|exploit|xss|csrf|injection|traversal|dos)\b")
_TOOL_BUMP = re.compile(
    r"(?i)\b(bump|upgrade|update)\b.*\b(black|ruff|flake8|isort|mypy|pylint|pre-commit|pyupgrade)\b"
)
SECURITY_MESSAGE = re.compile(r"(?i)\b(fix\w*|patch\w*|prevent\w*|security|vulnerab\w*|sanitiz\w*|escap\w*)")


def pick_candidates(commits: Sequence[tuple[str, str]], per_repo_other: int) -> list[tuple[str, str]]:
    """Evenly spaced commits over the history, plus those whose message sounds lint-level (so the
    rarer lint class is represented); deterministic."""
    if not commits:
        return []
    step = max(1, len(commits) // max(1, per_repo_other))
    even = list(commits[::step])[:per_repo_other]
    linty = [c for c in commits if LINT_MESSAGE.search(c[1].split("\n", 1)[0])][: per_repo_other // 2]
    seen: set[str] = set()
    out = []
    for c in even + linty:
        if c[0] not in seen:
            seen.add(c[0])
            out.append(c)
    return out


def _is_tool_bump(message: str, files: Mapping[str, str]) -> bool:
    dev_files = ("requirements-dev.txt", "requirements_dev.txt")
    return bool(_TOOL_BUMP.search(message)) and all(LINT_CONFIG_FILES.search(p) or p.endswith(dev_files) for p in files)


def label_history(
    repo: str, gitdir: Path, known_security: Sequence[str], limit: int, per_repo_other: int
) -> list[Row]:
    """Security rows from messages citing advisory ids, lint and feature rows by heuristics."""
    rows: list[Row] = []
    known = {s[:12] for s in known_security}
    plain: list[tuple[str, str]] = []
    for sha, message in history(gitdir, limit):
        if sha[:12] in known:
            continue
        ids = cited_ids(message)
        if ids and SECURITY_MESSAGE.search(message):
            rows.append(Row(repo, sha, "security", "message cites " + " ".join(ids[:3])))
        elif not ids and not _SECURITY_WORDS.search(message):
            plain.append((sha, message))
    for sha, message in pick_candidates(plain, per_repo_other):
        try:
            _, diff = commit_diff(gitdir, sha)
        except (RuntimeError, subprocess.TimeoutExpired):
            continue
        files = split_files(diff)
        if not files or len(diff) > 200_000:
            continue
        reason = is_lint_commit(message, files)
        if reason is None and _is_tool_bump(message, files):
            reason = "lint: tool version bump"
        rows.append(Row(repo, sha, "lint" if reason else "feature", reason or "other commit"))
    return rows
