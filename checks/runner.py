"""The one place govbot starts subprocesses.

argv is always a list (never a shell), the child gets its own process group so a timeout kills
the whole tree, and an optional address-space limit bounds memory.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunResult:
    argv: tuple[str, ...]
    returncode: int | None  # None when the process was killed for a timeout
    stdout: bytes
    stderr: bytes
    duration_s: float
    timed_out: bool = False
    missing: bool = False

    def stderr_tail(self, limit: int = 600) -> str:
        text = self.stderr.decode("utf-8", "replace").strip()
        return text[-limit:]


def _limit_memory(max_bytes: int | None) -> None:
    if max_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))


def run(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    timeout_s: float,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    max_memory_bytes: int | None = None,
) -> RunResult:
    """Run ``argv`` to completion or until ``timeout_s``; never raises for the child's failure."""
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=(lambda: _limit_memory(max_memory_bytes)) if max_memory_bytes else None,  # noqa: PLW1509
        )
    except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
        return RunResult(tuple(argv), None, b"", str(exc).encode(), 0.0, missing=True)
    try:
        out, err = proc.communicate(input=stdin, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
        return RunResult(tuple(argv), None, out, err, time.monotonic() - started, timed_out=True)
    return RunResult(tuple(argv), proc.returncode, out, err, time.monotonic() - started)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.kill()


_SENSITIVE = re.compile(r"TOKEN|KEY|SECRET|PASSWORD|CREDENTIAL|^INPUT_", re.IGNORECASE)


def tool_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment scanners run with: the caller's, minus anything that could phone home."""
    env = {k: v for k, v in os.environ.items() if not _SENSITIVE.search(k)}
    env.update(
        {
            "SEMGREP_ENABLE_VERSION_CHECK": "0",
            "SEMGREP_SEND_METRICS": "off",
            "PYTHONDONTWRITEBYTECODE": "1",
            "NO_COLOR": "1",
        }
    )
    if extra:
        env.update(extra)
    return env
