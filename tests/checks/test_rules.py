"""govbot's bundled semgrep rules: their structure, and their behaviour on annotated targets.

The behaviour test runs the real semgrep once, with every bundled rule file, over every target in
``tests/checks/rules/``. Targets use semgrep's own convention: a ``# ruleid: <id>`` comment line
marks the next code line as a required match, ``# ok: <id>`` as a required non-match. The scan
runs from inside the targets folder with relative paths, as govbot does from its temp mirror of
the repository, so ``paths:`` filters such as ``.github/workflows/*.yml`` see real layouts.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from govbot.checks.runner import run

RULES_DIR = Path(str(resources.files("govbot.checks") / "rules"))
TARGETS_DIR = Path(__file__).parent / "rules"
DOCS = Path(__file__).parents[2] / "docs" / "rules.md"
TARGET_SUFFIXES = {".py", ".yml", ".yaml"}

ID_RE = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+){2}$")
CWE_RE = re.compile(r"^CWE-\d+: \S.+$")
ANNOTATION_RE = re.compile(r"^\s*#\s*(ruleid|ok):\s*(\S.*?)\s*$")
MATCHERS = ("pattern", "patterns", "pattern-either", "pattern-regex")


@dataclass(frozen=True)
class Annotation:
    kind: str  # "ruleid" (must match) or "ok" (must not match)
    rule_id: str
    path: str  # relative to TARGETS_DIR, "/"-separated
    line: int  # 1-based line of the code the annotation points at


def load_rule_files() -> dict[Path, list[dict[str, Any]]]:
    yaml = YAML(typ="safe", pure=True)
    loaded: dict[Path, list[dict[str, Any]]] = {}
    for path in sorted(RULES_DIR.glob("*.yml")):
        doc = yaml.load(path.read_text(encoding="utf-8"))
        assert isinstance(doc, dict) and set(doc) == {"rules"}, f"{path.name}: top level must be `rules:`"
        assert isinstance(doc["rules"], list) and doc["rules"], f"{path.name}: `rules` must be a non-empty list"
        loaded[path] = doc["rules"]
    return loaded


def rule_ids() -> set[str]:
    return {rule["id"] for rules in load_rule_files().values() for rule in rules}


def target_files() -> list[Path]:
    return sorted(p for p in TARGETS_DIR.rglob("*") if p.is_file() and p.suffix in TARGET_SUFFIXES)


def parse_annotations(rel_path: str, text: str) -> Iterator[Annotation]:
    """Yield the annotations of one target; stacked annotation lines share the next code line."""
    pending: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        found = ANNOTATION_RE.match(line)
        if found:
            kind, ids = found.groups()
            pending.extend((kind, rule_id.strip()) for rule_id in ids.split(","))
            continue
        for kind, rule_id in pending:
            yield Annotation(kind, rule_id, rel_path, number)
        pending = []
    assert not pending, f"{rel_path}: annotation at end of file points at no code"


def all_annotations() -> list[Annotation]:
    return [
        note
        for path in target_files()
        for note in parse_annotations(path.relative_to(TARGETS_DIR).as_posix(), path.read_text("utf-8"))
    ]


def semgrep_binary() -> str:
    beside_python = Path(sys.executable).with_name("semgrep")
    found = str(beside_python) if beside_python.exists() else shutil.which("semgrep")
    assert found, "semgrep is a govbot dependency and must be installed next to the interpreter"
    return found


# ---------------------------------------------------------------------------------------------
# Structure (no semgrep needed)


def rule_problems(file_stem: str, rule: dict[str, Any]) -> list[str]:
    """The structural requirements one bundled rule misses (empty when it is complete)."""
    rid = str(rule.get("id", ""))
    prefix = "github-actions." if file_stem == "github-actions" else file_stem.partition("-")[0] + "."
    meta = rule.get("metadata") or {}
    cwes = meta.get("cwe")
    refs = meta.get("references")
    languages = rule.get("languages")
    checks = {
        "id is dotted lower-case (lang.category.name)": bool(ID_RE.match(rid)),
        f"id starts with {prefix!r}": rid.startswith(prefix),
        "languages is a non-empty list": isinstance(languages, list) and bool(languages),
        "severity is ERROR/WARNING/INFO": rule.get("severity") in {"ERROR", "WARNING", "INFO"},
        "message explains the fix": isinstance(rule.get("message"), str) and len(rule["message"]) > 60,
        "metadata.cwe lists 'CWE-n: title' entries": isinstance(cwes, list)
        and bool(cwes)
        and all(isinstance(c, str) and CWE_RE.match(c) for c in cwes),
        "metadata.confidence is HIGH/MEDIUM/LOW": meta.get("confidence") in {"HIGH", "MEDIUM", "LOW"},
        "metadata.category is security": meta.get("category") == "security",
        "metadata.references are https links": isinstance(refs, list)
        and bool(refs)
        and all(str(u).startswith("https://") for u in refs),
    }
    if rule.get("mode") == "taint":
        checks["taint rule has sources and sinks"] = bool(rule.get("pattern-sources") and rule.get("pattern-sinks"))
    else:
        checks["exactly one top-level matcher"] = sum(k in rule for k in MATCHERS) == 1
    if isinstance(languages, list) and "yaml" in languages:
        checks["yaml rule is limited by paths.include"] = bool((rule.get("paths") or {}).get("include"))
    return [f"{rid or '<no id>'}: {name}" for name, ok in checks.items() if not ok]


def test_rule_files_have_required_fields() -> None:
    problems = [
        f"{path.name}: {problem}"
        for path, rules in load_rule_files().items()
        for rule in rules
        for problem in rule_problems(path.stem, rule)
    ]
    assert problems == []


def test_rule_problems_names_what_is_missing() -> None:
    assert rule_problems("python-crypto", {"id": "python.crypto.x", "languages": ["yaml"], "pattern": "x"}) == [
        "python.crypto.x: severity is ERROR/WARNING/INFO",
        "python.crypto.x: message explains the fix",
        "python.crypto.x: metadata.cwe lists 'CWE-n: title' entries",
        "python.crypto.x: metadata.confidence is HIGH/MEDIUM/LOW",
        "python.crypto.x: metadata.category is security",
        "python.crypto.x: metadata.references are https links",
        "python.crypto.x: yaml rule is limited by paths.include",
    ]


def test_rule_ids_are_unique_and_documented() -> None:
    ids = [rule["id"] for rules in load_rule_files().values() for rule in rules]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    docs = DOCS.read_text(encoding="utf-8")
    assert [i for i in ids if f"`{i}`" not in docs] == [], "add these rule ids to docs/rules.md"


def test_every_rule_has_positive_and_negative_targets() -> None:
    known = rule_ids()
    notes = all_annotations()
    assert sorted({n.rule_id for n in notes} - known) == [], "annotations name unknown rules"
    for kind in ("ruleid", "ok"):
        covered = {n.rule_id for n in notes if n.kind == kind}
        assert sorted(known - covered) == [], f"rules without a `# {kind}:` target"
    clash = {(n.rule_id, n.path, n.line) for n in notes if n.kind == "ruleid"} & {
        (n.rule_id, n.path, n.line) for n in notes if n.kind == "ok"
    }
    assert clash == set()


def test_annotation_parser_follows_semgrep_convention() -> None:
    text = "x = 1\n# ruleid: a.b.c, a.b.d\n# ok: a.b.e\ncall()\n  # ok: a.b.c\n  other()\n"
    assert list(parse_annotations("t.py", text)) == [
        Annotation("ruleid", "a.b.c", "t.py", 4),
        Annotation("ruleid", "a.b.d", "t.py", 4),
        Annotation("ok", "a.b.e", "t.py", 4),
        Annotation("ok", "a.b.c", "t.py", 6),
    ]


# ---------------------------------------------------------------------------------------------
# Behaviour (one real semgrep run, offline)


@pytest.fixture(scope="module")
def semgrep_output() -> dict[str, Any]:
    configs = [arg for path in sorted(RULES_DIR.glob("*.yml")) for arg in ("--config", str(path))]
    targets = [p.relative_to(TARGETS_DIR).as_posix() for p in target_files()]
    env = dict(os.environ, SEMGREP_ENABLE_VERSION_CHECK="0", SEMGREP_SEND_METRICS="off")
    argv = [
        semgrep_binary(), "scan", "--json", "--metrics=off", "--disable-version-check",
        "--no-rewrite-rule-ids", "--no-git-ignore", "--timeout", "30", *configs, "--", *targets,
    ]  # fmt: skip
    result = run(argv, cwd=TARGETS_DIR, timeout_s=240, env=env)
    assert not result.timed_out and not result.missing, result.stderr_tail()
    assert result.returncode == 0, result.stderr_tail()
    output: dict[str, Any] = json.loads(result.stdout)
    return output


@pytest.mark.slow
def test_semgrep_reports_no_rule_or_parse_errors(semgrep_output: dict[str, Any]) -> None:
    assert semgrep_output["errors"] == []


@pytest.mark.slow
def test_every_target_is_scanned(semgrep_output: dict[str, Any]) -> None:
    scanned = set(semgrep_output["paths"]["scanned"])
    expected = {
        p.relative_to(TARGETS_DIR).as_posix()
        for p in target_files()
        if p.suffix == ".py" or p.parent.as_posix().endswith(".github/workflows")
    }
    assert sorted(expected - scanned) == []


@pytest.mark.slow
def test_annotated_lines_match_exactly(semgrep_output: dict[str, Any]) -> None:
    reported = [(r["check_id"], r["path"], r["start"]["line"]) for r in semgrep_output["results"]]
    expected = {(n.rule_id, n.path, n.line) for n in all_annotations() if n.kind == "ruleid"}
    missed = sorted(expected - set(reported))
    unexpected = sorted(set(reported) - expected)
    duplicated = sorted({hit for hit in reported if reported.count(hit) > 1})
    assert (missed, unexpected, duplicated) == ([], [], [])
