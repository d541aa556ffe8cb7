"""Rebuild the detection dev sets of issue 12 under /work/data/detection/ (nothing is committed).

    nice -n 10 .venv/bin/python benchmarks/detection_data.py [--out /work/data/detection]

Reads ``benchmarks/data/detection/sources.json``: each source is a public repository at a pinned
commit, already on this machine as a bare mirror (``/work/.mirror/<owner>+<name>/repo``, brought
by the session's ``fetch`` tool; ``--mirrors`` points elsewhere). Writes one folder per source
with the selected files and a ``labels.json``:

* ``owasp-csv:<file>``: OWASP BenchmarkPython's expected results (test name, category, real
  vulnerability true/false, CWE) label each ``testcode/BenchmarkTestNNNNN.py``.
* ``semgrep-ruleid``: a semgrep-rules test file with at least one ``# ruleid:`` annotation is
  vulnerable, labelled with the CWE(s) of the rule in the sibling ``.yaml``.
* ``name-map``: a held-out set labelled from file names alone, before govbot ran on it: the
  source's ``name_map`` is a list of ``[glob, "vulnerable" | "safe", [CWE, ...]]``, the first
  matching glob labels a file, and files no glob matches are left out.
* no labels (benign sources): every file is benign.

It also writes the generated secrets/decoys set (``secrets/``, see ``detection_secrets.py``).
Refuses every source listed in the shared RESERVED list.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

sys.path.insert(0, str(Path(__file__).parent))
import detection_secrets

MANIFEST = Path(__file__).parent / "data" / "detection" / "sources.json"
RESERVED = (
    "pallets/", "urllib3/urllib3", "psf/requests", "yaml/pyyaml", "paramiko/paramiko", "aio-libs/aiohttp",
    "tornadoweb/tornado", "encode/starlette", "encode/httpx", "kludex/python-multipart", "python-pillow/pillow",
    "lxml/lxml", "jupyter-server/jupyter_server", "gradio-app/gradio", "simonw/llm", "pydantic/pydantic-settings",
    "s2e-lab/securityeval", "s2e-lab/sallm", "meta-llama/purplellama", "eth-sri/sven",
)  # fmt: skip
CWE_RE = re.compile(r"CWE-(\d+)")


def is_reserved(repo: str) -> bool:
    name = repo.lower()
    return any(name == r or (r.endswith("/") and name.startswith(r)) for r in RESERVED)


def git(mirror: Path, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", str(mirror), *args], check=True, capture_output=True).stdout


def selected(paths: list[str], include: list[str]) -> list[str]:
    return [p for p in paths if any(fnmatch.fnmatch(p, g) or fnmatch.fnmatch(p, g.replace("**/", "")) for g in include)]


def owasp_labels(csv_text: str) -> dict[str, dict[str, Any]]:
    labels: dict[str, dict[str, Any]] = {}
    for line in csv_text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, category, real, cwe = (x.strip() for x in line.split(",")[:4])
        labels[f"testcode/{name}.py"] = {"vulnerable": real == "true", "cwes": [int(cwe)], "category": category}
    return labels


def semgrep_labels(mirror: Path, commit: str, files: list[str]) -> dict[str, dict[str, Any]]:
    yaml = YAML(typ="safe", pure=True)
    labels: dict[str, dict[str, Any]] = {}
    for path in files:
        text = git(mirror, "show", f"{commit}:{path}").decode("utf-8", "replace")
        ids = set(re.findall(r"#\s*ruleid:\s*([\w.-]+)", text))
        if not ids:
            continue
        try:
            rules = yaml.load(git(mirror, "show", f"{commit}:{path[:-3]}.yaml")) or {}
        except subprocess.CalledProcessError:
            continue
        cwes = sorted({int(c) for r in rules.get("rules", []) if r.get("id") in ids
                       for c in CWE_RE.findall(json.dumps((r.get("metadata") or {}).get("cwe", [])))})
        if cwes:
            labels[path] = {"vulnerable": True, "cwes": cwes, "category": ",".join(sorted(ids))}
    return labels


def name_map_labels(files: list[str], name_map: list[list[Any]]) -> dict[str, dict[str, Any]]:
    labels: dict[str, dict[str, Any]] = {}
    for path in files:
        rule = next((r for r in name_map if fnmatch.fnmatch(path, r[0])), None)
        if rule is not None:
            labels[path] = {"vulnerable": rule[1] == "vulnerable", "cwes": list(rule[2]), "category": rule[0]}
    return labels


def build_source(src: dict[str, Any], mirrors: Path, out: Path) -> dict[str, Any]:
    if is_reserved(src["repo"]):
        raise SystemExit(f"refusing reserved source {src['repo']}")
    mirror = mirrors / src["repo"].replace("/", "+") / "repo"
    if not mirror.exists():
        raise SystemExit(f"{src['repo']}: no mirror at {mirror}; fetch it first")
    commit = src["commit"]
    paths = git(mirror, "ls-tree", "-r", "--name-only", commit).decode().splitlines()
    files = selected(paths, src["include"])
    kind = src.get("labels", "")
    if kind.startswith("owasp-csv:"):
        labels = owasp_labels(git(mirror, "show", f"{commit}:{kind.split(':', 1)[1]}").decode())
        files = [f for f in files if f in labels]
    elif kind == "semgrep-ruleid":
        labels = semgrep_labels(mirror, commit, files)
        files = [f for f in files if f in labels]
    elif kind == "name-map":
        labels = name_map_labels(files, src["name_map"])
        files = [f for f in files if f in labels]
    else:
        labels = {f: {"vulnerable": False, "cwes": []} for f in files}
    dest = out / src["name"]
    dest.mkdir(parents=True, exist_ok=True)
    for f in files:
        target = dest / f
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(git(mirror, "show", f"{commit}:{f}"))
    meta = {"source": src["repo"], "commit": commit, "kind": src["kind"], "split": src["split"],
            "labels": {f: labels[f] for f in files}}
    (dest / "labels.json").write_text(json.dumps(meta, indent=1, sort_keys=True))
    return {"name": src["name"], "files": len(files)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("/work/data/detection"))
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    manifest = json.loads(MANIFEST.read_text())
    for src in manifest["sources"]:
        if args.only is None or src["name"] in args.only:
            print(json.dumps(build_source(src, args.mirrors, args.out)))
    print(json.dumps(detection_secrets.write_set(args.out / "secrets")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
