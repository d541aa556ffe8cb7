"""Deterministic supply-chain findings on manifests, lock files and workflows."""

from __future__ import annotations

import difflib

from govbot.checks.supplychain import supply_chain_findings
from govbot.core.diff import changeset_from_diff


def diff(path: str, before: str, after: str) -> str:
    body = "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"a/{path}", f"b/{path}"))
    return f"diff --git a/{path} b/{path}\n{body}"


def rules(text: str) -> list[tuple[str, str]]:
    return sorted((f.rule_id, f.message) for f in supply_chain_findings(changeset_from_diff(text)))


def test_requirements_new_and_unpinned() -> None:
    found = rules(diff("requirements.txt", "flask==2.0\n", "flask==2.1\nleftpad\nrequests==2.31\n"))
    assert ("govbot:new-dependency", "new dependency leftpad") in found
    assert ("govbot:unpinned-dependency", "dependency leftpad without an exact == pin") in found
    assert ("govbot:new-dependency", "new dependency requests") in found
    assert not any("flask" in m for _, m in found)  # a version bump of a known dependency is quiet


def test_index_url_and_install_hook() -> None:
    found = rules(diff("requirements.txt", "a==1\n", "--extra-index-url https://pkgs.example/simple\na==1\n"))
    assert [r for r, _ in found] == ["govbot:index-url-change"]
    found = rules(diff("setup.py", "setup(name='x')\n", "setup(name='x', cmdclass={'install': Hook})\n"))
    assert [r for r, _ in found] == ["govbot:install-script"]


def test_pyproject_dependencies_and_not_classifiers() -> None:
    before = '[project]\ndependencies = [\n  "rich>=13",\n]\nclassifiers = [\n  "Typing :: Typed",\n]\n'
    after = ('[project]\ndependencies = [\n  "rich>=13",\n  "evil-pkg",\n]\nclassifiers = [\n  "Typing :: Typed",\n'
             '  "License :: OSI",\n]\n')
    found = rules(diff("pyproject.toml", before, after))
    assert [r for r, _ in found] == ["govbot:new-dependency", "govbot:unpinned-dependency"]


def test_workflow_permission_and_pull_request_target() -> None:
    found = rules(diff(".github/workflows/ci.yml", "on: push\npermissions:\n  contents: read\n",
                       "on: pull_request_target\npermissions:\n  contents: write\n"))
    assert [r for r, _ in found] == ["govbot:workflow-permission"] * 2


def test_ordinary_code_gives_nothing() -> None:
    assert rules(diff("src/app.py", "x = 1\n", "x = 2\nindex_url = 'a'\n")) == []
