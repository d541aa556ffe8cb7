"""Pure per-file classification for the router: security-sensitive, lint-level or ordinary.

The patterns are data (``router/data/routing.yml``); this module compiles them once into
``RoutingRules`` and applies them to one file's path and unified diff.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from ruamel.yaml import YAML

from govbot.core.errors import ConfigError
from govbot.policy.globs import glob_match
from govbot.router.patchlines import changed_lines

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_PATH_SPLIT = re.compile(r"[^A-Za-z0-9]+")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_IDENT = re.compile(r"^[A-Za-z_]\w*$")
_LITERAL_WORDS = frozenset({"True", "False", "None", "true", "false", "null", "nil", "undefined"})
_ESCAPE = re.compile(r"\\.")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
_GLOB_SPECIAL = frozenset("[]{}\\")
_GLOB_SPLIT = re.compile(r"[*?/]+")
DEFAULT_SCAN_LIMIT_CHARS = 131_072

_COMMENT_PREFIXES = {
    "hash": ("#",),
    "slash": ("//", "/*", "*", "*/"),
    "dash": ("--",),
    "angle": ("<!--", "-->"),
    "semicolon": (";",),
}


@dataclass(frozen=True)
class GlobSet:
    """Path globs with ``govbot.policy.globs`` semantics behind an exact prefilter: a glob can only
    match a path that contains its longest literal piece, so most paths run no glob regex at all."""

    patterns: tuple[str, ...]
    by_literal: tuple[tuple[str, tuple[str, ...]], ...]

    @classmethod
    def of(cls, patterns: Iterable[str]) -> GlobSet:
        pats = tuple(str(p) for p in patterns)
        groups: dict[str, list[str]] = {}
        for p in pats:
            groups.setdefault(glob_literal(p), []).append(p)
        return cls(pats, tuple((lit, tuple(ps)) for lit, ps in groups.items()))

    def match(self, path: str) -> bool:
        return any(lit in path and glob_match(path, ps) for lit, ps in self.by_literal)

    def match_any(self, paths: tuple[str, ...]) -> bool:
        return any(self.match(p) for p in paths)


def glob_literal(pattern: str) -> str:
    """The longest piece of a glob that every matching path contains verbatim ("" if unsure).

    Wildcards and ``/`` (which may match several slashes) split the pieces; classes, braces and
    escapes make a pattern too clever for this, so it gets no prefilter."""
    if any(c in _GLOB_SPECIAL for c in pattern):
        return ""
    return max(_GLOB_SPLIT.split(pattern), key=len)


@dataclass(frozen=True)
class PathTokenRules:
    """The ``security_path_tokens`` categories as one anchored alternation: the named group that
    matches a token is the first category, in file order, whose pattern matches it whole."""

    names: tuple[str, ...]
    regex: re.Pattern[str]

    def first(self, tokens: Iterable[str]) -> str | None:
        best = len(self.names)
        for t in tokens:
            m = self.regex.match(t)
            if m and m.lastgroup is not None:
                best = min(best, int(m.lastgroup[1:]))
        return self.names[best] if best < len(self.names) else None


@dataclass(frozen=True)
class RoutingRules:
    path_tokens: PathTokenRules
    code: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...]  # category, regex, trigger words
    ci_cd: GlobSet
    docker_iac: GlobSet
    manifests: GlobSet
    install_scripts: GlobSet
    agent_instructions: GlobSet
    lock_files: GlobSet
    docs: GlobSet
    version_line: re.Pattern[str]
    comment_style: dict[str, tuple[str, ...]]  # extension -> comment prefixes
    scan_limit_chars: int = DEFAULT_SCAN_LIMIT_CHARS  # diff characters examined per PR (see classify_files)


@dataclass(frozen=True)
class FileClass:
    path: str
    risk: tuple[str, ...] = ()  # reasons this file is security-sensitive
    lint: str | None = None  # docs | comments | whitespace | rename | lock file | version bump
    changed: int = 0  # added + removed lines; for an unexamined file, its diff's line count (more)
    unexamined: bool = False  # beyond the PR's scan bound: only its path was classified

    @property
    def is_risk(self) -> bool:
        """Security-sensitive, or code whose content the router did not examine (never assumed safe)."""
        return bool(self.risk) or (self.unexamined and self.lint is None)


def parse_rules(data: dict[str, Any]) -> RoutingRules:
    try:
        tokens = data["security_path_tokens"]
        path_tokens = PathTokenRules(
            names=tuple(str(n) for n in tokens),
            regex=re.compile(
                "^(?:" + "|".join(f"(?P<g{i}>{p})" for i, p in enumerate(tokens.values())) + ")$", re.IGNORECASE
            ),
        )
        code = tuple(
            (str(name), re.compile(str(p)), trigger_words(str(p))) for name, p in data["security_code"].items()
        )
        comment_style = {
            ext: _COMMENT_PREFIXES[style] for style, exts in data["comments"].items() for ext in exts
        }
        limit = int(data.get("scan_limit_chars", DEFAULT_SCAN_LIMIT_CHARS))
        if limit < 0:
            raise ConfigError(f"invalid routing rules: scan_limit_chars must be >= 0, got {limit}")
        return RoutingRules(
            path_tokens=path_tokens,
            code=code,
            ci_cd=GlobSet.of(data["ci_cd"]),
            docker_iac=GlobSet.of(data["docker_iac"]),
            manifests=GlobSet.of(data["manifests"]),
            install_scripts=GlobSet.of(data["install_scripts"]),
            agent_instructions=GlobSet.of(data["agent_instructions"]),
            lock_files=GlobSet.of(data["lock_files"]),
            docs=GlobSet.of(data["docs"]),
            version_line=re.compile(data["version_line"]),
            comment_style=comment_style,
            scan_limit_chars=limit,
        )
    except (KeyError, TypeError, ValueError, re.error) as exc:
        raise ConfigError(f"invalid routing rules: {exc}") from exc


def trigger_words(pattern: str) -> tuple[str, ...]:
    """Lower-cased literal words of a regex. Every alternative of the routing regexes contains one,
    so a text containing none of them cannot match: a cheap substring test skips the regex."""
    words = _WORD.findall(_ESCAPE.sub(" ", pattern))
    if not words:
        raise ConfigError(f"routing regex without a literal word: {pattern!r}")
    return tuple(sorted({w.lower() for w in words}))


@lru_cache(maxsize=1)
def default_rules() -> RoutingRules:
    text = resources.files("govbot.router").joinpath("data/routing.yml").read_text("utf-8")
    return parse_rules(YAML(typ="safe").load(text))


def path_tokens(path: str) -> list[str]:
    return [t.lower() for part in _PATH_SPLIT.split(path) for t in _CAMEL.split(part) if t]


def _comment_prefixes(path: str, rules: RoutingRules) -> tuple[str, ...]:
    name = path.rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else name.lower()
    return rules.comment_style.get(ext, ())


def _is_comment(line: str, prefixes: tuple[str, ...]) -> bool:
    stripped = line.strip()
    if stripped.startswith("#!") or stripped.startswith("# -*-"):
        return False  # shebang / coding line: they change how the file runs
    return bool(prefixes) and stripped.startswith(prefixes)


def _norm_format(lines: list[str]) -> str:
    text = "".join("".join(line.split()) for line in lines)
    return re.sub(r",(?=[\)\]\}])", "", text.replace("'", '"'))


def _is_identifier_rename(removed: list[str], added: list[str]) -> bool:
    if not removed or len(removed) != len(added):
        return False
    mapping: dict[str, str] = {}
    for old, new in zip(removed, added, strict=True):
        a, b = _TOKEN.findall(old), _TOKEN.findall(new)
        if len(a) != len(b):
            return False
        for x, y in zip(a, b, strict=True):
            if x == y:
                continue
            if not (_IDENT.match(x) and _IDENT.match(y)) or x in _LITERAL_WORDS or y in _LITERAL_WORDS:
                return False
            if mapping.setdefault(x, y) != y:
                return False
    return bool(mapping)


def classify_files(
    files: Sequence[tuple[str, str, str | None, bool]], rules: RoutingRules
) -> tuple[FileClass, ...]:
    """Classify a PR's files, given as ``(path, patch, old_path, binary)``, in order.

    The content rules read at most ``rules.scan_limit_chars`` characters of diff per PR: a file
    whose diff does not fit in what is left is classified by its path only and marked
    ``unexamined``. That can only add scrutiny: an unexamined file that is not lint-level by its
    path counts as security-sensitive (see ``FileClass.is_risk``), and its line count is its
    diff's, which is never lower than the lines it changes.
    """
    left = rules.scan_limit_chars
    out = []
    for path, patch, old_path, binary in files:
        if len(patch) <= left:
            left -= len(patch)
            out.append(classify_file(path, patch, rules, old_path=old_path, binary=binary))
        else:
            out.append(classify_path(path, patch, rules, old_path=old_path, binary=binary))
    return tuple(out)


def classify_file(
    path: str, patch: str, rules: RoutingRules, *, old_path: str | None = None, binary: bool = False
) -> FileClass:
    """Classify one changed file from its path(s) and its unified diff (added and removed lines)."""
    removed, added = changed_lines(patch)
    changed = len(removed) + len(added)
    paths = (path,) if not old_path or old_path == path else (path, old_path)
    kind = _path_kind(paths, rules)
    risk = _risk(paths, kind, removed, added, rules)
    if risk:
        return FileClass(path=path, risk=risk, changed=changed)
    return FileClass(path=path, lint=_lint(path, kind, removed, added, rules, binary=binary,
                                           renamed=len(paths) > 1), changed=changed)


def classify_path(
    path: str, patch: str, rules: RoutingRules, *, old_path: str | None = None, binary: bool = False
) -> FileClass:
    """Classify a file by its path(s) only, without reading its diff (beyond the scan bound)."""
    paths = (path,) if not old_path or old_path == path else (path, old_path)
    kind = _path_kind(paths, rules)
    lines = patch.count("\n") + 1
    if kind.agent:
        return FileClass(path=path, risk=(f"agent instruction file {path}",), changed=lines, unexamined=True)
    risk = () if kind.docs_or_lock and not kind.manifest else _path_risk(paths, kind, rules)
    lint = None if risk or binary else ("lock file" if kind.lock else "docs" if kind.docs else None)
    return FileClass(path=path, risk=risk, lint=lint, changed=lines, unexamined=True)


@dataclass(frozen=True)
class _PathKind:
    """Every glob category of a file, computed once from its path(s)."""

    agent: bool
    manifest: bool
    docs: bool  # the new path
    lock: bool  # the new path
    docs_or_lock: bool  # any of the paths
    ci_cd: bool
    docker_iac: bool
    install: bool


def _path_kind(paths: tuple[str, ...], rules: RoutingRules) -> _PathKind:
    docs = rules.docs.match(paths[0])
    lock = rules.lock_files.match(paths[0])
    rest = paths[1:]
    return _PathKind(
        agent=rules.agent_instructions.match_any(paths),
        manifest=rules.manifests.match_any(paths),
        docs=docs,
        lock=lock,
        docs_or_lock=docs or lock or rules.docs.match_any(rest) or rules.lock_files.match_any(rest),
        ci_cd=rules.ci_cd.match_any(paths),
        docker_iac=rules.docker_iac.match_any(paths),
        install=rules.install_scripts.match_any(paths),
    )


def _path_risk(paths: tuple[str, ...], kind: _PathKind, rules: RoutingRules) -> tuple[str, ...]:
    """The risk reasons that need no content (the manifest and code rules do)."""
    path = paths[0]
    reasons = [f"{label} {path}" for label, hit in (("CI/CD workflow", kind.ci_cd),
                                                   ("Dockerfile or IaC", kind.docker_iac),
                                                   ("install or build script", kind.install)) if hit]
    if kind.manifest:
        reasons.append(f"dependency manifest {path}")
    name = rules.path_tokens.first({t for p in paths for t in path_tokens(p)})
    if name:
        reasons.append(f"security-relevant path {path} ({name})")
    return tuple(reasons)


def _risk(
    paths: tuple[str, ...], kind: _PathKind, removed: list[str], added: list[str], rules: RoutingRules
) -> tuple[str, ...]:
    reasons: list[str] = []
    path = paths[0]
    if kind.agent:
        return (f"agent instruction file {path}",)
    if not kind.manifest and kind.docs_or_lock:
        return ()
    for label, hit in (("CI/CD workflow", kind.ci_cd), ("Dockerfile or IaC", kind.docker_iac),
                       ("install or build script", kind.install)):
        if hit:
            reasons.append(f"{label} {path}")
    if kind.manifest and not _version_bump(removed, added, rules):
        reasons.append(f"dependency manifest {path}")
    name = rules.path_tokens.first({t for p in paths for t in path_tokens(p)})
    if name:
        reasons.append(f"security-relevant path {path} ({name})")
    code = _code_categories(path, removed + added, rules)
    if code:
        reasons.append(f"security-relevant code in {path} ({', '.join(code)})")
    return tuple(reasons)


def _code_categories(path: str, lines: list[str], rules: RoutingRules) -> list[str]:
    """Categories whose regex matches a changed line; comments count only for suppressions.

    Each regex runs once over the joined lines (its patterns never cross a newline), which keeps
    a 10,000-line change fast."""
    prefixes = _comment_prefixes(path, rules)
    everything = "\n".join(lines)
    code = "\n".join(line for line in lines if not _is_comment(line, prefixes)) if prefixes else everything
    lowered = {"all": everything.lower(), "code": code.lower()}
    found = []
    for name, rx, triggers in rules.code:
        which = "all" if name == "suppression" else "code"
        if any(t in lowered[which] for t in triggers) and rx.search(everything if which == "all" else code):
            found.append(name)
    return found


def _version_bump(removed: list[str], added: list[str], rules: RoutingRules) -> bool:
    lines = [line for line in removed + added if line.strip()]
    return bool(lines) and all(rules.version_line.match(line) for line in lines)


def _lint(
    path: str, kind: _PathKind, removed: list[str], added: list[str], rules: RoutingRules, *, binary: bool,
    renamed: bool,
) -> str | None:
    if binary:
        return None
    if kind.lock:
        return "lock file"
    if kind.docs:
        return "docs"
    if not removed and not added:
        return "rename" if renamed else None
    if _version_bump(removed, added, rules):
        return "version bump"
    prefixes = _comment_prefixes(path, rules)
    if prefixes and all(_is_comment(line, prefixes) or not line.strip() for line in removed + added):
        return "comments"
    if _norm_format(removed) == _norm_format(added):
        return "whitespace/formatting"
    if _is_identifier_rename(removed, added):
        return "rename"
    return None
