"""Fast loop for rule authors (issue 12): semgrep alone, with one rules folder, on detection sets.

    nice -n 10 .venv/bin/python benchmarks/detection_rules_dev.py --sets owasp-benchmark semgrep-rules [--misses]
    nice -n 10 .venv/bin/python benchmarks/detection_rules_dev.py --rules /tmp/old-rules --sets semgrep-rules

Scores exactly like ``detection_bench.py`` (family-matched recall, family mean, labelled-safe
files flagged; benign findings per kLOC) but runs only semgrep with the given rule files
(default: govbot's bundled ``checks/rules/*.yml``) directly on ``/work/data/detection/<set>``,
so a rule change is measured in tens of seconds instead of minutes. It is not govbot's figure:
bandit, the secrets layer and calibration are left out (``detection_bench.py`` measures those).
``--rules`` takes a folder, e.g. an older revision's rules extracted with
``git show <commit>:checks/rules/<file>``, to measure a baseline the same way. ``--misses``
lists the labelled vulnerable files with no family-matched finding.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import detection_bench as bench

from govbot.checks import semgrep
from govbot.checks.registry import BY_NAME, ScannerSettings


def misses(prefix: str, labels: dict[str, Any], found: dict[str, list[dict[str, Any]]]) -> list[str]:
    out = []
    for path, label in sorted(labels.items()):
        fams = {bench.family_of(c) for c in label["cwes"]}
        hits = found.get(f"{prefix}/{path}", [])
        got = {bench.family_of(c) for f in hits for c in bench.cwe_numbers(f.get("cwe", []))}
        if label["vulnerable"] and not fams & got:
            out.append(f"{sorted(fams)[0]}\t{prefix}/{path}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", required=True)
    parser.add_argument("--rules", type=Path, default=None, help="folder of rule files (default: bundled)")
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    rules = sorted(args.rules.glob("*.yml")) if args.rules else semgrep.bundled_rule_files()
    binary = ScannerSettings().binary(BY_NAME["semgrep"])
    argv = [binary, "scan", "--json", "--metrics=off", "--disable-version-check", "--jobs", "2", "--timeout", "30",
            *(a for r in rules for a in ("--config", str(r))), *args.sets]
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=bench.DATA, capture_output=True, check=False,
                          env={**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0"})
    found = bench.by_file([f.model_dump(mode="json") for f in semgrep.parse(proc.stdout).findings])
    result: dict[str, Any] = {"semgrep_s": round(time.monotonic() - started, 1), "rule_files": len(rules), "sets": {}}
    for name in args.sets:
        meta = json.loads((bench.DATA / name / "labels.json").read_text())
        if meta["kind"] == "vulnerable":
            row = bench.score_vulnerable(name, meta["labels"], found)
            if args.misses:
                row["misses"] = misses(name, meta["labels"], found)
        else:
            row = bench.score_benign(name, bench.DATA, meta["labels"], found)
        result["sets"][name] = {"split": meta["split"], **row}
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
