"""Features of a change for the learned risk router: pure Python, shared by training and runtime.

A change is a sequence of ``(path, patch)`` pairs plus the rules' per-file classes. The result is a
sparse mapping from a readable feature name to a value, so a route can name the features that
moved it. Names are hashed into a fixed number of buckets (``bucket()``) to index the weights.

Families:
- ``+tok:`` / ``-tok:`` / ``=tok:`` identifiers of added / removed / both (presence), code files;
- ``ctx:`` identifiers of the unchanged context lines and hunk headers around the change (the
  security-relevant APIs a small fix sits next to);
- ``path:`` path tokens, ``ext:`` file extensions, ``kind:`` file kinds (code, test, docs, ...);
- ``shape:`` hunk shape: log sizes of lines, files, hunks, and the added share;
- ``lintshape:`` share of changed code files that are whitespace-only, comment-only,
  docstring/string-only, formatter-only (quotes, commas, parentheses, line breaks), import-only,
  or reordered lines;
- ``rule:`` the hand-written rules' outputs (lint kinds, risk categories without paths);
- ``cue:`` / ``-cue:`` security-fix cues over added / removed lines: bounds and size checks,
  escaping, path normalisation, header parsing, raised errors, denials, decompression, ...

Every regular expression is compiled once, at import; the text is lower-cased once per change.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence

from govbot.router.classify import FileClass, path_tokens

FEATURE_VERSION = 2
MAX_LINES_PER_FILE = 400  # changed lines read per file: keeps plan() fast on huge diffs
MAX_CONTEXT_LINES_PER_FILE = 120
MAX_CHARS_PER_LINE = 400

_TOKEN = re.compile(r"[a-z_][a-z0-9_]{1,39}")
_HUNK_HEADER = re.compile(r"^@@[^@]*@@ ?(.*)$")
# Security-fix cues: literal lower-case substrings, counted with ``str.count`` (no regex engine on
# the hot path). A cue's value is log(1 + occurrences) over the added (``cue:``) or removed
# (``-cue:``) lines of code files.
_CUES: dict[str, tuple[str, ...]] = {
    "bounds": ("len(", "maxlen", "max_len", "min_len", "max_size", "max_bytes", "max_count", "max_length"),
    "compare": (" > ", " < ", " >= ", " <= "),
    "too_large": ("too large", "too long", "too big", "too many", "exceed", "overflow", "truncat", "limit"),
    "escape": ("escape", "quote(", "quoteattr", "bleach", "saniti", "markupsafe", "urlencode", "mark_safe", "|safe",
               "&lt;", "&amp;", "format_html"),
    "pathnorm": ("normpath", "realpath", "abspath", "commonpath", "relpath", "is_relative_to", "safe_join",
                 "secure_filename", "islink", "followlinks", "nofollow", ".resolve(", "../", "..\\", "os.sep",
                 "'\\\\'", "path.join"),
    "startswith": (".startswith(", ".endswith("),
    "header": ("header", "content-length", "content-type", "transfer-encoding", "host", "cookie", "crlf"),
    "regex": ("re.compile", "re.match", "re.search", "re.fullmatch", "re.sub", "(?:", "(?p<", "(?=", "(?!"),
    "raise": ("raise ",),
    "deny": ("permissiondenied", "forbidden", "unauthorized", "403", "401"),
    "timeout": ("timeout",),
    "decompress": ("decompress", "gzip", "zlib", "bz2", "lzma", "zipfile", "tarfile", "extractall"),
    "validate": ("valid", "verify", "check", "allowed", "whitelist", "allowlist", "blocklist", "denylist"),
    "url": ("urlparse", "urlsplit", "netloc", "scheme", "redirect", "hostname", "http://", "https://"),
    "constant_time": ("compare_digest", "constant_time", "secrets.", "hmac"),
    "strip_ctrl": ("\\r", "\\n", "\\x00", "\\0", ".strip()", "splitlines", "\\t"),
    "encoding": ("encode(", "decode(", "utf-8", "utf8"),
    "none_check": (" is none", " is not none", "if not "),
    "isinstance": ("isinstance(", "type("),
    "shell": ("subprocess", "shell=", "os.system", "popen", "shlex"),
    "deserial": ("pickle", "marshal", "yaml.load", "unsafe_load", "eval(", "exec(", "literal_eval"),
    "sql": ("select ", "insert ", "execute(", "cursor", " where ", "raw("),
    "auth": ("permission", "is_authenticated", "login_required", "csrf", "authori", "is_staff", "is_superuser",
             "has_perm", "access", "owner"),
    "crypto": ("hashlib", "md5", "sha1", "random", "urandom", "token", "nonce", "salt", "cipher", "ssl", "tls",
               "verify=", "cert"),
    "xml": ("etree", "xmlparser", "resolve_entities", "defusedxml", "dtd", "entit"),
    "tempfile": ("mktemp", "tempfile", "chmod", "umask", "0o"),
    "password": ("password", "passwd", "secret", "credential", "api_key"),
    "template": ("render", "template", "jinja", "innerhtml", ".html"),
    "exception": ("except", "try:"),
    "loop": ("while ", "for ", "recurs"),
}
_CODE_EXT = frozenset({"py", "pyx", "pxd", "c", "h", "cc", "cpp", "js", "ts", "tsx", "jsx", "go", "rs", "java",
                       "rb", "php", "pyi", "sh", "html", "jinja", "j2", "tpl", "vue"})
_DOC_EXT = frozenset({"md", "rst", "txt", "adoc"})
_CONF_EXT = frozenset({"toml", "cfg", "ini", "yml", "yaml", "json", "lock"})
_TEST_PATH = re.compile(r"(^|/)(tests?|testing|spec)/|(^|/)test_[^/]*$|_test\.\w+$|conftest\.py$")
_DOC_NAMES = frozenset({"changes", "changelog", "history", "news", "authors", "contributors", "readme", "license",
                        "copying", "notice", "todo"})
_DOCS_PATH = re.compile(r"(^|/)(docs?|changelog\.d|changes|news)/")
_MANIFESTS = frozenset({"setup.py", "setup.cfg", "pyproject.toml", "pipfile", "pipfile.lock", "poetry.lock",
                        "package.json"})
_FORMAT_NOISE = re.compile(r"[\s,()\\]+")
_IMPORT = re.compile(r"^\s*(import\s|from\s+\S+\s+import\s|\)$)")
_STRING = re.compile(r"\"\"\".*?\"\"\"|'''.*?'''|\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")
_COMMENT_PREFIXES = {"py": ("#",), "pyi": ("#",), "sh": ("#",), "rb": ("#",), "c": ("//", "/*", "*"),
                     "h": ("//", "/*", "*"), "cc": ("//", "/*", "*"), "cpp": ("//", "/*", "*"),
                     "js": ("//", "/*", "*"), "ts": ("//", "/*", "*"), "go": ("//",), "rs": ("//",),
                     "java": ("//", "/*", "*")}


def patch_bytes(patches: Iterable[str]) -> int:
    """The size of a change as the router prices it: UTF-8 bytes of the files' patches."""
    return sum(len(p.encode("utf-8", "surrogateescape")) for p in patches)


def bucket(name: str, buckets: int) -> int:
    """Stable bucket of a feature name (CRC32; same on every platform and Python)."""
    return zlib.crc32(name.encode("utf-8")) % buckets


# Files whose change carries no program logic a reviewer must reason about: translation catalogues,
# stylesheets and test snapshots (a split review sends them to mini with the tests and docs).
_DATA_EXT = frozenset({"po", "pot", "css", "scss", "sass", "less", "snap"})
_SNAPSHOT_PATH = re.compile(r"(^|/)__snapshots__/")


def is_data_file(path: str) -> bool:
    low = path.lower()
    name = low.rsplit("/", 1)[-1]
    return (name.rsplit(".", 1)[-1] in _DATA_EXT if "." in name else False) or bool(_SNAPSHOT_PATH.search(low))


def file_kind(path: str) -> str:
    low = path.lower()
    name = low.rsplit("/", 1)[-1]
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    if _TEST_PATH.search(low):
        return "test"
    if ext in _DOC_EXT or _DOCS_PATH.search(low) or name in _DOC_NAMES:
        return "docs"
    if name.startswith("requirements") or name in _MANIFESTS:
        return "manifest"
    if low.startswith(".github/") or name in {".pre-commit-config.yaml", "tox.ini", ".travis.yml"}:
        return "ci"
    if ext in _CODE_EXT:
        return "code"
    if ext in _CONF_EXT or name.startswith("."):
        return "config"
    return "other"


def split_patch(patch: str, limit: int = MAX_LINES_PER_FILE) -> tuple[list[str], list[str], list[str], list[str]]:
    """``(added, removed, context, hunk headers)`` of one file's patch; at most ``limit`` added and
    removed lines (``0``: all of them). Lines before the first hunk (file headers) are skipped."""
    added: list[str] = []
    removed: list[str] = []
    context: list[str] = []
    headers: list[str] = []
    cap = limit or 1 << 62
    for line in patch.split("\n"):
        first = line[:1]
        if first == "@" and line.startswith("@@"):
            m = _HUNK_HEADER.match(line)
            headers.append(m[1] if m else "")
        elif not headers:
            continue
        elif first == "+":
            if len(added) < cap:
                added.append(line[1:MAX_CHARS_PER_LINE] if limit else line[1:])
        elif first == "-":
            if len(removed) < cap:
                removed.append(line[1:MAX_CHARS_PER_LINE] if limit else line[1:])
        elif first == " " and len(context) < MAX_CONTEXT_LINES_PER_FILE:
            context.append(line[1:MAX_CHARS_PER_LINE])
    return added, removed, context, headers


def _tokens(text: str) -> set[str]:
    return set(_TOKEN.findall(text))


_RISK_LABELS = ("CI/CD workflow", "Dockerfile or IaC", "install or build script", "dependency manifest",
                "security-relevant path", "security-relevant code", "agent instruction file")


def _rule_names(c: FileClass) -> list[str]:
    """The rules' outputs without the file paths: ``rule:lint:<kind>``, ``rule:risk:<label>``,
    ``rule:cat:<category>``."""
    names = [f"rule:lint:{c.lint}"] if c.lint else []
    for reason in c.risk:
        label = next((x for x in _RISK_LABELS if reason.startswith(x)), "other")
        names.append("rule:risk:" + re.sub(r"[^a-z]+", "_", label.lower()))
        if reason.endswith(")"):
            for cat in reason.rpartition("(")[2].rstrip(")").split(","):
                names.append(f"rule:cat:{cat.strip()[:30]}")
    return names


def _path_features(path: str, feats: dict[str, float]) -> str:
    kind = file_kind(path)
    feats[f"kind:{kind}"] = 1.0
    name = path.rsplit("/", 1)[-1]
    if "." in name:
        feats[f"ext:{name.rsplit('.', 1)[-1].lower()[:10]}"] = 1.0
    for tok in path_tokens(path):
        if 1 < len(tok) <= 30:
            feats[f"path:{tok}"] = 1.0
    return kind


def _without_strings(line: str) -> str:
    return _STRING.sub('""', line) if "'" in line or '"' in line else line


def lint_shapes(path: str, added: Sequence[str], removed: Sequence[str]) -> set[str]:
    """Which lint-level shapes a code file's change has (possibly several, possibly none)."""
    shapes: set[str] = set()
    if not added and not removed:
        return shapes
    if [x.strip() for x in added if x.strip()] == [x.strip() for x in removed if x.strip()]:
        shapes.add("whitespace")
    ext = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    prefixes = _COMMENT_PREFIXES.get(ext, ())
    if prefixes:
        changed = [x.strip() for x in (*added, *removed) if x.strip()]
        if all(x.startswith(prefixes) and not x.startswith(("#!", "# -*-")) for x in changed):
            shapes.add("comment")
        strip = [_strip_comment(x, prefixes) for x in added], [_strip_comment(x, prefixes) for x in removed]
    else:
        strip = list(added), list(removed)
    norm_a = _FORMAT_NOISE.sub("", "".join(strip[0])).replace("'", '"')
    norm_r = _FORMAT_NOISE.sub("", "".join(strip[1])).replace("'", '"')
    if norm_a == norm_r:
        shapes.add("format")
    elif _FORMAT_NOISE.sub("", "".join(_without_strings(x) for x in strip[0])) == \
            _FORMAT_NOISE.sub("", "".join(_without_strings(x) for x in strip[1])):
        shapes.add("string")  # only string literals changed: messages, docstrings on one line
    if all(_IMPORT.match(x) or not x.strip() for x in (*added, *removed)):
        shapes.add("import")
    if added and sorted(x.strip() for x in added) == sorted(x.strip() for x in removed):
        shapes.add("reorder")
    return shapes


def _strip_comment(line: str, prefixes: tuple[str, ...]) -> str:
    if prefixes == ("#",):
        if "#" not in line:
            return line
        i = _STRING.sub(lambda m: "x" * len(m[0]), line).find("#")  # a '#' inside a string is no comment
        return line if i < 0 else line[:i]
    return "" if line.strip().startswith(prefixes) else line


# Linter, formatter and tool configuration: lint-level and dependency-only changes alike.
TOOL_CONFIG = re.compile(
    r"(^|/)(\.pre-commit-config\.yaml|\.pre-commit-hooks\.yaml|\.flake8|\.pylintrc|pylintrc|\.isort\.cfg|"
    r"\.editorconfig|\.codespellrc|ruff\.toml|\.ruff\.toml|\.yamllint(\.ya?ml)?|\.coveragerc|mypy\.ini|"
    r"\.mypy\.ini|\.prettierrc(\.\w+)?|\.eslintrc(\.\w+)?|\.prettierignore|\.eslintignore|\.git-blame-ignore-revs|"
    r"\.gitignore|\.gitattributes|\.mailmap|\.readthedocs\.ya?ml|\.bumpversion\.cfg|\.github/dependabot\.ya?ml|"
    r"renovate\.json5?|\.renovaterc(\.json)?|codecov\.ya?ml|\.codecov\.ya?ml)$"
)
# Dependency manifests and lock files whose changes the supply-chain checks (checks/supplychain.py) read.
DEPENDENCY_FILES = re.compile(
    r"(^|/)(requirements[^/]*\.(txt|in)|requirements/[^/]+\.(txt|in)|constraints[^/]*\.txt|pyproject\.toml|"
    r"setup\.cfg|Pipfile|Pipfile\.lock|poetry\.lock|uv\.lock|pdm\.lock|environment\.ya?ml|package\.json|"
    r"package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|Cargo\.lock|go\.sum|Gemfile\.lock|"
    r"tox\.ini)$"
)
def _old_new(patch: str) -> tuple[list[str], list[str], list[str]]:
    """The old and new text of every hunk, in order (context lines in both), and the changed lines."""
    old: list[str] = []
    new: list[str] = []
    changed: list[str] = []
    in_hunk = False
    for line in patch.split("\n"):
        first = line[:1]
        if first == "@" and line.startswith("@@"):
            in_hunk = True
            old.append("\x00")  # hunks never merge into one another
            new.append("\x00")
        elif not in_hunk:
            continue
        elif first == "+":
            new.append(line[1:])
            changed.append(line[1:])
        elif first == "-":
            old.append(line[1:])
            changed.append(line[1:])
        elif first == " ":
            old.append(line[1:])
            new.append(line[1:])
    return old, new, changed


def code_lint_kind(path: str, patch: str) -> str | None:
    """Lint-level kind of one code file's change by its shape alone, or None: every line is read,
    and the old and new text are compared in order with their context, so a block moved past
    other code is a change, not a reformat.

    - ``comments``: every changed line is a comment or blank;
    - ``whitespace/formatting``: old and new text are equal once whitespace, commas, parentheses,
      line continuations, comments and quote style are normalised away;
    - ``import order``: only import lines, the same ones, reordered."""
    if file_kind(path) not in {"code", "test"}:
        return None
    old, new, changed = _old_new(patch)
    if not changed:
        return None
    ext = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    prefixes = _COMMENT_PREFIXES.get(ext, ())
    nonblank = [x.strip() for x in changed if x.strip()]
    if prefixes and all(x.startswith(prefixes) and not x.startswith(("#!", "# -*-")) for x in nonblank):
        return "comments"
    strip = (lambda x: _strip_comment(x, prefixes)) if prefixes else (lambda x: x)
    if _FORMAT_NOISE.sub("", "".join(strip(x) for x in old)).replace("'", '"') == \
            _FORMAT_NOISE.sub("", "".join(strip(x) for x in new)).replace("'", '"'):
        return "whitespace/formatting"
    if all(_IMPORT.match(x) for x in nonblank) and sorted(x.strip() for x in old if x.strip()) == \
            sorted(x.strip() for x in new if x.strip()):
        return "import order"
    return None


def only_strings_changed(patch: str) -> bool:
    """True when the change is inside string literals only (messages, names, permissions, URLs)."""
    old, new, _ = _old_new(patch)
    return "".join(map(_without_strings, old)) == "".join(map(_without_strings, new))


def change_features(files: Sequence[tuple[str, str]], classes: Sequence[FileClass] = ()) -> dict[str, float]:
    """Sparse named features of one change (``files``: ``(path, patch)``)."""
    feats: dict[str, float] = {}
    totals = [0, 0, 0]  # added, removed, hunks
    kinds: set[str] = set()
    text: dict[str, list[str]] = {"+": [], "-": [], " ": []}
    shapes: dict[str, int] = {}
    code_files = 0
    for path, patch in files:
        added, removed, context, headers = split_patch(patch)
        totals[0] += len(added)
        totals[1] += len(removed)
        totals[2] += len(headers)
        kind = _path_features(path, feats)
        kinds.add(kind)
        if kind not in {"code", "other", "test"}:
            continue
        if kind != "test":
            text["+"].extend(added)
            text["-"].extend(removed)
            text[" "].extend((*context, *headers))
        code_files += 1
        for shape in lint_shapes(path, added, removed):
            shapes[shape] = shapes.get(shape, 0) + 1
    _text_features(feats, "\n".join(text["+"]).lower(), "\n".join(text["-"]).lower(), "\n".join(text[" "]).lower())
    for shape, n in shapes.items():
        feats[f"lintshape:{shape}"] = n / code_files
    if code_files and shapes.get("whitespace", 0) + shapes.get("format", 0) >= code_files:
        feats["lintshape:all_format"] = 1.0
    _shape_features(feats, len(files), totals, kinds)
    for c in classes:
        for name in _rule_names(c):
            feats[name] = 1.0
    if classes and all(c.lint for c in classes):
        feats["rule:all_lint"] = 1.0
    feats["bias"] = 1.0
    return feats


def _text_features(feats: dict[str, float], added: str, removed: str, context: str) -> None:
    added_tok = _tokens(added)
    removed_tok = _tokens(removed)
    for tok in added_tok - removed_tok:
        feats[f"+tok:{tok}"] = 1.0
    for tok in removed_tok - added_tok:
        feats[f"-tok:{tok}"] = 1.0
    for tok in added_tok & removed_tok:
        feats[f"=tok:{tok}"] = 1.0
    for tok in _tokens(context) - added_tok - removed_tok:
        feats[f"ctx:{tok}"] = 1.0
    for prefix, text in (("cue:", added), ("-cue:", removed)):
        if not text:
            continue
        for cue, needles in _CUES.items():
            hits = sum(text.count(n) for n in needles)
            if hits:
                feats[prefix + cue] = math.log1p(min(hits, 50))


def _shape_features(feats: dict[str, float], n_files: int, totals: Sequence[int], kinds: set[str]) -> None:
    add, rem, hunks = totals
    feats["shape:files"] = math.log1p(n_files)
    feats["shape:added"] = math.log1p(add)
    feats["shape:removed"] = math.log1p(rem)
    feats["shape:hunks"] = math.log1p(hunks)
    feats["shape:added_share"] = add / (add + rem) if add + rem else 0.0
    feats["shape:small"] = 1.0 if add + rem <= 20 else 0.0
    feats["shape:tiny"] = 1.0 if add + rem <= 6 else 0.0
    feats["shape:only_tests_docs"] = 1.0 if kinds and kinds <= {"test", "docs"} else 0.0
    feats["shape:has_test"] = 1.0 if "test" in kinds else 0.0
    feats["shape:no_code"] = 1.0 if not kinds & {"code", "other"} else 0.0


def hashed(feats: Mapping[str, float], buckets: int) -> dict[int, float]:
    out: dict[int, float] = {}
    for name, value in feats.items():
        i = bucket(name, buckets)
        out[i] = out.get(i, 0.0) + value
    return out
