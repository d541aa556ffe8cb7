"""Suppressions and diff scope look at the same span (issue 9, classes 6 and 7)."""

from __future__ import annotations

from govbot.checks.normalise import SourceLines, added_suppressions, normalise
from govbot.core.models import ChangedFile, DiffScope, FileStatus, Finding, Hunk, Severity

HEAD = "import subprocess\nsubprocess.call(  # nosec\n    cmd,\n    shell=True,\n)\nx = 1\n"
PATCH = ("--- a/a.py\n+++ b/a.py\n@@ -1,6 +1,6 @@\n import subprocess\n subprocess.call(  # nosec\n"
         "     cmd,\n-    shell=False,\n+    shell=True,\n )\n x = 1\n")


def _source(text: str = HEAD) -> SourceLines:
    return SourceLines(lambda path: text.encode() if path == "a.py" else None)


def _call(line: int = 2, end: int = 5) -> Finding:
    return Finding(tool="bandit", rule_id="bandit:B602", severity=Severity.HIGH, path="a.py", line=line,
                   end_line=end, message="shell=True")


def _changed(**kw: object) -> ChangedFile:
    base: dict[str, object] = {"path": "a.py", "status": FileStatus.MODIFIED, "patch": PATCH,
                               "added_lines": frozenset({4}),
                               "hunks": (Hunk(old_start=1, old_lines=6, new_start=1, new_lines=6),)}
    base.update(kw)
    return ChangedFile.model_validate(base)


def test_an_old_nosec_on_a_call_does_not_cover_a_line_the_change_writes_into_it() -> None:
    changed = _changed()
    [f] = normalise([_call()], {"a.py": changed}, _source(), DiffScope.ADDED)
    assert f.in_diff
    assert f.suppression is not None and f.suppression.added_by_change  # not honoured by the policy


def test_an_old_nosec_on_a_call_does_not_cover_a_line_cut_out_of_it() -> None:
    patch = PATCH.replace("-    shell=False,\n+    shell=True,\n", "-    check=True,\n     shell=True,\n")
    changed = _changed(patch=patch, added_lines=frozenset())
    [f] = normalise([_call()], {"a.py": changed}, _source(), DiffScope.DIFF_CONTEXT)
    assert f.in_diff and f.suppression is not None and f.suppression.added_by_change


def test_an_old_nosec_on_code_the_change_left_alone_is_still_honoured() -> None:
    changed = _changed(added_lines=frozenset({6}),
                       patch=PATCH.replace("-    shell=False,\n+    shell=True,\n", "     shell=True,\n")
                       .replace(" x = 1\n", "-x = 0\n+x = 1\n"))
    [f] = normalise([_call()], {"a.py": changed}, _source(), DiffScope.DIFF_CONTEXT)
    assert f.in_diff  # inside the hunk, context included
    assert f.suppression is not None and not f.suppression.added_by_change


def test_a_moved_file_is_new_where_it_lands_suppressions_included() -> None:
    moved = _changed(path="a.py", old_path="lib/old.py", status=FileStatus.RENAMED, added_lines=frozenset(),
                     patch=None, hunks=())
    [f] = normalise([_call()], {"a.py": moved}, _source(), DiffScope.ADDED)
    assert f.in_diff and f.suppression is not None and f.suppression.added_by_change
    assert [(s.rule_id, s.line) for s in added_suppressions([moved], _source())] == [("govbot:suppression-added", 2)]
