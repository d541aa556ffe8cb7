"""Which lane this run is in. The fast lane (``pytest -m "not slow"``, ``scripts/test --fast``) runs
generated-case tests with fewer cases; CI's full run uses the full counts."""

from __future__ import annotations

FAST = False


def cases(full: int, fast: int) -> int:
    """How many generated cases a property test draws in this lane."""
    return fast if FAST else full
