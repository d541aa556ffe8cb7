"""What else was tried to close the router's saving gap (issue 11), measured on training repositories only.

    nice -n 10 .venv/bin/python benchmarks/router_variants.py --cache /work/data/router/prepared.jsonl

The cache comes from ``benchmarks/router_real_bench.py --cache``. Prints:

- the ceiling: the mix saving of a perfect classifier (every security fix to pro, everything else
  to mini or standard by the difficulty limits; and with every non-pro change at mini);
- learner variants judged the way ``train.choose_size_weight`` judges a size weight: 3
  repository-grouped folds over the *fitting repositories of outer fold 1's training part* (the
  ones ``fit_for_ship`` would give it), never its calibration quarter or its test fold. Variants:
  the shipped settings; negatives weighted by tokens^0.5 and tokens^1 when fitting; a larger tree
  model (300 trees, learning rate 0.05). For each, the best size weight's figures and the w = 0 saving.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from govbot.core.models import Tier
from govbot.router import train
from govbot.router.calibration import diff_tokens, mix_saving
from govbot.router.train import Prepared


def code_fixes(rows: list[Prepared]) -> list[Prepared]:
    """The rows ``router_real_bench.py`` evaluates (the code-less advisory commits left out)."""
    def no_fix(p: Prepared) -> bool:
        return (p.label == "security" and not p.floor and bool(p.feats.get("shape:no_code"))
                and (p.dependency_only or {n for n in p.feats if n.startswith("rule:lint:")}
                     <= {"rule:lint:docs", "rule:lint:lock file"}))
    return [p for p in rows if not no_fix(p)]


def ceiling(rows: Sequence[Prepared]) -> dict[str, float]:
    def tier(p: Prepared, small: str) -> str:
        return Tier.PRO.value if p.label == "security" else (Tier.MINI.value if p.label == "lint" else small)
    limits = mix_saving([(p.label, tier(p, p.small_tier), p.size) for p in rows])["saving"]
    all_mini = mix_saving([(p.label, tier(p, Tier.MINI.value), p.size) for p in rows])["saving"]
    return {"perfect_classifier_saving": limits, "perfect_classifier_saving_all_mini": all_mini}


def weighted_scorer(expo: float | None, big: bool) -> Callable[..., tuple[Any, Callable[[Sequence[Prepared]], Any]]]:
    from sklearn.ensemble import HistGradientBoostingClassifier

    def fit_scorer(kind: str, fit_rows: Sequence[Prepared], seed: int = 0) -> tuple[Any, Callable[..., Any]]:
        names = train.dense_names(fit_rows)
        y = np.array([p.label == "security" for p in fit_rows], dtype=int)
        model = (HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05, max_leaf_nodes=15,
                                                l2_regularization=1.0, class_weight="balanced", random_state=seed)
                 if big else train.make_learner(kind, seed))
        x = train._features_for(kind, fit_rows, names)
        if expo is None:
            model.fit(x, y)
        else:
            w = np.array([1.0 if p.label == "security" else (1 + diff_tokens(p.patch_bytes)) ** expo for p in fit_rows])
            neg = y == 0
            w[neg] *= neg.sum() / w[neg].sum()  # the negatives keep their total weight
            model.fit(x, y, sample_weight=w)

        def score(batch: Sequence[Prepared]) -> Any:
            return train._scores(model, kind, train._features_for(kind, batch, names)) if batch else np.zeros(0)

        return model, score

    return fit_scorer


def main(argv: list[str] | None = None) -> int:
    from sklearn.model_selection import GroupKFold

    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--cache", required=True)
    ap.add_argument("--target", type=float, default=0.95)
    args = ap.parse_args(argv)
    with open(args.cache, encoding="utf-8") as fh:
        rows = code_fixes([Prepared(**json.loads(line)) for line in fh if line.strip()])
    print(json.dumps({k: round(v, 4) for k, v in ceiling(rows).items()}))
    groups = np.array([p.repo for p in rows])
    train_idx, _ = next(GroupKFold(n_splits=5).split(np.zeros(len(rows)), groups=groups))
    outer_train = [rows[i] for i in train_idx]
    fit, _ = train.split_calibration([p.repo for p in outer_train])
    dev = [outer_train[i] for i in fit]
    original = train.fit_scorer
    variants = {"shipped settings": (None, False), "negatives x tokens^0.5": (0.5, False),
                "negatives x tokens^1": (1.0, False), "300 trees, rate 0.05": (None, True)}
    try:
        for name, (expo, big) in variants.items():
            train.fit_scorer = weighted_scorer(expo, big)  # type: ignore[assignment]
            best, table = train.choose_size_weight("gbt", dev, args.target)
            r = table[best]
            print(json.dumps({"variant": name, "size_weight": best, "pro_recall": round(r["pro_recall"], 4),
                              "lint_mini": round(r["lint_mini"], 4), "saving_mix": round(r["saving_mix"], 4),
                              "saving_mix_w0": round(table[0.0]["saving_mix"], 4)}), flush=True)
    finally:
        train.fit_scorer = original  # type: ignore[assignment]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
