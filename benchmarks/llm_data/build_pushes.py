"""Build the manifest of real 5-push sequences for the incremental-review benchmark.

A sequence is the first five commits of a real pull request's branch (the second parent of a
merge commit, first-parent order from the merge base): push k is the pull request's diff
base..commit k, and the incremental review of push k sees the range diff commit k-1..commit k.
Read from bare git mirrors (the ``fetch`` tool's /work/.mirror/<owner>+<name>/repo); nothing is
downloaded here and no diff is committed, only the manifest (repo, merge, base, five commits).

Selection, per repository, newest merge first along the default branch's first-parent history:
- the branch has at least five commits and none of the first five is a merge;
- every one of the five commits is small: 1..``--max-commit-lines`` changed lines (added +
  removed, text files) — "typical small pushes";
- the pull request after five pushes touches at least one ``.py`` file and at most
  ``--max-pr-lines`` changed lines (so a full review is a few requests, not a huge PR);
- at most ``--per-repo`` sequences per repository.

The repositories reserved for independent evaluation (/work/shared/RESERVED.md) are refused.

    nice -n 10 .venv/bin/python benchmarks/llm_data/build_pushes.py --mirrors /work/.mirror \\
        --out benchmarks/llm_data/pushes.csv
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

REPOS = (
    "Kozea/Radicale", "pytest-dev/pytest", "pypa/pip", "scrapy/scrapy", "Textualize/rich",
    "gitpython-developers/GitPython", "qutebrowser/qutebrowser", "wagtail/wagtail", "OctoPrint/OctoPrint",
    "vyperlang/vyper", "nicolargo/glances", "Netflix/lemur",
)
RESERVED = frozenset(r.lower() for r in (
    "pallets/flask", "pallets/werkzeug", "pallets/jinja", "pallets/click", "urllib3/urllib3", "psf/requests",
    "yaml/pyyaml", "paramiko/paramiko", "aio-libs/aiohttp", "tornadoweb/tornado", "encode/starlette",
    "encode/httpx", "Kludex/python-multipart", "python-pillow/Pillow", "lxml/lxml",
    "jupyter-server/jupyter_server", "gradio-app/gradio", "simonw/llm", "pydantic/pydantic-settings",
    "s2e-lab/SecurityEval", "s2e-lab/SALLM", "meta-llama/PurpleLlama", "eth-sri/sven",
))
FIELDS = ("repo", "merge", "base", "commits", "commit_lines", "pr_lines")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", f"--git-dir={repo}", *args], check=True, capture_output=True,
                          text=True, errors="replace").stdout


def changed_lines(repo: Path, a: str, b: str) -> tuple[int, bool]:
    """(added + removed text lines, touches a .py file) of the diff a..b."""
    total, py = 0, False
    for row in git(repo, "diff", "--numstat", "--no-renames", a, b).splitlines():
        added, removed, path = row.split("\t", 2)
        if added != "-":
            total += int(added) + int(removed)
        py = py or path.endswith(".py")
    return total, py


def sequences(repo: Path, max_commit: int, max_pr: int, scan: int) -> Iterator[dict[str, str]]:
    merges = git(repo, "rev-list", "--first-parent", "--merges", f"--max-count={scan}", "HEAD").split()
    for merge in merges:
        parents = git(repo, "rev-list", "--parents", "-n", "1", merge).split()[1:]
        if len(parents) != 2:
            continue
        try:
            base = git(repo, "merge-base", parents[0], parents[1]).strip()
        except subprocess.CalledProcessError:
            continue
        branch = git(repo, "rev-list", "--reverse", "--first-parent", "--parents", f"{base}..{parents[1]}")
        rows = [line.split() for line in branch.splitlines()][:5]
        if len(rows) < 5 or any(len(r) != 2 for r in rows):
            continue  # fewer than five commits, or a merge among them
        commits = [r[0] for r in rows]
        sizes = [changed_lines(repo, parent, c)[0] for c, parent in ((r[0], r[1]) for r in rows)]
        if not all(1 <= s <= max_commit for s in sizes):
            continue
        pr, py = changed_lines(repo, base, commits[-1])
        if not py or pr > max_pr:
            continue
        yield {"merge": merge, "base": base, "commits": " ".join(commits),
               "commit_lines": " ".join(map(str, sizes)), "pr_lines": str(pr)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("pushes.csv"))
    parser.add_argument("--repos", nargs="*", default=list(REPOS))
    parser.add_argument("--per-repo", type=int, default=1)
    parser.add_argument("--max-commit-lines", type=int, default=120)
    parser.add_argument("--max-pr-lines", type=int, default=1500)
    parser.add_argument("--scan", type=int, default=400, help="newest merges examined per repository")
    args = parser.parse_args(argv)
    rows: list[dict[str, str]] = []
    for name in args.repos:
        if name.lower() in RESERVED:
            raise SystemExit(f"{name} is reserved for independent evaluation")
        repo = args.mirrors / name.replace("/", "+") / "repo"
        if not repo.is_dir():
            print(f"skipped {name}: no mirror at {repo}", file=sys.stderr)
            continue
        found = 0
        for seq in sequences(repo, args.max_commit_lines, args.max_pr_lines, args.scan):
            rows.append({"repo": name, **seq})
            found += 1
            if found >= args.per_repo:
                break
        print(f"{name}: {found} sequence(s)", file=sys.stderr)
    with args.out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} sequences -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
