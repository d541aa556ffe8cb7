from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest

from govbot.bot.cli import Edges, add_parsers
from govbot.core.errors import ConfigError

WORKFLOW = """\
diff --git a/.github/workflows/ci.yml b/.github/workflows/ci.yml
--- a/.github/workflows/ci.yml
+++ b/.github/workflows/ci.yml
@@ -1,2 +1,3 @@
 on: pull_request_target
+permissions: write-all
 jobs: {}
"""
README = """\
diff --git a/README.md b/README.md
--- a/README.md
+++ b/README.md
@@ -1 +1 @@
-teh
+the
"""


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="govbot")
    add_parsers(parser.add_subparsers())
    args = parser.parse_args(argv)
    code: int = args.func(args, Edges(dict(os.environ)))
    return code


def test_route_prints_the_plan_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GOVBOT_ONPREM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "c.diff").write_text(WORKFLOW)
    assert run(["route", "--diff", str(tmp_path / "c.diff"), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["tier"] == "pro" and data["model"] is None
    assert data["nominal_model"] == "anthropic/claude-opus-4-6"
    assert any(r.startswith("risk score") and "threshold" in r for r in data["reasons"])  # learned router
    assert data["estimated_input_tokens"] > 0 and data["estimated_cost_usd"] > 0


def test_route_text_with_a_key_names_model_and_fallbacks(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    (tmp_path / "c.diff").write_text(README)
    assert run(["route", "--diff", str(tmp_path / "c.diff")]) == 0
    out = capsys.readouterr().out
    assert "tier: mini" in out and "model: openai/gpt-5-mini (fallbacks: anthropic/claude-haiku-4-5)" in out


def test_eval_prints_confusion_matrix_and_saving(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.diff").write_text(WORKFLOW)
    (tmp_path / "b.diff").write_text(README)
    (tmp_path / "labels.yml").write_text("a.diff: security\nb.diff: security\n")
    assert run(["eval", str(tmp_path), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["confusion"] == {"security": {"none": 0, "mini": 1, "standard": 0, "pro": 1}}
    assert data["pro_recall"] == 0.5 and data["pro_share"] == 0.5
    assert 0 < data["estimated_cost_usd"] < data["always_pro_cost_usd"]
    assert [m["name"] for m in data["misrouted"]] == ["b.diff"]


def test_eval_requires_a_label_for_every_diff(tmp_path: Path) -> None:
    (tmp_path / "a.diff").write_text(WORKFLOW)
    (tmp_path / "labels.yml").write_text("other.diff: lint\n")
    with pytest.raises(ConfigError, match=r"no label for a\.diff"):
        run(["eval", str(tmp_path)])
