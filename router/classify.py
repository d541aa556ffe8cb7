"""Pure per-file classification for the router: security-sensitive, lint-level or ordinary.

The patterns are data (``router/data/routing.yml``); this module compiles them once into
``RoutingRules`` and applies them to one file's path and unified diff.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from ruamel.yaml import YAML

from govbot.core.diff import changed_lines
from govbot.core.errors import ConfigError
from govbot.core.globs import glob_match

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_PATH_SPLIT = re.compile(r"[^A-Za-z0-9]+")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_IDENT = re.compile(r"^[A-Za-z_]\w*$")
_LITERAL_WORDS = frozenset({"True", "False", "None", "true", "false", "null", "nil", "undefined"})
_ESCAPE = re.compile(r"\\.")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
_GLOB_SPECIAL = frozenset("[]{}\\")
_GLOB_SPLIT = re.compile(r"[*?/]+")
_GLOBAL_FLAGS = re.compile(r"\(\?[aiLmsux]+\)")
_BACKREF = re.compile(r"\\[1-9]|\(\?P=")
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
    """Path globs with ``govbot.core.globs`` semantics behind an exact prefilter: a glob can only
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

    def first(self, tokens: Iterable[str], memo: dict[str, int] | None = None) -> str | None:
        """The first category matching any token; ``memo`` caches token results within one PR."""
        memo = {} if memo is None else memo
        best = len(self.names)
        for t in tokens:
            if t not in memo:
                m = self.regex.match(t)
                memo[t] = int(m.lastgroup[1:]) if m and m.lastgroup else len(self.names)
            best = min(best, memo[t])
        return self.names[best] if best < len(self.names) else None


@dataclass(frozen=True)
class CodeRule:
    """One ``security_code`` category. It fires when a trigger word occurs in the lower-cased text
    AND its regex matches. A regex that splits into top-level alternatives (see ``alternatives``)
    is searched one alternative at a time: a leading ``\\b`` is dropped for the scan, so the regex
    engine's fast literal-prefix search finds candidates, and each candidate is confirmed with the
    full alternative at that position. Same result as ``regex.search``, tens of times faster."""

    name: str
    regex: re.Pattern[str]
    triggers: tuple[str, ...]
    split: tuple[tuple[re.Pattern[str], re.Pattern[str] | None], ...] | None = None

    @classmethod
    def of(cls, name: str, pattern: str) -> CodeRule:
        parts = alternatives(pattern)
        split = None
        if parts is not None:
            split = tuple(
                (re.compile(a), re.compile(a[2:]) if a.startswith("\\b") and len(a) > 2 else None) for a in parts
            )
        return cls(name, re.compile(pattern), trigger_words(pattern), split)

    def fires(self, text: str, lowered: str) -> bool:
        if not any(t in lowered for t in self.triggers):
            return False
        if self.split is None:
            return self.regex.search(text) is not None
        return any(_search(full, scan, text) for full, scan in self.split)


def _search(full: re.Pattern[str], scan: re.Pattern[str] | None, text: str) -> bool:
    if scan is None:
        return full.search(text) is not None
    pos = 0
    while (m := scan.search(text, pos)) is not None:
        if full.match(text, m.start()):
            return True
        pos = m.start() + 1
    return False


def alternatives(pattern: str) -> tuple[str, ...] | None:
    """The top-level alternatives of a regex, with ``\\b(a|b)`` distributed into ``\\ba|\\bb``;
    None when splitting could change the meaning (inline global flags, backreferences) or when
    there is nothing to split. A match of the whole is a match of one alternative, and back."""
    if _GLOBAL_FLAGS.match(pattern) or _BACKREF.search(pattern):
        return None
    out: list[str] = []
    for part in _top_level(pattern):
        if part.startswith("\\b(") and not part.startswith("\\b(?") and _group_end(part, 2) == len(part) - 1:
            out.extend(f"\\b{alt}" for alt in _top_level(part[3:-1]))
        else:
            out.append(part)
    if len(out) < 2:
        return None
    try:
        for alt in out:
            re.compile(alt)
    except re.error:
        return None
    return tuple(out)


def _structure(pattern: str) -> list[tuple[int, str, int]]:
    """(depth after it, character, index) of every ``(``, ``)`` and ``|`` outside escapes and classes."""
    out: list[tuple[int, str, int]] = []
    depth, i, in_class = 0, 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            j = i + 1 + (pattern[i + 1 : i + 2] == "^")
            if pattern[j : j + 1] == "]":
                i = j  # a ']' first in a class is literal
        elif c in "()|":
            depth += (c == "(") - (c == ")")
            out.append((depth, c, i))
        i += 1
    return out


def _top_level(pattern: str) -> list[str]:
    bounds = [-1, *(i for depth, c, i in _structure(pattern) if depth == 0 and c == "|"), len(pattern)]
    return [pattern[a + 1 : b] for a, b in itertools.pairwise(bounds)]


def _group_end(part: str, open_at: int) -> int:
    """Index of the ``)`` closing the group that opens at ``open_at`` (-1 if none)."""
    return next((open_at + i for depth, c, i in _structure(part[open_at:]) if depth == 0 and c == ")"), -1)


@dataclass(frozen=True)
class RoutingRules:
    path_tokens: PathTokenRules
    code: tuple[CodeRule, ...]
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
    glob_literals: re.Pattern[str] | None = None  # any literal of any glob above; None: no prefilter


@dataclass(frozen=True)
class FileClass:
    path: str
    risk: tuple[str, ...] = ()  # reasons this file is security-sensitive
    lint: str | None = None  # docs | comments | whitespace | rename | lock file | version bump
    changed: int = 0  # added + removed lines; unexamined: the diff's line count if lint-level (never fewer), else 0
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
                "^(?:" + "|".join(f"(?P<g{i}>{p})" for i, p in enumerate(tokens.values())) + ")$",
                # tokens are lower-case ASCII: a pattern without capitals needs no (slow) IGNORECASE
                0 if all(str(p) == str(p).lower() for p in tokens.values()) else re.IGNORECASE,
            ),
        )
        code = tuple(CodeRule.of(str(name), str(p)) for name, p in data["security_code"].items())
        comment_style = {
            ext: _COMMENT_PREFIXES[style] for style, exts in data["comments"].items() for ext in exts
        }
        limit = int(data.get("scan_limit_chars", DEFAULT_SCAN_LIMIT_CHARS))
        if limit < 0:
            raise ConfigError(f"invalid routing rules: scan_limit_chars must be >= 0, got {limit}")
        globs = {k: GlobSet.of(data[k]) for k in ("ci_cd", "docker_iac", "manifests", "install_scripts",
                                                   "agent_instructions", "lock_files", "docs")}
        return RoutingRules(
            path_tokens=path_tokens,
            code=code,
            ci_cd=globs["ci_cd"],
            docker_iac=globs["docker_iac"],
            manifests=globs["manifests"],
            install_scripts=globs["install_scripts"],
            agent_instructions=globs["agent_instructions"],
            lock_files=globs["lock_files"],
            docs=globs["docs"],
            version_line=re.compile(data["version_line"]),
            comment_style=comment_style,
            scan_limit_chars=limit,
            glob_literals=_any_literal(globs),
        )
    except (KeyError, TypeError, ValueError, re.error) as exc:
        raise ConfigError(f"invalid routing rules: {exc}") from exc


def _any_literal(globs: dict[str, GlobSet]) -> re.Pattern[str] | None:
    literals = {lit for g in globs.values() for lit, _ in g.by_literal}
    if "" in literals:
        return None
    return re.compile("|".join(re.escape(lit) for lit in sorted(literals, key=len, reverse=True)))


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
    files: Sequence[tuple[str, str, str | None, bool]], rules: RoutingRules, *, content_rules: bool = True
) -> tuple[FileClass, ...]:
    """Classify a PR's files, given as ``(path, patch, old_path, binary)``, in order.

    The content rules read at most ``rules.scan_limit_chars`` characters of diff per PR: a file
    whose diff does not fit in what is left is classified by its path only and marked
    ``unexamined``. That can only add scrutiny: an unexamined file that is not lint-level by its
    path counts as security-sensitive (see ``FileClass.is_risk``), and its line count is its
    diff's, which is never lower than the lines it changes.

    ``content_rules=False`` leaves out the ``security_code`` regexes (the slowest part): the
    learned router reads the same lines through its own features and keeps only the floors.
    """
    left = rules.scan_limit_chars
    memo: dict[str, int] = {}  # path token -> category index, for this PR only
    out = []
    for path, patch, old_path, binary in files:
        if len(patch) <= left:
            left -= len(patch)
            out.append(classify_file(path, patch, rules, old_path=old_path, binary=binary, memo=memo,
                                     content_rules=content_rules))
        else:
            out.append(classify_path(path, patch, rules, old_path=old_path, binary=binary, memo=memo))
    return tuple(out)


def classify_file(
    path: str, patch: str, rules: RoutingRules, *, old_path: str | None = None, binary: bool = False,
    memo: dict[str, int] | None = None, content_rules: bool = True,
) -> FileClass:
    """Classify one changed file from its path(s) and its unified diff (added and removed lines)."""
    removed, added = changed_lines(patch)
    changed = len(removed) + len(added)
    paths = (path,) if not old_path or old_path == path else (path, old_path)
    kind = _path_kind(paths, rules, memo)
    risk = _risk(paths, kind, removed, added, rules, content_rules=content_rules)
    if risk:
        return FileClass(path=path, risk=risk, changed=changed)
    return FileClass(path=path, lint=_lint(path, kind, removed, added, rules, binary=binary,
                                           renamed=len(paths) > 1), changed=changed)


def classify_path(
    path: str, patch: str, rules: RoutingRules, *, old_path: str | None = None, binary: bool = False,
    memo: dict[str, int] | None = None,
) -> FileClass:
    """Classify a file by its path(s) only, without reading its diff (beyond the scan bound)."""
    paths = (path,) if not old_path or old_path == path else (path, old_path)
    kind = _path_kind(paths, rules, memo)
    if kind.agent:
        return FileClass(path=path, risk=(f"agent instruction file {path}",), unexamined=True)
    risk = () if kind.docs_or_lock and not kind.manifest else _path_risk(paths, kind, rules)
    lint = None if risk or binary else ("lock file" if kind.lock else "docs" if kind.docs else None)
    # Lines are only counted where the size rule can still decide: a lint-level file.
    return FileClass(path=path, risk=risk, lint=lint, changed=patch.count("\n") + 1 if lint else 0, unexamined=True)


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
    token: str | None  # the first security_path_tokens category of a path token


def _path_kind(paths: tuple[str, ...], rules: RoutingRules, memo: dict[str, int] | None) -> _PathKind:
    token = rules.path_tokens.first({t for p in paths for t in path_tokens(p)}, memo)
    if rules.glob_literals is not None and not any(rules.glob_literals.search(p) for p in paths):
        return _PathKind(False, False, False, False, False, False, False, False, token)  # no glob can match
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
        token=token,
    )


def _path_risk(paths: tuple[str, ...], kind: _PathKind, rules: RoutingRules) -> tuple[str, ...]:
    """The risk reasons that need no content (the manifest and code rules do)."""
    path = paths[0]
    reasons = [f"{label} {path}" for label, hit in (("CI/CD workflow", kind.ci_cd),
                                                   ("Dockerfile or IaC", kind.docker_iac),
                                                   ("install or build script", kind.install)) if hit]
    if kind.manifest:
        reasons.append(f"dependency manifest {path}")
    if kind.token:
        reasons.append(f"security-relevant path {path} ({kind.token})")
    return tuple(reasons)


def _risk(
    paths: tuple[str, ...], kind: _PathKind, removed: list[str], added: list[str], rules: RoutingRules, *,
    content_rules: bool = True,
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
    if kind.token:
        reasons.append(f"security-relevant path {path} ({kind.token})")
    # without the content rules, a new suppression comment still keeps the file from lint-level
    code = _code_categories(path, removed + added, rules, only=None if content_rules else "suppression")
    if code:
        reasons.append(f"security-relevant code in {path} ({', '.join(code)})")
    return tuple(reasons)


def _code_categories(path: str, lines: list[str], rules: RoutingRules, only: str | None = None) -> list[str]:
    """Categories whose regex matches a changed line; comments count only for suppressions.

    The regexes run over the joined lines, so a ``\\s`` may span two of them: kept as it was, since
    reading less could only route lower."""
    prefixes = _comment_prefixes(path, rules)
    everything = "\n".join(lines)
    code = "\n".join(line for line in lines if not _is_comment(line, prefixes)) if prefixes else everything
    lowered = {"all": everything.lower(), "code": code.lower()}
    found = []
    for rule in rules.code:
        if only is not None and rule.name != only:
            continue
        which = "all" if rule.name == "suppression" else "code"
        if rule.fires(everything if which == "all" else code, lowered[which]):
            found.append(rule.name)
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
