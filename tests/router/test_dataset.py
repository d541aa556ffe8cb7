"""The data-set builder on a small git repository made here, with a fake advisory record."""

from __future__ import annotations

import csv
import difflib
import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

from govbot.router.dataset import (
    advisory_rows,
    cited_ids,
    fix_commits,
    is_lint_commit,
    is_refused,
    label_history,
    semantically_empty,
)
from tests.gitrepo import GitRepo

ROOT = Path(__file__).resolve().parents[2]


def load_builder():  # the committed script, imported by path
    spec = importlib.util.spec_from_file_location("build_dataset", ROOT / "benchmarks/router_data/build_dataset.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def record(vid: str, repo: str, sha: str, *, git_range: str | None = None) -> dict:
    rec: dict = {"id": vid, "references": [{"type": "FIX", "url": f"https://github.com/{repo}/commit/{sha}"},
                                           {"type": "WEB", "url": f"https://github.com/{repo}/pull/12"}]}
    if git_range:
        rec["affected"] = [{"ranges": [{"type": "GIT", "repo": f"https://github.com/{repo}",
                                        "events": [{"introduced": "0"}, {"fixed": git_range}]}]}]
    return rec


def test_fix_commits_reads_references_and_git_ranges() -> None:
    rec = record("PYSEC-2024-1", "Acme/Widget", "a" * 40, git_range="b" * 40)
    rows = fix_commits(rec)
    assert [(r, s[:1]) for r, s, _ in rows] == [("acme/widget", "a"), ("acme/widget", "b")]
    assert "PYSEC-2024-1" in rows[0][2]


@pytest.mark.parametrize("repo", ["pallets/flask", "Pallets/anything", "psf/requests", "kennethreitz/requests",
                                  "tensorflow/tensorflow", "ENCODE/httpx"])
def test_reserved_and_excluded_repositories_are_refused(repo: str) -> None:
    assert is_refused(repo)
    owner, name = repo.split("/")
    assert advisory_rows([record("X-1", f"{owner}/{name}", "c" * 40)]) == []


def test_advisory_rows_deduplicate_by_commit() -> None:
    rows = advisory_rows([record("A-1", "o/r", "d" * 40), record("A-2", "o/r", "d" * 40)])
    assert len(rows) == 1 and rows[0].evidence.startswith("A-1")


def test_former_names_and_forks_map_to_one_repository() -> None:
    """One project, one group: a commit named under a former name cannot land in another fold."""
    rows = advisory_rows([record("A-1", "element-hq/synapse", "d" * 40),
                          record("A-2", "matrix-org/synapse", "d" * 40),
                          record("A-3", "rohe/pysaml2", "e" * 40)])
    assert [(r.repo, r.sha[:1]) for r in rows] == [("identitypython/pysaml2", "e"), ("matrix-org/synapse", "d")]


def patch(before: str, after: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), "a/f", "b/f"))


def test_heuristics() -> None:
    assert semantically_empty(patch("x = f(a,b)\n", "x = f(\n    a, b\n)\n"))
    assert semantically_empty(patch("x = 'a'  # old\n", 'x = "a"  # new comment\n'))
    assert not semantically_empty(patch("if len(x) > 10:\n", "if len(x) > 100:\n"))
    assert is_lint_commit("Fix typo", {"README.md": patch("teh\n", "the\n")})
    assert is_lint_commit("Run black", {"src/a.py": patch("x=f(a,b)\n", "x = f(a, b)\n")})
    assert is_lint_commit("bump flake8", {".pre-commit-config.yaml": patch("rev: 1\n", "rev: 2\n")})
    assert is_lint_commit("Add install guide", {"docs/install.md": patch("", "pip install x\n")}) is None
    assert is_lint_commit("Fix typo", {"src/a.py": patch("return a\n", "return b\n")}) is None
    assert cited_ids("Fix CVE-2021-1234 and GHSA-abcd-efgh-jkmp") == ["CVE-2021-1234"]  # a/b/d/e are not GHSA chars
    assert cited_ids("see ghsa-2345-6789-cfgh") == ["GHSA-2345-6789-CFGH"]


@pytest.fixture
def history(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    repo = GitRepo(tmp_path / "work")
    shas: dict[str, str] = {}
    repo.write("pkg/core.py", "def read(n):\n    return data[:n]\n")
    repo.write("README.md", "Teh tool\n")
    shas["init"] = repo.commit("Initial import")
    repo.write("pkg/core.py", "def read(n):\n    if n > MAX_SIZE:\n        raise ValueError(n)\n    return data[:n]\n")
    shas["fix"] = repo.commit("Limit the read size")
    repo.write("README.md", "The tool\n")
    shas["typo"] = repo.commit("Fix typo in README")
    repo.write("pkg/core.py", "def read(n):\n    if n > MAX_SIZE:\n        raise ValueError( n )\n    return data[:n]\n")
    shas["format"] = repo.commit("Reformat with black")
    repo.write("pkg/util.py", "def helper():\n    return 42\n")
    shas["feature"] = repo.commit("Add a helper")
    repo.write("pkg/util.py", "def helper():\n    return escape(42)\n")
    shas["cve"] = repo.commit("Fix XSS in helper (CVE-2099-0001)")
    mirrors = tmp_path / "mirrors"
    mirrors.mkdir()
    subprocess.run(["git", "clone", "--quiet", "--bare", str(repo.path), str(mirrors / "acme+widget" / "repo")],
                   check=True, capture_output=True)
    return mirrors, shas


def test_label_history(history: tuple[Path, dict[str, str]]) -> None:
    mirrors, shas = history
    rows = {r.sha: r for r in label_history("acme/widget", mirrors / "acme+widget/repo", [shas["fix"]], 100, 10)}
    assert shas["fix"] not in rows  # the advisory commit is not relabelled
    assert rows[shas["cve"]].label == "security" and "CVE-2099-0001" in rows[shas["cve"]].evidence
    assert rows[shas["typo"]].label == "lint"
    assert rows[shas["format"]].label == "lint"
    assert rows[shas["feature"]].label == "feature"


def test_builder_end_to_end(history: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    mirrors, shas = history
    adv = GitRepo(tmp_path / "adv")
    adv.write("vulns/widget/PYSEC-2099-1.yaml", json.dumps(record("PYSEC-2099-1", "Acme/Widget", shas["fix"])))
    adv.write("vulns/flask/PYSEC-2099-2.yaml", json.dumps(record("PYSEC-2099-2", "pallets/flask", "e" * 40)))
    adv.commit("advisories")
    builder = load_builder()
    manifest, out = tmp_path / "manifest.csv", tmp_path / "examples.jsonl"
    args = ["--advisories", str(adv.path / ".git"), "--mirrors", str(mirrors), "--manifest", str(manifest),
            "--out", str(out), "--per-repo-other", "10"]
    assert builder.main(args) == 0
    rows = list(csv.DictReader(manifest.open()))
    labels = {r["sha"]: r["label"] for r in rows}
    assert labels[shas["fix"]] == "security" and labels[shas["typo"]] == "lint"
    assert all(r["repo"] == "acme/widget" for r in rows)
    examples = [json.loads(line) for line in out.read_text().splitlines()]
    assert {e["sha"] for e in examples} == set(labels)
    assert "MAX_SIZE" in next(e["diff"] for e in examples if e["sha"] == shas["fix"])
    # regenerate the diffs from the committed manifest alone
    out2 = tmp_path / "again.jsonl"
    assert builder.main([*args[:-4], "--out", str(out2), "--from-manifest"]) == 0
    assert out2.read_text() == out.read_text()
