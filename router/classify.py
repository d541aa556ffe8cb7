"""Pure per-file classification for the router: security-sensitive, lint-level or ordinary.

The patterns are data (``router/data/routing.yml``); this module compiles them once into
``RoutingRules`` and applies them to one file's path and unified diff.
"""

from __future__ import annotations

import re
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

_COMMENT_PREFIXES = {
    "hash": ("#",),
    "slash": ("//", "/*", "*", "*/"),
    "dash": ("--",),
    "angle": ("<!--", "-->"),
    "semicolon": (";",),
}


@dataclass(frozen=True)
class RoutingRules:
    path_tokens: tuple[tuple[str, re.Pattern[str]], ...]
    code: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...]  # category, regex, trigger words
    ci_cd: tuple[str, ...]
    docker_iac: tuple[str, ...]
    manifests: tuple[str, ...]
    install_scripts: tuple[str, ...]
    agent_instructions: tuple[str, ...]
    lock_files: tuple[str, ...]
    docs: tuple[str, ...]
    version_line: re.Pattern[str]
    comment_style: dict[str, tuple[str, ...]]  # extension -> comment prefixes


@dataclass(frozen=True)
class FileClass:
    path: str
    risk: tuple[str, ...] = ()  # reasons this file is security-sensitive
    lint: str | None = None  # docs | comments | whitespace | rename | lock file | version bump
    changed: int = 0  # added + removed lines

    @property
    def is_risk(self) -> bool:
        return bool(self.risk)


def parse_rules(data: dict[str, Any]) -> RoutingRules:
    try:
        path_tokens = tuple(
            (name, re.compile(rf"^{pattern}$", re.IGNORECASE))
            for name, pattern in data["security_path_tokens"].items()
        )
        code = tuple(
            (str(name), re.compile(str(p)), trigger_words(str(p))) for name, p in data["security_code"].items()
        )
        comment_style = {
            ext: _COMMENT_PREFIXES[style] for style, exts in data["comments"].items() for ext in exts
        }
        return RoutingRules(
            path_tokens=path_tokens,
            code=code,
            ci_cd=tuple(data["ci_cd"]),
            docker_iac=tuple(data["docker_iac"]),
            manifests=tuple(data["manifests"]),
            install_scripts=tuple(data["install_scripts"]),
            agent_instructions=tuple(data["agent_instructions"]),
            lock_files=tuple(data["lock_files"]),
            docs=tuple(data["docs"]),
            version_line=re.compile(data["version_line"]),
            comment_style=comment_style,
        )
    except (KeyError, TypeError, re.error) as exc:
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


def classify_file(
    path: str, patch: str, rules: RoutingRules, *, old_path: str | None = None, binary: bool = False
) -> FileClass:
    """Classify one changed file from its path(s) and its unified diff (added and removed lines)."""
    removed, added = changed_lines(patch)
    changed = len(removed) + len(added)
    paths = (path,) if not old_path or old_path == path else (path, old_path)
    risk = _risk(paths, removed, added, rules)
    if risk:
        return FileClass(path=path, risk=risk, changed=changed)
    return FileClass(path=path, lint=_lint(path, removed, added, rules, binary=binary, renamed=len(paths) > 1),
                     changed=changed)


def _risk(paths: tuple[str, ...], removed: list[str], added: list[str], rules: RoutingRules) -> tuple[str, ...]:
    reasons: list[str] = []
    path = paths[0]
    if any(glob_match(p, rules.agent_instructions) for p in paths):
        return (f"agent instruction file {path}",)
    manifest = any(glob_match(p, rules.manifests) for p in paths)
    if not manifest and any(glob_match(p, rules.docs) or glob_match(p, rules.lock_files) for p in paths):
        return ()
    for label, globs in (("CI/CD workflow", rules.ci_cd), ("Dockerfile or IaC", rules.docker_iac),
                         ("install or build script", rules.install_scripts)):
        if any(glob_match(p, globs) for p in paths):
            reasons.append(f"{label} {path}")
    if manifest and not _version_bump(removed, added, rules):
        reasons.append(f"dependency manifest {path}")
    tokens = {t for p in paths for t in path_tokens(p)}
    for name, pattern in rules.path_tokens:
        if any(pattern.match(t) for t in tokens):
            reasons.append(f"security-relevant path {path} ({name})")
            break
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
    path: str, removed: list[str], added: list[str], rules: RoutingRules, *, binary: bool, renamed: bool
) -> str | None:
    if binary:
        return None
    if glob_match(path, rules.lock_files):
        return "lock file"
    if glob_match(path, rules.docs):
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
