from __future__ import annotations

from govbot.bot.github_api import CommitData, PullData, PullFile, UserRef
from govbot.bot.github_change import build_change, changed_file, limits_hit, parse_patch
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
    hunks, added = parse_patch(patch)
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
