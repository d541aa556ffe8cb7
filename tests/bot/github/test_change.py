from __future__ import annotations

import pytest

from govbot.bot.github.change import (
    _literal_dir,
    apply_tree_modes,
    build_change,
    changed_file,
    limits_hit,
    parse_patch,
)
from govbot.bot.github.port import CommitData, PullData, PullFile, TreeEntry, UserRef
from govbot.core.models import FileKind, FileStatus


def pull(**over: object) -> PullData:
    base = dict(number=7, state="open", merged=False, draft=False, title="t", body="b",
                user=UserRef("alice", 1, "User"), head_sha="h" * 40, head_ref="feat", head_repo="x/shop",
                base_sha="b" * 40, base_ref="main", base_repo="octo/shop", labels=("bug",),
                changed_files=1, additions=3, deletions=1, commits=1)
    base.update(over)
    return PullData(**base)  # type: ignore[arg-type]


def test_parse_patch_hunks_and_added_lines() -> None:
    patch = "@@ -1,3 +1,4 @@\n a\n-b\n+B\n+C\n c\n@@ -10 +11,2 @@\n x\n+y\n\\ No newline at end of file"
    parsed = parse_patch(patch)
    assert parsed is not None
    hunks, added = parsed
    assert [(h.old_start, h.new_start, h.new_lines) for h in hunks] == [(1, 1, 4), (10, 11, 2)]
    assert added == {2, 3, 12}


def test_changed_file_statuses_and_rename() -> None:
    f = changed_file(PullFile("new.py", "renamed", "s" * 40, 1, 0, 1, "@@ -1 +1,2 @@\n a\n+b",
                              previous_filename="old.py"))
    assert (f.status, f.old_path, f.head_blob, f.added_lines) == (FileStatus.RENAMED, "old.py", "s" * 40, {2})
    gone = changed_file(PullFile("x.py", "removed", "s" * 40, 0, 3, 3, "@@ -1,3 +0,0 @@\n-a\n-b\n-c"))
    assert gone.status is FileStatus.DELETED and gone.head_blob is None
    sub = changed_file(PullFile("vendor/lib", "modified", "s" * 40, 1, 1, 2,
                                "@@ -1 +1 @@\n-Subproject commit " + "a" * 40 + "\n+Subproject commit " + "b" * 40))
    assert sub.kind is FileKind.SUBMODULE


def test_limits_detected_never_silently_ignored() -> None:
    files = [PullFile(f"f{i}", "added", "s" * 40, 1, 0, 1, "@@ -0,0 +1 @@\n+x") for i in range(3000)]
    notes = limits_hit(pull(changed_files=3400, additions=25_000, commits=300), files, [])
    assert any("3,000 of 3,400" in n and "at most 3,000" in n for n in notes)
    assert any("300 files / 20,000 lines" in n for n in notes)
    assert any("0 of 300 commits" in n for n in notes)
    no_patch = [PullFile("big.sql", "modified", "s" * 40, 900, 10, 910, None)]
    assert any("no patch for 1 file" in n for n in limits_hit(pull(), no_patch, []))
    assert limits_hit(pull(commits=0), [PullFile("a", "added", "s" * 40, 3, 1, 4, "@@ -0,0 +1 @@\n+x")], []) == ()


def test_build_change_carries_pr_meta_and_commit_accounts() -> None:
    c = CommitData("c" * 40, ("b" * 40,), "msg", "A", "a@x", "A", "a@x", UserRef("alice", 1, "User"), None)
    change = build_change(pull(), [PullFile("a.py", "added", "s" * 40, 1, 0, 1, "@@ -0,0 +1 @@\n+x")], [c])
    assert change.pr is not None and change.pr.from_fork and change.pr.labels == ("bug",)
    assert change.commits[0].author_login == "alice" and change.commits[0].committer_login is None
    assert (change.base, change.head) == ("b" * 40, "h" * 40)


def _entry(path: str, mode: str, sha: str, size: int | None = 10) -> TreeEntry:
    return TreeEntry(path=path, mode=mode, type="commit" if mode == "160000" else "blob", sha=sha, size=size)


def test_tree_modes_mark_symlinks_submodules_and_mode_only_changes() -> None:
    files = [
        PullFile("link", "added", "l" * 40, 1, 0, 1, "@@ -0,0 +1 @@\n+../x"),
        PullFile("vendor/lib", "added", "c" * 40, 1, 0, 1, "@@ -0,0 +1 @@\n+x"),
        PullFile("run.sh", "changed", "r" * 40, 0, 0, 0, None),
        PullFile("logo.png", "modified", "n" * 40, 0, 0, 0, None),
        PullFile("new.py", "renamed", "p" * 40, 1, 0, 1, "@@ -1 +1,2 @@\n a\n+b", previous_filename="old.py"),
    ]
    change = build_change(pull(changed_files=5), files, [])
    head = {"link": _entry("link", "120000", "l" * 40), "vendor/lib": _entry("vendor/lib", "160000", "c" * 40, None),
            "run.sh": _entry("run.sh", "100755", "r" * 40), "logo.png": _entry("logo.png", "100644", "n" * 40, 99),
            "new.py": _entry("new.py", "100755", "p" * 40)}
    base = {"run.sh": _entry("run.sh", "100644", "r" * 40), "logo.png": _entry("logo.png", "100644", "o" * 40),
            "old.py": _entry("old.py", "100644", "q" * 40)}

    out = {f.path: f for f in apply_tree_modes(change, head, base, ("note",)).files}

    assert (out["link"].kind, out["link"].new_mode, out["link"].old_mode) == (FileKind.SYMLINK, "120000", None)
    assert out["vendor/lib"].kind is FileKind.SUBMODULE
    assert (out["run.sh"].mode_only, out["run.sh"].binary, out["run.sh"].old_mode) == (True, False, "100644")
    assert (out["logo.png"].mode_only, out["logo.png"].binary, out["logo.png"].size) == (False, True, 99)
    assert (out["new.py"].old_mode, out["new.py"].new_mode, out["new.py"].mode_only) == ("100644", "100755", False)
    assert apply_tree_modes(change, head, base, ("note",)).truncated[-1] == "note"


@pytest.mark.parametrize(("glob", "prefix"), [
    (".semgrep/*.yml", ".semgrep"), ("ci/rules/**/*.yaml", "ci/rules"), ("*.yml", ""), ("**/r.yml", ""),
    ("a/{b,c}/x.yml", "a")])
def test_literal_directory_of_a_rule_glob(glob: str, prefix: str) -> None:
    assert _literal_dir(glob) == prefix


def test_unknown_changed_lines_put_the_whole_file_in_scope() -> None:
    from govbot.core.diff import in_scope

    garbled = changed_file(PullFile("a.py", "modified", "s" * 40, 3, 1, 4, "not a patch at all", None))
    assert garbled.lines_unknown and in_scope(garbled, 99, "added")
    too_big = changed_file(PullFile("b.py", "modified", "s" * 40, 900, 10, 910, None, None))
    assert too_big.lines_unknown and in_scope(too_big, 1, "added")
    fine = changed_file(PullFile("c.py", "modified", "s" * 40, 1, 0, 1, "@@ -1 +1,2 @@\n a\n+b", None))
    assert not fine.lines_unknown and not in_scope(fine, 1, "added") and in_scope(fine, 2, "added")


@pytest.mark.parametrize("status", ["renamed", "copied"])
def test_a_moved_file_from_the_api_is_in_scope_like_the_local_one(status: str) -> None:
    """Issue 9, class 7: GitHub reports a pure rename with no patch and no changes; every line
    is still part of the change where it lands, as on the local path (``tests/govbot``)."""
    from govbot.core.diff import in_scope, span_touched

    moved = changed_file(PullFile("app/web.py", status, "s" * 40, 0, 0, 0, None, "tools/old.py"))
    assert moved.old_path == "tools/old.py" and not moved.binary
    assert in_scope(moved, 5, "added") and span_touched(moved, 5, 9)
