"""The hidden state codec: the last LLM review's head, base and findings survive the round trip;
anything malformed or non-LLM means "no previous review" (a full review)."""

from __future__ import annotations

import base64
import json

from govbot.bot.github.state import RunState, decode_reviewed, encode_reviewed
from govbot.core.models import Finding, Severity, Verification
from govbot.router.incremental import ReviewedState

SCORE = Verification(score=0.85, reason="user data reaches the shell", model="m", action="kept")
F = Finding(tool="llm", rule_id="llm:injection", severity=Severity.HIGH, path="app.py", line=10,
            message="Shell injection --> closes comments?", fingerprint="fp1", confidence="high", verification=SCORE)
REVIEWED = ReviewedState(head="a" * 40, base="b" * 40, findings=(F,),
                         verdicts={"0123456789abcdef01234567": SCORE.model_copy(update={"action": "shown"})})


def test_round_trip_with_the_reviewed_record() -> None:
    state = RunState("a" * 40, "review_required", True, "human-review-required", REVIEWED)
    text = f"comment body\n{state.encode()}\n"
    assert "-->" not in state.encode()[len("<!-- govbot:state "):-4]
    assert RunState.decode(text) == state
    legacy = RunState("a" * 40, "pass", True, "x")
    assert RunState.decode(legacy.encode()) == legacy  # states written before this field still decode


def test_tampered_records_mean_a_full_review() -> None:
    good = encode_reviewed(REVIEWED)
    assert decode_reviewed(good) == REVIEWED
    assert decode_reviewed({**good, "head": "not a sha"}) is None
    assert decode_reviewed({**good, "findings": [{"tool": "llm"}]}) is None
    scanner = {**good["findings"][0], "tool": "bandit"}
    assert decode_reviewed({**good, "findings": [scanner]}) is None
    assert decode_reviewed("x") is None
    raw = {"head": "h", "outcome": "pass", "complete": True, "review_label": "l", "reviewed": {"head": 1}}
    blob = base64.b64encode(json.dumps(raw).encode()).decode()
    decoded = RunState.decode(f"<!-- govbot:state {blob} -->")
    assert decoded is not None and decoded.reviewed is None


def test_scores_survive_the_round_trip_and_bad_ones_mean_a_full_review() -> None:
    good = encode_reviewed(REVIEWED)
    back = decode_reviewed(good)
    assert back is not None and back.findings[0].verification == SCORE and back.verdicts == REVIEWED.verdicts
    assert decode_reviewed({**good, "verdicts": {"not hex": good["verdicts"]["0123456789abcdef01234567"]}}) is None
    assert decode_reviewed({**good, "verdicts": {"0123456789abcdef01234567": {"score": 7}}}) is None
    assert decode_reviewed({**good, "verdicts": ["x"]}) is None
    assert decode_reviewed({k: v for k, v in good.items() if k != "verdicts"}) == ReviewedState(
        "a" * 40, "b" * 40, (F,))  # records written before scores were kept still decode
