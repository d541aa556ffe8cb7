"""Pure statistics for the risk router: the conformal Pro threshold, recall intervals, mix cost.

Threshold (split conformal, lower quantile of the positives' scores): given the scores
``s_1 <= ... <= s_n`` of ``n`` held-out security changes and a recall target ``1 - alpha``, take
``k = floor(alpha * (n + 1))`` and ``t = s_k`` (``-inf`` when ``k = 0``). If a new security change
is exchangeable with the calibration ones, ``P(score >= t) >= 1 - alpha`` (its rank among the
``n + 1`` scores is uniform, and it falls below ``s_k`` with probability at most ``k / (n + 1)``).
The guarantee is marginal, over draws of calibration set and new change; it says nothing about one
repository whose changes differ from the calibration repositories.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

PRICE_RATIO = {"none": 0.0, "mini": 0.15, "standard": 0.40, "pro": 1.0}
DEFAULT_MIX = {"security": 0.10, "lint": 0.40, "feature": 0.50}
REQUEST_OVERHEAD_TOKENS = 1_800  # system prompt, schema and framing of one review request


def conformal_threshold(positive_scores: Sequence[float], target_recall: float) -> float:
    if not 0 < target_recall < 1:
        raise ValueError("target_recall must be strictly between 0 and 1")
    scores = sorted(positive_scores)
    k = math.floor((1 - target_recall) * (len(scores) + 1) + 1e-9)  # 1e-9: float noise in 1 - target
    return -math.inf if k <= 0 else scores[k - 1]


def wilson(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval (95% by default) for a proportion."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def diff_tokens(diff_bytes: int) -> float:
    return diff_bytes / 4


def log_tokens(patch_bytes: int) -> float:
    return math.log1p(diff_tokens(patch_bytes))


def size_adjusted(score: float, patch_bytes: int, size_weight: float) -> float:
    """The risk score the router compares with its threshold: ``score - size_weight * log(1 + tokens)``.

    Sending a change to pro costs in proportion to its tokens; at a fixed recall the pro tier's
    expected cost is least when changes are ranked by p(security) / tokens, so a size weight > 0
    spends the pro tier on small suspicious changes before large ones. The conformal threshold is
    taken over the adjusted scores of the calibration fixes, so its guarantee is unchanged."""
    return score - size_weight * log_tokens(patch_bytes) if size_weight else score


def mix_saving(
    rows: Sequence[tuple[str, str, int]], mix: Mapping[str, float] = DEFAULT_MIX,
) -> dict[str, float]:
    """Cost of routed rows ``(label, tier, diff_bytes)`` on a weighted class mix, against always-Pro.

    Each class's mean cost (price ratio x tokens) is weighted by the mix, so the figure does not
    depend on how many rows of each class the data set happens to hold.
    """
    return mix_saving_split([(label, tier, size, 0) for label, tier, size in rows], mix)


def routed_cost(tier: str, diff_bytes: int, split_bytes: int = 0) -> float:
    """Price ratio x tokens of one routed change. A split review (``llm.routing.split_review``) of a
    pro or standard change sends ``split_bytes`` of it (tests, docs, lint-level files) to mini, in a
    request of its own (``REQUEST_OVERHEAD_TOKENS`` more input, at mini's price); like ``plan()``, it
    splits only where that costs less."""
    whole = PRICE_RATIO[tier] * diff_tokens(diff_bytes)
    if tier not in ("pro", "standard") or split_bytes <= 0:
        return whole
    aux = min(split_bytes, diff_bytes)
    split = (PRICE_RATIO[tier] * diff_tokens(diff_bytes - aux)
             + PRICE_RATIO["mini"] * (diff_tokens(aux) + REQUEST_OVERHEAD_TOKENS))
    return min(whole, split)


def mix_saving_split(
    rows: Sequence[tuple[str, str, int, int]], mix: Mapping[str, float] = DEFAULT_MIX,
) -> dict[str, float]:
    """``mix_saving`` of rows ``(label, tier, diff_bytes, split_bytes)``: each change's cost under a
    split review (``routed_cost``), against always-Pro on the whole diff."""
    cost = pro = 0.0
    for label, weight in mix.items():
        mine = [(tier, size, aux) for lab, tier, size, aux in rows if lab == label]
        if not mine:
            continue
        cost += weight * sum(routed_cost(t, s, a) for t, s, a in mine) / len(mine)
        pro += weight * sum(diff_tokens(s) for _, s, _ in mine) / len(mine)
    return {"cost": cost, "always_pro": pro, "saving": 1 - cost / pro if pro else 0.0}


def summary(rows: Sequence[tuple[str, str, int]], mix: Mapping[str, float] = DEFAULT_MIX) -> dict[str, object]:
    """Pro recall (with Wilson CI), lint to mini/skip, Pro share and the mix saving."""
    sec = [t for lab, t, _ in rows if lab == "security"]
    lint = [t for lab, t, _ in rows if lab == "lint"]
    hits = sum(t == "pro" for t in sec)
    low, high = wilson(hits, len(sec))
    lint_ok = sum(t in {"mini", "none"} for t in lint)
    money = mix_saving(rows, mix)
    weighted_pro = sum(
        w * (sum(t == "pro" for lab, t, _ in rows if lab == label) / max(1, sum(lab == label for lab, _, _ in rows)))
        for label, w in mix.items()
    )
    return {
        "n": len(rows),
        "security": len(sec),
        "pro_recall": hits / len(sec) if sec else None,
        "pro_recall_ci95": [low, high],
        "lint": len(lint),
        "lint_mini": lint_ok / len(lint) if lint else None,
        "lint_mini_ci95": list(wilson(lint_ok, len(lint))),
        "pro_share_mix": weighted_pro,
        "saving_mix": money["saving"],
        "cost_ratio_mix": money["cost"] / money["always_pro"] if money["always_pro"] else 0.0,
    }
