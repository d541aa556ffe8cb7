"""The scanner adapters' pure halves, on output saved from the real tools (tests/data/tools)."""

from __future__ import annotations

from pathlib import Path

import pytest

from govbot.checks import bandit, secrets, semgrep
from govbot.core.errors import ToolError
from govbot.core.models import Severity

DATA = Path(__file__).parents[1] / "data" / "tools"


def test_semgrep_output() -> None:
    out = semgrep.parse((DATA / "semgrep.json").read_bytes())
    [f] = out.findings
    assert f.rule_id == "semgrep:os-system"
    assert f.path == "a.py" and f.line == 2
    assert f.severity is Severity.HIGH
    assert f.cwe == ("CWE-78",)
    assert out.version and out.version[0].isdigit()


def test_bandit_output_normalises_paths_and_withholds_passwords() -> None:
    out = bandit.parse((DATA / "bandit.json").read_bytes())
    by_rule = {f.rule_id: f for f in out.findings}
    assert by_rule["bandit:B605"].path == "a.py"
    assert by_rule["bandit:B605"].cwe == ("CWE-78",)
    assert by_rule["bandit:B105"].path == "-s.py"
    assert "hunter2" not in by_rule["bandit:B105"].message
    assert [s.path for s in out.skipped] == ["bad.py"]
    assert out.skipped[0].incomplete


def test_detect_secrets_output_has_no_secret_and_stable_ids() -> None:
    raw = (DATA / "detect-secrets.json").read_bytes()
    out = secrets.parse(raw)
    ids = sorted(f.rule_id for f in out.findings)
    # Line 4 holds one GitHub token that the entropy plugin reports too: only the more
    # confident report of a line is kept.
    assert ids == ["secrets:aws-access-key", "secrets:github-token", "secrets:secret-keyword"]
    assert {f.rule_id: f.confidence for f in out.findings} == {
        "secrets:aws-access-key": "high", "secrets:github-token": "high", "secrets:secret-keyword": "medium"}
    for f in out.findings:
        assert f.secret_hash and len(f.secret_hash) == 12
        assert f.fingerprint
        assert "AKIA" not in f.model_dump_json()
    aws = next(f for f in out.findings if f.rule_id == "secrets:aws-access-key")
    assert aws.severity is Severity.CRITICAL and aws.line == 2


@pytest.mark.parametrize("parse", [semgrep.parse, bandit.parse, secrets.parse])
@pytest.mark.parametrize("garbage", [b"", b"Traceback (most recent call last):\n", b"[1, 2]", b"{\"x\": 1}"])
def test_garbage_output_is_a_tool_error(parse, garbage: bytes) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ToolError):
        parse(garbage)


def test_argv_never_lets_a_path_become_an_option() -> None:
    argv = semgrep.build_argv("semgrep", ["rules.yml"], ["./-rf.py"], rule_timeout_s=5,
                              max_memory_mb=512, max_target_bytes=1000)
    assert argv[argv.index("--") + 1] == "./-rf.py"
    assert "--metrics=off" in argv and "--disable-version-check" in argv
    assert not any(a.startswith("--config=") and not a.endswith(".yml") for a in argv)
    assert bandit.build_argv("bandit", ["./-x.py"])[-1] == "./-x.py"
    assert secrets.build_argv("python", ["./-x.py"])[-2:] == ["--", "./-x.py"]


def test_detect_secrets_runs_isolated_without_verification_or_hiding_filters() -> None:
    argv = secrets.build_argv("/venv/bin/python", ["./a.py"])
    assert argv[1:5] == ["-I", "-m", "govbot.checks.secrets_worker", "--"] and argv[-1] == "./a.py"
    disabled = {f.rsplit(".", 1)[-1] for f in secrets.DISABLED_FILTERS}
    assert {"is_indirect_reference", "is_swagger_file", "is_lock_file", "is_non_text_file",
            "is_likely_id_string", "is_line_allowlisted"} <= disabled
