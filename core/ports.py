"""Small ports the pipeline reads through; each edge (local git, GitHub, tests) supplies its own."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from govbot.core.models import ChangedFile, Finding, ToolRun

Progress = Callable[[str, str], None]  # (tool, "started" | "done")


class ContentSource(Protocol):
    def read(self, files: Sequence[ChangedFile]) -> dict[str, bytes]:
        """Head-side bytes of the given files, by path (symlinks: the link target). Skip the
        unreadable; never follow a symlink, never execute anything."""
        ...


class BaseTree(Protocol):
    """The base commit a change goes into: where the policy and the scanners' rule files come from,
    never the PR's copy. Local git (``bot/local/git.py``) and GitHub (``bot/github/change.py``) each
    supply one; ``policy/base.py`` reads through it for both."""

    label: str  # how reports name the commit: its abbreviated id

    def read_file(self, path: str, max_bytes: int) -> bytes | None:
        """A regular file's bytes; None when absent or not a regular file (symlinks are never
        followed). Raises ``ConfigError`` when the file is larger than ``max_bytes``."""
        ...

    def files_matching(self, globs: Sequence[str]) -> list[str]:
        """Regular files of the tree that the globs could match (a superset is fine). Raises
        ``ConfigError`` when the tree cannot be listed well enough to answer."""
        ...


@dataclass(frozen=True)
class ToolResult:
    run: ToolRun
    findings: list[Finding]


class Scanners(Protocol):
    def run(
        self,
        root: Path,
        paths: Sequence[str],
        progress: Progress | None = None,
        only: Mapping[str, Sequence[str]] | None = None,
    ) -> list[ToolResult]:
        """Run every enabled scanner over ``paths`` (relative, already written under ``root``)
        and say exactly what each did and did not do. ``only``: just these tools, each over its
        own files (a subset of ``paths``); the tools it does not name do not run."""
class BaseSource(Protocol):
    def read_base(self, files: Sequence[ChangedFile], base: str) -> dict[str, bytes]:
        """Base-side bytes of the given files (a renamed file: its old path at ``base``), keyed
        by the file's HEAD path. Skip the unreadable; never execute anything."""
        ...
