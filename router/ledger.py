"""The per-PR cost ledger: reserve a call's worst-case cost before it starts, settle after.

Thread-safe, because chunks are reviewed concurrently. Once a reservation is refused the ledger
is closed: no further call starts, so govbot stops before exceeding the budget, never after.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from govbot.core.models import LLMCall


@dataclass(frozen=True)
class Entry:
    chunk: int
    seq: int
    call: LLMCall


class Ledger:
    def __init__(self, budget_usd: float) -> None:
        self.budget_usd = budget_usd
        self._lock = threading.Lock()
        self._spent = 0.0
        self._reserved = 0.0
        self._entries: list[Entry] = []
        self._closed_reason: str | None = None

    def reserve(self, amount: float) -> str | None:
        """Reserve ``amount``; None on success, else the reason the call may not start."""
        with self._lock:
            if self._closed_reason is not None:
                return self._closed_reason
            if self._spent + self._reserved + amount > self.budget_usd:
                self._closed_reason = (
                    f"budget ${self.budget_usd:.2f} reached: spent ${self._spent:.4f}, the next call could "
                    f"cost up to ${amount:.4f}; no further LLM calls"
                )
                return self._closed_reason
            self._reserved += amount
            return None

    def settle(self, reserved: float, entry: Entry) -> None:
        with self._lock:
            self._reserved = max(self._reserved - reserved, 0.0)
            self._spent += entry.call.cost_usd
            self._entries.append(entry)

    def record(self, entry: Entry) -> None:
        with self._lock:
            self._entries.append(entry)

    @property
    def spent(self) -> float:
        with self._lock:
            return self._spent

    @property
    def closed_reason(self) -> str | None:
        with self._lock:
            return self._closed_reason

    def calls(self) -> tuple[LLMCall, ...]:
        with self._lock:
            return tuple(e.call for e in sorted(self._entries, key=lambda e: (e.chunk, e.seq)))
