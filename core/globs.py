"""Path globs as the policy uses them (gitignore-like ``**``), backed by wcmatch."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from wcmatch import glob as wglob

_FLAGS = wglob.GLOBSTAR | wglob.BRACE | wglob.DOTGLOB | wglob.FORCEUNIX | wglob.MATCHBASE


def validate_glob(pattern: str) -> str:
    """Raise ValueError with a reason for a pattern that cannot be what the user meant."""
    if "\x00" in pattern or "\n" in pattern:
        raise ValueError(f"glob {pattern!r} contains a control character")
    if pattern.startswith("/"):
        raise ValueError(f"glob {pattern!r} is absolute; paths are relative to the repository root")
    if ".." in pattern.split("/"):
        raise ValueError(f"glob {pattern!r} contains '..'")
    if pattern.count("[") != pattern.count("]") or pattern.count("{") != pattern.count("}"):
        raise ValueError(f"glob {pattern!r} has unbalanced brackets or braces")
    try:
        wglob.translate(pattern, flags=_FLAGS)
    except Exception as exc:  # wcmatch raises several types for malformed patterns
        raise ValueError(f"glob {pattern!r} is invalid: {exc}") from exc
    return pattern


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str]:
    include, _exclude = wglob.translate(pattern, flags=_FLAGS)
    return re.compile("|".join(f"(?:{p})" for p in include))


def glob_match(path: str, patterns: Sequence[str]) -> bool:
    """True if ``path`` matches any pattern. ``**`` spans directories; a pattern without a slash
    matches the basename anywhere (like .gitignore)."""
    return any(_compiled(p).match(path) for p in patterns)
