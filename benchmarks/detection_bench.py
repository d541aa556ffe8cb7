"""Benchmark (issue 12): what govbot finds and how much it says, against bandit, semgrep (with
govbot's rules) and detect-secrets run alone on the same files, in the same run.

    nice -n 10 .venv/bin/python benchmarks/detection_data.py      # rebuild the dev sets first
    nice -n 10 .venv/bin/python benchmarks/detection_bench.py [--sets owasp-benchmark ...] [--reps 1]

Every set under /work/data/detection/ (see benchmarks/data/detection/sources.json) becomes one
folder of a single git change (base: an empty commit); `govbot scan --format json` scans it
once, and so does each anchor. Scores, per set and per split (tuned-on vs held-out):

* vulnerable sets: family-matched recall: a labelled vulnerable file counts as found when a
  non-info finding in it has a CWE of the label's family (families below); the family mean; on
  OWASP's labelled *not* vulnerable files, the share with a family-matched finding (false alarms);
* benign sets: non-info findings per 1,000 lines and the share of files with one;
* the generated secrets set: secrets found by kind (a secret-family finding on the secret's
  line), decoys flagged by kind (any non-info secret-family finding in a decoy file), and whether
  any secret value appears in govbot's report, stdout or stderr;
* wall time of each process.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from govbot.checks import bandit, secrets, semgrep
from govbot.checks.registry import BY_NAME, ScannerSettings, default_binary, semgrep_configs
from govbot.checks.runner import tool_env

DATA = Path("/work/data/detection")
FAMILIES: dict[str, set[int]] = {
    "sql-injection": {89, 564},
    "command-injection": {77, 78, 88},
    "code-injection": {94, 95, 1336, 96},
    "xss": {79, 80, 116, 83},
    "path-traversal": {22, 23, 36, 73},
    "ssrf-redirect": {918, 601},
    "deserialization": {502},
    "xxe": {611, 776, 827},
    "weak-crypto": {326, 327, 328, 916, 759, 760},
    "weak-random": {330, 338},
    "tls": {295, 319, 297},
    "secrets": {798, 259, 321, 522, 200, 532},
    "ldap-xpath": {90, 643},
    "trust-boundary": {501},
    "cookies-session": {614, 1004, 1275, 384, 352},
    "header-log-injection": {113, 117, 93},
    "redos-resources": {1333, 400, 730, 770},
    "debug-config": {489, 215, 668, 732, 284, 285, 250},
    "tempfile": {377, 379, 367},
    "auth-jwt": {287, 347, 306, 290, 915, 639, 704, 208},
}


def family_of(cwe: int) -> str:
    return next((f for f, cwes in FAMILIES.items() if cwe in cwes), f"other:CWE-{cwe}")


def cwe_numbers(values: list[str] | tuple[str, ...]) -> list[int]:
    return [int(m) for v in values for m in re.findall(r"CWE-(\d+)", str(v))]


# ------------------------------------------------------------------------------------------
# Running


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, bytes, bytes, int]:
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=False)
    return time.monotonic() - started, proc.stdout, proc.stderr, proc.returncode


def make_repo(root: Path, sets: list[str]) -> tuple[Path, list[str]]:
    repo = root / "repo"
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.com"}

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)

    git("init", "-q", "--initial-branch=main")
    git("commit", "-q", "--allow-empty", "-m", "base")
    git("checkout", "-qb", "change")
    files: list[str] = []
    for name in sets:
        shutil.copytree(DATA / name, repo / name, ignore=shutil.ignore_patterns("labels.json"))
    for p in sorted(repo.rglob("*")):
        if p.is_file() and ".git" not in p.relative_to(repo).parts:
            files.append(p.relative_to(repo).as_posix())
    git("add", "-A", "-f")
    git("commit", "-qm", "change")
    return repo, files


def anchors(repo: Path, files: list[str]) -> dict[str, tuple[float, list[dict[str, Any]]]]:
    s = ScannerSettings()
    py = ["./" + f for f in files if bandit.applies_to(f)]
    text = ["./" + f for f in files]  # detect-secrets alone applies its own skips by name
    env = tool_env()
    out: dict[str, tuple[float, list[dict[str, Any]]]] = {}
    argv = semgrep.build_argv(s.binary(BY_NAME["semgrep"]), semgrep_configs(s), ["./" + f for f in files],
                              rule_timeout_s=s.semgrep_rule_timeout_s, max_memory_mb=s.semgrep_max_memory_mb,
                              max_target_bytes=s.max_file_bytes, jobs=2)
    t, o, _, _ = run(argv, repo, env)
    out["semgrep"] = (t, [f.model_dump(mode="json") for f in semgrep.parse(o).findings])
    t, o, _, _ = run(bandit.build_argv(s.binary(BY_NAME["bandit"]), py), repo, env)
    out["bandit"] = (t, [_raw_bandit(r) for r in json.loads(o).get("results", [])])
    # detect-secrets' own command (govbot runs it through its worker, with the secrets layer)
    t, o, _, _ = run([default_binary("detect-secrets"), "scan", "--all-files", *text], repo, env)
    out["detect-secrets"] = (t, [f.model_dump(mode="json") for f in secrets.parse(o).findings])
    return out


def _raw_bandit(r: dict[str, Any]) -> dict[str, Any]:
    """bandit's own severity (medium+ is what a bandit user sees by default at -ll)."""
    cwe = (r.get("issue_cwe") or {}).get("id")
    sev = str(r.get("issue_severity", "")).lower()
    return {"path": bandit.rel_path(str(r.get("filename", ""))), "line": r.get("line_number"),
            "severity": sev, "cwe": [f"CWE-{cwe}"] if cwe else [], "rule_id": f"bandit:{r.get('test_id')}",
            "tool": "bandit"}


# ------------------------------------------------------------------------------------------
# Scoring (pure)


def is_noted(f: dict[str, Any], *, bandit_min: str = "low") -> bool:
    sev = str(f.get("severity", "")).lower()
    if f.get("rule_id", "").startswith("bandit:") and f.get("tool") == "bandit" and "confidence" not in f:
        order = ["low", "medium", "high"]
        return sev in order and order.index(sev) >= order.index(bandit_min)
    return sev not in ("info", "")


def is_secret_finding(f: dict[str, Any]) -> bool:
    return f.get("tool") == "secrets" or any(family_of(c) == "secrets" for c in cwe_numbers(f.get("cwe", [])))


def by_file(findings: list[dict[str, Any]], **kw: Any) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        if is_noted(f, **kw):
            out[str(f["path"]).removeprefix("./")].append(f)
    return out


def score_vulnerable(prefix: str, labels: dict[str, Any], found: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    per_family: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    false_alarm = [0, 0]
    for path, label in labels.items():
        fams = {family_of(c) for c in label["cwes"]}
        got = {family_of(c) for f in found.get(f"{prefix}/{path}", []) for c in cwe_numbers(f.get("cwe", []))}
        if label["vulnerable"]:
            fam = sorted(fams)[0]
            per_family[fam][1] += 1
            per_family[fam][0] += bool(fams & got)
        else:
            false_alarm[1] += 1
            false_alarm[0] += bool(fams & got)
    hit = sum(v[0] for v in per_family.values())
    total = sum(v[1] for v in per_family.values())
    rates = {k: round(100 * v[0] / v[1], 1) for k, v in sorted(per_family.items())}
    return {"recall_pct": round(100 * hit / total, 1) if total else None, "vulnerable_files": total,
            "family_mean_pct": round(sum(rates.values()) / len(rates), 1) if rates else None,
            "per_family_pct": rates, "per_family_n": {k: v[1] for k, v in sorted(per_family.items())},
            "false_alarm_pct": round(100 * false_alarm[0] / false_alarm[1], 1) if false_alarm[1] else None,
            "not_vulnerable_files": false_alarm[1]}


def score_benign(prefix: str, repo: Path, labels: dict[str, Any],
                 found: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    lines = sum(len((repo / prefix / p).read_bytes().splitlines()) for p in labels)
    counts = {p: len(found.get(f"{prefix}/{p}", [])) for p in labels}
    rules: dict[str, int] = defaultdict(int)
    for p in labels:
        for f in found.get(f"{prefix}/{p}", []):
            rules[f["rule_id"]] += 1
    return {"kloc": round(lines / 1000, 1), "per_kloc": round(sum(counts.values()) / (lines / 1000), 2),
            "files_pct": round(100 * sum(1 for c in counts.values() if c) / len(counts), 1),
            "top_rules": dict(sorted(rules.items(), key=lambda kv: -kv[1])[:8])}


def score_secrets(prefix: str, labels: dict[str, Any], found: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    s_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    d_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for path, label in labels.items():
        hits = [f for f in found.get(f"{prefix}/{path}", []) if is_secret_finding(f)]
        if label["secret"]:
            s_kind[label["kind"]][1] += 1
            s_kind[label["kind"]][0] += any(f.get("line") == label["line"] for f in hits)
        else:
            d_kind[label["kind"]][1] += 1
            d_kind[label["kind"]][0] += bool(hits)
    pct = lambda d: round(100 * sum(v[0] for v in d.values()) / max(1, sum(v[1] for v in d.values())), 1)  # noqa: E731
    return {"secrets_found_pct": pct(s_kind), "decoys_flagged_pct": pct(d_kind),
            "secrets_missed": {k: f"{v[0]}/{v[1]}" for k, v in sorted(s_kind.items()) if v[0] < v[1]},
            "decoys_flagged": {k: f"{v[0]}/{v[1]}" for k, v in sorted(d_kind.items()) if v[0]}}


def leaked(values: list[str], blobs: list[bytes]) -> int:
    text = b"\n".join(blobs).decode("utf-8", "replace")
    # A value, or for a key block its first encoded line.
    return sum(1 for v in values if v and (v in text or any(len(ln) >= 12 and ln in text
                                                           for ln in v.splitlines()[1:2])))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="*", default=None)
    parser.add_argument("--reps", type=int, default=1, help="timing repetitions (scores come from the first)")
    parser.add_argument("--json", type=Path, default=None, help="also write the result here")
    args = parser.parse_args()
    sets = args.sets or sorted(p.name for p in DATA.iterdir() if (p / "labels.json").exists())
    meta = {s: json.loads((DATA / s / "labels.json").read_text()) for s in sets}
    govbot_bin = str(Path(sys.executable).parent / "govbot")
    result: dict[str, Any] = {"sets": {}, "timing_s": defaultdict(list), "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="govbot-detect-") as tmp_name:
        tmp = Path(tmp_name)
        repo, files = make_repo(tmp, sets)
        result["files"] = len(files)
        result["lines"] = sum(len((repo / f).read_bytes().splitlines()) for f in files)
        tools: dict[str, list[dict[str, Any]]] = {}
        for rep in range(args.reps):
            # A generous tool timeout: on a shared, loaded machine the default 300 s can cut a
            # scanner off, and a cut-off scanner would count as missed findings.
            (tmp / "policy.yml").write_text("limits:\n  tool_timeout_s: 3000\n")
            argv = [govbot_bin, "scan", str(repo), "--base", "main", "--format", "json", "--policy",
                    str(tmp / "policy.yml"), "--output", str(tmp / "report.json"), "--no-progress",
                    "--fail-on", "never"]
            t, out, err, _ = run(argv, tmp)
            result["timing_s"]["govbot"].append(round(t, 2))
            if rep == 0:
                report = json.loads((tmp / "report.json").read_text())
                tools["govbot"] = report["findings"]
                result["govbot_tools"] = {x["name"]: [x["status"], x["duration_s"]] for x in report["tools"]}
                secret_values = [lab["value"] for m in meta.values() if m["kind"] == "secrets"
                                 for lab in m["labels"].values() if lab.get("value")]
                result["secret_values_leaked"] = leaked(secret_values, [(tmp / "report.json").read_bytes(), out, err])
            for name, (t, findings) in anchors(repo, files).items():
                result["timing_s"][name].append(round(t, 2))
                if rep == 0:
                    tools[name] = findings
        tools["bandit-medium+"] = tools["bandit"]
        tools["union"] = tools["semgrep"] + tools["bandit"] + tools["detect-secrets"]
        for set_name, m in meta.items():
            row: dict[str, Any] = {"split": m["split"], "kind": m["kind"], "source": m["source"]}
            for tool, findings in tools.items():
                found = by_file(findings, bandit_min="medium" if tool == "bandit-medium+" else "low")
                if m["kind"] == "vulnerable":
                    row[tool] = score_vulnerable(set_name, m["labels"], found)
                elif m["kind"] == "benign":
                    row[tool] = score_benign(set_name, repo, m["labels"], found)
                else:
                    row[tool] = score_secrets(set_name, m["labels"], found)
            result["sets"][set_name] = row
    result["timing_s"] = dict(result["timing_s"])
    text = json.dumps(result, indent=1)
    if args.json:
        args.json.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
