"""The scanner registry: one spec per adapter, and the plans built from it (no scanner runs)."""

from __future__ import annotations

from govbot.checks.registry import BY_NAME, SCANNER_NAMES, SCANNERS, ScannerSettings, binaries_from_env
from govbot.checks.scan import tool_plan
from govbot.core.models import ToolStatus
from govbot.policy.model import Match


def test_names_are_unique_and_the_policy_knows_every_scanner() -> None:
    assert len(set(SCANNER_NAMES)) == len(SCANNERS) == 3
    for name in SCANNER_NAMES:  # the policy's closed set of tools (policy/vocab.py) accepts each one
        assert Match.model_validate({"tool": [name]}).tool == [name]


def test_binaries_are_pinned_through_env_vars_named_after_the_executable() -> None:
    env = {"GOVBOT_PYTHON_BIN": "/opt/ds", "GOVBOT_BANDIT_BIN": "", "GOVBOT_SEMGREP_BIN": "/opt/sg"}
    assert binaries_from_env(env) == {"secrets": "/opt/ds", "semgrep": "/opt/sg"}
    assert ScannerSettings(binaries={"secrets": "/opt/ds"}).binary(BY_NAME["secrets"]) == "/opt/ds"


def test_batched_tools_split_their_files_and_semgrep_runs_once() -> None:
    paths = [f"pkg/m{i}.py" for i in range(300)] + ["README.md", "poetry.lock"]
    s = ScannerSettings(binaries={"bandit": "B", "secrets": "S", "semgrep": "G"})
    bandit = tool_plan(BY_NAME["bandit"], paths, s, workers=1)
    assert bandit.files == 300 and len(bandit.argvs) == 2 and bandit.ok_codes == (0, 1)
    assert all(a[0] == "B" and not any(x.endswith(".md") for x in a) for a in bandit.argvs)
    secrets = tool_plan(BY_NAME["secrets"], paths, s, workers=1)
    # every file reaches the secrets worker, a lock file too (issue 9, class 5)
    assert secrets.files == 302 and not secrets.extra_skips
    semgrep = tool_plan(BY_NAME["semgrep"], paths, s, workers=1)
    assert len(semgrep.argvs) == 1 and semgrep.argvs[0][0] == "G" and not semgrep.batched
    assert "./-x.py" in tool_plan(BY_NAME["semgrep"], ["-x.py"], s, workers=1).argvs[0]


def test_a_scanner_with_nothing_to_do_is_not_applicable_and_says_why() -> None:
    s = ScannerSettings()
    bandit = tool_plan(BY_NAME["bandit"], ["README.md"], s, workers=2)
    assert bandit.ready is not None and bandit.ready.run.status is ToolStatus.NOT_APPLICABLE
    assert bandit.ready.run.error == "no Python files in the change"
    off = tool_plan(BY_NAME["semgrep"], ["a.py"], ScannerSettings(semgrep_bundled=False), workers=2)
    assert off.ready is not None and off.ready.run.status is ToolStatus.NOT_APPLICABLE
