"""What the base branch says: the policy in force and the semgrep rule files it names, read
through a ``BaseTree`` (local git or GitHub; never the PR's copy). Shared by the CLI, the Action
and the App so the three read the same files with the same limits and messages."""

from __future__ import annotations

from pathlib import Path

from govbot.core.errors import PolicyError
from govbot.core.globs import glob_match
from govbot.core.ports import BaseTree
from govbot.policy.loader import (
    MAX_POLICY_BYTES,
    MAX_RULE_FILE_BYTES,
    MAX_RULE_FILES,
    default_policy,
    load_policy_text,
)
from govbot.policy.model import Policy


def policy_at_base(tree: BaseTree, path: str) -> tuple[Policy, str]:
    """The policy file at ``path`` in the base tree, or the built-in default when there is none;
    with the source name reports show."""
    data = tree.read_file(path, MAX_POLICY_BYTES)
    if data is None:
        return default_policy(), f"builtin default (no {path} on the base branch, {tree.label})"
    source = f"{path}@{tree.label} (base branch)"
    return load_policy_text(data, source), source


def semgrep_rule_files(tree: BaseTree, policy: Policy, dest: Path) -> tuple[str, ...]:
    """The policy's extra semgrep rule files, copied from the base tree into ``dest``, then its
    registry configs: what ``ScannerSettings.semgrep_configs`` takes."""
    globs = policy.semgrep.rules
    if not globs:
        return tuple(policy.semgrep.registry)
    matches = sorted(p for p in tree.files_matching(globs)
                     if glob_match(p, globs) and p.endswith((".yml", ".yaml")))
    if not matches:
        raise PolicyError("policy", [f"semgrep.rules {list(globs)} matched no .yml file at the base commit "
                                     f"{tree.label}"])
    if len(matches) > MAX_RULE_FILES:
        raise PolicyError("policy", [f"semgrep.rules {list(globs)} matched {len(matches)} files at the base "
                                     f"commit; at most {MAX_RULE_FILES} are read (narrow the globs)"])
    configs: list[str] = []
    for path in matches:
        data = tree.read_file(path, MAX_RULE_FILE_BYTES)
        if data is None:
            continue  # listed but not a regular file (a symlink): never read as rules
        target = dest / f"rules-{len(configs):03d}.yml"
        target.write_bytes(data)
        configs.append(str(target))
    if not configs:
        raise PolicyError("policy", [f"semgrep.rules {list(globs)} matched no .yml file at the base commit "
                                     f"{tree.label}"])
    return (*configs, *policy.semgrep.registry)


def too_large(path: str, size: int, max_bytes: int, label: str) -> PolicyError:
    """The one message for a policy or rule file over its limit, whichever tree it is in."""
    return PolicyError("policy", [f"{path} is {size:,} bytes at the base commit {label}; the limit is {max_bytes:,}"])
