"""Training and evaluating the risk router on labelled real commits (needs the ``train`` extra).

Everything here runs offline, at build time. scikit-learn is imported inside the functions that
need it, so the runtime (``plan()``) never imports it.

Evaluation is repository-grouped: in each outer fold (GroupKFold) no repository is both in the
training and the test part. Inside the training part, a quarter of the repositories is held out
to calibrate the Pro threshold (``calibration.conformal_threshold``); the learner is fitted on the
rest. Tiers then follow ``plan()``'s order: floors and ``score >= threshold`` -> pro; else lint-level
-> mini; else the difficulty limits -> mini or standard.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from govbot.core.diff import changeset_from_diff
from govbot.core.models import Authorship, ChangeSet, Tier
from govbot.policy.llm_config import LLMConfig
from govbot.router.calibration import (
    DEFAULT_MIX,
    conformal_threshold,
    mix_saving,
    mix_saving_split,
    size_adjusted,
    summary,
)
from govbot.router.catalogue import ModelSet
from govbot.router.features import DEPENDENCY_FILES, TOOL_CONFIG, bucket, change_features, patch_bytes
from govbot.router.plan import _difficulty, floor_reasons, learned_classes, plan, split_paths
from govbot.router.riskmodel import dump_ensemble, dump_model, dump_trees

BUCKETS = 1 << 15
LEARNERS = ("logistic", "knn", "gbt", "mlp", "rules", "gbt+size", "ens+size")
# ens: the plain average of the gradient-boosted trees' log-odds and the logistic model's decision
# function (the only mix tried: not tuned on any fold)
ENSEMBLE = (("gbt", 0.5), ("logistic", 0.5))


@dataclass(frozen=True)
class Prepared:
    repo: str
    sha: str
    label: str
    size: int  # diff bytes
    feats: Mapping[str, float]
    rules_tier: str  # the rules-only router's tier
    floor: bool
    lint: bool  # all files lint-level (the rules, or the learned router's shape rules)
    small_tier: str  # mini or standard by the difficulty limits
    dependency_only: bool = False  # manifests, lock files, tool config only: mini + supply-chain checks
    patch_bytes: int = 0  # the changed files' patch bytes, as plan() measures them (features.patch_bytes)
    split_bytes: int = 0  # bytes a split review sends to mini if the learned router says pro or standard
    rules_split_bytes: int = 0  # the same for the rules-only router's tier


def prepare(repo: str, sha: str, label: str, diff: str, config: LLMConfig, models: ModelSet) -> Prepared | None:
    try:
        change: ChangeSet = changeset_from_diff(diff)
    except Exception:
        return None
    if not change.files:
        return None
    texts = {f.path: f.patch or "" for f in change.files}
    classes = learned_classes(change, texts)  # exactly what plan() computes under the learned router
    rules_cfg = config.model_copy(update={"routing": config.routing.model_copy(update={"router": "rules"})})
    rules_route = plan(change, (), Authorship(), rules_cfg, models)
    floor = bool(floor_reasons(classes, texts, ()))
    small, _ = _difficulty(change, classes, config)
    deps = all(DEPENDENCY_FILES.search(f.path) or TOOL_CONFIG.search(f.path) for f in change.files)
    split = split_paths(classes, texts, (), config, Tier.PRO, forced=False)  # the same for standard
    return Prepared(repo, sha, label, len(diff.encode("utf-8", "surrogateescape")),
                    change_features([(f.path, texts[f.path]) for f in change.files], classes),
                    rules_route.tier.value, floor, all(c.lint for c in classes), small.value, deps,
                    patch_bytes(texts.values()), patch_bytes(texts[p] for p in split),
                    patch_bytes(f.patch for f in rules_route.files if f.aux))


NEVER_PRO = -1e9  # the calibration score of a security fix that plan() would never send to pro


def route_tier(p: Prepared, score: float, threshold: float) -> str:
    """plan()'s order: floors -> pro; lint-level or dependency-only -> mini; score >= threshold -> pro;
    size."""
    if p.floor:
        return Tier.PRO.value
    if p.lint or p.dependency_only:
        return Tier.MINI.value
    return Tier.PRO.value if score >= threshold else p.small_tier


def design(rows: Sequence[Prepared], buckets: int = BUCKETS) -> Any:
    from scipy.sparse import csr_matrix

    data: list[float] = []
    cols: list[int] = []
    ptr = [0]
    for p in rows:
        merged: dict[int, float] = {}
        for name, value in p.feats.items():
            i = bucket(name, buckets)
            merged[i] = merged.get(i, 0.0) + value
        for i in sorted(merged):
            cols.append(i)
            data.append(merged[i])
        ptr.append(len(cols))
    return csr_matrix((np.array(data), np.array(cols), np.array(ptr)), shape=(len(rows), buckets))


def dense_names(rows: Iterable[Prepared], min_rows: int = 20, max_tokens: int = 300) -> list[str]:
    """Named features for the tree and MLP learners: every non-token feature (shape, cues, rules,
    kinds, extensions) seen in at least ``min_rows`` rows (fewer below 1,000 rows), plus the
    ``max_tokens`` most frequent token and path features."""
    seen: dict[str, int] = {}
    n_rows = 0
    for p in rows:
        n_rows += 1
        for n in p.feats:
            seen[n] = seen.get(n, 0) + 1
    min_rows = min(min_rows, max(2, n_rows // 50))  # tiny fits (tests' inner folds) keep some columns
    tokenish = ("+tok:", "-tok:", "=tok:", "ctx:", "path:")
    named = [n for n, c in seen.items() if c >= min_rows and not n.startswith(tokenish)]
    tokens = sorted((n for n, c in seen.items() if c >= min_rows and n.startswith(tokenish)),
                    key=lambda n: (-seen[n], n))[:max_tokens]
    return sorted(named + tokens)


def make_learner(kind: str, seed: int = 0) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer

    if kind == "logistic":
        return LogisticRegression(C=0.5, class_weight="balanced", max_iter=2000, solver="liblinear", random_state=seed)
    if kind == "knn":
        return make_pipeline(Normalizer(), KNeighborsClassifier(n_neighbors=15, weights="distance", metric="cosine",
                                                                algorithm="brute"))
    if kind == "gbt":
        return HistGradientBoostingClassifier(max_iter=120, learning_rate=0.1, max_leaf_nodes=15,
                                              l2_regularization=1.0, class_weight="balanced", random_state=seed)
    if kind == "mlp":
        from sklearn.neural_network import MLPClassifier

        return make_pipeline(Normalizer(), MLPClassifier(hidden_layer_sizes=(32,), alpha=1e-3, max_iter=100,
                                                         early_stopping=True, random_state=seed))
    raise ValueError(kind)


def _scores(model: Any, kind: str, x: Any) -> Any:
    if kind == "logistic":
        return model.decision_function(x)
    proba = model.predict_proba(x)[:, 1]
    return np.log(np.clip(proba, 1e-6, 1)) - np.log(np.clip(1 - proba, 1e-6, 1))


def _features_for(kind: str, rows: Sequence[Prepared], names: Sequence[str]) -> Any:
    if kind in {"gbt", "mlp"}:
        index = {n: i for i, n in enumerate(names)}
        x = np.zeros((len(rows), len(names)))
        for r, p in enumerate(rows):
            for n, v in p.feats.items():
                if n in index:
                    x[r, index[n]] = v
        return x
    return design(rows)


def split_calibration(groups: Sequence[str], share: float = 0.25, seed: int = 0) -> tuple[list[int], list[int]]:
    """Indices (fit, calibrate): a deterministic ``share`` of the repositories is held out."""
    repos = sorted(set(groups))
    rng = np.random.default_rng(seed)
    held = set(rng.choice(repos, size=max(1, round(len(repos) * share)), replace=False).tolist())
    fit = [i for i, g in enumerate(groups) if g not in held]
    cal = [i for i, g in enumerate(groups) if g in held]
    return fit, cal


def fit_scorer(
    kind: str, fit_rows: Sequence[Prepared], seed: int = 0
) -> tuple[Any, Callable[[Sequence[Prepared]], Any]]:
    """The fitted learner and its raw risk score (log-odds or decision function) for a batch of rows;
    for ``ens``, the members' fitted learners and the weighted sum of their scores."""
    if kind == "ens":
        fitted = [(fit_scorer(member, fit_rows, seed), weight) for member, weight in ENSEMBLE]

        def mixed(batch: Sequence[Prepared]) -> Any:
            return sum(w * s(batch) for (_, s), w in fitted) if batch else np.zeros(0)

        return tuple(m for (m, _), _ in fitted), mixed
    names = dense_names(fit_rows)
    y = np.array([p.label == "security" for p in fit_rows], dtype=int)
    model = make_learner(kind, seed)
    model.fit(_features_for(kind, fit_rows, names), y)

    def score(batch: Sequence[Prepared]) -> Any:
        return _scores(model, kind, _features_for(kind, batch, names)) if batch else np.zeros(0)

    return model, score


def adjust(rows: Sequence[Prepared], raw: Any, size_weight: float) -> Any:
    """``raw - size_weight * log(1 + tokens)`` per row: ``plan()``'s size-adjusted score, counting the
    tokens the change's own tier reads (``plan.scored_bytes``: without a split review's files)."""
    return np.array([size_adjusted(float(s), p.patch_bytes - p.split_bytes, size_weight)
                     for p, s in zip(rows, raw, strict=True)])


def calibration_scores(cal_pos: Sequence[Prepared], adjusted: Sequence[float]) -> list[float]:
    """A fix that plan() routes by a floor is pro anyway; one it calls lint-level never reaches the
    score (NEVER_PRO): the threshold must make up for it to keep the guarantee."""
    return [NEVER_PRO if p.lint and not p.floor else float(s) for p, s in zip(cal_pos, adjusted, strict=True)]


def fit_and_calibrate(
    kind: str, rows: Sequence[Prepared], target: float, seed: int = 0, size_weight: float = 0.0
) -> tuple[Any, float, list[float], Callable[[Sequence[Prepared]], Any]]:
    """Fit on 3/4 of the repositories, threshold from the positives of the other 1/4; the score
    (and the calibration scores) are size-adjusted by ``size_weight`` (0: the raw score)."""
    fit, cal = split_calibration([p.repo for p in rows], seed=seed)
    model, raw = fit_scorer(kind, [rows[i] for i in fit], seed)

    def score(batch: Sequence[Prepared]) -> Any:
        return adjust(batch, raw(batch), size_weight)

    cal_pos = [rows[i] for i in cal if rows[i].label == "security"]
    pos_scores = calibration_scores(cal_pos, score(cal_pos))
    threshold = conformal_threshold(pos_scores, target) if pos_scores else -math.inf
    return model, threshold, pos_scores, score


SIZE_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0)


def choose_size_weight(
    kind: str, rows: Sequence[Prepared], target: float, weights: Sequence[float] = SIZE_WEIGHTS, folds: int = 3,
    seed: int = 0,
) -> tuple[float, dict[float, dict[str, Any]]]:
    """The size weight with the best mix saving over ``folds`` repository-grouped folds of ``rows``
    (each fold fitted and calibrated like ``fit_and_calibrate``); ties go to the smaller weight. The
    saving is the one the default policy pays: with split review (``mix_saving_split``).

    At a fixed recall, the expected cost of the pro tier is least when changes go to pro in order of
    p(security | x) / tokens(x), i.e. by ``log-odds - log(tokens)`` (Neyman-Pearson with a cost per
    example); the learner's score is no calibrated log-odds, so the weight is chosen empirically.
    Call it on training repositories only: the caller's test and calibration repositories must not
    be in ``rows``."""
    from sklearn.model_selection import GroupKFold

    groups = np.array([p.repo for p in rows])
    tiers: dict[float, list[tuple[str, str, int, int]]] = {w: [] for w in weights}
    for train_idx, test_idx in GroupKFold(n_splits=folds).split(np.zeros(len(rows)), groups=groups):
        train = [rows[i] for i in train_idx]
        test = [rows[i] for i in test_idx]
        fit, cal = split_calibration([p.repo for p in train], seed=seed)
        _, raw = fit_scorer(kind, [train[i] for i in fit], seed)
        cal_pos = [train[i] for i in cal if train[i].label == "security"]
        cal_raw, test_raw = raw(cal_pos), raw(test)
        for w in weights:
            pos_scores = calibration_scores(cal_pos, adjust(cal_pos, cal_raw, w))
            threshold = conformal_threshold(pos_scores, target) if pos_scores else -math.inf
            tiers[w].extend((p.label, route_tier(p, float(s), threshold), p.size, p.split_bytes)
                            for p, s in zip(test, adjust(test, test_raw, w), strict=True))
    table = {w: {**summary([r[:3] for r in tiers[w]]), "saving_mix_split_review": mix_saving_split(tiers[w])["saving"]}
             for w in weights}
    best = max(weights, key=lambda w: (round(_number(table[w]["saving_mix_split_review"]), 6), -w))
    return best, table


def _number(value: object) -> float:
    if not isinstance(value, (int, float)):
        raise TypeError(value)
    return float(value)


def _learner(kind: str) -> tuple[str, bool]:
    """``gbt+size`` -> (``gbt``, size-adjusted score with the weight chosen inside the training folds)."""
    base, _, extra = kind.partition("+")
    if extra not in {"", "size"}:
        raise ValueError(kind)
    return base, extra == "size"


def fit_for_ship(
    kind: str, rows: Sequence[Prepared], target: float, seed: int = 0
) -> tuple[Any, float, list[float], Callable[[Sequence[Prepared]], Any], float]:
    """``fit_and_calibrate`` for a learner name; for ``+size`` the weight is chosen by grouped CV on
    the fitting repositories only (never the calibration quarter), so the conformal guarantee of the
    threshold is unchanged."""
    base, sized = _learner(kind)
    weight = 0.0
    if sized:
        fit, _ = split_calibration([p.repo for p in rows], seed=seed)
        weight, _ = choose_size_weight(base, [rows[i] for i in fit], target, seed=seed)
    model, threshold, pos_scores, score = fit_and_calibrate(base, rows, target, seed, weight)
    return model, threshold, pos_scores, score, weight


def grouped_cv(rows: Sequence[Prepared], target: float, folds: int = 5, kinds: Sequence[str] = LEARNERS,
               seed: int = 0, progress: Callable[[str], None] | None = None) -> dict[str, dict[str, Any]]:
    """Routed tiers per learner over repository-grouped outer folds, and their summary. A ``+size``
    learner chooses its size weight inside each outer training part (``fit_for_ship``)."""
    from sklearn.model_selection import GroupKFold

    groups = np.array([p.repo for p in rows])
    tiers: dict[str, list[tuple[str, str, int]]] = {k: [] for k in kinds}
    split: dict[str, list[tuple[str, str, int, int]]] = {k: [] for k in kinds}  # with split-review bytes
    thresholds: dict[str, list[float]] = {k: [] for k in kinds}
    weights: dict[str, list[float]] = {k: [] for k in kinds}
    for train_idx, test_idx in GroupKFold(n_splits=folds).split(np.zeros(len(rows)), groups=groups):
        train = [rows[i] for i in train_idx]
        test = [rows[i] for i in test_idx]
        if {p.repo for p in train} & {p.repo for p in test}:
            raise RuntimeError("a repository is in both train and test")
        for kind in kinds:
            if kind == "rules":
                tiers[kind].extend((p.label, p.rules_tier, p.size) for p in test)
                split[kind].extend((p.label, p.rules_tier, p.size, p.rules_split_bytes) for p in test)
                continue
            _, threshold, _, score, weight = fit_for_ship(kind, train, target, seed)
            if progress is not None:
                progress(f"{kind}: fold fitted, size weight {weight:g}, threshold {threshold:.3f}")
            thresholds[kind].append(threshold)
            weights[kind].append(weight)
            for p, s in zip(test, score(test), strict=True):
                tier = route_tier(p, float(s), threshold)
                tiers[kind].append((p.label, tier, p.size))
                split[kind].append((p.label, tier, p.size, p.split_bytes))
    out: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        out[kind] = dict(summary(tiers[kind]))
        out[kind]["thresholds"] = [round(t, 4) for t in thresholds[kind]]
        if kind != "rules" and _learner(kind)[1]:
            out[kind]["size_weights"] = weights[kind]
        out[kind]["cost_share_by_class"] = cost_shares(tiers[kind])
        out[kind]["saving_mix_split_review"] = mix_saving_split(split[kind])["saving"]
        out[kind]["saving_mix_if_standard_were_mini"] = mix_saving(
            [(lab, Tier.MINI.value if t == Tier.STANDARD.value else t, s) for lab, t, s in tiers[kind]])["saving"]
        sec = [(t, s) for lab, t, s in tiers[kind] if lab == "security"]
        out[kind]["pro_recall_bytes_weighted"] = (sum(s for t, s in sec if t == Tier.PRO.value)
                                                  / max(1, sum(s for _, s in sec)))
        out[kind]["missed_security_bytes_median"] = _median([s for lab, t, s in tiers[kind]
                                                             if lab == "security" and t != "pro"])
        out[kind]["security_bytes_median"] = _median([s for lab, _, s in tiers[kind] if lab == "security"])
    return out


def cost_shares(rows: Sequence[tuple[str, str, int]]) -> dict[str, float]:
    """Each class's share of the routed cost on the mix (``mix_saving``'s terms)."""
    total = mix_saving(rows)["cost"]
    return {label: round(mix_saving([r for r in rows if r[0] == label],
                                    {label: DEFAULT_MIX[label]})["cost"] / total, 4) if total else 0.0
            for label in DEFAULT_MIX}


def _median(values: Sequence[int]) -> float | None:
    return float(np.median(values)) if values else None


def ship_logistic(rows: Sequence[Prepared], target: float, version: str, meta: Mapping[str, Any],
                  kind: str = "logistic") -> dict[str, Any]:
    """Logistic regression fitted on 3/4 of the repositories, with the risk scores of the held-out
    quarter's security fixes for the conformal threshold."""
    model, _, pos_scores, _, weight = fit_for_ship(kind, rows, target)
    weights = model.coef_[0]
    return dump_model(version=version, buckets=BUCKETS, intercept=float(model.intercept_[0]), weights=weights,
                      positive_scores=pos_scores, meta=dict(meta), size_weight=weight)


def export_trees(model: Any) -> tuple[float, list[dict[str, list[Any]]]]:
    """``(baseline, trees)`` of a fitted binary ``HistGradientBoostingClassifier``, read from its
    fitted predictors (read only). Internal node values are scaled by the learning rate like the
    leaves, so the differences along a path add up to the leaf value (the route's explanation)."""
    rate = float(model.learning_rate)
    trees = []
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        leaf = nodes["is_leaf"].astype(bool)
        value = np.where(leaf, nodes["value"], nodes["value"] * rate)
        trees.append({"feature": nodes["feature_idx"].tolist(), "threshold": nodes["num_threshold"].tolist(),
                      "left": nodes["left"].tolist(), "right": nodes["right"].tolist(), "leaf": leaf.tolist(),
                      "value": value.tolist()})
    return float(np.ravel(model._baseline_prediction)[0]), trees


def ship_gbt(rows: Sequence[Prepared], target: float, version: str, meta: Mapping[str, Any],
             kind: str = "gbt") -> dict[str, Any]:
    """Gradient-boosted trees on the named features, fitted and calibrated like ``ship_logistic``."""
    model, _, pos_scores, _, weight = fit_for_ship(kind, rows, target)
    fit, _ = split_calibration([p.repo for p in rows])
    names = dense_names([rows[i] for i in fit])  # the columns fit_and_calibrate used
    baseline, trees = export_trees(model)
    return dump_trees(version=version, intercept=baseline, names=names, trees=trees, positive_scores=pos_scores,
                      meta=dict(meta), size_weight=weight)


def ship_ensemble(rows: Sequence[Prepared], target: float, version: str, meta: Mapping[str, Any],
                  kind: str = "ens") -> dict[str, Any]:
    """``ENSEMBLE``'s members fitted on the same 3/4 of the repositories, calibrated as one score."""
    models, _, pos_scores, _, weight = fit_for_ship(kind, rows, target)
    fit, _ = split_calibration([p.repo for p in rows])
    names = dense_names([rows[i] for i in fit])  # the columns the trees were fitted on
    docs: list[tuple[float, Mapping[str, Any]]] = []
    for (member, share), model in zip(ENSEMBLE, models, strict=True):
        if member == "gbt":
            baseline, trees = export_trees(model)
            docs.append((share, dump_trees(version=version, intercept=baseline, names=names, trees=trees,
                                           positive_scores=(), meta={})))
        else:
            docs.append((share, dump_model(version=version, buckets=BUCKETS, intercept=float(model.intercept_[0]),
                                           weights=model.coef_[0], positive_scores=(), meta={})))
    return dump_ensemble(version=version, members=docs, positive_scores=pos_scores, meta=dict(meta),
                         size_weight=weight)


SHIP: dict[str, Callable[..., dict[str, Any]]] = {"logistic": ship_logistic, "gbt": ship_gbt, "ens": ship_ensemble}


def ship(kind: str, rows: Sequence[Prepared], target: float, version: str, meta: Mapping[str, Any]) -> dict[str, Any]:
    """The model document of a learner name (``gbt``, ``gbt+size``, ``logistic``, ``logistic+size``)."""
    return SHIP[_learner(kind)[0]](rows, target, version, meta, kind=kind)


def load_examples(path: str) -> Iterable[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)
