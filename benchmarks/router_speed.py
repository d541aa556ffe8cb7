"""How fast the learned router is: loading the shipped model file, and ``plan()`` on a PR of 300
changed lines (goals: <= 200 ms and <= 5 ms).

    nice -n 10 .venv/bin/python benchmarks/router_speed.py [--examples /work/data/router/examples.jsonl]

Prints wall and CPU time (best of several runs; report ``uptime`` beside them: the machine is
shared). With ``--examples`` it also times ``plan()`` over every real commit of at most 300
changed lines in that file (median and 95th percentile).
"""

from __future__ import annotations

import argparse
import difflib
import json
import statistics
import time
from importlib import resources
from pathlib import Path

from govbot.core.diff import changeset_from_diff
from govbot.core.errors import ConfigError
from govbot.core.models import Authorship, ChangeSet
from govbot.policy.llm_config import LLMConfig
from govbot.router.catalogue import ModelSet, estimate_models
from govbot.router.plan import plan
from govbot.router.riskmodel import default_model, load_model, parse_model


def three_hundred_lines() -> str:
    before = "".join(f"value_{i} = compute({i})\n" for i in range(300))
    after = "".join(f"value_{i} = compute({i}, limit=MAX_SIZE)\n" if i % 2 else f"value_{i} = compute({i})\n"
                    for i in range(300))
    body = "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), "a/pkg/module.py",
                                        "b/pkg/module.py"))
    return "diff --git a/pkg/module.py b/pkg/module.py\n" + body


def best_of(fn: object, runs: int, repeat: int) -> tuple[float, float]:
    """(wall, cpu) seconds per call, best of ``repeat`` rounds of ``runs`` calls."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        for _ in range(runs):
            fn()  # type: ignore[operator]
        wall = min(wall, (time.perf_counter() - w) / runs)
        cpu = min(cpu, (time.process_time() - c) / runs)
    return wall, cpu


def compare(change: ChangeSet, config: LLMConfig, models: ModelSet, paths: list[Path]) -> None:
    """Best CPU ms per plan() call for the shipped model and each file, rounds interleaved."""
    candidates = {"shipped " + default_model().version: default_model()}
    candidates.update({f"{p} ({(m := load_model(p)).version})": m for p in paths})
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(15):
        for name, model in candidates.items():
            _, cpu = best_of(lambda m=model: plan(change, (), Authorship(), config, models, risk_model=m), 10, 1)
            best[name] = min(best[name], cpu)
    for name, cpu in best.items():
        print(f"plan(), 300 changed lines, {name}: {cpu * 1e3:.2f} ms CPU (best of 15 interleaved rounds)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--examples", help="JSONL of real commits (benchmarks/router_data/build_dataset.py)")
    ap.add_argument("--compare", nargs="*", default=[], metavar="MODEL.json",
                    help="also time plan() with these model files, alternating with the shipped one in this process "
                         "(best of 15 rounds of 10 calls each): on a machine whose speed drifts, only such a "
                         "comparison is fair (e.g. the previous release's file from `git show REV:router/data/"
                         "risk_model.json`)")
    args = ap.parse_args(argv)
    text = resources.files("govbot.router").joinpath("data/risk_model.json").read_text("utf-8")
    wall, cpu = best_of(lambda: parse_model(json.loads(text)), 1, 5)
    print(f"model load (read + parse {len(text.encode()) / 1e6:.2f} MB): {wall * 1e3:.1f} ms wall, "
          f"{cpu * 1e3:.1f} ms CPU")
    config = LLMConfig()
    models = estimate_models(config)
    default_model()
    change = changeset_from_diff(three_hundred_lines())
    wall, cpu = best_of(lambda: plan(change, (), Authorship(), config, models), 20, 5)
    print(f"plan(), 300 changed lines in one file: {wall * 1e3:.2f} ms wall, {cpu * 1e3:.2f} ms CPU")
    if args.compare:
        compare(change, config, models, [Path(p) for p in args.compare])
    if args.examples:
        times = []
        with open(args.examples, encoding="utf-8") as fh:
            for line in fh:
                ex = json.loads(line)
                try:
                    real = changeset_from_diff(ex["diff"])
                except ConfigError:  # the two commits the benchmark reports as unparsable
                    continue
                if not real.files or sum(f.additions + f.deletions for f in real.files) > 300:
                    continue
                c = time.process_time()
                plan(real, (), Authorship(), config, models)
                times.append(time.process_time() - c)
        times.sort()
        print(f"plan() on {len(times)} real commits of <= 300 changed lines: median "
              f"{statistics.median(times) * 1e3:.2f} ms CPU, p95 {times[int(len(times) * 0.95)] * 1e3:.2f} ms CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
