"""``compare`` through the PyGithub adapter against the HTTP fake: the status tells whether the
last reviewed head is an ancestor of the new one; the files carry the range patches."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from govbot.bot.github.port import NotFound
from tests.bot.github.fakegithub import FakeFile, FakeGitHub
from tests.bot.github.test_trees import adapter

OLD, NEW, MERGE_BASE = "a" * 40, "b" * 40, "c" * 40


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        yield server


def test_compare_reads_status_merge_base_and_patches(fake: FakeGitHub) -> None:
    fake.compares[(OLD, NEW)] = ("ahead", OLD, [
        FakeFile("src/app.py", b"x = 1\ny = 2\n", patch="@@ -1,0 +2 @@\n+y = 2", additions=1),
        FakeFile("src/old.py", None, status="removed", deletions=3),
    ])
    got = adapter(fake).compare(OLD, NEW)
    assert got.ancestor and got.complete and got.merge_base == OLD
    assert [(f.filename, f.status, f.patch) for f in got.files] == [
        ("src/app.py", "modified", "@@ -1,0 +2 @@\n+y = 2"), ("src/old.py", "removed", None)]
    assert fake.calls("GET", rf".*/compare/{OLD}\.\.\.{NEW}")


@pytest.mark.parametrize(("status", "ancestor"), [("identical", True), ("diverged", False), ("behind", False)])
def test_only_ahead_or_identical_means_the_old_head_is_an_ancestor(fake: FakeGitHub, status: str,
                                                                   ancestor: bool) -> None:
    fake.compares[(OLD, NEW)] = (status, MERGE_BASE, [])
    got = adapter(fake).compare(OLD, NEW)
    assert got.ancestor is ancestor and got.merge_base == MERGE_BASE


def test_an_unknown_commit_is_not_found(fake: FakeGitHub) -> None:
    with pytest.raises(NotFound):
        adapter(fake).compare(OLD, NEW)  # e.g. the old head was garbage-collected after a force-push
