"""policy/base.py: the policy and the semgrep rule files read from the base tree, over a tree in
memory (the local-git and GitHub trees are checked against each other in tests/bot/github)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from govbot.core.errors import PolicyError
from govbot.core.globs import glob_match
from govbot.policy.base import policy_at_base, semgrep_rule_files, too_large
from govbot.policy.loader import MAX_RULE_FILE_BYTES, MAX_RULE_FILES, default_policy, load_policy_text

RULE = b"rules:\n  - id: r\n    pattern: eval(...)\n    message: m\n    languages: [python]\n    severity: ERROR\n"


class DictTree:
    """A base tree in memory; a value of None is a symlink (listed, never read)."""

    label = "0123456789ab"

    def __init__(self, files: dict[str, bytes | None]) -> None:
        self.files = files
        self.reads: list[str] = []

    def read_file(self, path: str, max_bytes: int) -> bytes | None:
        self.reads.append(path)
        data = self.files.get(path)
        if data is not None and len(data) > max_bytes:
            raise too_large(path, len(data), max_bytes, self.label)
        return data

    def files_matching(self, globs: Sequence[str]) -> list[str]:
        return [p for p in self.files if glob_match(p, globs)]


def rules_policy(*globs: str) -> str:
    return "version: 1\nsemgrep:\n  rules: [" + ", ".join(f"'{g}'" for g in globs) + "]\n  registry: ['p/ci']\n"


def test_no_policy_file_is_the_builtin_default_and_says_so() -> None:
    policy, source = policy_at_base(DictTree({}), ".github/govbot.yml")
    assert policy == default_policy()
    assert source == "builtin default (no .github/govbot.yml on the base branch, 0123456789ab)"


def test_the_policy_file_is_read_from_the_tree_and_named_with_its_commit() -> None:
    tree = DictTree({".github/govbot.yml": b"version: 1\nsettings:\n  fail_on: block\n"})
    policy, source = policy_at_base(tree, ".github/govbot.yml")
    assert policy.settings.fail_on == "block"
    assert source == ".github/govbot.yml@0123456789ab (base branch)"


def test_rule_files_are_copied_in_path_order_then_registry_configs(tmp_path: Path) -> None:
    tree = DictTree({".semgrep/b.yml": RULE + b"# b\n", ".semgrep/a.yaml": RULE, ".semgrep/notes.md": b"x",
                     ".semgrep/link.yml": None})
    configs = semgrep_rule_files(tree, load_policy_text(rules_policy(".semgrep/*"), "p"), tmp_path)
    assert [Path(c).read_bytes() for c in configs[:-1]] == [RULE, RULE + b"# b\n"]
    assert configs[-1] == "p/ci"
    assert ".semgrep/notes.md" not in tree.reads  # only .yml/.yaml files are read


def test_no_rules_glob_reads_nothing(tmp_path: Path) -> None:
    tree = DictTree({".semgrep/a.yml": RULE})
    assert semgrep_rule_files(tree, load_policy_text(b"version: 1\n", "p"), tmp_path) == ()
    assert tree.reads == []


@pytest.mark.parametrize("files", [{}, {".semgrep/notes.txt": b"x"}, {".semgrep/link.yml": None}])
def test_globs_matching_no_readable_rule_file_are_a_config_error(tmp_path: Path, files: dict[str, bytes | None]) -> None:
    with pytest.raises(PolicyError, match=r"matched no \.yml file at the base commit 0123456789ab"):
        semgrep_rule_files(DictTree(files), load_policy_text(rules_policy(".semgrep/*"), "p"), tmp_path)


def test_too_many_rule_files_is_a_config_error_before_any_read(tmp_path: Path) -> None:
    tree = DictTree({f"r/{i:03}.yml": RULE for i in range(MAX_RULE_FILES + 1)})
    with pytest.raises(PolicyError, match=f"matched {MAX_RULE_FILES + 1} files"):
        semgrep_rule_files(tree, load_policy_text(rules_policy("r/*.yml"), "p"), tmp_path)
    assert tree.reads == []


def test_an_oversized_rule_file_names_its_size_and_the_limit(tmp_path: Path) -> None:
    tree = DictTree({"r/big.yml": b"#" * (MAX_RULE_FILE_BYTES + 1)})
    with pytest.raises(PolicyError, match=f"r/big.yml is {MAX_RULE_FILE_BYTES + 1:,} bytes .* the limit is "
                                          f"{MAX_RULE_FILE_BYTES:,}"):
        semgrep_rule_files(tree, load_policy_text(rules_policy("r/*.yml"), "p"), tmp_path)
