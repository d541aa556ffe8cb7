"""Features of a change for the learned risk router: pure Python, shared by training and runtime.

A change is a sequence of ``(path, patch)`` pairs plus the rules' per-file classes. The result is a
sparse mapping from a readable feature name to a value, so a route can name the features that
moved it. Names are hashed into a fixed number of buckets (``bucket()``) to index the weights.

Families:
- ``+tok:`` / ``-tok:`` identifiers and keywords of added / removed lines (presence);
- ``path:`` path tokens, ``ext:`` file extensions, ``kind:`` file kinds (code, test, docs, ...);
- ``shape:`` hunk shape: log sizes of lines, files, hunks, and the added share;
- ``rule:`` the hand-written rules' outputs (risk categories, lint kinds);
- ``cue:`` security-fix cues over added lines: bounds/size checks, comparisons against limits,
  escaping, path normalisation, regex changes, raised errors, timeouts, decompression, ...
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence

from govbot.router.classify import FileClass, path_tokens

FEATURE_VERSION = 1
MAX_LINES_PER_FILE = 400  # changed lines read per file: keeps plan() fast on huge diffs
MAX_TOKENS_PER_LINE = 40

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{1,39}")
_CUES: dict[str, re.Pattern[str]] = {
    "bounds": re.compile(
        r"\blen\s*\(.*[<>]=?|[<>]=?\s*len\s*\(|\b(max|min)_?(len|length|size|count|bytes)\b", re.I
    ),
    "limit": re.compile(
        r"[<>]=?\s*(self\.)?[A-Z_]*(MAX|LIMIT|SIZE|LENGTH)[A-Z_]*\b|\b\w*(limit|max_\w+|maximum)\w*\s*[<>]", re.I
    ),
    "escape": re.compile(
        r"\b(escape|html\.escape|quote|unquote|quoteattr|bleach|sanitiz\w*|markupsafe|urlencode)\b", re.I
    ),
    "pathnorm": re.compile(
        r"\b(normpath|realpath|abspath|commonpath|relpath|resolve\(\)|is_relative_to|safe_join|secure_filename)\b"
        r"|\.\.[/\\]|os\.sep|['\"]\\\\['\"]"
    ),
    "regex": re.compile(r"\bre\.(compile|match|search|fullmatch|sub)\b|\(\?[:=!P]"),
    "raise": re.compile(r"\braise\s+\w*(Error|Exception|Denied|Forbidden|Invalid)\w*"),
    "deny": re.compile(r"\b(PermissionDenied|Forbidden|Unauthorized|HTTP_403|403|401|abort\s*\(\s*40[13])\b"),
    "timeout": re.compile(r"\btimeout\b", re.I),
    "decompress": re.compile(r"\b(decompress\w*|gzip|zlib|bz2|lzma|zipfile|tarfile|extractall)\b"),
    "validate": re.compile(
        r"\b(valid\w*|verify\w*|check\w*|allowed\w*|whitelist|allowlist|blocklist|denylist)\b", re.I
    ),
    "url": re.compile(r"\b(urlparse|urlsplit|netloc|scheme|redirect\w*|host(name)?)\b", re.I),
    "constant_time": re.compile(r"\b(compare_digest|constant_time|secrets\.)"),
    "strip_ctrl": re.compile(r"\\r|\\n|\\x00|\\0|\bstrip\(\)|\bsplitlines\b|\bCRLF\b", re.I),
    "encoding": re.compile(r"\b(encode|decode)\s*\(|\butf-?8\b", re.I),
    "none_check": re.compile(r"\bis\s+(not\s+)?None\b|\bif\s+not\s+\w+\s*:"),
}
_CODE_EXT = frozenset({"py", "pyx", "pxd", "c", "h", "cc", "cpp", "js", "ts", "tsx", "jsx", "go", "rs", "java",
                       "rb", "php", "pyi", "sh", "html", "jinja", "j2", "tpl", "vue"})
_DOC_EXT = frozenset({"md", "rst", "txt", "adoc"})
_CONF_EXT = frozenset({"toml", "cfg", "ini", "yml", "yaml", "json", "lock"})


def bucket(name: str, buckets: int) -> int:
    """Stable bucket of a feature name (CRC32; same on every platform and Python)."""
    return zlib.crc32(name.encode("utf-8")) % buckets


def _file_kind(path: str) -> str:
    low = path.lower()
    name = low.rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    if re.search(r"(^|/)(tests?|testing|spec)/|(^|/)test_[^/]*$|_test\.\w+$|conftest\.py$", low):
        return "test"
    if ext in _DOC_EXT or re.search(r"(^|/)(docs?|changelog\.d|changes|news)/", low):
        return "docs"
    if name.startswith("requirements") or name in {"setup.py", "setup.cfg", "pyproject.toml", "pipfile",
                                                    "pipfile.lock", "poetry.lock", "package.json"}:
        return "manifest"
    if low.startswith(".github/") or name in {".pre-commit-config.yaml", "tox.ini", ".travis.yml"}:
        return "ci"
    if ext in _CODE_EXT:
        return "code"
    if ext in _CONF_EXT or name.startswith("."):
        return "config"
    return "other"


def _changed_lines(patch: str) -> tuple[list[str], list[str], int]:
    added: list[str] = []
    removed: list[str] = []
    hunks = 0
    for line in patch.splitlines():
        if line.startswith("@@"):
            hunks += 1
        elif line.startswith(("+++", "---")):
            continue
        elif line.startswith("+"):
            if len(added) < MAX_LINES_PER_FILE:
                added.append(line[1:])
        elif line.startswith("-") and len(removed) < MAX_LINES_PER_FILE:
            removed.append(line[1:])
    return added, removed, hunks


def _tokens(lines: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for line in lines:
        out.update(t.lower() for t in _TOKEN.findall(line)[:MAX_TOKENS_PER_LINE])
    return out


def _rule_names(c: FileClass) -> list[str]:
    names = [f"rule:lint:{c.lint}"] if c.lint else []
    for reason in c.risk:
        head = re.sub(r"[^a-z]+", "_", reason.lower().split(":", 1)[0].split("(", 1)[0]).strip("_")[:40]
        names.append(f"rule:risk:{head}")
    return names


def _path_features(path: str, feats: dict[str, float]) -> str:
    kind = _file_kind(path)
    feats[f"kind:{kind}"] = 1.0
    name = path.rsplit("/", 1)[-1]
    if "." in name:
        feats[f"ext:{name.rsplit('.', 1)[-1].lower()[:10]}"] = 1.0
    for tok in path_tokens(path):
        if 1 < len(tok) <= 30:
            feats[f"path:{tok}"] = 1.0
    return kind


def change_features(files: Sequence[tuple[str, str]], classes: Sequence[FileClass] = ()) -> dict[str, float]:
    """Sparse named features of one change (``files``: ``(path, patch)``)."""
    feats: dict[str, float] = {}
    total_add = total_rem = total_hunks = 0
    kinds: set[str] = set()
    added_tok: set[str] = set()
    removed_tok: set[str] = set()
    cue_lines: list[str] = []
    for path, patch in files:
        added, removed, hunks = _changed_lines(patch)
        total_add += len(added)
        total_rem += len(removed)
        total_hunks += hunks
        kind = _path_features(path, feats)
        kinds.add(kind)
        if kind in {"code", "other"}:
            added_tok |= _tokens(added)
            removed_tok |= _tokens(removed)
            cue_lines.extend(added)
    for tok in added_tok - removed_tok:
        feats[f"+tok:{tok}"] = 1.0
    for tok in removed_tok - added_tok:
        feats[f"-tok:{tok}"] = 1.0
    for tok in added_tok & removed_tok:
        feats[f"=tok:{tok}"] = 1.0
    joined = "\n".join(cue_lines)
    for cue, regex in _CUES.items():
        if not regex.search(joined):  # exact prefilter: a match in one line is a match in the whole
            continue
        hits = sum(1 for line in cue_lines if regex.search(line))
        if hits:
            feats[f"cue:{cue}"] = math.log1p(hits)
    n_files = len(files)
    feats["shape:files"] = math.log1p(n_files)
    feats["shape:added"] = math.log1p(total_add)
    feats["shape:removed"] = math.log1p(total_rem)
    feats["shape:hunks"] = math.log1p(total_hunks)
    feats["shape:added_share"] = total_add / (total_add + total_rem) if total_add + total_rem else 0.0
    feats["shape:small"] = 1.0 if total_add + total_rem <= 20 else 0.0
    feats["shape:only_tests_docs"] = 1.0 if kinds and kinds <= {"test", "docs"} else 0.0
    feats["shape:has_test"] = 1.0 if "test" in kinds else 0.0
    for c in classes:
        for name in _rule_names(c):
            feats[name] = 1.0
    if classes and all(c.lint for c in classes):
        feats["rule:all_lint"] = 1.0
    feats["bias"] = 1.0
    return feats


def hashed(feats: Mapping[str, float], buckets: int) -> dict[int, float]:
    out: dict[int, float] = {}
    for name, value in feats.items():
        i = bucket(name, buckets)
        out[i] = out.get(i, 0.0) + value
    return out


def diff_features(diff: str) -> dict[str, float]:
    """Features of a unified diff, with the rules' classes: what ``plan()`` computes for a change."""
    from govbot.core.diff import changeset_from_diff
    from govbot.router.classify import classify_files, default_rules

    change = changeset_from_diff(diff)
    texts = {f.path: f.patch or "" for f in change.files}
    classes = classify_files([(f.path, texts[f.path], f.old_path, f.binary) for f in change.files], default_rules())
    return change_features([(f.path, texts[f.path]) for f in change.files], classes)
