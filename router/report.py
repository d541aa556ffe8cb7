"""The router's results as data and text: ``govbot route`` and ``govbot eval`` print these.

Pure: no files, no environment, no printing (``bot/cli.py`` does those at the edge).
"""

from __future__ import annotations

from typing import Any

from govbot.core.models import Tier
from govbot.router.evaluate import TIER_NAMES, EvalResult
from govbot.router.plan import Route


def _safe(text: str) -> str:
    """File names and reasons come from the diff: no terminal control characters."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def route_json(route: Route) -> dict[str, Any]:
    rp = route.route_plan()
    return {
        "tier": rp.tier.value,
        "model": rp.model,
        "fallbacks": list(rp.fallbacks),
        "nominal_model": route.nominal.ref if route.nominal else None,
        "reasons": list(rp.reasons),
        "skip_reason": route.skip_reason,
        "estimated_input_tokens": rp.estimated_input_tokens,
        "estimated_cost_usd": rp.estimated_cost_usd,
        "chunks": route.chunks,
        "split_tier": rp.split_tier.value if rp.split_tier else None,
        "split_files": [f.path for f in route.files if f.aux],
        "files": [
            {"path": c.path, "class": "security" if c.is_risk else (f"lint:{c.lint}" if c.lint else "ordinary")}
            for c in route.classes
        ],
        "not_sent": [{"path": p, "reason": r} for p, r in route.excluded],
    }


def route_text(route: Route) -> str:
    rp = route.route_plan()
    lines = [f"tier: {rp.tier.value}"]
    if rp.model:
        fb = f" (fallbacks: {', '.join(rp.fallbacks)})" if rp.fallbacks else ""
        lines.append(f"model: {rp.model}{fb}")
    elif route.nominal and rp.tier is not Tier.NONE:
        lines.append(f"model: none available ({route.skip_reason}); would use {route.nominal.ref}")
    if route.skip_reason and rp.tier is Tier.NONE:
        lines.append(f"LLM review: skipped ({route.skip_reason})")
    lines.append("reasons:")
    lines.extend(f"  - {_safe(r)}" for r in rp.reasons)
    if rp.tier is not Tier.NONE:
        lines.append(f"estimated input tokens: {rp.estimated_input_tokens} in {route.chunks} request(s)")
        via = f" with {route.nominal.ref}" if route.nominal else ""
        if route.split_nominal is not None and rp.split_files:
            via += f" and {route.split_nominal.ref} for the {rp.split_files} split file(s)"
        lines.append(f"estimated cost: ${rp.estimated_cost_usd:.4f}{via}")
    for path, why in route.excluded:
        lines.append(f"not sent: {_safe(path)} ({why})")
    return "\n".join(lines)


def eval_json(result: EvalResult) -> dict[str, Any]:
    return {
        "cases": len(result.cases),
        "confusion": result.matrix(),
        "accuracy": round(result.accuracy, 4),
        "pro_recall": result.pro_recall,
        "pro_recall_ci95": list(ci) if (ci := result.pro_recall_ci()) else None,
        "lint_mini_share": result.lint_mini_share,
        "pro_share": round(result.pro_share, 4),
        "estimated_cost_usd": round(result.cost_usd, 6),
        "always_pro_cost_usd": round(result.always_pro_usd, 6),
        "saving": round(result.saving, 4),
        "misrouted": [{"name": c.name, "label": c.label, "tier": c.tier, "reasons": list(c.reasons)}
                      for c in result.cases if not c.correct],
    }


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _ci(ci: tuple[float, float] | None) -> str:
    return "" if ci is None else f" (95% CI {ci[0]:.1%}-{ci[1]:.1%}, Wilson)"


def eval_text(result: EvalResult) -> str:
    width = max([len(label) for label in result.labels] + [10])
    lines = [f"{len(result.cases)} labelled diffs", "", "label \\ tier".ljust(width + 2)
             + "".join(t.rjust(10) for t in TIER_NAMES)]
    for label, row in result.matrix().items():
        lines.append(label.ljust(width + 2) + "".join(str(row[t]).rjust(10) for t in TIER_NAMES))
    lines += [
        "",
        f"routed as expected:           {_pct(result.accuracy)}",
        f"pro recall (security):        {_pct(result.pro_recall)}{_ci(result.pro_recall_ci())}",
        f"mini share (lint):            {_pct(result.lint_mini_share)}",
        f"share of pro calls:           {_pct(result.pro_share)}",
        f"estimated cost, routed:       ${result.cost_usd:.4f}",
        f"estimated cost, always pro:   ${result.always_pro_usd:.4f}",
        f"estimated saving:             {_pct(result.saving)}",
    ]
    wrong = [c for c in result.cases if not c.correct]
    if wrong:
        lines += ["", "misrouted:"]
        lines += [f"  {_safe(c.name)}: {c.label} -> {c.tier} ({_safe('; '.join(c.reasons))})" for c in wrong]
    return "\n".join(lines)
