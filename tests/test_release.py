"""The release can be pinned: the lock covers every runtime dependency with exact versions and
hashes, the action installs from it with --require-hashes, and the versions agree."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import govbot

ROOT = Path(__file__).resolve().parents[1]


def lock_entries() -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) from requirements.lock."""
    text = (ROOT / "requirements.lock").read_text("utf-8")
    entries: dict[str, tuple[str, list[str]]] = {}
    for block in re.split(r"\n(?=\S)", text):
        m = re.match(r"([A-Za-z0-9_.\-\[\]]+)==([^\s;\\]+)", block)
        if m:
            name = canonicalize_name(m.group(1).split("[")[0])
            entries[name] = (m.group(2), re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return entries


def test_every_locked_package_is_exact_and_hashed() -> None:
    text = (ROOT / "requirements.lock").read_text("utf-8")
    requirement_lines = [ln for ln in text.splitlines() if ln and not ln[0].isspace() and not ln.startswith("#")]
    entries = lock_entries()
    assert len(entries) == len(requirement_lines) > 20
    for name, (version, hashes) in entries.items():
        assert hashes, f"{name}=={version} has no hash"


def test_lock_covers_every_runtime_dependency_within_its_range() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"]
    entries = lock_entries()
    for dep in map(Requirement, deps):
        name = canonicalize_name(dep.name)
        assert name in entries, f"{dep.name} is a runtime dependency but not in requirements.lock"
        assert dep.specifier.contains(entries[name][0], prereleases=True), f"{dep} vs lock {entries[name][0]}"


def test_lock_respects_semgreps_opentelemetry_range_and_the_input_pins() -> None:
    entries = lock_entries()
    assert entries["opentelemetry-api"][0].startswith("1.37.")
    pins = [Requirement(ln) for ln in (ROOT / "requirements.in").read_text("utf-8").splitlines()
            if ln.strip() and not ln.startswith("#")]
    for req in pins:
        assert req.specifier.contains(entries[canonicalize_name(req.name)][0])


def test_action_installs_only_from_the_lock() -> None:
    action = (ROOT / "action.yml").read_text("utf-8")
    assert '--require-hashes -r "$ACTION_PATH/requirements.lock"' in action
    assert '--no-deps --no-build-isolation "$ACTION_PATH"' in action
    installs = re.findall(r"pip install(?:[^\n\\]|\\\n)*", action)
    assert installs and all("--require-hashes" in i or "--no-deps" in i for i in installs), installs


def test_versions_agree_and_the_changelog_names_this_release() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    assert govbot.__version__ == version
    assert f"## [{version}]" in (ROOT / "CHANGELOG.md").read_text("utf-8")
    workflow = (ROOT / ".github" / "workflows" / "release.yml").read_text("utf-8")
    assert re.search(r"uses: actions/checkout@[0-9a-f]{40} ", workflow)
    assert "gh release create" in workflow


def test_example_workflows_are_complete_and_every_documented_input_exists() -> None:
    from ruamel.yaml import YAML

    action = YAML(typ="safe").load((ROOT / "action.yml").read_text("utf-8"))
    assert action["inputs"]["fork-llm"]["default"] == "false"
    for doc in ("README.md", "docs/action.md"):
        text = (ROOT / doc).read_text("utf-8")
        example = YAML(typ="safe").load(text.split("```yaml\n", 1)[1].split("```", 1)[0])
        on = example.get("on", example.get(True))
        assert {"labeled", "unlabeled"} <= set(on["pull_request_target"]["types"]), doc
        job = example["jobs"]["govbot"]
        assert job["timeout-minutes"] <= 60, doc
        step = job["steps"][0]
        assert set(step.get("with", {})) <= set(action["inputs"]), doc
        assert "OWNER/" not in text, doc
