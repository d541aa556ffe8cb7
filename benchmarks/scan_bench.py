"""Benchmark: `govbot scan` on a large, real-looking change against the scanners run alone.

    .venv/bin/python benchmarks/scan_bench.py --files 200
    .venv/bin/python benchmarks/scan_bench.py --files 3000 --skip-baseline
    .venv/bin/python benchmarks/scan_bench.py --tree /work/.mirror/pypa+pip/repo@6d309205789d --files 342

With ``--tree GITDIR@COMMIT`` the head commit instead adds the N largest Python files (``_vendor``
excluded) of a real repository at that commit, e.g. a bare mirror brought with the fetch tool.

Builds a git repository whose head commit changes N Python files (~150 lines each, with a few
real vulnerabilities sprinkled in), then measures:
  * govbot: wall time of the whole `govbot scan` process and the peak RSS of its process tree
    (govbot plus all scanners, sampled from /proc every 100 ms, PSS every 500 ms), and the largest single process;
  * sequential: the same three scanner commands govbot runs, one after another;
  * slowest alone: the slowest of those three commands.
Target (issue 2): govbot <= 1.2 x slowest alone; peak RSS <= 500 MB for a 3,000-file change.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from govbot.checks import bandit, secrets, semgrep
from govbot.checks.registry import BY_NAME, ScannerSettings, semgrep_configs
from govbot.checks.runner import tool_env
from govbot.checks.scan import materialise

TEMPLATE = '''"""Module {i}: order handling for region {region}."""

import json
import logging
import os
import subprocess
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass
class Order{i}:
    id: int
    customer: str
    total: float
    items: list[str]

    def to_json(self) -> str:
        return json.dumps({{"id": self.id, "customer": self.customer, "total": self.total}})

'''

FUNC = '''
def compute_{i}_{j}(values: list[float], factor: float = {f}) -> float:
    """Weighted sum number {j}."""
    total = 0.0
    for index, value in enumerate(values):
        if index % 2 == 0:
            total += value * factor
        else:
            total -= value / (factor + 1)
    log.debug("computed %s", total)
    return round(total, 4)

'''

VULNS = [
    '\ndef export_{i}(name):\n    subprocess.run("tar czf /tmp/" + name + ".tgz data/", shell=True)\n',
    '\ndef find_{i}(db, customer):\n    return db.execute(f"SELECT * FROM orders WHERE c = \'{{customer}}\'")\n',
    '\ndef load_{i}(blob):\n    import pickle\n    return pickle.loads(blob)\n',
    '\ndef run_{i}(expr):\n    return eval(expr)\n',
]


def make_repo(root: Path, files: int, seed: int = 7) -> Path:
    rng = random.Random(seed)
    repo = root / "repo"
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.com"}

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)

    git("init", "-q", "--initial-branch=main")
    (repo / "README.md").write_text("bench\n")
    git("add", "-A")
    git("commit", "-qm", "base")
    git("checkout", "-qb", "feature")
    for i in range(files):
        pkg = repo / f"pkg{i % 40}"
        pkg.mkdir(exist_ok=True)
        body = TEMPLATE.format(i=i, region=rng.choice(["eu", "us", "ap"]))
        body += "".join(FUNC.format(i=i, j=j, f=rng.randint(2, 9)) for j in range(9))
        if i % 10 == 0:
            body += VULNS[(i // 10) % len(VULNS)].format(i=i)
        (pkg / f"module_{i}.py").write_text(body)
    if files:
        git("add", "-A")
        git("commit", "-qm", "large change")
    return repo


def make_repo_from_tree(root: Path, tree: str, files: int) -> Path:
    """A repository whose head commit adds the ``files`` largest ``.py`` files of ``GITDIR@COMMIT``."""
    gitdir, _, commit = tree.partition("@")
    listing = subprocess.run(["git", "-C", gitdir, "ls-tree", "-r", "-l", commit or "HEAD"], check=True,
                             capture_output=True, text=True).stdout
    entries = []
    for line in listing.splitlines():
        meta, _, path = line.partition("\t")
        parts = meta.split()
        if parts[1] == "blob" and path.endswith(".py") and "_vendor/" not in path and parts[3] != "-":
            entries.append((int(parts[3]), path, parts[2]))
    chosen = sorted(entries, reverse=True)[:files]
    repo = make_repo(root, 0)
    for _, path, blob in chosen:
        target = repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(subprocess.run(["git", "-C", gitdir, "cat-file", "blob", blob], check=True,
                                          capture_output=True).stdout)
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.com"}
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "large change"], check=True, env=env)
    return repo


def _pss_kb(pid: int) -> int:
    """Proportional set size: shared pages divided among the processes sharing them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kb(pid: int, with_pss: bool = True) -> tuple[int, int, int, int]:
    """(sum of RSS over pid and all descendants, largest single RSS, RSS of pid itself, sum of
    PSS over the tree), in KiB. RSS sums count shared pages once per process; PSS does not."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            ppid, pages = int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = pages * os.sysconf("SC_PAGE_SIZE") // 1024
    total, largest, pss, stack = 0, 0, 0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        pss += _pss_kb(p) if with_pss else 0
        largest = max(largest, rss.get(p, 0))
        stack.extend(children.get(p, []))
    return total, largest, rss.get(pid, 0), pss


def measure(argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> dict[str, float]:
    started = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = [0, 0, 0, 0]
    done = threading.Event()

    def sample() -> None:
        # Reading smaps_rollup walks the target's page tables: every 20 ms it slowed semgrep by
        # ~15% (16.0 s alone unobserved, 18-20 s observed). RSS every 100 ms, PSS every 500 ms.
        n = 0
        while not done.is_set():
            for i, value in enumerate(tree_rss_kb(proc.pid, with_pss=n % 5 == 0)):
                peak[i] = max(peak[i], value)
            n += 1
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU-seconds of the whole process tree (every descendant is waited for by its parent): on a
    # shared machine wall times stretch with the load, CPU-seconds much less.
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(time.monotonic() - started, 2), "cpu_s": round(cpu, 2),
            "peak_tree_rss_mb": round(peak[0] / 1024, 1),
            "peak_single_rss_mb": round(peak[1] / 1024, 1), "peak_root_rss_mb": round(peak[2] / 1024, 1),
            "peak_tree_pss_mb": round(peak[3] / 1024, 1),
            "exit": proc.returncode, "stdout_bytes": len(out),
            "stderr_tail": err.decode(errors="replace")[-300:] if proc.returncode not in (0, 1) else ""}


def baseline(repo: Path, tmp: Path, default_jobs: bool = True) -> dict[str, dict[str, float]]:
    changed = subprocess.run(["git", "-C", str(repo), "diff", "--name-only", "main", "HEAD"], check=True,
                             capture_output=True, text=True).stdout.split()
    files = sorted(changed)
    root = tmp / "materialised"
    root.mkdir()
    materialise(root, {f: (repo / f).read_bytes() for f in files})
    s = ScannerSettings()
    targets = ["./" + f for f in files]
    commands = {
        "semgrep": semgrep.build_argv(s.binary(BY_NAME["semgrep"]), semgrep_configs(s), targets,
                                      rule_timeout_s=s.semgrep_rule_timeout_s, max_memory_mb=s.semgrep_max_memory_mb,
                                      max_target_bytes=s.max_file_bytes),
        "bandit": bandit.build_argv(s.binary(BY_NAME["bandit"]), targets),
        "detect-secrets": secrets.build_argv(s.binary(BY_NAME["secrets"]), targets),
    }
    # Each scanner also with its own default parallelism, in case that is faster alone: the
    # comparison is against the best each tool can do by itself on this machine.
    if default_jobs:
        commands["semgrep (own default jobs)"] = [a for a in commands["semgrep"] if not a.startswith("--jobs=")]
    return {name: measure(argv, cwd=root, env=tool_env()) for name, argv in commands.items()}


def rounds(argv: list[str], repo: Path, tmp: Path, n: int, default_jobs: bool) -> dict[str, object]:
    """``n`` rounds of: govbot, then each scanner alone on the same files. A round's ratio compares
    runs minutes apart, not a govbot run with anchors taken under another load; the median ratio
    over the rounds is the figure."""
    per_round: list[dict[str, object]] = []
    for i in range(n):
        load = os.getloadavg()[0]
        gov = measure(argv)
        scratch = tmp / f"round-{i}"
        scratch.mkdir()
        base = baseline(repo, scratch, default_jobs=default_jobs)
        slowest_name, slowest = max(((k, float(v["wall_s"])) for k, v in base.items()), key=lambda kv: kv[1])
        per_round.append({"load_1min": round(load, 2), "govbot_wall_s": gov["wall_s"], "govbot_cpu_s": gov["cpu_s"],
                          "govbot_peak_tree_pss_mb": gov["peak_tree_pss_mb"],
                          "govbot_peak_tree_rss_mb": gov["peak_tree_rss_mb"],
                          "alone_wall_s": {k: v["wall_s"] for k, v in base.items()},
                          "alone_cpu_s": {k: v["cpu_s"] for k, v in base.items()},
                          "slowest": slowest_name, "ratio": round(float(gov["wall_s"]) / slowest, 3)})
    ratios = sorted(float(r["ratio"]) for r in per_round)  # type: ignore[arg-type]
    mid = len(ratios) // 2
    median = ratios[mid] if len(ratios) % 2 else (ratios[mid - 1] + ratios[mid]) / 2
    return {"rounds": per_round, "govbot_over_slowest_median": round(median, 3),
            "govbot_over_slowest_range": [ratios[0], ratios[-1]],
            "peak_tree_pss_mb_max": max(float(r["govbot_peak_tree_pss_mb"]) for r in per_round)}  # type: ignore[arg-type]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--tree", help="GITDIR@COMMIT: add its N largest Python files instead of generated ones")
    parser.add_argument("--no-default-jobs", action="store_true",
                        help="skip semgrep with its own default parallelism (never the fastest on 2 cores)")
    parser.add_argument("--repeat", type=int, default=1, help="run govbot this many times (best and all kept)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternate govbot and the three scanners alone N times; report each round's ratio "
                             "and the median (on a shared machine the load drifts between runs)")
    args = parser.parse_args()
    govbot_bin = str(Path(sys.executable).parent / "govbot")
    with tempfile.TemporaryDirectory(prefix="govbot-bench-") as tmp_name:
        tmp = Path(tmp_name)
        repo = make_repo_from_tree(tmp, args.tree, args.files) if args.tree else make_repo(tmp, args.files)
        lines = sum(len((repo / f).read_bytes().splitlines()) for f in subprocess.run(
            ["git", "-C", str(repo), "diff", "--name-only", "main", "HEAD"], check=True, capture_output=True,
            text=True).stdout.split())
        result: dict[str, object] = {"changed_files": args.files, "lines": lines, "cpus": os.cpu_count(),
                                     "load_before": os.getloadavg()}
        argv = [govbot_bin, "scan", str(repo), "--base", "main", "--format", "json",
                "--output", str(tmp / "report.json"), "--no-progress"]
        if args.rounds > 1:
            result.update(rounds(argv, repo, tmp, args.rounds, default_jobs=not args.no_default_jobs))
        else:
            runs = [measure(argv) for _ in range(args.repeat)]
            run = min(runs, key=lambda r: float(r["wall_s"]))
            result["govbot_all_wall_s"] = [r["wall_s"] for r in runs]
            result["govbot"] = run
            if not args.skip_baseline:
                base = baseline(repo, tmp, default_jobs=not args.no_default_jobs)
                result["alone"] = base
                best = {tool: min(float(v["wall_s"]) for k, v in base.items() if k.startswith(tool))
                        for tool in ("semgrep", "bandit", "detect-secrets")}
                result["best_alone_s"] = best
                seq = sum(best.values())
                slowest = max(best.values())
                result["sequential_s"] = round(seq, 2)
                result["slowest_alone_s"] = slowest
                result["govbot_over_slowest"] = round(float(run["wall_s"]) / slowest, 2)
                result["govbot_over_sequential"] = round(float(run["wall_s"]) / seq, 2)
        report = json.loads((tmp / "report.json").read_text())
        result["govbot_findings"] = len(report["findings"])
        result["govbot_tools"] = {t["name"]: [t["status"], t["duration_s"]] for t in report["tools"]}
        result["load_after"] = os.getloadavg()
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
