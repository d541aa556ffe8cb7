"""End-to-end analysis of real git changes with the real semgrep, bandit and detect-secrets."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from govbot.bot.local import git as localgit
from govbot.bot.local.git import GitBlobSource
from govbot.checks.registry import ScannerSettings
from govbot.checks.scan import ToolScanners
from govbot.core.models import Outcome, Report, ToolStatus
from govbot.pipeline import analyse
from govbot.policy.loader import default_policy, load_policy_text
from govbot.policy.model import Policy
from tests.gitrepo import GitRepo
from tests.scanners import recorded

# A made-up key in AWS's format (AWS's documented example key is a decoy govbot ignores).
AWS_KEY = "AKIA" "GOVBOTTEST2345Q7"


def scan(repo: GitRepo, policy: Policy | None = None, binaries: dict[str, str] | None = None,
         **settings: object) -> Report:
    r = localgit.open_repo(repo.path)
    change = localgit.load_change(r, "main", "HEAD")
    policy = policy or default_policy()
    scanner_settings = ScannerSettings(binaries=binaries or {}, **settings)  # type: ignore[arg-type]
    return analyse(change, policy, GitBlobSource(r), recorded(scanner_settings.with_policy(policy)), None)


@pytest.fixture
def base(repo: GitRepo) -> GitRepo:
    repo.write("app/__init__.py", "")
    repo.write("app/util.py", "def add(a, b):\n    return a + b\n")
    repo.commit("base")
    repo.branch("feature")
    return repo


def test_injection_and_secret_block_with_evidence(base: GitRepo) -> None:
    base.write("app/util.py", "import os\n\n\ndef add(a, b):\n    return a + b\n\n\n"
                              "def run(cmd):\n    os.system('ls ' + cmd)\n")
    base.write("app/settings.py", f'AWS_ACCESS_KEY_ID = "{AWS_KEY}"\n')
    base.commit("feature")
    report = scan(base)
    rules = {f.rule_id for f in report.findings}
    assert "secrets:aws-access-key" in rules
    assert any(r.startswith(("bandit:B605", "semgrep:")) for r in rules)
    assert report.decision.outcome is Outcome.BLOCK
    assert report.decision.complete
    assert {t.name: t.status for t in report.tools}["bandit"] is ToolStatus.OK
    assert AWS_KEY not in report.model_dump_json()


def test_finding_on_untouched_line_is_kept_but_out_of_diff(repo: GitRepo) -> None:
    repo.write("a.py", "import os\n\nos.system('ls ' + input())\n\n\ndef f():\n    return 1\n")
    repo.commit("base")
    repo.branch("feature")
    repo.write("a.py", "import os\n\nos.system('ls ' + input())\n\n\ndef f():\n    return 2\n")
    repo.commit("small fix")
    report = scan(repo)
    injection = [f for f in report.findings if "B605" in f.rule_id or "B605" in " ".join(f.also_reported_by)]
    assert injection and not any(f.in_diff for f in injection)
    assert report.decision.outcome is Outcome.PASS


def test_fingerprint_survives_lines_inserted_above(repo: GitRepo) -> None:
    repo.write("a.py", "x = 1\n")
    repo.commit("base")
    repo.branch("feature")
    repo.write("a.py", "import os\nos.system('ls ' + input())\n")
    repo.commit("one")
    first = {f.rule_id: f.fingerprint for f in scan(repo).findings}
    repo.write("a.py", "import os\n\n\n# comment\nos.system('ls ' + input())\n")
    repo.commit("two")
    second = {f.rule_id: f.fingerprint for f in scan(repo).findings}
    assert first and first == second


def test_suppression_added_by_the_change_needs_review(base: GitRepo) -> None:
    base.write("app/run.py", "import subprocess\n\n\ndef go(c):\n"
                             "    subprocess.call(c, shell=True)  # nosec\n")
    base.commit("suppress")
    report = scan(base)
    added = [f for f in report.findings if f.rule_id == "govbot:suppression-added"]
    assert [(f.path, f.line) for f in added] == [("app/run.py", 5)]
    suppressed = [f for f in report.findings if f.tool in ("bandit", "semgrep") and f.suppression]
    assert suppressed and suppressed[0].suppression and suppressed[0].suppression.added_by_change
    assert report.decision.outcome is Outcome.BLOCK  # a suppression you add yourself is not honoured


def test_hostile_file_names_and_contents(base: GitRepo) -> None:
    base.write("-rf.py", "import pickle\n\ndef load(b):\n    return pickle.loads(b)\n")
    base.write("with space/ünïcode.py", "x = 1\n")
    base.write("new\nline.py", "y = 2\n")
    base.write("latin1.py", "s = '\xe9t\xe9'\n".encode("latin-1"))
    base.write("nul.txt", b"abc\x00def")
    base.write("big.js", "var a=1;" * 8_000)  # 64 kB on one line, over the 32 kB limit below (a .min.js would be skipped deliberately)
    os.symlink("/etc/passwd", base.path / "passwd_link")
    base.commit("hostile")
    report = scan(base, load_policy_text("limits:\n  max_file_bytes: 32768\n", "p"))
    skipped = {s.path: s for s in report.change.files_skipped}
    assert skipped["big.js"].incomplete and "larger than" in skipped["big.js"].reason
    assert "nul.txt" not in skipped  # NUL bytes: scanned as text (issue 9, class 4)
    assert "symlink" in skipped["passwd_link"].reason
    assert any(f.rule_id == "govbot:symlink-outside-repo" for f in report.findings)
    assert any(f.path == "-rf.py" and f.tool == "bandit" for f in report.findings)
    assert not report.decision.complete  # the 5 MB file was not analysed: never a pass
    assert report.change.files_analysed >= 4


def test_empty_change_passes(repo: GitRepo) -> None:
    repo.write("a.py", "a = 1\n")
    repo.commit("base")
    report = scan(repo)
    assert report.change.files_changed == 0
    assert report.decision.outcome is Outcome.PASS and report.decision.complete
    assert {t.status for t in report.tools} == {ToolStatus.NOT_APPLICABLE}


def test_missing_scanner_is_incomplete(base: GitRepo) -> None:
    base.write("app/x.py", "x = 1\n")
    base.commit("x")
    report = scan(base, binaries={"bandit": "/nonexistent/bandit"})
    tools = {t.name: t for t in report.tools}
    assert tools["bandit"].status is ToolStatus.MISSING
    assert not report.decision.complete


def _fake_tool(tmp: Path, body: str) -> str:
    path = tmp / "fake-tool"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_scanner_printing_garbage_or_crashing_is_incomplete(base: GitRepo, tmp_path: Path) -> None:
    base.write("app/x.py", "x = 1\n")
    base.commit("x")
    garbage = _fake_tool(tmp_path, "echo 'this is not json'; exit 0")
    report = scan(base, binaries={"secrets": garbage})
    tool = {t.name: t for t in report.tools}["secrets"]
    assert tool.status is ToolStatus.FAILED and "not JSON" in (tool.error or "")
    assert not report.decision.complete
    crash = _fake_tool(tmp_path / ".." , "echo boom >&2; exit 3")
    report = scan(base, binaries={"semgrep": crash})
    tool = {t.name: t for t in report.tools}["semgrep"]
    assert tool.status is ToolStatus.FAILED and "boom" in (tool.error or "")


@pytest.mark.slow  # waits out a real 1 s scanner timeout
def test_scanner_timeout_is_incomplete(base: GitRepo, tmp_path: Path) -> None:
    base.write("app/x.py", "x = 1\n")
    base.commit("x")
    slow = _fake_tool(tmp_path, "sleep 30")
    policy = load_policy_text("limits:\n  tool_timeout_s: 1\n", "p")
    report = scan(base, policy, binaries={"bandit": slow})
    tool = {t.name: t for t in report.tools}["bandit"]
    assert tool.status is ToolStatus.TIMEOUT
    assert not report.decision.complete


def test_policy_excludes_are_reported_and_lock_files_scanned(base: GitRepo) -> None:
    base.write("vendor/lib.py", "import os\nos.system('x' + input())\n")
    base.write("package-lock.json", '{"lockfileVersion": 3}\n')
    base.commit("vendor")
    policy = load_policy_text("settings:\n  scan_paths_exclude: ['vendor/**']\n", "p")
    report = scan(base, policy)
    skipped = {s.path: s.reason for s in report.change.files_skipped}
    assert "excluded by policy" in skipped["vendor/lib.py"]
    secrets_run = {t.name: t for t in report.tools}["secrets"]
    assert secrets_run.files == 1 and not secrets_run.skipped  # lock files are scanned (issue 9, class 5)
    assert report.decision.complete


def test_policy_change_is_flagged(base: GitRepo) -> None:
    base.write(".github/govbot.yml", "use_default_rules: false\n")
    base.commit("relax policy")
    report = scan(base)
    assert any(f.rule_id == "govbot:policy-change" for f in report.findings)
    assert any("policy change pending review" in n for n in report.decision.notices)
    assert report.decision.outcome is Outcome.REVIEW_REQUIRED


@pytest.mark.slow
def test_custom_rules_from_the_base_branch_and_messages_never_quote_secrets(repo: GitRepo) -> None:
    token = "ghp_" + "R4nd0mT0k3nV4lu3" * 2 + "abcd"
    repo.write(".github/govbot.yml", "semgrep:\n  rules: ['.github/semgrep/*.yml']\n")
    repo.write(".github/semgrep/leaky.yml", (
        "rules:\n  - id: team.token-literal\n    languages: [python]\n    severity: WARNING\n"
        "    message: token literal $VALUE found\n    pattern: 'TOKEN = \"$VALUE\"'\n"))
    repo.write("a.py", "x = 1\n")
    repo.commit("base with team rule")
    repo.branch("feature")
    repo.write("a.py", f'TOKEN = "{token}"\n')
    repo.commit("add token")
    result = subprocess.run(
        [sys.executable, "-m", "govbot", "scan", str(repo.path), "--base", "main", "--format", "json"],
        capture_output=True, text=True, check=False,
    )
    assert token not in result.stdout and token not in result.stderr
    report = json.loads(result.stdout)
    [custom] = [f for f in report["findings"] if f["rule_id"] == "semgrep:team.token-literal"]
    assert custom["message"] == "token literal [REDACTED] found"


def test_paths_scanners_skip_by_default_are_scanned_deliberately(base: GitRepo) -> None:
    vuln = "import os\n\n\ndef f(x):\n    os.system('ls ' + x)\n"
    (base.path / ".gitignore").write_text("build/\n")
    for path in ("tests/test_x.py", "vendor/lib.py", "node_modules/pkg/x.py", "build/gen.py", "app/x.min.py"):
        base.write(path, vuln)
    base.git("add", "-f", "build/gen.py")
    base.commit("files semgrep and detect-secrets would skip on their own")
    report = scan(base)
    semgrep_paths = {f.path for f in report.findings if f.tool == "semgrep"}
    assert semgrep_paths >= {"tests/test_x.py", "vendor/lib.py", "node_modules/pkg/x.py", "build/gen.py",
                             "app/x.min.py"}
    assert report.change.files_skipped == ()


def test_gitattributes_cannot_hide_files_from_the_scanners(base: GitRepo) -> None:
    base.write(".gitattributes", "*.py -diff\n")
    base.write("app/x.py", f'import subprocess\nsubprocess.call(input(), shell=True)\nKEY = "{AWS_KEY}"\n')
    base.commit("hide")
    report = scan(base)
    assert any(f.path == "app/x.py" and f.tool == "secrets" and f.in_diff for f in report.findings)
    assert report.decision.outcome is Outcome.BLOCK
    assert any(f.rule_id == "govbot:policy-change" and f.path == ".gitattributes" for f in report.findings)


def test_non_utf8_content_still_gets_secret_scanning(base: GitRepo) -> None:
    base.write("settings.ini", b"# caf\xe9\naws_key = " + AWS_KEY.encode() + b"\n")
    base.commit("latin-1 settings")
    report = scan(base)
    assert [(f.path, f.line) for f in report.findings if f.tool == "secrets"] == [("settings.ini", 2)]


def test_finding_spanning_an_added_line_is_in_the_diff(repo: GitRepo) -> None:
    workflow = ("on: pull_request\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n"
                "          echo one\n          echo {}\n")
    repo.write(".github/workflows/ci.yml", workflow.format("two"))
    repo.commit("base")
    repo.branch("feature")
    repo.write(".github/workflows/ci.yml", workflow.format("${{ github.event.pull_request.title }}"))
    repo.commit("inject")
    report = scan(repo)
    injection = [f for f in report.findings if "script-injection" in f.rule_id]
    assert injection and injection[0].in_diff
    assert report.decision.outcome is Outcome.BLOCK


def test_marker_above_new_code_counts_as_added(repo: GitRepo) -> None:
    repo.write("a.py", "import pickle\n\n\ndef f(b):\n    # nosemgrep\n    return 1\n")
    repo.commit("base")
    repo.branch("feature")
    repo.write("a.py", "import pickle\n\n\ndef f(b):\n    # nosemgrep\n    return pickle.loads(b)\n")
    repo.commit("use the old marker for new code")
    report = scan(repo)
    flagged = [f for f in report.findings if f.line == 6 and f.tool in ("semgrep", "bandit")]
    assert flagged and all(f.suppression is None or f.suppression.added_by_change for f in flagged)


class _Mapping:
    def __init__(self, data: dict[str, bytes]) -> None:
        self.data = data

    def read(self, files):  # type: ignore[no-untyped-def]
        return {f.path: self.data[f.path] for f in files if f.path in self.data}


def test_unlisted_files_and_unknown_lines_never_pass_silently() -> None:
    from govbot.core.models import ChangedFile, ChangeSet, FileStatus

    code = f'KEY = "{AWS_KEY}"  # pragma: allowlist secret\n'.encode()
    change = ChangeSet(
        base="b" * 40, head="h" * 40,
        files=(ChangedFile(path="app.py", status=FileStatus.MODIFIED, lines_unknown=True),),
        unanalysed=("2,000 changed file(s) were not listed by GitHub",),
    )
    report = analyse(change, default_policy(), _Mapping({"app.py": code}), recorded(), None)
    assert not report.decision.complete
    assert any(f.rule_id == "govbot:suppression-added" for f in report.findings)
    secret = [f for f in report.findings if f.tool == "secrets"]
    assert secret and secret[0].suppression and secret[0].suppression.added_by_change
    assert report.decision.outcome is Outcome.BLOCK


@pytest.mark.slow
def test_real_scanners_agree_with_the_recorded_output(base: GitRepo) -> None:
    """The recordings the fast tests replay are what semgrep, bandit and detect-secrets say today."""
    base.write("app/util.py", "import os\n\n\ndef add(a, b):\n    return a + b\n\n\n"
                              "def run(cmd):\n    os.system('ls ' + cmd)\n")
    base.write("app/settings.py", f'AWS_ACCESS_KEY_ID = "{AWS_KEY}"\n')
    base.commit("feature")
    r = localgit.open_repo(base.path)
    change = localgit.load_change(r, "main", "HEAD")
    policy = default_policy()
    settings = ScannerSettings().with_policy(policy)
    real = analyse(change, policy, GitBlobSource(r), ToolScanners(settings), None)
    replayed = analyse(change, policy, GitBlobSource(r), recorded(settings), None)
    assert all(t.status is ToolStatus.OK for t in real.tools)
    assert [(f.rule_id, f.path, f.line, f.fingerprint) for f in real.findings] == \
        [(f.rule_id, f.path, f.line, f.fingerprint) for f in replayed.findings]
    assert real.decision == replayed.decision
def test_large_lock_and_generated_files_are_skipped_deliberately_others_are_incomplete(base: GitRepo) -> None:
    big = "{" + ",".join(f'"pkg{i}": {{"integrity": "sha512-{i:064d}"}}' for i in range(300)) + "}\n"
    base.write("web/package-lock.json", big)
    base.write("web/static/app.min.js", "var a=1;" * 4000)
    base.commit("deps")
    policy = load_policy_text("limits:\n  max_file_bytes: 20000\n", "p")
    report = scan(base, policy)
    skipped = {s.path: s for s in report.change.files_skipped}
    assert "lock file larger than 20000 bytes" in skipped["web/package-lock.json"].reason
    assert "generated file larger than" in skipped["web/static/app.min.js"].reason
    assert not any(s.incomplete for s in skipped.values()) and report.decision.complete

    base.write("app/huge.py", "x = 1\n" * 5000)
    base.commit("huge")
    report = scan(base, policy)
    assert not report.decision.complete
    assert next(s for s in report.change.files_skipped if s.path == "app/huge.py").incomplete


def test_a_secret_in_a_file_name_never_reaches_the_report(base: GitRepo) -> None:
    """Issue 9, class 3: the name was printed in text, JSON and markdown output."""
    token = "ghp_0123456789abcdefghijABCDEFGHIJ012345"
    base.write(f"keys/{token}.py", "import pickle\n\ndef load(b):\n    return pickle.loads(b)\n")
    base.write(f"keys/{token}.ipynb", "{}")
    base.commit("token in a name")
    report = scan(base)
    assert any(f.tool == "bandit" for f in report.findings)
    assert token not in report.model_dump_json()


def test_binary_looking_files_are_scanned_for_secrets(base: GitRepo) -> None:
    """Issue 9, class 4: a NUL byte or UTF-16 made a .env "binary", skipped, and the key passed."""
    base.write(".env", b"\x00" + f"AWS_ACCESS_KEY_ID={AWS_KEY}\n".encode())
    base.write("conf/keys.txt", f"AWS_ACCESS_KEY_ID={AWS_KEY}\n".encode("utf-16"))
    base.write("tool.py", b"import os\x00\nos.system(input())\n")
    base.commit("binary-looking")
    report = scan(base)
    found = {f.path for f in report.findings if f.tool == "secrets"}
    assert {".env", "conf/keys.txt"} <= found
    skipped = {s.path: s for s in report.change.files_skipped}
    assert skipped["tool.py"].incomplete and not report.decision.complete
    assert report.decision.outcome is not Outcome.PASS


def test_python_found_by_content_is_analysed_as_python(base: GitRepo) -> None:
    """Issue 9, class 8: an extensionless shebang script and a notebook's code cells are analysed
    as Python, their findings on the original file and line; a unicode_escape cookie and a
    notebook that is not JSON are reported, never silently passed."""
    base.write("deploy", "#!/usr/bin/env python3\nimport os\nos.system('ls ' + input())\n")
    nb = {"cells": [{"cell_type": "markdown", "source": ["# Load\n"]},
                    {"cell_type": "code", "source": ["%matplotlib inline\n", "import pickle\n",
                                                     "obj = pickle.loads(open('x', 'rb').read())\n"]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    text = json.dumps(nb, indent=1) + "\n"
    base.write("nb.ipynb", text)
    base.write("broken.ipynb", "{not json")
    base.write("esc.py", "# -*- coding: unicode_escape -*-\nx = 1\n")
    base.commit("python by content")
    report = scan(base)
    skipped = {s.path: s for s in report.change.files_skipped}
    assert "deploy" not in skipped and "nb.ipynb" not in skipped
    assert skipped["broken.ipynb"].incomplete and skipped["esc.py"].incomplete
    assert "unicode_escape" in skipped["esc.py"].reason
    assert not report.decision.complete
    sast = [f for f in report.findings if f.tool in ("bandit", "semgrep")]
    assert not any(f.path.endswith(".py") and f.path != "esc.py" for f in sast)  # no view path leaks out
    shell = [f for f in sast if f.path == "deploy"]
    assert shell and all(f.line == 3 and f.in_diff for f in shell)
    pickle_line = text.split("\n").index(next(ln for ln in text.split("\n") if "pickle.loads" in ln)) + 1
    loads = [f for f in sast if f.path == "nb.ipynb" and f.line == pickle_line]
    assert loads and all(f.in_diff for f in loads)


def test_an_old_nosec_on_a_multi_line_call_does_not_cover_a_line_the_change_writes(repo: GitRepo) -> None:
    """Issue 9, class 6: the suppression and the scope look at the same span."""
    call = "import subprocess\n\n\ndef go(c):\n    subprocess.call(  # nosec\n        c,\n        shell={},\n    )\n"
    repo.write("app/run.py", call.format("False"))
    repo.commit("base")
    repo.branch("feature")
    repo.write("app/run.py", call.format("True"))
    repo.commit("shell=True under an old nosec")
    report = scan(repo)
    shell = [f for f in report.findings if f.rule_id.startswith(("bandit:B602", "semgrep:")) and f.in_diff]
    assert shell and all(f.suppression and f.suppression.added_by_change for f in shell)
    assert report.decision.outcome is Outcome.BLOCK


def test_git_mv_of_vulnerable_code_is_new_where_it_lands(repo: GitRepo) -> None:
    """Issue 9, class 7: a pure rename adds no line, yet the moved code is new at its new path,
    and the baseline (which matches findings at the same path) does not call it pre-existing."""
    repo.write("tools/legacy.py", "import os\n\n\ndef run(cmd):\n    os.system('ls ' + cmd)\n")
    repo.commit("base")
    repo.branch("feature")
    (repo.path / "app" / "web").mkdir(parents=True)
    repo.git("mv", "tools/legacy.py", "app/web/handler.py")
    repo.commit("move into the web app")
    r = localgit.open_repo(repo.path)
    change = localgit.load_change(r, "main", "HEAD")
    assert change.files[0].status.value == "renamed" and not change.files[0].added_lines
    policy = default_policy()
    report = analyse(change, policy, GitBlobSource(r), recorded(ScannerSettings().with_policy(policy)), None,
                     base=GitBlobSource(r))
    moved = [f for f in report.findings if f.path == "app/web/handler.py" and f.tool in ("bandit", "semgrep")]
    assert moved and all(f.in_diff and f.baseline == "new" for f in moved)
    assert report.decision.outcome is Outcome.BLOCK


def test_change_only_work_runs_in_its_thread_at_lower_priority_and_leaves_the_caller_alone() -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from govbot.checks.scan import FILLER_NICENESS
    from govbot.pipeline import _at_low_priority

    def priority() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    mine = priority()
    with ThreadPoolExecutor(max_workers=1) as aside:
        inside = aside.submit(_at_low_priority, priority).result()
    assert inside == min(mine + FILLER_NICENESS, 19)
    assert priority() == mine
