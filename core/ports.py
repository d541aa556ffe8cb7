"""Small ports the pipeline reads through; each edge (local git, GitHub) supplies its own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from govbot.core.models import ChangedFile


class ContentSource(Protocol):
    def read(self, files: Sequence[ChangedFile]) -> dict[str, bytes]:
        """Head-side bytes of the given files, by path (symlinks: the link target). Skip the
        unreadable; never follow a symlink, never execute anything."""
        ...
