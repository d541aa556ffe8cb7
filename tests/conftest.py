from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests import lanes
from tests.gitrepo import GitRepo


def pytest_configure(config: pytest.Config) -> None:
    lanes.FAST = "not slow" in (config.getoption("markexpr") or "")


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[[str], GitRepo]:
    def factory(name: str = "repo") -> GitRepo:
        return GitRepo(tmp_path / name)

    return factory


@pytest.fixture
def repo(make_repo: Callable[[str], GitRepo]) -> GitRepo:
    return make_repo("repo")
