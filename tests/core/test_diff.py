from __future__ import annotations

import os

import pytest

from govbot.bot.local.git import load_change, open_repo
from govbot.core.diff import all_lines_changed, cuts, in_scope, parse_raw_z, span_touched
from govbot.core.errors import GitError
from govbot.core.models import ChangedFile, FileKind, FileStatus, Hunk
from tests.gitrepo import GitRepo


def test_every_kind_of_change_is_classified(repo: GitRepo) -> None:
    repo.write("mod.py", "a = 1\nb = 2\n")
    repo.write("gone.txt", "x\n")
    repo.write("old_name.py", "r = 1\nr2 = 2\nr3 = 3\n")
    repo.write("run.sh", "#!/bin/sh\necho hi\n")
    repo.write("image.bin", b"\x00\x01\x02")
    repo.write("kind.txt", "regular\n")
    repo.commit("base")
    repo.write("mod.py", "a = 1\nb = 3\nc = 4\n")
    repo.git("rm", "-q", "gone.txt")
    repo.git("mv", "old_name.py", "new_name.py")
    os.chmod(repo.path / "run.sh", 0o755)
    repo.write("image.bin", b"\x00\x09\x02\x03")
    (repo.path / "kind.txt").unlink()
    os.symlink("mod.py", repo.path / "kind.txt")
    os.symlink("/etc/passwd", repo.path / "escape")
    repo.write("with space.py", "x = 1\n")
    repo.write("new\nline.py", "y = 1\n")
    repo.write("-dash.py", "z = 1\n")
    repo.write("ünï/çödé.py", "u = 1\n")
    repo.write("empty.py", "")
    sub = GitRepo(repo.path.parent / "sub")
    sub.commit("sub")
    repo.git("add", "-A")
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{sub.git('rev-parse', 'HEAD')},vendor/sub")
    repo.git("commit", "--quiet", "-m", "head")
    head = repo.git("rev-parse", "HEAD")

    change = load_change(open_repo(repo.path), "HEAD~1", head)
    files = {f.path: f for f in change.files}

    assert files["mod.py"].status is FileStatus.MODIFIED
    assert files["mod.py"].added_lines == frozenset({2, 3})
    assert files["gone.txt"].status is FileStatus.DELETED
    assert files["new_name.py"].status is FileStatus.RENAMED
    assert files["new_name.py"].old_path == "old_name.py"
    assert files["run.sh"].mode_only and files["run.sh"].kind is FileKind.EXECUTABLE
    assert not files["image.bin"].binary  # --text: binary is decided from content, not .gitattributes
    assert files["kind.txt"].status is FileStatus.TYPE_CHANGED
    assert files["kind.txt"].kind is FileKind.SYMLINK
    assert files["escape"].kind is FileKind.SYMLINK
    assert files["vendor/sub"].kind is FileKind.SUBMODULE
    for name in ("with space.py", "new\nline.py", "-dash.py", "ünï/çödé.py"):
        assert files[name].status is FileStatus.ADDED
        assert files[name].added_lines == frozenset({1})
    assert files["empty.py"].added_lines == frozenset()
    assert files["mod.py"].patch and "+c = 4" in files["mod.py"].patch


def test_missing_ref_is_a_clear_error(repo: GitRepo) -> None:
    repo.write("a.py", "a = 1\n")
    repo.commit()
    with pytest.raises(GitError, match="ref 'nope' not found"):
        load_change(open_repo(repo.path), "nope", "HEAD")


def test_option_like_ref_is_refused(repo: GitRepo) -> None:
    repo.commit()
    with pytest.raises(GitError, match="invalid ref"):
        load_change(open_repo(repo.path), "--output=/tmp/x", "HEAD")


def test_not_a_repository(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(GitError, match="not a git repository"):
        open_repo(tmp_path)
    with pytest.raises(GitError, match="no such directory"):
        open_repo(tmp_path / "missing")


def test_empty_change(repo: GitRepo) -> None:
    repo.write("a.py", "a = 1\n")
    repo.commit()
    change = load_change(open_repo(repo.path), "HEAD", "HEAD")
    assert change.files == ()
    assert change.commits == ()


def test_three_dot_semantics_ignore_base_progress(repo: GitRepo) -> None:
    repo.write("a.py", "a = 1\n")
    repo.commit("base")
    repo.branch("feature")
    repo.write("feature.py", "f = 1\n")
    repo.commit("feature")
    repo.git("checkout", "--quiet", "main")
    repo.write("main_only.py", "m = 1\n")
    repo.commit("main moves on")
    change = load_change(open_repo(repo.path), "main", "feature")
    assert [f.path for f in change.files] == ["feature.py"]
    assert [c.message.strip() for c in change.commits] == ["feature"]


def test_parse_raw_rejects_garbage() -> None:
    with pytest.raises(GitError):
        parse_raw_z(b"not raw output\0")


def _file(**kw: object) -> ChangedFile:
    base: dict[str, object] = {"path": "a.py", "status": FileStatus.MODIFIED}
    base.update(kw)
    return ChangedFile.model_validate(base)


def test_scope_modes() -> None:
    f = _file(hunks=(Hunk(old_start=8, old_lines=7, new_start=8, new_lines=8),), added_lines=frozenset({11}))
    assert in_scope(f, 11, "added")
    assert not in_scope(f, 10, "added")
    assert in_scope(f, 10, "diff_context")
    assert not in_scope(f, 40, "diff_context")
    assert in_scope(f, 40, "file")
    assert in_scope(_file(status=FileStatus.ADDED), 99, "added")


def test_moved_or_copied_code_is_in_scope_where_it_lands() -> None:
    """Issue 9, class 7: ``git mv`` of vulnerable code into a new place is a change there."""
    for status in (FileStatus.RENAMED, FileStatus.COPIED):
        moved = _file(status=status, old_path="old.py", added_lines=frozenset({2}),
                      hunks=(Hunk(old_start=1, old_lines=3, new_start=1, new_lines=3),))
        assert in_scope(moved, 40, "added") and all_lines_changed(moved)
        assert span_touched(moved, 40, 41)
    assert not all_lines_changed(_file())


_CALL = "--- a/a.py\n+++ b/a.py\n@@ -1,6 +1,6 @@\n import subprocess\n subprocess.call(  # nosec\n"


def test_a_span_is_touched_by_an_added_line_or_a_cut_inside_it_not_next_to_it() -> None:
    edited = _file(patch=_CALL + "     cmd,\n-    shell=False,\n+    shell=True,\n )\n x = 1\n",
                   added_lines=frozenset({4}))
    assert span_touched(edited, 2, 5) and not span_touched(edited, 2, 3) and not span_touched(edited, 1, 1)
    cut = _file(patch=_CALL + "     cmd,\n-    check=True,\n     shell=True,\n )\n x = 1\n")
    assert cuts(cut) == frozenset({3})
    assert span_touched(cut, 2, 5)  # a line removed from the middle of the call
    assert not span_touched(cut, 3, 3) and not span_touched(cut, 4, 5)  # only next to the cut
    # "@@ -5,2 +4,0 @@" (git -U0): the two lines went after new line 4
    zero = _file(patch="--- a/a.py\n+++ b/a.py\n@@ -5,2 +4,0 @@\n-a\n-b\n")
    assert cuts(zero) == frozenset({4})
    assert cuts(_file(hunks=(Hunk(old_start=3, old_lines=2, new_start=3, new_lines=1),))) == frozenset({2, 3})
