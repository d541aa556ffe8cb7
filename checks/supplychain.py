"""Deterministic supply-chain findings from a change set alone (pure, no network).

A model reading a diff cannot vouch for a dependency bump; these checks can say exactly what
changed, and the policy can block on their rule ids:

- ``govbot:new-dependency``: a requirement added to a manifest that was not there before;
- ``govbot:unpinned-dependency``: an added requirement without ``==`` in a requirements file, or
  without any version specifier in ``pyproject.toml`` / ``setup.cfg`` / ``setup.py``;
- ``govbot:index-url-change``: an added package index (``--index-url``, ``--extra-index-url``,
  ``--trusted-host``, ``[[tool.poetry.source]]``, ``[[tool.uv.index]]``, ``index-url =``);
- ``govbot:install-script``: an added install hook (``cmdclass`` in ``setup.py``, npm
  ``preinstall``/``install``/``postinstall``/``prepare`` scripts);
- ``govbot:workflow-permission``: a workflow gaining a ``write`` permission, or
  ``pull_request_target``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from govbot.core.diff import iter_patch
from govbot.core.fingerprint import finding_fingerprint
from govbot.core.models import ChangedFile, ChangeSet, Finding, Severity

_REQ_FILE = re.compile(r"(^|/)(requirements[^/]*\.(txt|in)|constraints[^/]*\.txt)$")
_PY_MANIFEST = re.compile(r"(^|/)(pyproject\.toml|setup\.cfg|setup\.py|Pipfile)$")
_WORKFLOW = re.compile(r"^\.github/workflows/[^/]+\.ya?ml$")
_REQ_LINE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")
_QUOTED_REQ = re.compile(r"""^\s*["']([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*([^"']*)["'],?\s*(#.*)?$""")
_INDEX = re.compile(r"(--(extra-)?index-url|--trusted-host|(^|\s)-i\s|\[\[tool\.(poetry\.source|uv\.index)\]\]|"
                    r"\b(extra[-_])?index[-_]url\s*=|\bfind-links\b|--find-links)")
_INSTALL_HOOK = re.compile(r"""\bcmdclass\s*=|["'](preinstall|install|postinstall|prepare)["']\s*:""")
_WRITE_PERMISSION = re.compile(r"^\s*(permissions\s*:\s*write-all|[a-z-]+\s*:\s*write)\b")
_PR_TARGET = re.compile(r"\bpull_request_target\b")
_DEP_LIST_START = re.compile(r"\b(dependencies|requires|install_requires|[a-z0-9_-]+)\s*=\s*\[?\s*$|"
                             r"\b(dependencies|requires|install_requires)\s*=\s*\[")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _finding(rule: str, severity: Severity, f: ChangedFile, line: int | None, message: str, key: str) -> Finding:
    rule_id = f"govbot:{rule}"
    return Finding(tool="govbot", rule_id=rule_id, severity=severity, path=f.path, line=line, message=message,
                   confidence="high", fingerprint=finding_fingerprint(rule_id, f.path, key))


def _requirements(f: ChangedFile, quoted: bool) -> Iterator[tuple[str, str, bool, int | None]]:
    """(kind, name, pinned, line) of requirement lines added or removed; kind '+' or '-'."""
    in_list = not quoted  # requirements files: every line; manifests: inside dependency lists
    for pl in iter_patch(f.patch or ""):
        text = pl.text
        if quoted:
            if _DEP_LIST_START.search(text) and "classifiers" not in text:
                in_list = True
            if not in_list:
                continue
            if text.strip().startswith("]"):
                in_list = False
                continue
            m = _QUOTED_REQ.match(text)
            if not m and f.path.endswith("setup.cfg") and in_list:
                m = _REQ_LINE.match(text) if re.match(r"^\s+\S", text) else None
        else:
            if pl.kind not in ("added", "removed") or text.strip().startswith(("#", "-")) or not text.strip():
                continue
            m = _REQ_LINE.match(text.split("#", 1)[0])
        if m is None or pl.kind not in ("added", "removed"):
            continue
        spec = (m.group(3) or "").strip()
        pinned = "==" in spec if not quoted else bool(re.search(r"[<>=~!]", spec))
        sign = "+" if pl.kind == "added" else "-"
        yield sign, _norm(m.group(1)), pinned or "@" in spec, pl.new_no if sign == "+" else None


def dependency_findings(f: ChangedFile) -> list[Finding]:
    quoted = bool(_PY_MANIFEST.search(f.path))
    if not (quoted or _REQ_FILE.search(f.path)):
        return []
    rows = list(_requirements(f, quoted))
    before = {name for kind, name, _, _ in rows if kind == "-"}
    out: list[Finding] = []
    for kind, name, pinned, line in rows:
        if kind != "+":
            continue
        if name not in before:
            out.append(_finding("new-dependency", Severity.LOW, f, line, f"new dependency {name}", name))
        if not pinned:
            how = "without an exact == pin" if not quoted else "without a version specifier"
            out.append(_finding("unpinned-dependency", Severity.MEDIUM, f, line, f"dependency {name} {how}", name))
    return out


def _added(f: ChangedFile) -> Iterator[tuple[str, int | None]]:
    for pl in iter_patch(f.patch or ""):
        if pl.kind == "added":
            yield pl.text, pl.new_no


def supply_chain_findings(change: ChangeSet) -> list[Finding]:
    out: list[Finding] = []
    for f in change.files:
        if f.binary or not f.patch:
            continue
        out.extend(dependency_findings(f))
        manifest = bool(_REQ_FILE.search(f.path) or _PY_MANIFEST.search(f.path) or f.path.endswith("package.json")
                        or f.path.endswith((".npmrc", "pip.conf", ".pypirc")))
        workflow = bool(_WORKFLOW.match(f.path))
        for text, line in _added(f):
            if manifest and _INDEX.search(text):
                out.append(_finding("index-url-change", Severity.HIGH, f, line,
                                    "package index or trusted host added: packages may come from elsewhere",
                                    f"index:{line}"))
            if manifest and _INSTALL_HOOK.search(text):
                out.append(_finding("install-script", Severity.HIGH, f, line,
                                    "install hook added: code runs when the package is installed", f"hook:{line}"))
            if workflow and _WRITE_PERMISSION.search(text):
                out.append(_finding("workflow-permission", Severity.MEDIUM, f, line,
                                    "workflow gains a write permission", f"perm:{text.strip()}"))
            if workflow and _PR_TARGET.search(text):
                out.append(_finding("workflow-permission", Severity.HIGH, f, line,
                                    "workflow runs on pull_request_target (base-repo token on fork code)",
                                    "pull_request_target"))
    return out
