"""The policy's closed sets stay in step with what the checks emit."""

from __future__ import annotations

from govbot.checks import authorship
from govbot.checks.registry import SCANNER_NAMES
from govbot.policy import vocab


def test_agents_are_the_builtin_table() -> None:
    assert set(vocab.BUILTIN_AGENTS) == set(authorship.builtin_table().names)


def test_signal_ids_are_the_ones_authorship_emits() -> None:
    assert set(vocab.SIGNAL_IDS) == set(authorship.SIGNAL_IDS)


def test_every_scanner_is_a_tool() -> None:
    assert set(SCANNER_NAMES) <= set(vocab.TOOLS)
