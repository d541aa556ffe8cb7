"""Scanner processes cannot import PR files or read govbot's tokens (issue 9, class 14)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from govbot.checks.registry import ScannerSettings
from govbot.checks.runner import protect_environ, run, tool_env
from govbot.checks.scan import run_scanners


def test_tool_env_is_an_allowlist_without_python_path_or_tokens() -> None:
    base = {"PATH": "/usr/bin", "HOME": "/h", "PYTHONPATH": ".", "PYTHONHOME": "/x", "PYTHONSTARTUP": "s.py",
            "GITHUB_TOKEN": "t", "ACTIONS_RUNTIME_TOKEN": "t", "OPENAI_API_KEY": "k", "AWS_SECRET": "s",
            "INPUT_GITHUB-TOKEN": "t", "LD_PRELOAD": "/tmp/x.so", "HTTPS_PROXY": "http://127.0.0.1:1",
            "GIT_ASKPASS": "/bin/x", "LC_ALL": "C.UTF-8"}
    env = tool_env(base=base)
    assert {k for k in env if k in base} == {"PATH", "HOME", "HTTPS_PROXY", "LC_ALL"}
    assert env["PYTHONSAFEPATH"] == "1" and env["SEMGREP_ENABLE_VERSION_CHECK"] == "0"


def test_a_child_cannot_read_the_parents_environ() -> None:
    assert protect_environ()
    probe = "import os,sys\ntry:\n open(f'/proc/{os.getppid()}/environ','rb').read(); print('READ')\nexcept OSError as e: print(type(e).__name__)"
    result = run([sys.executable, "-I", "-c", probe], timeout_s=30, env=tool_env())
    assert result.stdout.decode().strip() == "PermissionError", result.stdout


@pytest.mark.slow
def test_a_pr_file_named_like_a_stdlib_module_is_never_imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative and an empty PYTHONPATH entry in the job (common in CI) used to put the PR
    copy — the scanners' working directory — on their import path."""
    marker = tmp_path / "imported"
    pr = tmp_path / "pr"
    pr.mkdir()
    evil = f"import pathlib\npathlib.Path({str(marker)!r}).write_text('pwned')\n"
    for mod in ("argparse", "json", "re", "typing", "enum", "collections"):
        (pr / f"{mod}.py").write_text(evil)
    (pr / "app.py").write_text("import subprocess\nsubprocess.call('ls', shell=True)\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([".", "", "pr"]))
    paths = sorted(p.name for p in pr.iterdir())
    results = run_scanners(pr, paths, ScannerSettings())
    assert all(r.run.complete for r in results), [r.run.error for r in results]
    assert not marker.exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl and /proc are Linux")
def test_children_are_confined_unless_the_caller_says_the_program_is_trusted() -> None:
    def no_new_privs(confine: bool) -> str:
        result = run(["grep", "^NoNewPrivs:", "/proc/self/status"], timeout_s=10, confine=confine)
        return result.stdout.decode().split()[-1]

    ours = next(ln for ln in Path("/proc/self/status").read_text().splitlines() if ln.startswith("NoNewPrivs:"))
    assert no_new_privs(True) == "1"  # the default: every scanner
    assert no_new_privs(False) == ours.split()[-1]  # inherited as it is, started by vfork


def test_a_child_started_with_niceness_runs_at_lower_priority() -> None:
    probe = [sys.executable, "-c", "import os; print(os.getpriority(os.PRIO_PROCESS, 0))"]
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    plain = run(probe, timeout_s=30)
    lowered = run(probe, timeout_s=30, niceness=5)
    assert int(plain.stdout) == mine
    assert int(lowered.stdout) == min(mine + 5, 19)


def test_batched_scanners_fill_idle_cores_at_lower_priority_and_the_long_job_does_not(tmp_path: Path) -> None:
    from govbot.checks.runner import RunResult
    from govbot.checks.scan import FILLER_NICENESS, materialise

    seen: dict[str, set[int]] = {}

    def record(argv, **kwargs: object) -> RunResult:  # type: ignore[no-untyped-def]
        tool = "semgrep" if "semgrep" in argv[0] else "secrets" if "secrets_worker" in " ".join(argv) else "bandit"
        seen.setdefault(tool, set()).add(int(kwargs.get("niceness", 0)))  # type: ignore[call-overload]
        return RunResult(tuple(argv), 0, b'{"results": [], "errors": []}', b"", 0.01)

    written = materialise(tmp_path, {f"m{i}.py": b"x = 1\n" for i in range(250)})
    run_scanners(tmp_path, written, ScannerSettings(), execute=record)
    assert seen["semgrep"] == {0}
    assert seen["bandit"] == {FILLER_NICENESS} and seen["secrets"] == {FILLER_NICENESS}
    assert FILLER_NICENESS > 0
