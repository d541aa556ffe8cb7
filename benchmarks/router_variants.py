"""What else was tried to close the router's saving gap (issue 11), measured on training repositories only.

    nice -n 10 .venv/bin/python benchmarks/router_variants.py --cache /work/data/router/prepared.jsonl \
        [--examples /work/data/router/examples.jsonl]

The cache comes from ``benchmarks/router_real_bench.py --cache``. Prints:

- the ceiling: the mix saving of a perfect classifier (every security fix to pro, everything else
  to mini or standard by the difficulty limits; and with every non-pro change at mini);
- learner variants judged the way ``train.choose_size_weight`` judges a size weight: 3
  repository-grouped folds over the *fitting repositories of outer fold 1's training part* (the
  ones ``fit_for_ship`` would give it), never its calibration quarter or its test fold. Variants:
  the shipped settings; negatives weighted by tokens^0.5 and tokens^1 when fitting; a larger tree
  model (300 trees, learning rate 0.05); with ``--examples``, seven more shape features read from
  the diffs (new and deleted files, share of added lines in new files, code files, share of test
  lines, the largest file's share, hunks per file). For each, the best size weight's figures and
  the w = 0 saving.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from govbot.core.diff import changeset_from_diff
from govbot.core.models import Tier
from govbot.router import train
from govbot.router.calibration import diff_tokens, mix_saving
from govbot.router.features import file_kind, split_patch
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


def shape_extras(diff: str) -> dict[str, float]:
    """The candidate shape features of one diff (not in ``router/features.py``: they did not help)."""
    files = changeset_from_diff(diff).files
    new = deleted = code = new_added = test_lines = total = largest = hunks = added_all = 0
    for f in files:
        patch = f.patch or ""
        added, removed, _, headers = split_patch(patch, 0)
        n = len(added) + len(removed)
        total, largest, hunks, added_all = total + n, max(largest, n), hunks + len(headers), added_all + len(added)
        first = next((line for line in patch.split("\n") if line.startswith("@@")), "")
        if first.startswith("@@ -0,0 "):
            new, new_added = new + 1, new_added + len(added)
        deleted += "+0,0 @@" in first
        code += file_kind(f.path) == "code"
        test_lines += n if file_kind(f.path) == "test" else 0
    return {"shape:new_files": math.log1p(new), "shape:new_share": new_added / added_all if added_all else 0.0,
            "shape:deleted_files": math.log1p(deleted), "shape:code_files": math.log1p(code),
            "shape:test_share": test_lines / total if total else 0.0,
            "shape:max_file_share": largest / total if total else 0.0,
            "shape:hunks_per_file": hunks / max(1, len(files))}


def with_extras(rows: list[Prepared], examples: str) -> list[Prepared]:
    by_key = {(p.repo, p.sha): p for p in rows}
    out = []
    with open(examples, encoding="utf-8") as fh:
        for line in fh:
            ex = json.loads(line)
            p = by_key.get((ex["repo"], ex["sha"]))
            if p is not None:
                out.append(dataclasses.replace(p, feats={**p.feats, **shape_extras(ex["diff"])}))
    return out


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
    ap.add_argument("--examples", help="examples.jsonl: also try the extra shape features")
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
    variants = {"shipped settings": (None, False, dev), "negatives x tokens^0.5": (0.5, False, dev),
                "negatives x tokens^1": (1.0, False, dev), "300 trees, rate 0.05": (None, True, dev)}
    if args.examples:
        variants["extra shape features"] = (None, False, with_extras(dev, args.examples))
    try:
        for name, (expo, big, batch) in variants.items():
            train.fit_scorer = weighted_scorer(expo, big)  # type: ignore[assignment]
            best, table = train.choose_size_weight("gbt", batch, args.target)
            r = table[best]
            print(json.dumps({"variant": name, "size_weight": best, "pro_recall": round(r["pro_recall"], 4),
                              "lint_mini": round(r["lint_mini"], 4), "saving_mix": round(r["saving_mix"], 4),
                              "saving_mix_w0": round(table[0.0]["saving_mix"], 4)}), flush=True)
    finally:
        train.fit_scorer = original  # type: ignore[assignment]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
