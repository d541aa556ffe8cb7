"""New versus pre-existing findings, end to end with real git, detect-secrets, bandit and semgrep."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from govbot.bot.local import git as localgit
from govbot.bot.local.git import GitBlobSource
from govbot.checks.registry import ScannerSettings
from govbot.checks.scan import ToolScanners
from govbot.core.models import Outcome, Report
from govbot.core.ports import Progress, ToolResult
from govbot.pipeline import analyse
from govbot.policy.loader import default_policy
from tests.gitrepo import GitRepo

pytestmark = pytest.mark.slow
AWS_KEY = "AKIA" "GOVBOTTEST2345Q7"  # made up: AWS's documented example key is ignored as a decoy


class Recording(ToolScanners):
    """The real tools, remembering which ones each run asked for."""

    def __init__(self, settings: ScannerSettings) -> None:
        super().__init__(settings)
        self.runs: list[Mapping[str, Sequence[str]] | None] = []

    def run(self, root: Path, paths: Sequence[str], progress: Progress | None = None,
            only: Mapping[str, Sequence[str]] | None = None) -> list[ToolResult]:
        self.runs.append(only)
        return super().run(root, paths, progress, only)


def scan(repo: GitRepo, scanners: ToolScanners | None = None) -> Report:
    r = localgit.open_repo(repo.path)
    blobs = GitBlobSource(r)
    policy = default_policy()
    scanners = scanners or ToolScanners(ScannerSettings().with_policy(policy))  # the real tools
    return analyse(localgit.load_change(r, "main", "HEAD"), policy, blobs, scanners, None, base=blobs)


def test_reformat_of_old_secret_and_old_injection_does_not_block(repo: GitRepo) -> None:
    repo.write("app/conf.py", f"import os\nKEY = '{AWS_KEY}'\nos.system('ls ' + os.environ['X'])\n")
    repo.commit("base")
    repo.branch("feature")
    # black: double quotes, the code moved into a function and re-indented
    repo.write("app/conf.py", "import os\n\n\ndef setup():\n"
                              f'    KEY = "{AWS_KEY}"\n    os.system("ls " + os.environ["X"])\n')
    repo.commit("reformat")
    report = scan(repo)
    scanned = [f for f in report.findings if f.tool in ("secrets", "bandit", "semgrep") and f.in_diff]
    assert scanned and all(f.baseline == "pre_existing" for f in scanned)
    secret = next(f for f in scanned if f.tool == "secrets")
    assert "already on the base branch" in secret.message
    assert report.decision.outcome is Outcome.PASS
    assert [r.rule for r in report.decision.reasons] == ["report-pre-existing"]


def test_secret_added_next_to_an_old_one_blocks_and_says_so(repo: GitRepo) -> None:
    repo.write("app/conf.py", f"KEY = '{AWS_KEY}'\n")
    repo.commit("base")
    repo.branch("feature")
    other = "AKIA" "GOVBOTTESTQ7RS5X"
    repo.write("app/conf.py", f'KEY = "{AWS_KEY}"\nOTHER = "{other}"\n')
    repo.commit("add a key")
    report = scan(repo)
    secrets = sorted((f for f in report.findings if f.tool == "secrets"), key=lambda f: f.line or 0)
    assert [f.baseline for f in secrets] == ["pre_existing", "new"]
    assert secrets[1].message.endswith("added by this change")
    assert report.decision.outcome is Outcome.BLOCK


def test_the_base_is_scanned_only_by_the_tool_that_reported(repo: GitRepo) -> None:
    repo.write("app/conf.py", f"KEY = '{AWS_KEY}'\nNAME = 'x'\n")
    repo.write("app/other.py", "X = 1\n")
    repo.commit("base")
    repo.branch("feature")
    repo.write("app/conf.py", f'KEY = "{AWS_KEY}"\nNAME = "x"\n')
    repo.write("app/other.py", "X = 2\n")
    repo.commit("reformat")
    scanners = Recording(ScannerSettings().with_policy(default_policy()))
    report = scan(repo, scanners)
    assert scanners.runs == [None, {"secrets": ["app/conf.py"]}]  # the head scan, then the base: one tool, one file
    assert [f.baseline for f in report.findings if f.tool == "secrets"] == ["pre_existing"]
    assert report.decision.outcome is Outcome.PASS
