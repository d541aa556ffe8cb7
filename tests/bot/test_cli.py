"""The ``govbot`` command: real git, recorded scanner output; the last tests run the real process
and the real scanners (``slow``)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from govbot.bot.cli import Edges, main
from tests.gitrepo import GitRepo
from tests.scanners import recorded

# A made-up key in AWS's format (AWS's documented example key is a decoy govbot ignores).
AWS_KEY = "AKIA" "GOVBOTTEST2345Q7"


def govbot(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``govbot ARGS`` in this process, the scanners replaying recorded output (tests/scanners.py)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args), Edges({**os.environ, **(env or {})}, scanners=recorded))
    return subprocess.CompletedProcess(["govbot", *args], code, out.getvalue(), err.getvalue())


def govbot_process(*args: str) -> subprocess.CompletedProcess[str]:
    """``govbot ARGS`` as a user runs it: a real process with the real scanners."""
    return subprocess.run([sys.executable, "-m", "govbot", *args], check=False, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("demo") / "shop"
    result = govbot("demo", str(target), "--format", "json", "--output", str(target.parent / "report.json"))
    assert result.returncode == 1, result.stderr
    return target


def test_demo_blocks_and_writes_a_schema_valid_report(demo: Path) -> None:
    report = json.loads((demo.parent / "report.json").read_text())
    schema = json.loads(govbot("report-schema").stdout)
    jsonschema.validate(report, schema)
    assert report["schema_version"] == "1.2"
    assert report["decision"]["outcome"] == "block"
    rules = {f["rule_id"] for f in report["findings"]}
    assert "secrets:aws-access-key" in rules
    assert report["authorship"]["ai_generated"] == "yes"
    assert {t["name"] for t in report["tools"]} == {"semgrep", "bandit", "secrets"}


@pytest.mark.parametrize("fmt", ["json", "sarif", "markdown", "text"])
def test_no_output_format_leaks_the_secret(demo: Path, fmt: str) -> None:
    result = govbot("scan", str(demo), "--base", "main", "--head", "feature", "--format", fmt, "--no-progress")
    assert result.returncode == 1
    assert result.stdout.strip()
    assert AWS_KEY not in result.stdout and AWS_KEY not in result.stderr


def test_fail_on_block_lets_review_only_changes_pass(repo: GitRepo) -> None:
    repo.write("a.py", "a = 1\n")
    repo.commit("base")
    repo.branch("feature")
    repo.write("a.py", "a = 2\n")
    repo.commit("tweak\n\nCo-authored-by: Claude <noreply@anthropic.com>")
    args = ("scan", str(repo.path), "--base", "main", "--format", "json")
    assert govbot(*args).returncode == 1
    assert govbot(*args, "--fail-on", "block").returncode == 0


def test_not_a_repo_and_missing_ref_exit_2(tmp_path: Path, repo: GitRepo) -> None:
    result = govbot("scan", str(tmp_path), "--base", "main")
    assert result.returncode == 2 and "not a git repository" in result.stderr
    repo.write("a.py", "a = 1\n")
    repo.commit()
    result = govbot("scan", str(repo.path), "--base", "does-not-exist")
    assert result.returncode == 2 and "not found" in result.stderr


def test_bad_policy_exits_2_with_file_and_line(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("a.py", "a = 1\n")
    repo.commit()
    policy = tmp_path / "govbot.yml"
    policy.write_text("rules:\n  - id: x\n    match: {tool: [bandit]}\n    action: blok\n")
    result = govbot("scan", str(repo.path), "--base", "HEAD", "--policy", str(policy))
    assert result.returncode == 2
    assert f"{policy}:4: rules[0].action" in result.stderr
    result = govbot("policy", "validate", str(policy))
    assert result.returncode == 2 and "'blok' is not allowed" in result.stderr


def test_policy_comes_from_the_base_branch(repo: GitRepo) -> None:
    repo.write(".github/govbot.yml", "rules:\n  - id: no-todo\n    match: {touches: ['*.py']}\n    action: block\n")
    repo.commit("policy")
    repo.branch("feature")
    repo.write(".github/govbot.yml", "use_default_rules: false\n")
    repo.write("a.py", "a = 1\n")
    repo.commit("try to relax the policy in the same PR")
    result = govbot("scan", str(repo.path), "--base", "main", "--format", "json")
    report = json.loads(result.stdout)
    assert result.returncode == 1
    assert report["policy_source"].startswith(".github/govbot.yml@")
    assert any(r["rule"] == "no-todo" for r in report["decision"]["reasons"])
    assert any("policy change pending review" in n for n in report["decision"]["notices"])


def test_policy_schema_and_validate_ok(tmp_path: Path) -> None:
    schema = json.loads(govbot("policy", "schema").stdout)
    assert schema["title"].startswith("govbot policy")
    good = tmp_path / "ok.yml"
    good.write_text("rules:\n  - id: ai\n    match: {ai_generated: true}\n    action: require_review\n")
    result = govbot("policy", "validate", str(good))
    assert result.returncode == 0 and "valid" in result.stdout


def test_llm_sdks_are_not_loaded_unless_a_model_is_called() -> None:
    code = "import sys, govbot.bot.cli; print(sorted(m for m in ('openai', 'anthropic') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_policy_is_the_base_branch_tip_not_the_merge_base(repo: GitRepo) -> None:
    repo.write("a.py", "a = 1\n")
    repo.commit("base")
    repo.branch("feature")
    repo.write("a.py", "a = 2\n")
    repo.commit("feature forked before the policy")
    repo.git("checkout", "--quiet", "main")
    repo.write(".github/govbot.yml", "rules:\n  - id: strict\n    match: {touches: ['*.py']}\n    action: block\n")
    repo.commit("tighten policy")
    result = govbot("scan", str(repo.path), "--base", "main", "--head", "feature", "--format", "json")
    report = json.loads(result.stdout)
    assert result.returncode == 1
    assert any(r["rule"] == "strict" for r in report["decision"]["reasons"])


@pytest.mark.parametrize("fail_on", ["never", "block", "review_required"])
def test_demo_prints_the_exit_code_it_returns(tmp_path: Path, fail_on: str) -> None:
    result = govbot("demo", str(tmp_path / "shop"), "--fail-on", fail_on, "--no-progress")
    assert f"exit code {result.returncode}" in result.stdout
    assert result.returncode == (0 if fail_on == "never" else 1)


@pytest.mark.slow
def test_real_demo_with_fail_on_never_prints_and_returns_0(tmp_path: Path) -> None:
    result = govbot_process("demo", str(tmp_path / "shop"), "--fail-on", "never", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "exit code 0" in result.stdout and "BLOCK" in result.stdout
    assert AWS_KEY not in result.stdout + result.stderr


def test_output_path_is_checked_before_the_scan(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("a.py", "a = 1\n")
    repo.commit("base")
    missing = tmp_path / "no-such-dir" / "report.json"
    result = govbot("scan", str(repo.path), "--base", "main", "--format", "json", "-o", str(missing),
                    env={"GOVBOT_SEMGREP_BIN": "/nonexistent/semgrep"})
    assert result.returncode == 2
    assert f"directory {missing.parent} does not exist" in result.stderr and "Traceback" not in result.stderr
    result = govbot("scan", str(repo.path), "--base", "main", "-o", str(tmp_path))
    assert result.returncode == 2 and "is a directory" in result.stderr


def test_bare_repository_is_accepted(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("a.py", "a = 1\n")
    repo.commit("base")
    repo.branch("feature")
    repo.write("a.py", "a = 2\n")
    repo.commit("tweak")
    bare = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(repo.path), str(bare)], check=True)
    result = govbot("scan", str(bare), "--base", "main", "--head", "feature", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["change"]["files_changed"] == 1


def test_route_on_input_that_is_not_a_diff_says_so(tmp_path: Path) -> None:
    garbage = tmp_path / "notes.txt"
    garbage.write_text("hello, this is not a diff\n")
    result = govbot("route", "--diff", str(garbage))
    assert result.returncode == 2
    assert "is not a unified diff" in result.stderr and "no changed files" not in result.stdout


def test_demo_piped_is_short_stacked_and_reports_its_sql_injection_once(tmp_path: Path) -> None:
    result = govbot("demo", str(tmp_path / "shop"), "--no-progress")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) <= 60, result.stdout
    assert not any("┃" in line or "│ Severity" in line for line in lines)  # no table when piped
    assert result.stdout.count("shop/orders.py:11  semgrep:python.sql-injection.formatted-query") == 1
    assert "(also bandit:B608)" in result.stdout
    assert "shop/orders.py:10  bandit:B608" not in result.stdout


def test_a_shallow_clone_without_merge_base_exits_2_with_the_fix(repo: GitRepo, tmp_path: Path) -> None:
    """Issue 9, class 13: the two tips were diffed silently (115 files blamed on a 1-commit PR)."""
    repo.write("a.py", "a = 1\n")
    repo.commit("root")
    for i in range(3):
        repo.write(f"base{i}.py", "x = 1\n")
        repo.commit(f"base {i}")
    repo.git("checkout", "--quiet", "-b", "feature", "HEAD~3")
    repo.write("f.py", "y = 2\n")
    repo.commit("feature")
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "--quiet", "--depth", "1", "--no-single-branch", f"file://{repo.path}", str(clone)],
                   check=True, capture_output=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", "feature"], check=True, capture_output=True)
    result = govbot("scan", str(clone), "--base", "origin/main")
    assert result.returncode == 2, result.stdout
    assert "fetch-depth: 0" in result.stderr and "--unshallow" in result.stderr
