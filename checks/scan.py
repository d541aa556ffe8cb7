"""Run semgrep, bandit and detect-secrets concurrently over a materialised copy of the changed
files, each bounded in time and memory, and report exactly what each one did and did not do.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath

from govbot.checks import bandit, secrets, semgrep
from govbot.checks.base import ToolOutput
from govbot.checks.runner import RunResult, run, tool_env
from govbot.core.errors import ToolError
from govbot.core.models import Finding, SkippedFile, ToolRun, ToolStatus

Progress = Callable[[str, str], None]  # (tool, "started" | "ok" | "failed" | ...)


def _default_binary(name: str) -> str:
    """Prefer the scanner installed beside this Python (the venv govbot runs in)."""
    sibling = Path(sys.executable).parent / name
    if sibling.exists():
        return str(sibling)
    return shutil.which(name) or name


@dataclass(frozen=True)
class ScannerSettings:
    semgrep_bin: str = field(default_factory=lambda: _default_binary("semgrep"))
    bandit_bin: str = field(default_factory=lambda: _default_binary("bandit"))
    detect_secrets_bin: str = field(default_factory=lambda: _default_binary("detect-secrets"))
    tool_timeout_s: float = 300.0
    semgrep_rule_timeout_s: int = 10
    semgrep_max_memory_mb: int = 2048
    # semgrep, bandit and detect-secrets run side by side: semgrep gets one core, the two Python
    # scanners share the rest (benchmarks/scan_bench.py measured --jobs=1 fastest on 2 cores).
    semgrep_jobs: int = 1
    bandit_batch: int = 500
    python_tool_memory_mb: int = 4096
    max_file_bytes: int = 1_000_000
    semgrep_configs: tuple[str, ...] = ()  # extra config files/dirs (already on local disk)
    semgrep_bundled: bool = True
    enabled: tuple[str, ...] = ("semgrep", "bandit", "secrets")


def safe_relpath(path: str) -> PurePosixPath | None:
    """The path if it is a plain relative path inside the tree; None for anything else."""
    p = PurePosixPath(path)
    if not path or p.is_absolute() or any(part in ("..", "") for part in path.split("/")) or "\x00" in path:
        return None
    return p


def materialise(root: Path, contents: Mapping[str, bytes]) -> list[str]:
    """Write contents under ``root``; returns the relative paths written (never outside root)."""
    written: list[str] = []
    for path, data in sorted(contents.items()):
        rel = safe_relpath(path)
        if rel is None:
            continue
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as fh:  # x: never overwrite, never follow an existing link
            fh.write(data)
        written.append(path)
    # semgrep would otherwise apply its default ignore list (tests/, vendored, minified files).
    (root / ".semgrepignore").write_text("# govbot decides what is scanned\n", encoding="utf-8")
    return written


def _arg(path: str) -> str:
    # "./" keeps names that start with "-" from being read as options by any tool.
    return "./" + path


@dataclass(frozen=True)
class ToolResult:
    run: ToolRun
    findings: list[Finding]


def run_scanners(
    root: Path,
    paths: Sequence[str],
    settings: ScannerSettings,
    progress: Progress | None = None,
) -> list[ToolResult]:
    """Run the enabled scanners in parallel threads (each a subprocess) over ``paths``."""
    jobs: list[Callable[[], ToolResult]] = []
    if "semgrep" in settings.enabled:
        jobs.append(lambda: _semgrep(root, paths, settings, progress))
    if "bandit" in settings.enabled:
        jobs.append(lambda: _bandit(root, paths, settings, progress))
    if "secrets" in settings.enabled:
        jobs.append(lambda: _secrets(root, paths, settings, progress))
    with ThreadPoolExecutor(max_workers=max(len(jobs), 1)) as pool:
        futures = [pool.submit(job) for job in jobs]
        return [f.result() for f in futures]


def _execute(
    name: str,
    argvs: list[list[str]],
    root: Path,
    files: int,
    settings: ScannerSettings,
    parse: Callable[[bytes], ToolOutput],
    *,
    ok_codes: tuple[int, ...],
    version: str | None,
    memory_mb: int | None,
    progress: Progress | None,
    extra_skips: Sequence[SkippedFile] = (),
) -> ToolResult:
    """Run one or more batches of a tool one after another, within one time budget.

    A batch that fails ends the run with that status; findings of earlier batches are kept.
    """
    if progress:
        progress(name, "started")
    started = time.monotonic()
    findings: list[Finding] = []
    skipped: list[SkippedFile] = list(extra_skips)
    tool_run = ToolRun(name=name, version=version, status=ToolStatus.OK, files=files)
    for argv in argvs:
        remaining = settings.tool_timeout_s - (time.monotonic() - started)
        result = run(
            argv,
            cwd=root,
            timeout_s=max(remaining, 0.001),
            env=tool_env(),
            max_memory_bytes=memory_mb * 1024 * 1024 if memory_mb else None,
        )
        tool_run, batch = _interpret(name, result, files, parse, ok_codes, version, ())
        findings.extend(batch)
        skipped.extend(tool_run.skipped)
        if tool_run.status is not ToolStatus.OK:
            break
    unique = tuple(sorted(set(skipped), key=lambda s: (s.path, s.reason)))
    tool_run = tool_run.model_copy(update={"skipped": unique, "duration_s": round(time.monotonic() - started, 3)})
    if progress:
        progress(name, tool_run.status.value)
    return ToolResult(tool_run, findings)


def _interpret(
    name: str,
    result: RunResult,
    files: int,
    parse: Callable[[bytes], ToolOutput],
    ok_codes: tuple[int, ...],
    version: str | None,
    extra_skips: Sequence[SkippedFile] = (),
) -> tuple[ToolRun, list[Finding]]:
    base = {"name": name, "version": version, "files": files, "duration_s": round(result.duration_s, 3)}
    if result.missing:
        error = f"{name} is not installed: {result.stderr_tail(200)}"
        return ToolRun(**base, status=ToolStatus.MISSING, error=error), []
    if result.timed_out:
        return ToolRun(**base, status=ToolStatus.TIMEOUT, error=f"{name} did not finish within the time limit"), []
    if result.returncode not in ok_codes:
        detail = result.stderr_tail(300) or f"exit code {result.returncode}"
        return ToolRun(**base, status=ToolStatus.FAILED, error=f"{name} exited with {result.returncode}: {detail}"), []
    try:
        output = parse(result.stdout)
    except ToolError as exc:
        return ToolRun(**base, status=ToolStatus.FAILED, error=str(exc)), []
    skipped = tuple(sorted({*output.skipped, *extra_skips}, key=lambda s: (s.path, s.reason)))
    run_ = ToolRun(**{**base, "version": output.version or version}, status=ToolStatus.OK, skipped=skipped)
    return run_, output.findings


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _not_applicable(name: str, version: str | None, why: str) -> ToolResult:
    return ToolResult(ToolRun(name=name, version=version, status=ToolStatus.NOT_APPLICABLE, error=why), [])


def _semgrep(root: Path, paths: Sequence[str], s: ScannerSettings, progress: Progress | None) -> ToolResult:
    version = _version("semgrep")
    configs = [str(p) for p in semgrep.bundled_rule_files()] if s.semgrep_bundled else []
    configs += list(s.semgrep_configs)
    if not paths:
        return _not_applicable("semgrep", version, "no files to scan")
    if not configs:
        error = "govbot's bundled semgrep rules are missing from this installation"
        if not s.semgrep_bundled:
            return _not_applicable("semgrep", version, "no rules configured (semgrep.bundled is false)")
        return ToolResult(ToolRun(name="semgrep", version=version, status=ToolStatus.FAILED, error=error), [])
    argv = semgrep.build_argv(
        s.semgrep_bin,
        configs,
        [_arg(p) for p in paths],
        rule_timeout_s=s.semgrep_rule_timeout_s,
        max_memory_mb=s.semgrep_max_memory_mb,
        max_target_bytes=s.max_file_bytes,
        jobs=s.semgrep_jobs,
    )
    # semgrep exits 0 (no findings) or 1 (findings); 2+ are errors.
    return _execute("semgrep", [argv], root, len(paths), s, semgrep.parse, ok_codes=(0, 1), version=version,
                    memory_mb=None, progress=progress)


def _bandit(root: Path, paths: Sequence[str], s: ScannerSettings, progress: Progress | None) -> ToolResult:
    version = _version("bandit")
    targets = [p for p in paths if bandit.applies_to(p)]
    if not targets:
        return _not_applicable("bandit", version, "no Python files in the change")
    # bandit holds every file's results in memory until it exits: batches bound its memory
    # (measured: ~40 MB for 500 files, ~95 MB for 3,000) for ~0.3 s of start-up each.
    argvs = [bandit.build_argv(s.bandit_bin, [_arg(p) for p in batch]) for batch in _batches(targets, s.bandit_batch)]
    return _execute("bandit", argvs, root, len(targets), s, bandit.parse, ok_codes=(0, 1), version=version,
                    memory_mb=s.python_tool_memory_mb, progress=progress)


def _batches(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), max(size, 1))]


def _secrets(root: Path, paths: Sequence[str], s: ScannerSettings, progress: Progress | None) -> ToolResult:
    version = _version("detect-secrets")
    skips = [SkippedFile(path=p, reason=r) for p in paths if (r := secrets.heuristic_skip(p))]
    skipped_paths = {x.path for x in skips}
    targets = [p for p in paths if p not in skipped_paths]
    if not targets:
        return ToolResult(
            ToolRun(name="secrets", version=version, status=ToolStatus.NOT_APPLICABLE, skipped=tuple(skips),
                    error="no text files to scan"),
            [],
        )
    argv = secrets.build_argv(s.detect_secrets_bin, [_arg(p) for p in targets])
    return _execute("secrets", [argv], root, len(targets), s, secrets.parse, ok_codes=(0,), version=version,
                    memory_mb=s.python_tool_memory_mb, progress=progress, extra_skips=skips)
