"""The learned risk model at runtime: plain JSON weights, pure-Python scoring, explained.

The shipped file ``router/data/risk_model.json`` (format ``govbot-risk-model``) holds a linear model
over hashed features (``govbot.router.features``), the sorted risk scores of held-out security
fixes (for the conformal threshold at any recall target) and where it came from. No pickle, no
scikit-learn at runtime.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from govbot.router.calibration import conformal_threshold
from govbot.router.features import FEATURE_VERSION, bucket

MODEL_FORMAT = "govbot-risk-model"


@dataclass(frozen=True)
class RiskModel:
    version: str
    buckets: int
    intercept: float
    weights: Mapping[int, float]
    positive_scores: tuple[float, ...]  # held-out security changes, sorted
    meta: Mapping[str, Any]

    def threshold(self, target_recall: float) -> float:
        return conformal_threshold(self.positive_scores, target_recall)

    def score(self, feats: Mapping[str, float]) -> float:
        total = self.intercept
        for name, value in feats.items():
            total += self.weights.get(bucket(name, self.buckets), 0.0) * value
        return total

    def explain(self, feats: Mapping[str, float], top: int = 5) -> list[tuple[str, float]]:
        """The features that pushed the score most towards Pro, with their contributions."""
        contrib = [(name, self.weights.get(bucket(name, self.buckets), 0.0) * value)
                   for name, value in feats.items() if name != "bias"]
        contrib.sort(key=lambda item: (-item[1], item[0]))
        return [(n, round(c, 3)) for n, c in contrib[:top] if c > 0]


def parse_model(data: Mapping[str, Any]) -> RiskModel:
    if data.get("format") != MODEL_FORMAT:
        raise ValueError(f"not a {MODEL_FORMAT} file")
    if data.get("feature_version") != FEATURE_VERSION:
        raise ValueError(f"model features v{data.get('feature_version')}, this govbot computes v{FEATURE_VERSION}")
    buckets = int(data["buckets"])
    weights = {int(i): float(w) for i, w in data["weights"]}
    if any(not 0 <= i < buckets for i in weights):
        raise ValueError("weight index out of range")
    scores = tuple(sorted(float(s) for s in data["positive_scores"]))
    if not scores:
        raise ValueError("no calibration scores")
    return RiskModel(version=str(data["version"]), buckets=buckets, intercept=float(data["intercept"]),
                     weights=weights, positive_scores=scores, meta=dict(data.get("meta", {})))


def dump_model(
    *, version: str, buckets: int, intercept: float, weights: Sequence[float], positive_scores: Sequence[float],
    meta: Mapping[str, Any], digits: int = 5,
) -> dict[str, Any]:
    """The JSON document of a model; zero weights are left out, floats rounded (stable output)."""
    return {
        "format": MODEL_FORMAT,
        "version": version,
        "feature_version": FEATURE_VERSION,
        "buckets": buckets,
        "intercept": round(float(intercept), digits),
        "weights": [[i, round(float(w), digits)] for i, w in enumerate(weights) if round(float(w), digits) != 0],
        "positive_scores": sorted(round(float(s), digits) for s in positive_scores),
        "meta": dict(meta),
    }


def load_model(path: Path) -> RiskModel:
    return parse_model(json.loads(path.read_text("utf-8")))


@lru_cache(maxsize=1)
def default_model() -> RiskModel:
    text = resources.files("govbot.router").joinpath("data/risk_model.json").read_text("utf-8")
    return parse_model(json.loads(text))
