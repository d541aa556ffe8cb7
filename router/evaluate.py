"""``govbot eval``: route a folder of labelled diffs and measure the router (pure core).

Labels are ``lint``, ``ordinary`` or ``security`` (what the change is), or a tier name
(``none``, ``mini``, ``standard``, ``pro``: where it should go). No model is called; costs are the
router's estimates with each tier's first configured model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from govbot.core.diff import changeset_from_diff
from govbot.core.models import Authorship, Tier
from govbot.policy.llm_config import LLMConfig
from govbot.router.calibration import wilson
from govbot.router.catalogue import ModelSet
from govbot.router.plan import plan

CLASSES = ("lint", "ordinary", "security")
TIER_NAMES = tuple(t.value for t in (Tier.NONE, Tier.MINI, Tier.STANDARD, Tier.PRO))
_EXPECTED = {"lint": {"mini", "none"}, "ordinary": {"mini", "standard"}, "security": {"pro"}}


@dataclass(frozen=True)
class Case:
    name: str
    label: str
    diff: str


@dataclass(frozen=True)
class Routed:
    name: str
    label: str
    tier: str
    cost_usd: float
    always_pro_usd: float
    reasons: tuple[str, ...]

    @property
    def correct(self) -> bool:
        return self.tier in _EXPECTED.get(self.label, {self.label})


@dataclass(frozen=True)
class EvalResult:
    cases: tuple[Routed, ...]
    labels: tuple[str, ...] = field(default=())

    def matrix(self) -> dict[str, dict[str, int]]:
        rows = {label: dict.fromkeys(TIER_NAMES, 0) for label in self.labels}
        for c in self.cases:
            rows[c.label][c.tier] += 1
        return rows

    def share(self, label: str, tiers: set[str]) -> float | None:
        cases = [c for c in self.cases if c.label == label]
        return sum(c.tier in tiers for c in cases) / len(cases) if cases else None

    @property
    def pro_recall(self) -> float | None:
        """Share of security-sensitive (or pro-labelled) changes routed to pro."""
        label = "security" if any(c.label == "security" for c in self.cases) else "pro"
        return self.share(label, {"pro"})

    def pro_recall_ci(self) -> tuple[float, float] | None:
        """95% Wilson interval of ``pro_recall``."""
        label = "security" if any(c.label == "security" for c in self.cases) else "pro"
        cases = [c for c in self.cases if c.label == label]
        return wilson(sum(c.tier == "pro" for c in cases), len(cases)) if cases else None

    @property
    def lint_mini_share(self) -> float | None:
        label = "lint" if any(c.label == "lint" for c in self.cases) else "mini"
        return self.share(label, {"mini", "none"})

    @property
    def pro_share(self) -> float:
        return sum(c.tier == "pro" for c in self.cases) / len(self.cases) if self.cases else 0.0

    @property
    def cost_usd(self) -> float:
        return sum(c.cost_usd for c in self.cases)

    @property
    def always_pro_usd(self) -> float:
        return sum(c.always_pro_usd for c in self.cases)

    @property
    def saving(self) -> float:
        return 1 - self.cost_usd / self.always_pro_usd if self.always_pro_usd else 0.0

    @property
    def accuracy(self) -> float:
        return sum(c.correct for c in self.cases) / len(self.cases) if self.cases else 0.0


def validate_label(name: str, label: str) -> str:
    if label not in CLASSES and label not in TIER_NAMES:
        raise ValueError(f"{name}: label {label!r} is not one of {', '.join(CLASSES + TIER_NAMES)}")
    return label


def run_eval(cases: Sequence[Case], config: LLMConfig, models: ModelSet) -> EvalResult:
    routed: list[Routed] = []
    for case in cases:
        change = changeset_from_diff(case.diff)
        route = plan(change, (), Authorship(), config, models)
        pro = plan(change, (), Authorship(), config, models, force_tier=Tier.PRO)
        routed.append(Routed(case.name, case.label, route.tier.value, route.estimated_cost_usd,
                             pro.estimated_cost_usd, route.reasons))
    labels = tuple(dict.fromkeys(sorted({c.label for c in cases}, key=_label_order)))
    return EvalResult(cases=tuple(routed), labels=labels)


def _label_order(label: str) -> tuple[int, str]:
    order = CLASSES + TIER_NAMES
    return (order.index(label) if label in order else len(order), label)
