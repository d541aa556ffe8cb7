"""A calibration file the policy names is what `govbot scan` and `govbot route` route with.

Real git, the real `govbot` entry point in this process, scanners replaying recorded output."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import pytest

from govbot.bot.cli import Edges, main
from govbot.router.repocalibrate import CALIBRATION_FORMAT
from govbot.router.riskmodel import default_model
from tests.gitrepo import GitRepo
from tests.scanners import recorded

POLICY = "version: 1\nllm:\n  routing:\n    calibration: govbot-calibration.json\n"


def govbot(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args), Edges(dict(os.environ), scanners=recorded))
    return code, out.getvalue(), err.getvalue()


def calibration(scores: list[float]) -> str:
    """A calibration file whose many very low scores pull the threshold down to -1000: with it,
    every change the model scores goes to pro."""
    return json.dumps({"format": CALIBRATION_FORMAT, "model_version": default_model().version, "repo": "test",
                       "positive_scores": scores, "sources": {"feedback": len(scores)}})


def make_repo(tmp_path: Path, *, with_file: bool) -> GitRepo:
    repo = GitRepo(tmp_path / "r")
    repo.write(".github/govbot.yml", POLICY)
    repo.write("pkg/calc.py", "def total(items):\n    return sum(items)\n")
    if with_file:
        repo.write("govbot-calibration.json", calibration([-1000.0] * 400))
    repo.commit("base")
    repo.branch("feature")
    repo.write("pkg/calc.py", "def total(items):\n    return sum(items)\n\n\ndef mean(items):\n"
               "    return total(items) / len(items)\n")
    # the pull request's own copy of the calibration cannot change its routing: read from the base
    repo.write("govbot-calibration.json", calibration([1000.0] * 400))
    repo.commit("add mean")
    return repo


@pytest.mark.slow
def test_scan_and_route_use_the_base_branch_calibration(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, with_file=True)
    code, out, err = govbot("scan", str(repo.path), "--base", "main", "--head", "feature", "--format", "json",
                            "--no-progress")
    assert code in (0, 1), err
    route = json.loads(out)["route"]
    assert route["tier"] == "pro"
    assert any("threshold -1000.00" in r for r in route["reasons"]), route["reasons"]
    code, out, err = govbot("route", "--repo", str(repo.path), "--base", "main", "--head", "feature",
                            "--format", "json")
    assert code == 0, err
    assert json.loads(out)["tier"] == "pro"


@pytest.mark.slow
def test_without_the_calibration_the_shipped_threshold_routes_and_a_missing_file_is_an_error(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, with_file=False)
    code, _, err = govbot("scan", str(repo.path), "--base", "main", "--head", "feature", "--format", "json",
                          "--no-progress")
    assert code == 2 and "govbot-calibration.json" in err and "not found" in err
    repo.git("checkout", "--quiet", "main")
    repo.write(".github/govbot.yml", "version: 1\n")
    repo.commit("no calibration")
    code, out, err = govbot("scan", str(repo.path), "--base", "main", "--head", "feature", "--format", "json",
                            "--no-progress")
    assert code in (0, 1), err
    reasons = json.loads(out)["route"]["reasons"]
    assert not any("threshold -1000.00" in r for r in reasons)
    assert any("risk score" in r for r in reasons), reasons
