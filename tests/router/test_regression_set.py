"""The old self-written routing set (benchmarks/data/routing): a regression check of the rules
router only, not a measure of quality (that is benchmarks/router_real_bench.py on real commits)."""

from __future__ import annotations

from pathlib import Path

from govbot.bot.cli import eval_models, load_cases
from govbot.policy.llm_config import LLMConfig, Routing
from govbot.router.evaluate import run_eval

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "routing"


def test_rules_router_still_routes_the_old_set() -> None:
    config = LLMConfig(routing=Routing(router="rules"))
    result = run_eval(load_cases(str(DATA), None), config, eval_models(config, {}))
    assert len(result.cases) == 136
    assert result.pro_recall == 1.0
    assert (result.lint_mini_share or 0) >= 0.95
    ci = result.pro_recall_ci()
    assert ci is not None and 0.9 < ci[0] < 1.0 == ci[1]
