"""Severity calibration of scanner findings."""

from __future__ import annotations

import pytest

from govbot.checks.calibrate import calibrate, is_test_path
from govbot.core.models import Finding, Severity


def finding(tool: str, rule_id: str, path: str = "app/x.py", cwe: tuple[str, ...] = (),
            severity: Severity = Severity.MEDIUM) -> Finding:
    return Finding(tool=tool, rule_id=rule_id, severity=severity, path=path, line=1, message="m", cwe=cwe)


@pytest.mark.parametrize("test_id", ["B105", "B110", "B311", "B404", "B603"])
def test_low_value_bandit_checks_are_info(test_id: str) -> None:
    assert calibrate(finding("bandit", f"bandit:{test_id}")).severity is Severity.INFO


def test_other_bandit_checks_keep_their_severity() -> None:
    assert calibrate(finding("bandit", "bandit:B602", severity=Severity.HIGH)).severity is Severity.HIGH


@pytest.mark.parametrize("path", ["tests/test_a.py", "pkg/tests/helpers.py", "test_x.py", "a/conftest.py",
                                  "src/thing_test.py", "polls/tests.py", "hc/test.py"])
def test_fixture_patterns_in_test_code_are_info(path: str) -> None:
    assert is_test_path(path)
    f = finding("semgrep", "semgrep:python.crypto.weak-hash", path=path, cwe=("CWE-328",))
    assert calibrate(f).severity is Severity.INFO


def test_secrets_are_never_lowered_in_test_code() -> None:
    f = finding("secrets", "secrets:aws-access-key", path="tests/test_a.py", cwe=("CWE-798",),
                severity=Severity.CRITICAL)
    assert calibrate(f) == f
    g = finding("semgrep", "semgrep:python.secrets.hardcoded-credential", path="tests/test_a.py",
                cwe=("CWE-798: Use of Hard-coded Credentials",), severity=Severity.HIGH)
    assert calibrate(g).severity is Severity.HIGH


def test_non_test_paths_are_unchanged() -> None:
    for path in ("app/testing_utils.py", "src/attest.py", "contest/x.py", "app/latest.py", "app/contests.py"):
        assert not is_test_path(path), path
    f = finding("semgrep", "semgrep:python.crypto.weak-hash", path="src/attest.py")
    assert calibrate(f) == f
