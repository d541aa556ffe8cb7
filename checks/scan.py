"""Run the registered scanners (``checks/registry.py``) concurrently over a materialised copy of the changed
files, each bounded in time and memory, and report exactly what each one did and did not do.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath

from govbot.checks.base import ToolOutput
from govbot.checks.registry import SCANNERS, ScannerSettings, ScannerSpec
from govbot.checks.runner import RunResult, run, tool_env
from govbot.core.errors import ToolError
from govbot.core.models import Finding, SkippedFile, ToolRun, ToolStatus
from govbot.core.ports import Progress, ToolResult

MIN_BATCH = 100
# The batched tools (bandit, detect-secrets) fill the cores that the one long unbatched job
# (semgrep, the run's critical path) leaves idle; at a lower priority they take CPU from it only
# when nothing else wants it (on a busy runner, or while govbot's own work runs beside them).
FILLER_NICENESS = 5


def safe_relpath(path: str) -> PurePosixPath | None:
    """The path if it is a plain relative path inside the tree; None for anything else."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:  # a name that is not valid UTF-8 (kept as surrogates by git's reader)
        return None
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
class ToolPlan:
    """How one scanner runs: its batches (argv lists), or a result known without running it."""

    name: str
    version: str | None
    argvs: tuple[tuple[str, ...], ...] = ()
    files: int = 0
    parse: Callable[[bytes], ToolOutput] = lambda _: ToolOutput()
    ok_codes: tuple[int, ...] = (0,)
    memory_mb: int | None = None
    extra_skips: tuple[SkippedFile, ...] = ()
    ready: ToolResult | None = None
    batched: bool = True


Execute = Callable[..., RunResult]  # checks.runner.run, or a test's replay of recorded output


class ToolScanners:
    """The ``Scanners`` port over the real tools (``checks/registry.py``), as subprocesses."""

    def __init__(self, settings: ScannerSettings, execute: Execute = run) -> None:
        self.settings = settings
        self.execute = execute

    def run(
        self,
        root: Path,
        paths: Sequence[str],
        progress: Progress | None = None,
        only: Mapping[str, Sequence[str]] | None = None,
    ) -> list[ToolResult]:
        return run_scanners(root, paths, self.settings, progress, self.execute, only)


def run_scanners(
    root: Path,
    paths: Sequence[str],
    settings: ScannerSettings,
    progress: Progress | None = None,
    execute: Execute = run,
    only: Mapping[str, Sequence[str]] | None = None,
) -> list[ToolResult]:
    """Run the enabled scanners over ``paths``: every batch of every tool goes to one pool with a
    worker per core, semgrep (the longest single job) first, so no core idles while work is left.
    ``only`` narrows the run to the tools it names, each over its own files (the base-version
    scan: only the tools that reported, only on the files they reported in).

    Each tool must finish within ``tool_timeout_s`` of the start of this phase.
    """
    workers = settings.workers or max(os.cpu_count() or 1, 2)
    wanted = [spec for spec in SCANNERS if spec.name in settings.enabled and (only is None or spec.name in only)]
    plans = [tool_plan(spec, paths if only is None else only[spec.name], settings, workers) for spec in wanted]
    deadline = time.monotonic() + settings.tool_timeout_s
    tracker = _Tracker(plans, progress)
    jobs = _job_order(plans)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [(plan, index, pool.submit(_run_batch, root, plan, index, deadline, tracker, execute))
                   for plan, index in jobs]
        outcomes: dict[str, list[tuple[int, RunResult]]] = {p.name: [] for p in plans}
        for plan, index, future in futures:
            outcomes[plan.name].append((index, future.result()))
    return [plan.ready or _combine(plan, sorted(outcomes[plan.name], key=lambda x: x[0]), tracker)
            for plan in plans]


def _job_order(plans: Sequence[ToolPlan]) -> list[tuple[ToolPlan, int]]:
    """Unbatched tools first (one long job each: semgrep), then the other tools' batches interleaved."""
    runnable = sorted((p for p in plans if p.ready is None), key=lambda p: p.batched)
    order: list[tuple[ToolPlan, int]] = []
    for index in range(max((len(p.argvs) for p in runnable), default=0)):
        order += [(p, index) for p in runnable if index < len(p.argvs)]
    return order


class _Tracker:
    """Progress per tool (first batch started, last batch done) and each tool's wall time."""

    def __init__(self, plans: Sequence[ToolPlan], progress: Progress | None) -> None:
        self._progress = progress
        self._lock = threading.Lock()
        self._left = {p.name: len(p.argvs) for p in plans if p.ready is None}
        self.started: dict[str, float] = {}
        self.finished: dict[str, float] = {}

    def start(self, name: str) -> None:
        with self._lock:
            first = name not in self.started
            self.started.setdefault(name, time.monotonic())
        if first and self._progress:
            self._progress(name, "started")

    def done(self, name: str) -> None:
        with self._lock:
            self._left[name] -= 1
            last = self._left[name] == 0
            if last:
                self.finished[name] = time.monotonic()
        if last and self._progress:
            self._progress(name, "done")

    def wall(self, name: str) -> float:
        return round(self.finished.get(name, 0.0) - self.started.get(name, 0.0), 3)


def _run_batch(root: Path, plan: ToolPlan, index: int, deadline: float, tracker: _Tracker,
               execute: Execute) -> RunResult:
    tracker.start(plan.name)
    try:
        return execute(
            plan.argvs[index],
            cwd=root,
            timeout_s=max(deadline - time.monotonic(), 0.001),
            env=tool_env(),
            max_memory_bytes=plan.memory_mb * 1024 * 1024 if plan.memory_mb else None,
            niceness=FILLER_NICENESS if plan.batched else 0,
        )
    finally:
        tracker.done(plan.name)


def _combine(plan: ToolPlan, results: Sequence[tuple[int, RunResult]], tracker: _Tracker) -> ToolResult:
    """One ToolRun from a tool's batches: the first batch that failed decides the status; the
    findings of every batch that succeeded are kept."""
    findings: list[Finding] = []
    skipped: list[SkippedFile] = list(plan.extra_skips)
    tool_run = ToolRun(name=plan.name, version=plan.version, status=ToolStatus.OK, files=plan.files)
    failed: ToolRun | None = None
    for _, result in results:
        batch_run, batch = _interpret(plan.name, result, plan.files, plan.parse, plan.ok_codes, plan.version)
        findings.extend(batch)
        skipped.extend(batch_run.skipped)
        if batch_run.status is ToolStatus.OK:
            tool_run = tool_run.model_copy(update={"version": batch_run.version or tool_run.version})
        elif failed is None:
            failed = batch_run
    final = failed or tool_run
    unique = tuple(sorted(set(skipped), key=lambda s: (s.path, s.reason)))
    final = final.model_copy(update={"skipped": unique, "duration_s": tracker.wall(plan.name)})
    return ToolResult(final, findings)


def _interpret(
    name: str,
    result: RunResult,
    files: int,
    parse: Callable[[bytes], ToolOutput],
    ok_codes: tuple[int, ...],
    version: str | None,
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
    run_ = ToolRun(**{**base, "version": output.version or version}, status=ToolStatus.OK,
                   skipped=tuple(output.skipped))
    return run_, output.findings


@functools.cache
def _version(dist: str) -> str | None:
    """The installed version of a scanner's distribution (read once per process: ~20 ms each)."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _ready(name: str, version: str | None, status: ToolStatus, why: str,
           skipped: Sequence[SkippedFile] = ()) -> ToolPlan:
    result = ToolResult(ToolRun(name=name, version=version, status=status, error=why, skipped=tuple(skipped)), [])
    return ToolPlan(name=name, version=version, ready=result)


def batch_size(files: int, workers: int, cap: int) -> int:
    """Batches small enough that idle workers can take a share, large enough that start-up
    (~0.3 s per process) stays small, and never above ``cap`` (memory)."""
    return min(cap, max(MIN_BATCH, -(-files // (2 * workers))))


def _batches(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), max(size, 1))]


def tool_plan(spec: ScannerSpec, paths: Sequence[str], s: ScannerSettings, workers: int) -> ToolPlan:
    """The batches (argv lists) one scanner runs over ``paths``, or its result when it need not run."""
    version = _version(spec.dist)
    reasons = {p: why for p in paths if (why := spec.skip(p))}
    skips = tuple(SkippedFile(path=p, reason=why) for p, why in reasons.items()) if spec.report_skips else ()
    targets = [p for p in paths if p not in reasons]
    if not targets:
        return _ready(spec.name, version, ToolStatus.NOT_APPLICABLE, spec.nothing_to_scan, skips)
    problem = spec.unavailable(s)
    if problem is not None:
        return _ready(spec.name, version, *problem)
    binary = s.binary(spec)
    size = batch_size(len(targets), workers, s.batch_cap) if spec.batched else len(targets)
    argvs = tuple(tuple(spec.argv(binary, [_arg(p) for p in b], s)) for b in _batches(targets, size))
    return ToolPlan(name=spec.name, version=version, argvs=argvs, files=len(targets), parse=spec.parse,
                    ok_codes=spec.ok_codes, memory_mb=s.python_tool_memory_mb if spec.capped_memory else None,
                    extra_skips=skips, batched=spec.batched)
