"""`govbot router calibrate`: feedback format, reverts, and an end-to-end run on a small repository."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from govbot.bot.cli import main
from govbot.router.repocalibrate import apply_calibration, parse_feedback, reverted_shas
from govbot.router.riskmodel import default_model
from tests.gitrepo import GitRepo


def test_feedback_format() -> None:
    rows = parse_feedback(['{"repo": "o/r", "sha": "abc1234", "label": "deep", "source": "app", "time": "t"}',
                           "", '{"repo": "o/r", "pr": 7, "label": "ok", "source": "app", "time": "t"}'])
    assert [(r.sha, r.pr, r.label) for r in rows] == [("abc1234", None, "deep"), (None, 7, "ok")]
    for bad in ('{"repo": "o/r", "label": "deep"}', '{"sha": "a", "label": "maybe"}', "not json"):
        with pytest.raises(ValueError, match="feedback line 1"):
            parse_feedback([bad])


def test_reverts_and_model_version_check() -> None:
    assert reverted_shas({"x": "Revert \"a\"\n\nThis reverts commit 0123456789abcdef."}) == {"0123456789abcdef"}
    model = default_model()
    doc = {"format": "govbot-risk-calibration", "model_version": model.version, "positive_scores": [-50.0]}
    calibrated = apply_calibration(model, doc)
    assert len(calibrated.positive_scores) == len(model.positive_scores) + 1
    with pytest.raises(ValueError, match="run `govbot router calibrate` again"):
        apply_calibration(model, {**doc, "model_version": "other"})


def test_calibrate_command_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = GitRepo(tmp_path / "r")
    repo.write("app/views.py", "def show(name):\n    return '<b>' + name + '</b>'\n")
    repo.commit("Add view")
    repo.write("app/views.py", "def show(name):\n    return '<b>' + html.escape(name) + '</b>'\n")
    fix = repo.commit("Escape the name (fixes CVE-2099-1234)")
    repo.write("app/other.py", "X = 1\n")
    deep = repo.commit("Add constant")
    feedback = tmp_path / "fb.jsonl"
    feedback.write_text(json.dumps({"repo": "o/r", "sha": deep, "label": "deep", "source": "app", "time": "t"}) + "\n")
    out = tmp_path / "cal.json"
    assert main(["router", "calibrate", str(repo.path), "--feedback", str(feedback), "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["sources"] == {"advisory": 1, "feedback": 1} and len(doc["positive_scores"]) == 2
    printed = capsys.readouterr().out
    assert "before: threshold" in printed and "after: threshold" in printed
    assert fix  # the advisory commit was found by its message
