"""Build the router's real-commit data set: manifest (committed) + diffs (regenerated, not committed).

    nice -n 10 .venv/bin/python benchmarks/router_data/build_dataset.py \
        --advisories /work/.mirror/pypa+advisory-database/repo --mirrors /work/.mirror \
        --manifest benchmarks/router_data/manifest.csv --out /work/data/router/examples.jsonl

Security rows: fix commits named by the pypa/advisory-database OSV records, plus commits whose
message cites a CVE/GHSA/PYSEC id and a fix word. Lint and feature rows: sampled from the same
repositories by the heuristics in ``govbot.router.dataset``. Reserved evaluation sources and
TensorFlow are refused. With ``--from-manifest`` the diffs are regenerated for an existing manifest.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from govbot.router.dataset import (
    Row,
    advisory_rows,
    commit_diff,
    is_refused,
    label_history,
    load_osv_dir,
    resolve_sha,
)


def find_mirrors(root: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for d in sorted(root.iterdir()):
        if "+" not in d.name:
            continue
        for cand in (d / "repo" / ".git", d / "repo"):
            if (cand / "HEAD").exists():
                out[d.name.replace("+", "/", 1).lower()] = cand
                break
    return out


def osv_records(advisories: Path, cache: Path | None) -> list[dict]:
    """Every OSV record of the advisory repository's HEAD; parsed once per HEAD when ``cache`` is given."""
    head = subprocess.run(["git", f"--git-dir={advisories}", "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    if cache is not None and cache.exists():
        data = json.loads(cache.read_text())
        if data.get("head") == head:
            return data["records"]
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", f"--git-dir={advisories}", "archive", "HEAD", "vulns"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        records = list(load_osv_dir(Path(tmp)))
    if cache is not None:
        cache.write_text(json.dumps({"head": head, "records": records}, default=str))
    return records


def collect(advisories: Path, cache: Path | None, mirrors: dict[str, Path], history: int, per_repo: int) -> list[Row]:
    """Advisory fix commits found in the mirrors, plus each repository's labelled history."""
    by_repo: dict[str, list[Row]] = {}
    for r in advisory_rows(osv_records(advisories, cache)):
        by_repo.setdefault(r.repo, []).append(r)
    rows: list[Row] = []
    for repo, sec in sorted(by_repo.items()):
        gitdir = mirrors.get(repo)
        if gitdir is None or is_refused(repo):
            continue
        found = [Row(r.repo, full, r.label, r.evidence) for r in sec if (full := resolve_sha(gitdir, r.sha))]
        if not found:
            print(f"{repo}: no advisory commit in the mirror, skipped", file=sys.stderr)
            continue
        rows.extend(found)
        try:
            rows.extend(label_history(repo, gitdir, [r.sha for r in found], history, per_repo))
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            print(f"{repo}: history skipped ({exc})", file=sys.stderr)
        print(f"{repo}: {len(rows)} rows so far", file=sys.stderr)
    return rows


def write_examples(rows: list[Row], mirrors: dict[str, Path], out_path: Path) -> list[Row]:
    """One JSON line per row with its regenerated diff; rows without a diff are dropped."""
    seen: set[str] = set()  # a commit is one row, even when two repositories (forks) hold it
    kept: list[Row] = []
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("w") as out:
        for r in sorted(rows, key=lambda r: (r.repo, r.sha)):
            gitdir = mirrors.get(r.repo)
            if r.sha in seen or is_refused(r.repo) or gitdir is None:
                continue
            seen.add(r.sha)
            try:
                _, diff = commit_diff(gitdir, r.sha)
            except (RuntimeError, subprocess.TimeoutExpired):
                continue
            if diff.strip():
                kept.append(r)
                out.write(json.dumps({"repo": r.repo, "sha": r.sha, "label": r.label, "evidence": r.evidence,
                                      "diff": diff}) + "\n")
    return kept


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--advisories", type=Path)
    ap.add_argument("--mirrors", type=Path, required=True)
    ap.add_argument("--manifest", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--history", type=int, default=4000, help="newest commits scanned per repository")
    ap.add_argument("--per-repo-other", type=int, default=40)
    ap.add_argument("--osv-cache", type=Path, help="JSON cache of the parsed advisory records")
    ap.add_argument("--from-manifest", action="store_true", help="regenerate diffs for the manifest")
    args = ap.parse_args(argv)
    mirrors = find_mirrors(args.mirrors)
    if args.from_manifest:
        with args.manifest.open(newline="") as fh:
            rows = [Row(r["repo"], r["sha"], r["label"], r["evidence"]) for r in csv.DictReader(fh)]
    else:
        rows = collect(args.advisories, args.osv_cache, mirrors, args.history, args.per_repo_other)
    kept = write_examples(rows, mirrors, args.out)
    if not args.from_manifest:
        args.manifest.parent.mkdir(parents=True, exist_ok=True)
        with args.manifest.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["repo", "sha", "label", "evidence"])
            for r in kept:
                w.writerow([r.repo, r.sha, r.label, r.evidence])
    counts: dict[str, int] = {}
    for r in kept:
        counts[r.label] = counts.get(r.label, 0) + 1
    print(json.dumps({"rows": len(kept), "repos": len({r.repo for r in kept}), "by_label": counts,
                      "security_repos": len({r.repo for r in kept if r.label == "security"})}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
