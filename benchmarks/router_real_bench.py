"""Router benchmark on REAL commits, repository-held-out (a benchmark, not a timed test).

    nice -n 10 .venv/bin/python benchmarks/router_real_bench.py \
        --examples /work/data/router/examples.jsonl [--target 0.95] [--ship]

``--examples`` comes from ``benchmarks/router_data/build_dataset.py`` (manifest committed in
``benchmarks/router_data/manifest.csv``). For each learner (logistic regression on hashed
features, kNN on the same, gradient-boosted trees on the named features) and for the rules-only
router it prints, over 5 repository-grouped folds: Pro recall on security fixes with a 95% Wilson
interval, lint-level commits routed to mini/skip, Pro share and the saving against always-Pro on a
10/40/50 security/lint/feature mix (price ratios 0.15/0.40/1.0, tokens = diff bytes / 4).
A learner named ``<learner>+size`` (``gbt+size``, ``logistic+size``, ``ens+size``) routes by the size-adjusted
score ``score - w * log(1 + tokens)``; ``w`` is chosen by 3-fold repository-grouped CV on the
fitting repositories of each outer training part (never the calibration quarter, never the outer
test fold). ``--ship`` also writes ``router/data/risk_model.json`` (``--ship-kind``, default
``ens+size``: the average of the trees and the logistic model, size-adjusted) and
``benchmarks/router_data/results.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

from govbot.policy.llm_config import LLMConfig
from govbot.router.calibration import wilson
from govbot.router.catalogue import estimate_models
from govbot.router.train import LEARNERS, Prepared, grouped_cv, load_examples, prepare, ship

ROOT = Path(__file__).resolve().parent.parent


def with_left_out(results: dict[str, dict[str, Any]], no_fix: list[Prepared]) -> None:
    """The same recall with the left-out docs/dependency-only advisory commits counted: plan()
    sends them to mini (misses); the rules-only router sends some to pro."""
    for kind, r in results.items():
        hits = round(r["pro_recall"] * r["security"]) + (sum(p.rules_tier == "pro" for p in no_fix)
                                                          if kind == "rules" else 0)
        n_all = r["security"] + len(no_fix)
        r["pro_recall_with_left_out"] = hits / n_all
        r["pro_recall_with_left_out_ci95"] = list(wilson(hits, n_all))


def print_table(results: dict[str, dict[str, Any]]) -> None:
    print(f"{'router':13} {'pro recall [95% CI]':28} {'lint->mini':>10} {'pro share':>9} {'saving':>7} "
          f"{'split review':>12} {'recall incl. left-out':>22} {'saving if standard were mini':>29} size weights")
    for kind, r in results.items():
        lo, hi = r["pro_recall_ci95"]
        print(f"{kind:13} {r['pro_recall']:.3f} [{lo:.3f}, {hi:.3f}] (n={r['security']:4}) "
              f"{r['lint_mini']:10.3f} {r['pro_share_mix']:9.3f} {r['saving_mix']:7.3f} "
              f"{r['saving_mix_split_review']:12.3f} "
              f"{r['pro_recall_with_left_out']:22.3f} {r['saving_mix_if_standard_were_mini']:29.3f} "
              f"{r.get('size_weights', '')}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", required=True)
    ap.add_argument("--target", type=float, default=0.95)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--learners", default=",".join(LEARNERS))
    ap.add_argument("--ship", action="store_true")
    ap.add_argument("--ship-kind", default="ens+size",
                    choices=("gbt", "gbt+size", "logistic", "logistic+size", "ens", "ens+size"),
                    help="the learner to ship (+size: size-adjusted score, weight chosen inside the training part)")
    ap.add_argument("--cache", help="JSONL cache of prepared rows (features, rules tier), keyed by repo and sha")
    ap.add_argument("--version", default=dt.date.today().isoformat())
    ap.add_argument("--write-results", action="store_true",
                    help="write benchmarks/router_data/results.json without shipping a model (--ship does both)")
    args = ap.parse_args(argv)
    config = LLMConfig()
    models = estimate_models(config)
    t0 = time.perf_counter()
    cached: dict[tuple[str, str], Prepared] = {}
    if args.cache and Path(args.cache).exists():
        for line in Path(args.cache).read_text().splitlines():
            d = json.loads(line)
            if {f.name for f in dataclasses.fields(Prepared)} <= d.keys():  # else: an older cache, prepared again
                cached[(d["repo"], d["sha"])] = Prepared(**d)
    rows = []
    skipped = 0
    for ex in load_examples(args.examples):
        p = cached.get((ex["repo"], ex["sha"]))
        if p is None or p.label != ex["label"]:
            p = prepare(ex["repo"], ex["sha"], ex["label"], ex["diff"], config, models)
        if p is None:
            skipped += 1
        else:
            rows.append(p)
    if args.cache:
        with open(args.cache, "w") as fh:
            for p in rows:
                fh.write(json.dumps(dataclasses.asdict(p), sort_keys=True) + "\n")
    # An advisory "fix commit" whose diff is only docs (the changelog that announces the fix) or only
    # dependency manifests and lock files (a dependency upgrade, which the supply-chain checks cover)
    # has no code fix to review.
    no_fix = [p for p in rows if p.label == "security" and not p.floor and p.feats.get("shape:no_code")
              and (p.dependency_only or {n for n in p.feats if n.startswith("rule:lint:")}
                   <= {"rule:lint:docs", "rule:lint:lock file"})]
    rows = [p for p in rows if p not in no_fix]
    counts = {lab: sum(p.label == lab for p in rows) for lab in ("security", "lint", "feature")}
    data = {"rows": len(rows), "skipped_unparsable": skipped, "by_label": counts,
            "security_without_code_left_out": len(no_fix),
            "repos": len({p.repo for p in rows}),
            "security_repos": len({p.repo for p in rows if p.label == "security"})}
    print(json.dumps(data), f"(prepared in {time.perf_counter() - t0:.0f}s)", file=sys.stderr)
    results = grouped_cv(rows, args.target, folds=args.folds, kinds=args.learners.split(","),
                         progress=lambda msg: print(f"{time.perf_counter() - t0:.0f}s {msg}", file=sys.stderr))
    with_left_out(results, no_fix)
    print_table(results)
    if args.ship:
        meta = {"trained": args.version, "target_default": args.target, "data": data,
                "cv": {k: {kk: v for kk, v in r.items() if kk != "thresholds"} for k, r in results.items()},
                "source": "benchmarks/router_data/manifest.csv: pypa/advisory-database fix commits, same-repo history"}
        prefix = {"gbt": "gbt", "gbt+size": "gbts", "logistic": "lr", "logistic+size": "lrs", "ens": "ens",
                  "ens+size": "enss"}[args.ship_kind]
        doc = ship(args.ship_kind, rows, args.target, f"{prefix}-{args.version}", meta)
        model_text = json.dumps(doc, separators=(",", ":"), sort_keys=True) + "\n"
        (ROOT / "router/data/risk_model.json").write_text(model_text)
    if args.ship or args.write_results:
        summary = {"target": args.target, "folds": args.folds, "data": data, "results": results}
        results_text = json.dumps(summary, indent=2, sort_keys=True) + "\n"
        (ROOT / "benchmarks/router_data/results.json").write_text(results_text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
