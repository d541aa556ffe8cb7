"""The scanner pool's pure parts: batching, job order, and combining batch results."""

from __future__ import annotations

import json

from govbot.checks import bandit
from govbot.checks.runner import RunResult
from govbot.checks.scan import ToolPlan, _combine, _job_order, _Tracker, batch_size, materialise, safe_relpath
from govbot.core.models import ToolStatus


def test_batch_size_balances_and_caps() -> None:
    assert batch_size(50, 2, 500) == 100  # small changes: one process, start-up dominates
    assert batch_size(1000, 2, 500) == 250  # two batches per worker
    assert batch_size(10_000, 2, 500) == 500  # memory cap


def test_unbatched_semgrep_first_then_batches_interleaved() -> None:
    plans = [
        ToolPlan(name="bandit", version=None, argvs=(("b1",), ("b2",))),
        ToolPlan(name="secrets", version=None, argvs=(("s1",), ("s2",), ("s3",))),
        ToolPlan(name="semgrep", version=None, argvs=(("g",),), batched=False),
    ]
    order = [plan.argvs[i][0] for plan, i in _job_order(plans)]
    assert order == ["g", "b1", "s1", "b2", "s2", "s3"]


def _bandit_json(test_id: str, path: str) -> bytes:
    return json.dumps({"results": [{"test_id": test_id, "test_name": "t", "issue_severity": "HIGH",
                                    "issue_confidence": "HIGH", "filename": path, "line_number": 1,
                                    "line_range": [1], "issue_text": "x"}], "errors": []}).encode()


def test_a_failed_batch_fails_the_tool_but_keeps_other_findings() -> None:
    plan = ToolPlan(name="bandit", version="1", argvs=(("a",), ("b",)), files=2, parse=bandit.parse,
                    ok_codes=(0, 1))
    ok = RunResult(("a",), 1, _bandit_json("B602", "./a.py"), b"", 0.1)
    crashed = RunResult(("b",), 3, b"", b"Traceback: boom", 0.1)
    result = _combine(plan, [(0, ok), (1, crashed)], _Tracker([plan], None))
    assert result.run.status is ToolStatus.FAILED and "boom" in (result.run.error or "")
    assert [f.rule_id for f in result.findings] == ["bandit:B602"]
    assert not result.run.complete


def test_materialise_never_writes_outside_the_root(tmp_path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "root"
    root.mkdir()
    written = materialise(root, {"../evil.py": b"x", "/abs.py": b"x", "ok/a.py": b"y", "a//b.py": b"z"})
    assert written == ["ok/a.py"]
    assert not (tmp_path / "evil.py").exists()
    assert safe_relpath("a/./b") is not None and safe_relpath("a/../b") is None


def test_only_runs_the_named_tools_each_over_its_own_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from govbot.checks.registry import ScannerSettings
    from govbot.checks.scan import run_scanners

    calls: list[tuple[str, ...]] = []

    def record(argv, **_: object) -> RunResult:  # type: ignore[no-untyped-def]
        calls.append(tuple(argv))
        return RunResult(tuple(argv), 0, b'{"results": [], "errors": []}', b"", 0.01)

    written = materialise(tmp_path, {"a.py": b"x = 1\n", "b.py": b"y = 2\n", "c.cfg": b"k = v\n"})
    results = run_scanners(tmp_path, written, ScannerSettings(), execute=record, only={"bandit": ["b.py"]})
    assert [r.run.name for r in results] == ["bandit"]
    assert len(calls) == 1 and "./b.py" in calls[0] and "./a.py" not in calls[0]
