"""The ``Scanners`` port for tests: real semgrep, bandit and detect-secrets output, recorded once
and replayed, so pipeline, CLI and Action tests run in milliseconds instead of seconds.

Every scanner process govbot would start is looked up by what determines its output: the tool,
its options, and the bytes of every file it is given (rule files and targets, by content, not by
their temporary paths). The recording is ``tests/data/scanners/<key>.json``: the real tool's exit
code and stdout. Everything after the process (parsing, batching, statuses, normalising, policy)
runs for real on it.

A process whose recording is missing fails the test with the command to record it:

    GOVBOT_RECORD_SCANNERS=1 .venv/bin/python -m pytest tests/<file>

A binary pinned by the test (a missing, crashing or slow fake scanner) always runs for real: those
tests are about what govbot does with such a process. The tests marked ``slow`` run the real tools;
after a scanner upgrade or a rule change, delete ``tests/data/scanners/`` and re-record.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from govbot.checks.registry import SCANNERS, ScannerSettings, default_binary
from govbot.checks.runner import RunResult, run
from govbot.checks.scan import ToolScanners

RECORDINGS = Path(__file__).parent / "data" / "scanners"
RECORD = os.environ.get("GOVBOT_RECORD_SCANNERS") == "1"
_TOOLS = {default_binary(s.binary): s.name for s in SCANNERS}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _arg_key(arg: str, cwd: Path) -> str:
    """An argument as it affects the output: files by content, everything else as written."""
    prefix, _, value = arg.rpartition("=") if arg.startswith("--") and "=" in arg else ("", "", arg)
    candidate = Path(value) if Path(value).is_absolute() else cwd / value
    if value not in ("", ".", "-") and candidate.is_file():
        return f"{prefix}={value.removeprefix('./') if not Path(value).is_absolute() else ''}#{_digest(candidate)}"
    return arg


def recording_key(argv: Sequence[str], cwd: Path) -> str:
    tool = _TOOLS[argv[0]]
    parts = [tool, *(_arg_key(a, cwd) for a in argv[1:])]
    return f"{tool}-{hashlib.sha256(chr(0).join(parts).encode()).hexdigest()[:20]}"


def replay(argv: Sequence[str], *, cwd: Path | None = None, timeout_s: float, env: Mapping[str, str] | None = None,
           max_memory_bytes: int | None = None, **_: Any) -> RunResult:
    if argv[0] not in _TOOLS:  # a binary the test pinned: run it
        return run(argv, cwd=cwd, timeout_s=timeout_s, env=env, max_memory_bytes=max_memory_bytes)
    assert cwd is not None
    path = RECORDINGS / f"{recording_key(argv, cwd)}.json"
    if not path.exists():
        if not RECORD:
            raise AssertionError(f"no recorded output for {argv[0]} over these files ({path.name}); record it with "
                                 "GOVBOT_RECORD_SCANNERS=1 .venv/bin/python -m pytest <this test>")
        result = run(argv, cwd=cwd, timeout_s=timeout_s, env=env, max_memory_bytes=max_memory_bytes)
        assert not result.timed_out and not result.missing, f"cannot record {argv[0]}: {result.stderr_tail()}"
        RECORDINGS.mkdir(parents=True, exist_ok=True)
        data = {"returncode": result.returncode, "stdout": result.stdout.decode("utf-8")}
        path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    data = json.loads(path.read_text(encoding="utf-8"))
    return RunResult(tuple(argv), int(data["returncode"]), data["stdout"].encode("utf-8"), b"", 0.01)


def recorded(settings: ScannerSettings | None = None) -> ToolScanners:
    """``Scanners`` replaying recorded real-tool output (see the module docstring)."""
    return ToolScanners(settings or ScannerSettings(), execute=replay)
