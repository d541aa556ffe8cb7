"""The learned risk model at runtime: plain JSON weights, pure-Python scoring, explained.

The shipped file ``router/data/risk_model.json`` (format ``govbot-risk-model``) holds a linear model
over hashed features, gradient-boosted trees over named features (``govbot.router.features``), or
a weighted average of such members (``kind: ensemble``),
the size weight of the routed score (``calibration.size_adjusted``), the sorted routed scores of
held-out security fixes (for the conformal threshold at any recall target) and where it came from. No pickle, no
scikit-learn at runtime.
"""

from __future__ import annotations

import heapq
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from zlib import crc32

from govbot.router.calibration import conformal_threshold, size_adjusted
from govbot.router.features import FEATURE_VERSION

MODEL_FORMAT = "govbot-risk-model"


@dataclass(frozen=True)
class Tree:
    """One regression tree over named features: node ``i`` goes ``left[i]`` when the feature's
    value is ``<= threshold[i]``, else ``right[i]``; ``value[i]`` is the node's raw score (leaves:
    the tree's output), so a path's steps say how much each split feature moved the score."""

    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    leaf: tuple[bool, ...]
    value: tuple[float, ...]


@dataclass(frozen=True)
class RiskModel:
    version: str
    buckets: int
    intercept: float
    weights: Mapping[int, float]  # linear model over hashed features (empty for trees)
    positive_scores: tuple[float, ...]  # held-out security changes, sorted
    meta: Mapping[str, Any]
    names: tuple[str, ...] = ()  # trees: feature index -> feature name
    trees: tuple[Tree, ...] = ()  # gradient-boosted trees: score = intercept + sum of leaf values
    size_weight: float = 0.0  # routed score = score - size_weight * log(1 + tokens) (calibration.size_adjusted)
    members: tuple[tuple[float, RiskModel], ...] = ()  # ensemble: score = sum of weight x member score

    def threshold(self, target_recall: float) -> float:
        return conformal_threshold(self.positive_scores, target_recall)

    def score(self, feats: Mapping[str, float]) -> float:
        return self.assess(feats, 0)[0]

    def route_score(self, feats: Mapping[str, float], patch_bytes: int, top: int
                    ) -> tuple[float, float, list[tuple[str, float]]]:
        """``(routed score, model score, top features)``: the routed score is the one compared with
        ``threshold()`` (and the one the calibration scores are), size-adjusted by ``size_weight``."""
        score, best = self.assess(feats, top)
        return size_adjusted(score, patch_bytes, self.size_weight), score, best

    def explain(self, feats: Mapping[str, float], top: int = 5) -> list[tuple[str, float]]:
        """The features that pushed the score most towards Pro, with their contributions."""
        return self.assess(feats, top)[1]

    def assess(self, feats: Mapping[str, float], top: int) -> tuple[float, list[tuple[str, float]]]:
        """The score and the ``top`` features that pushed it most towards Pro, in one pass."""
        if self.members:
            return self._assess_members(feats, top)
        if self.trees:
            return self._assess_trees(feats, top)
        weights, buckets = self.weights, self.buckets
        contributions = [self.intercept]
        positive: list[tuple[float, str]] = []
        for name, value in feats.items():
            c = weights.get(crc32(name.encode("utf-8")) % buckets, 0.0) * value
            contributions.append(c)
            if c > 0 and name != "bias":
                positive.append((c, name))
        best = heapq.nsmallest(top, positive, key=lambda item: (-item[0], item[1])) if top else []
        # fsum is exact, so the score does not depend on the features' (hash-seeded) order
        return math.fsum(contributions), [(n, round(c, 3)) for c, n in best]


    def _assess_members(self, feats: Mapping[str, float], top: int) -> tuple[float, list[tuple[str, float]]]:
        """Weighted sum of the members' scores; a feature's contribution is the weighted sum of its
        contributions to the members that rank it among their strongest."""
        scores: list[float] = []
        by_name: dict[str, float] = {}
        for weight, member in self.members:
            # each member's 4 x top strongest: a feature strong in the sum is strong in one member
            score, best = member.assess(feats, 4 * top)
            scores.append(weight * score)
            for name, c in best:
                key = name.rsplit("=", 1)[0] if member.trees else name  # trees show "name=value"
                by_name[key] = by_name.get(key, 0.0) + weight * c
        positive = [(c, n) for n, c in by_name.items() if c > 0]
        best_all = heapq.nsmallest(top, positive, key=lambda item: (-item[0], item[1])) if top else []
        return math.fsum(scores), [(n, round(c, 3)) for c, n in best_all]

    def _assess_trees(self, feats: Mapping[str, float], top: int) -> tuple[float, list[tuple[str, float]]]:
        """Walk every tree; a feature's contribution is the change of node value at its splits
        along the paths taken (summed over trees), so the top features explain the score."""
        names = self.names
        contributions = [self.intercept]
        by_feature: dict[int, float] = {}
        for t in self.trees:
            node = 0
            while not t.leaf[node]:
                f = t.feature[node]
                nxt = t.left[node] if feats.get(names[f], 0.0) <= t.threshold[node] else t.right[node]
                by_feature[f] = by_feature.get(f, 0.0) + t.value[nxt] - t.value[node]
                node = nxt
            contributions.append(t.value[node])
        # a tree splits on absent features too: name each with its value ("shape:no_code=0")
        positive = [(c, f"{names[f]}={feats.get(names[f], 0.0):.3g}") for f, c in by_feature.items() if c > 0]
        best = heapq.nsmallest(top, positive, key=lambda item: (-item[0], item[1])) if top else []
        return math.fsum(contributions), [(n, round(c, 3)) for c, n in best]


def _parse_trees(data: Mapping[str, Any], n_names: int) -> tuple[Tree, ...]:
    trees = []
    for t in data.get("trees", ()):
        tree = Tree(feature=tuple(int(x) for x in t["feature"]), threshold=tuple(float(x) for x in t["threshold"]),
                    left=tuple(int(x) for x in t["left"]), right=tuple(int(x) for x in t["right"]),
                    leaf=tuple(bool(x) for x in t["leaf"]), value=tuple(float(x) for x in t["value"]))
        n = len(tree.leaf)
        if not n or any(len(a) != n for a in (tree.feature, tree.threshold, tree.left, tree.right, tree.value)):
            raise ValueError("tree arrays of different lengths")
        for i in range(n):
            if not tree.leaf[i] and not (i < tree.left[i] < n and i < tree.right[i] < n
                                         and 0 <= tree.feature[i] < n_names):
                raise ValueError("tree node out of range")  # children after parents: every walk ends
        trees.append(tree)
    return tuple(trees)


def parse_model(data: Mapping[str, Any]) -> RiskModel:
    if data.get("format") != MODEL_FORMAT:
        raise ValueError(f"not a {MODEL_FORMAT} file")
    if data.get("feature_version") != FEATURE_VERSION:
        raise ValueError(f"model features v{data.get('feature_version')}, this govbot computes v{FEATURE_VERSION}")
    scores = tuple(sorted(float(s) for s in data["positive_scores"]))
    if not scores:
        raise ValueError("no calibration scores")
    size_weight = float(data.get("size_weight", 0.0))
    if not 0.0 <= size_weight < math.inf:
        raise ValueError("size_weight must be a finite number >= 0")
    if data.get("kind") == "ensemble":
        weights = [float(w) for w in data["member_weights"]]
        docs = list(data["members"])
        if not docs or len(weights) != len(docs) or any(not 0 < w < math.inf for w in weights):
            raise ValueError("an ensemble needs members, each with a finite weight > 0")
        members = tuple((w, _parse_member(m)) for w, m in zip(weights, docs, strict=True))
        return RiskModel(version=str(data["version"]), buckets=1, intercept=0.0, weights={}, positive_scores=scores,
                         meta=dict(data.get("meta", {})), size_weight=size_weight, members=members)
    core = _parse_member(data)
    return RiskModel(version=str(data["version"]), buckets=core.buckets, intercept=core.intercept,
                     weights=core.weights, positive_scores=scores, meta=dict(data.get("meta", {})), names=core.names,
                     trees=core.trees, size_weight=size_weight)


def _parse_member(data: Mapping[str, Any]) -> RiskModel:
    """The scoring part of a model document (linear weights or trees), without its calibration."""
    if data.get("kind") == "ensemble":
        raise ValueError("an ensemble member cannot be an ensemble")
    buckets = int(data["buckets"])
    weights = {int(i): float(w) for i, w in data.get("weights", ())}
    if any(not 0 <= i < buckets for i in weights):
        raise ValueError("weight index out of range")
    names = tuple(str(n) for n in data.get("names", ()))
    trees = _parse_trees(data, len(names))
    if not weights and not trees:
        raise ValueError("neither weights nor trees")
    if buckets < 1:
        raise ValueError("buckets must be >= 1")
    return RiskModel(version=str(data.get("version", "member")), buckets=buckets, intercept=float(data["intercept"]),
                     weights=weights, positive_scores=(), meta={}, names=names, trees=trees)


def dump_model(
    *, version: str, buckets: int, intercept: float, weights: Sequence[float], positive_scores: Sequence[float],
    meta: Mapping[str, Any], digits: int = 5, size_weight: float = 0.0,
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
        "size_weight": float(size_weight),
        "meta": dict(meta),
    }


def dump_trees(
    *, version: str, intercept: float, names: Sequence[str], trees: Sequence[Mapping[str, Sequence[Any]]],
    positive_scores: Sequence[float], meta: Mapping[str, Any], digits: int = 6, size_weight: float = 0.0,
) -> dict[str, Any]:
    """The JSON document of a gradient-boosted tree model (see ``Tree``); thresholds kept exact."""
    return {
        "format": MODEL_FORMAT,
        "kind": "gbt",
        "version": version,
        "feature_version": FEATURE_VERSION,
        "buckets": 1,
        "intercept": round(float(intercept), digits),
        "names": list(names),
        "trees": [{"feature": [int(x) for x in t["feature"]], "threshold": [float(x) for x in t["threshold"]],
                   "left": [int(x) for x in t["left"]], "right": [int(x) for x in t["right"]],
                   "leaf": [int(bool(x)) for x in t["leaf"]], "value": [round(float(x), digits) for x in t["value"]]}
                  for t in trees],
        "positive_scores": sorted(round(float(s), digits) for s in positive_scores),
        "size_weight": float(size_weight),
        "meta": dict(meta),
    }


def dump_ensemble(
    *, version: str, members: Sequence[tuple[float, Mapping[str, Any]]], positive_scores: Sequence[float],
    meta: Mapping[str, Any], digits: int = 6, size_weight: float = 0.0,
) -> dict[str, Any]:
    """The JSON document of a weighted average of member documents (``dump_model``/``dump_trees``
    output; their own calibration, size weight and meta are dropped: the ensemble has its own)."""
    dropped = {"positive_scores", "size_weight", "meta", "format", "feature_version", "version"}
    return {
        "format": MODEL_FORMAT,
        "kind": "ensemble",
        "version": version,
        "feature_version": FEATURE_VERSION,
        "member_weights": [float(w) for w, _ in members],
        "members": [{k: v for k, v in doc.items() if k not in dropped} for _, doc in members],
        "positive_scores": sorted(round(float(s), digits) for s in positive_scores),
        "size_weight": float(size_weight),
        "meta": dict(meta),
    }


def load_model(path: Path) -> RiskModel:
    return parse_model(json.loads(path.read_text("utf-8")))


@lru_cache(maxsize=1)
def default_model() -> RiskModel:
    text = resources.files("govbot.router").joinpath("data/risk_model.json").read_text("utf-8")
    return parse_model(json.loads(text))
