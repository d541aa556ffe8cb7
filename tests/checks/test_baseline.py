"""Findings relative to the base (pure): identity without line numbers, counted matching."""

from __future__ import annotations

from govbot.checks.baseline import base_scan_plan, classify, files_needing_base
from govbot.core.models import ChangedFile, FileStatus, Finding, Severity


def f(tool: str = "bandit", rule: str = "bandit:B605", line: int = 1, in_diff: bool = True,
      secret_hash: str | None = None, path: str = "a.py") -> Finding:
    return Finding(tool=tool, rule_id=rule, severity=Severity.HIGH, path=path, line=line,
                   message="possible thing", in_diff=in_diff, secret_hash=secret_hash)


def reader(lines: dict[int, str]):  # type: ignore[no-untyped-def]
    return lambda path, n: lines.get(n or 0, "")


def test_reformatted_code_is_pre_existing_wherever_it_moved() -> None:
    head = [f(line=9)]
    base = [f(line=3)]
    out = classify(head, reader({9: '        os.system("ls " + cmd)'}), base,
                   reader({3: "    os.system('ls '+cmd)"}), [("bandit", "a.py")])
    assert out[0].baseline == "pre_existing"


def test_changed_code_or_other_rule_is_new() -> None:
    base_line = reader({3: "os.system('ls ' + cmd)"})
    changed = classify([f(line=3)], reader({3: "os.system('rm ' + cmd)"}), [f(line=3)], base_line, [("bandit", "a.py")])
    other = classify([f(rule="bandit:B602", line=3)], base_line, [f(line=3)], base_line, [("bandit", "a.py")])
    assert changed[0].baseline == "new" and other[0].baseline == "new"


def test_secret_matched_by_hash_and_message_says_who_added_it() -> None:
    head = [f(tool="secrets", rule="secrets:secret-keyword", line=40, secret_hash="abc"),
            f(tool="secrets", rule="secrets:secret-keyword", line=41, secret_hash="def")]
    base = [f(tool="secrets", rule="secrets:secret-keyword", line=2, secret_hash="abc")]
    out = classify(head, reader({}), base, reader({}), [("secrets", "a.py")])
    assert [x.baseline for x in out] == ["pre_existing", "new"]
    assert out[0].message.endswith("already on the base branch, not added by this change")
    assert out[1].message.endswith("added by this change")


def test_one_old_and_one_added_copy_make_one_new_on_the_added_line() -> None:
    text = reader({1: "eval(x)", 5: "eval(x)"})
    head = [f(rule="bandit:B307", line=1, in_diff=True), f(rule="bandit:B307", line=5, in_diff=False)]
    out = classify(head, text, [f(rule="bandit:B307", line=1)], text, [("bandit", "a.py")])
    assert [x.baseline for x in out] == ["new", "pre_existing"]


def test_tool_without_a_finished_base_run_or_file_without_base_is_new() -> None:
    text = reader({1: "eval(x)"})
    out = classify([f(line=1), f(path="b.py", line=1), f(tool="llm", rule="llm:x")], text,
                   [f(line=1)], text, [])
    assert [x.baseline for x in out] == ["new", "new", None]


def test_a_finding_is_compared_only_where_its_own_tool_scanned_the_base() -> None:
    # semgrep scanned a.py's base; bandit did not: bandit's old finding outside the diff stays
    # unknown (never "new" for want of a base run), its finding in the diff stays new.
    text = reader({1: "eval(x)", 2: "eval(y)"})
    head = [f(line=1, in_diff=False), f(line=2, in_diff=True), f(tool="semgrep", rule="semgrep:eval", line=1)]
    base = [f(tool="semgrep", rule="semgrep:eval", line=1)]
    out = classify(head, text, base, text, [("semgrep", "a.py")])
    assert [x.baseline for x in out] == [None, "new", "pre_existing"]


def test_only_modified_files_with_findings_in_the_diff_are_read_at_the_base() -> None:
    """A renamed file is not: moved code is new where it lands (issue 9, class 7)."""
    files = [ChangedFile(path="a.py", status=FileStatus.MODIFIED), ChangedFile(path="b.py", status=FileStatus.ADDED),
             ChangedFile(path="c.py", status=FileStatus.RENAMED, old_path="old.py"),
             ChangedFile(path="d.py", status=FileStatus.MODIFIED)]
    findings = [f(path="a.py"), f(path="b.py"), f(path="c.py"), f(path="d.py", in_diff=False)]
    assert [x.path for x in files_needing_base(findings, files)] == ["a.py"]


def test_the_base_is_scanned_only_by_the_tools_that_reported_and_only_on_their_files() -> None:
    files = [ChangedFile(path="a.py", status=FileStatus.MODIFIED), ChangedFile(path="b.py", status=FileStatus.ADDED),
             ChangedFile(path="c.cfg", status=FileStatus.MODIFIED), ChangedFile(path="d.py", status=FileStatus.MODIFIED),
             ChangedFile(path="e.py", status=FileStatus.RENAMED, old_path="old.py")]
    findings = [f(path="a.py"), f(tool="semgrep", rule="semgrep:x", path="a.py"), f(path="b.py"),
                f(tool="secrets", rule="secrets:k", path="c.cfg"), f(tool="semgrep", rule="semgrep:x", path="d.py",
                                                                   in_diff=False),
                f(tool="llm", rule="llm:x", path="d.py"), f(path="e.py")]
    assert base_scan_plan(findings, files) == {"bandit": ["a.py"], "secrets": ["c.cfg"], "semgrep": ["a.py"]}
    assert base_scan_plan([], files) == {}
