"""A/B of two govbot builds on chosen commits of ``realpr_bench.py``'s clones: wall time and the
CPU-seconds of the whole ``govbot scan`` process tree, the two builds alternating.

    nice -n 10 .venv/bin/python benchmarks/realpr_ab.py OLD_GOVBOT NEW_GOVBOT COMMITS.txt --reps 2

COMMITS.txt holds ``owner/name sha`` lines; the clones are those ``realpr_bench.py`` made under
``--data`` (default /work/data/realpr). Prints one JSON line per run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import time
from pathlib import Path

SCRUBBED_ENV = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GITHUB_TOKEN", "GH_TOKEN", "GOVBOT_LLM")


def one(govbot: str, clone: Path, sha: str, env: dict[str, str]) -> dict[str, object]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run([govbot, "scan", "--base", f"{sha}^", "--head", sha, "--format", "json", "--no-progress"],
                          cwd=clone, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = json.loads(proc.stdout)
    return {"wall": round(wall, 2),
            "cpu": round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 2),
            "outcome": report["decision"]["outcome"],
            "pre_existing": sum(1 for f in report["findings"] if f.get("baseline") == "pre_existing"),
            "load": round(os.getloadavg()[0], 1)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("commits", type=Path)
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--data", type=Path, default=Path("/work/data/realpr"))
    args = p.parse_args()
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    for line in args.commits.read_text().splitlines():
        if not line.strip():
            continue
        repo, sha = line.split()
        clone = args.data / repo.replace("/", "+")
        subprocess.run(["git", "-c", "advice.detachedHead=false", "checkout", "-q", "--force", sha], cwd=clone,
                       check=True)
        for rep in range(args.reps):
            order = [("old", args.old), ("new", args.new)]
            for label, govbot in order if rep % 2 == 0 else order[::-1]:
                print(json.dumps({"repo": repo, "sha": sha[:10], "label": label, **one(govbot, clone, sha, env)}),
                      flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
