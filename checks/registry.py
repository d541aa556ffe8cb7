"""The scanners govbot runs: one ``ScannerSpec`` per adapter, and the settings they run with.

Adding a scanner is one adapter module (pure ``build_argv`` and ``parse``) and one entry in
``SCANNERS``; every other place (the runner in ``checks/scan.py``, ``GOVBOT_SCANNERS``, the
``GOVBOT_<TOOL>_BIN`` overrides, the router's list of scanner findings) reads the names from here.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from govbot.checks import bandit, secrets, semgrep
from govbot.checks.base import ToolOutput
from govbot.core.models import ToolStatus
from govbot.policy.model import Policy


def default_binary(name: str) -> str:
    """Prefer the scanner installed beside this Python (the venv govbot runs in)."""
    sibling = Path(sys.executable).parent / name
    if sibling.exists():
        return str(sibling)
    return shutil.which(name) or name


@dataclass(frozen=True)
class ScannerSettings:
    binaries: Mapping[str, str] = field(default_factory=dict)  # scanner name -> executable (pinned)
    tool_timeout_s: float = 300.0
    semgrep_rule_timeout_s: int = 10
    semgrep_max_memory_mb: int = 2048
    # semgrep, bandit and detect-secrets run side by side: semgrep gets one core, the two Python
    # scanners share the rest (benchmarks/scan_bench.py measured --jobs=1 fastest on 2 cores).
    semgrep_jobs: int = 1
    batch_cap: int = 500  # files per batched process (bandit, detect-secrets)
    workers: int = 0  # scanner processes at once; 0: one per core (at least 2)
    python_tool_memory_mb: int = 4096
    max_file_bytes: int = 1_000_000
    semgrep_configs: tuple[str, ...] = ()  # extra config files/dirs (already on local disk)
    semgrep_bundled: bool = True
    enabled: tuple[str, ...] = field(default_factory=lambda: SCANNER_NAMES)

    def binary(self, spec: ScannerSpec) -> str:
        return self.binaries.get(spec.name) or default_binary(spec.binary)

    def with_policy(self, policy: Policy) -> ScannerSettings:
        """These settings under the policy's limits (time, memory, file size, bundled rules)."""
        limits = policy.limits
        return replace(
            self,
            tool_timeout_s=limits.tool_timeout_s,
            semgrep_rule_timeout_s=limits.semgrep_rule_timeout_s,
            semgrep_max_memory_mb=limits.semgrep_max_memory_mb,
            max_file_bytes=limits.max_file_bytes,
            semgrep_bundled=policy.semgrep.bundled and self.semgrep_bundled,
        )


def _scan_all(path: str) -> str | None:
    return None


def _always_available(s: ScannerSettings) -> tuple[ToolStatus, str] | None:
    return None


@dataclass(frozen=True)
class ScannerSpec:
    """How one scanner runs. ``argv`` gets the binary, the targets (``./``-prefixed paths) and the
    settings; ``skip`` says why a file is not for this scanner (None: scan it)."""

    name: str  # in reports, GOVBOT_SCANNERS and the policy's ``tool:`` condition
    dist: str  # the installed distribution whose version is reported
    binary: str  # executable name; GOVBOT_<BINARY>_BIN pins another one
    argv: Callable[[str, Sequence[str], ScannerSettings], list[str]]
    parse: Callable[[bytes], ToolOutput]
    ok_codes: tuple[int, ...] = (0,)
    batched: bool = True  # False: one process for every file (start-up too costly to repeat)
    skip: Callable[[str], str | None] = _scan_all
    report_skips: bool = False  # list the files ``skip`` left out as skipped in the report
    capped_memory: bool = True  # runs under ``python_tool_memory_mb``
    nothing_to_scan: str = "no files to scan"
    unavailable: Callable[[ScannerSettings], tuple[ToolStatus, str] | None] = _always_available

    @property
    def env_var(self) -> str:
        return f"GOVBOT_{self.binary.upper().replace('-', '_')}_BIN"


def semgrep_configs(s: ScannerSettings) -> list[str]:
    bundled = [str(p) for p in semgrep.bundled_rule_files()] if s.semgrep_bundled else []
    return bundled + list(s.semgrep_configs)


def _semgrep_argv(binary: str, targets: Sequence[str], s: ScannerSettings) -> list[str]:
    return semgrep.build_argv(binary, semgrep_configs(s), targets, rule_timeout_s=s.semgrep_rule_timeout_s,
                              max_memory_mb=s.semgrep_max_memory_mb, max_target_bytes=s.max_file_bytes,
                              jobs=s.semgrep_jobs)


def _semgrep_unavailable(s: ScannerSettings) -> tuple[ToolStatus, str] | None:
    if semgrep_configs(s):
        return None
    if not s.semgrep_bundled:
        return ToolStatus.NOT_APPLICABLE, "no rules configured (semgrep.bundled is false)"
    return ToolStatus.FAILED, "govbot's bundled semgrep rules are missing from this installation"


def _bandit_skip(path: str) -> str | None:
    return None if bandit.applies_to(path) else "not a Python file"


SCANNERS: tuple[ScannerSpec, ...] = (
    # semgrep exits 0 (no findings) or 1 (findings); 2+ are errors. One process: its start-up
    # (~3 s, loading rules) is too costly to repeat per batch.
    ScannerSpec("semgrep", "semgrep", "semgrep", _semgrep_argv, semgrep.parse, ok_codes=(0, 1), batched=False,
                capped_memory=False, unavailable=_semgrep_unavailable),
    # bandit holds every file's results in memory until it exits; batches bound that
    # (measured: ~40 MB for 500 files, ~95 MB for 3,000).
    ScannerSpec("bandit", "bandit", "bandit", lambda b, t, s: bandit.build_argv(b, t), bandit.parse,
                ok_codes=(0, 1), skip=_bandit_skip, nothing_to_scan="no Python files in the change"),
    # detect-secrets through govbot's worker (``python -I -m govbot.checks.secrets_worker``): no
    # verification, no name-based skips, every file read as text; the binary is the Python that
    # has detect-secrets installed (GOVBOT_PYTHON_BIN pins another one).
    ScannerSpec("secrets", "detect-secrets", "python", lambda b, t, s: secrets.build_argv(b, t), secrets.parse,
                nothing_to_scan="no files to scan"),
)
SCANNER_NAMES: tuple[str, ...] = tuple(s.name for s in SCANNERS)
BY_NAME: Mapping[str, ScannerSpec] = {s.name: s for s in SCANNERS}


def binaries_from_env(env: Mapping[str, str]) -> dict[str, str]:
    """``GOVBOT_<TOOL>_BIN`` overrides (e.g. ``GOVBOT_DETECT_SECRETS_BIN``), by scanner name."""
    return {s.name: env[s.env_var] for s in SCANNERS if env.get(s.env_var)}
