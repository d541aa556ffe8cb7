"""The one place govbot starts subprocesses.

argv is always a list (never a shell), the child gets its own process group so a timeout kills
the whole tree, and an optional address-space limit bounds memory.

Scanners read files from the PR, so they are treated as hostile neighbours (issue 9, class 14):
they get an allowlisted environment (no tokens, no PYTHONPATH, so a PR file named ``argparse.py``
is never on an import path, and ``PYTHONSAFEPATH``), and before the first child starts govbot
marks itself non-dumpable, which makes ``/proc/<govbot>/environ`` (where the action's tokens sit
from process start, whatever ``os.environ`` says later) unreadable to processes of the same user.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import resource
import signal
import subprocess
import sys
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


_PR_SET_DUMPABLE = 4
_PR_CAPBSET_DROP = 24
_PR_SET_NO_NEW_PRIVS = 38
_LAST_CAP = 63


def _load_libc() -> ctypes.CDLL | None:
    """libc, resolved once in the parent. ``find_library`` starts ``ldconfig``: doing that in a
    forked child before exec (64 times when dropping capabilities as root) cost ~0.3 s per
    scanner process and is unsafe in a threaded parent."""
    if not sys.platform.startswith("linux"):
        return None
    return ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


_LIBC = _load_libc()


def _prctl(*args: int) -> int:
    if _LIBC is None:
        return -1
    return int(_LIBC.prctl(*args, *([0] * (5 - len(args)))))


def _confine_child(max_bytes: int | None, niceness: int = 0) -> None:
    """In the child, before exec: bound memory, forbid gaining privileges (setuid binaries), and
    when running as root (a container job) drop every capability, so the child cannot read a
    non-dumpable parent's /proc entries either. ``niceness`` lowers its CPU priority."""
    if niceness > 0:
        os.nice(niceness)
    if max_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))
    if sys.platform.startswith("linux"):
        _prctl(_PR_SET_NO_NEW_PRIVS, 1)
        if os.geteuid() == 0:
            for cap in range(_LAST_CAP + 1):
                _prctl(_PR_CAPBSET_DROP, cap)  # EINVAL past the kernel's last cap: ignored


def run(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    timeout_s: float,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    max_memory_bytes: int | None = None,
    confine: bool = True,
    niceness: int = 0,
) -> RunResult:
    """Run ``argv`` to completion or until ``timeout_s``; never raises for the child's failure.

    ``confine`` (the default, and always for scanners) forbids the child privileges and, as root,
    capabilities. That needs Python code between fork and exec, which rules out vfork: in a large
    process each start then costs ~40 ms of CPU instead of ~1 ms. ``git`` reading objects runs no
    code from the repository, so its many short calls pass ``confine=False``. ``niceness`` > 0
    starts the child at a lower CPU priority (the scanners that fill the cores the longest one
    leaves idle, so that they never delay it)."""
    protect_environ()
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
            preexec_fn=(lambda: _confine_child(max_memory_bytes, niceness))  # noqa: PLW1509
            if confine or max_memory_bytes or niceness > 0 else None,
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


def protect_environ() -> bool:
    """Make this process non-dumpable (Linux): its /proc entries, ``environ`` included, become
    root-owned, so a child cannot read the tokens it was started with. Idempotent; False where
    the platform has no ``prctl``."""
    if not sys.platform.startswith("linux"):
        return False
    return _prctl(_PR_SET_DUMPABLE, 0) == 0


# What a scanner may inherit: locale, paths, temp dirs, TLS trust and proxies. Nothing else —
# no token, no PYTHON* (PYTHONPATH with "" or "." puts the PR's files on the import path).
_KEEP = re.compile(
    r"PATH|HOME|USER|LOGNAME|LANG|LANGUAGE|LC_[A-Z]+|TZ|TERM|TMPDIR|TMP|TEMP|SYSTEMROOT"
    r"|SSL_CERT_FILE|SSL_CERT_DIR|REQUESTS_CA_BUNDLE|XDG_CACHE_HOME|XDG_CONFIG_HOME"
    r"|(?i:https?_proxy|all_proxy|no_proxy)"
)
_SENSITIVE = re.compile(r"TOKEN|KEY|SECRET|PASSWORD|CREDENTIAL|AUTH", re.IGNORECASE)


def tool_env(extra: Mapping[str, str] | None = None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment scanners run with: an allowlist of the caller's (``base``, default
    ``os.environ``), minus anything named like a credential, plus settings that keep the tools
    offline and Python's import path free of the working directory."""
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if _KEEP.fullmatch(k) and not _SENSITIVE.search(k)}
    env.update(
        {
            "SEMGREP_ENABLE_VERSION_CHECK": "0",
            "SEMGREP_SEND_METRICS": "off",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONSAFEPATH": "1",
            "PYTHONNOUSERSITE": "1",
            "NO_COLOR": "1",
        }
    )
    if extra:
        env.update(extra)
    return env
