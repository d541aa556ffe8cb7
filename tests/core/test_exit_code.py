"""The one exit code: fail-on and a satisfied human review soften it; an incomplete run never passes."""

from __future__ import annotations

import pytest

from govbot.core.models import Decision, Outcome, exit_code

BLOCK = Decision(outcome=Outcome.BLOCK)
REVIEW = Decision(outcome=Outcome.REVIEW_REQUIRED)
WARN = Decision(outcome=Outcome.WARN)
INCOMPLETE = Decision(outcome=Outcome.PASS, complete=False)


@pytest.mark.parametrize(("decision", "fail_on", "satisfied", "code"), [
    (REVIEW, "review_required", False, 1),
    (REVIEW, "review_required", True, 0),
    (REVIEW, "block", False, 0),
    (REVIEW, "never", False, 0),
    (BLOCK, "block", True, 1),
    (BLOCK, "review_required", False, 1),
    (BLOCK, "never", False, 0),
    (Decision(outcome=Outcome.BLOCK, complete=False), "block", False, 1),
    (Decision(outcome=Outcome.BLOCK, complete=False), "never", False, 2),
    (INCOMPLETE, "review_required", False, 2),
    (INCOMPLETE, "never", False, 2),
    (WARN, "review_required", False, 0),
])
def test_exit_code(decision: Decision, fail_on: str, satisfied: bool, code: int) -> None:
    assert exit_code(decision, fail_on, review_satisfied=satisfied) == code
