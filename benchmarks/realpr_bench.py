"""Benchmark: `govbot scan` with the default policy on real merged commits of open-source projects.

    nice -n 10 .venv/bin/python benchmarks/realpr_bench.py --label after
    nice -n 10 .venv/bin/python benchmarks/realpr_bench.py --only pypa/pip --limit 3

The commits are listed in ``benchmarks/data/realpr_manifest.json`` (repository, sha, kind, why).
The repositories are bare mirrors brought with the session's ``fetch`` tool under
``/work/.mirror/<owner>+<name>/repo`` (``--mirrors``); nothing is downloaded here. For each
repository the script makes one local clone (``git clone --shared --no-checkout``) under
``/work/data/realpr/`` (``--data``), then for each commit checks it out and runs, as a user would:

    govbot scan --base <sha>^ --head <sha> --format json --no-progress

with no policy file of its own (govbot's default policy) and no LLM key in the environment. It
counts the outcomes (pass / warn / review_required / block), incomplete analyses (the report says
``decision.complete: false``), crashes (no valid JSON report, or an exit code other than 0/1/2)
and wall time, and writes every result to ``<data>/results-<label>.json``.

Target (issue 10): on >= 50 commits, at most 1 block, at most 2 incomplete, no crash.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "data" / "realpr_manifest.json"
# Sources kept for independent evaluation (/work/shared/RESERVED.md): never used as data here.
RESERVED = (
    "pallets/", "urllib3/", "psf/requests", "yaml/pyyaml", "paramiko/", "aio-libs/aiohttp",
    "tornadoweb/", "encode/starlette", "encode/httpx", "kludex/python-multipart", "python-pillow/",
    "lxml/", "jupyter-server/", "gradio-app/", "simonw/llm", "pydantic/pydantic-settings",
    "s2e-lab/", "meta-llama/purplellama", "eth-sri/sven",
)
# Vendored copies of reserved projects inside an allowed repository (pip vendors requests, urllib3).
RESERVED_PATHS = ("_vendor/requests/", "_vendor/urllib3/")
SCRUBBED_ENV = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GITHUB_TOKEN", "GH_TOKEN", "GOVBOT_LLM")


def reserved(repo: str) -> bool:
    name = repo.lower()
    return any(name.startswith(r) or name == r.rstrip("/") for r in RESERVED)


def load_manifest(path: Path) -> list[dict[str, str]]:
    commits: list[dict[str, str]] = json.loads(path.read_text("utf-8"))["commits"]
    for c in commits:
        if reserved(c["repo"]):
            raise SystemExit(f"{c['repo']} is reserved for independent evaluation; remove it from {path}")
    return commits


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def clone_for(repo: str, mirrors: Path, data: Path) -> Path:
    mirror = mirrors / repo.replace("/", "+") / "repo"
    if not mirror.is_dir():
        raise SystemExit(f"no mirror of {repo} at {mirror}: bring it with the fetch tool first")
    target = data / repo.replace("/", "+")
    if not (target / ".git").is_dir():
        git("clone", "--quiet", "--shared", "--no-checkout", str(mirror), str(target))
    return target


def touches_reserved(clone: Path, sha: str) -> bool:
    names = git("diff", "--name-only", f"{sha}^", sha, cwd=clone).splitlines()
    return any(part in n for n in names for part in RESERVED_PATHS)


def run_one(govbot: str, clone: Path, sha: str, timeout_s: float) -> dict[str, Any]:
    git("-c", "advice.detachedHead=false", "checkout", "--quiet", "--force", sha, cwd=clone)
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    argv = [govbot, "scan", "--base", f"{sha}^", "--head", sha, "--format", "json", "--no-progress"]
    start = time.monotonic()
    try:
        proc = subprocess.run(argv, check=False, cwd=clone, env=env, capture_output=True, text=True,
                              timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return {"result": "crash", "exit": None, "seconds": timeout_s, "error": f"timed out after {timeout_s}s"}
    seconds = round(time.monotonic() - start, 2)
    out: dict[str, Any] = {"exit": proc.returncode, "seconds": seconds}
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        report = None
    if report is None or proc.returncode not in (0, 1, 2):
        out.update(result="crash", error=proc.stderr.strip()[-2000:])
        return out
    decision = report["decision"]
    findings = report.get("findings", [])
    out.update(
        result=decision["outcome"],
        complete=decision.get("complete", True),
        reasons=[{"rule": r["rule"], "action": r["action"], "message": r["message"][:300]}
                 for r in decision["reasons"]],
        notices=list(decision.get("notices", []))[:5],
        findings=len(findings),
        findings_in_diff=sum(1 for f in findings if f.get("in_diff")),
        # compared with the base version: a base scan ran for these files
        pre_existing=sum(1 for f in findings if f.get("baseline") == "pre_existing"),
        new=sum(1 for f in findings if f.get("baseline") == "new"),
        files_changed=report["change"].get("files_changed"),
    )
    return out


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    outcomes = Counter(r["result"] for r in results)
    seconds = sorted(r["seconds"] for r in results)
    return {
        "commits": len(results),
        "outcomes": dict(sorted(outcomes.items())),
        "incomplete": sum(1 for r in results if r.get("complete") is False),
        "crash": outcomes.get("crash", 0),
        "seconds_total": round(sum(seconds), 1),
        "seconds_median": seconds[len(seconds) // 2] if seconds else 0,
        "seconds_max": seconds[-1] if seconds else 0,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", type=Path, default=MANIFEST)
    p.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    p.add_argument("--data", type=Path, default=Path("/work/data/realpr"))
    p.add_argument("--govbot", default=str(Path(sys.executable).parent / "govbot"),
                   help="the govbot executable to measure (default: the one beside this Python)")
    p.add_argument("--label", default="run", help="results go to <data>/results-<label>.json")
    p.add_argument("--only", help="only this repository (owner/name)")
    p.add_argument("--start", type=int, default=0, help="skip the first N commits of the manifest")
    p.add_argument("--limit", type=int, default=0, help="at most this many commits")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per scan")
    args = p.parse_args(argv)

    commits = load_manifest(args.manifest)
    if args.only:
        commits = [c for c in commits if c["repo"] == args.only]
    commits = commits[args.start:]
    if args.limit:
        commits = commits[: args.limit]
    args.data.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]] = []
    for c in commits:
        clone = clone_for(c["repo"], args.mirrors, args.data)
        if touches_reserved(clone, c["sha"]):
            raise SystemExit(f"{c['repo']} {c['sha']} changes a vendored reserved project; pick another")
        r = {**c, **run_one(args.govbot, clone, c["sha"], args.timeout)}
        results.append(r)
        blocking = ",".join(x["rule"] for x in r.get("reasons", []) if x["action"] == "block")
        flag = "" if r.get("complete", True) else " INCOMPLETE"
        print(f"{r['result']:16} {r['seconds']:7.1f}s {c['repo']}@{c['sha'][:10]} {c['kind']}{flag}"
              f"{' ' + blocking if blocking else ''}", flush=True)
    summary = summarise(results)
    out = args.data / f"results-{args.label}.json"
    out.write_text(json.dumps({"summary": summary, "results": results}, indent=1), "utf-8")
    print(json.dumps(summary, indent=1))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
