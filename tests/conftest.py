from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests import lanes
from tests.gitrepo import GitRepo


def pytest_configure(config: pytest.Config) -> None:
    lanes.FAST = "not slow" in (config.getoption("markexpr") or "")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """In the fast lane, a module marked slow as a whole (``pytestmark = pytest.mark.slow``) is not
    even imported: its tests would all be deselected, and its imports (the App's server stack) cost
    seconds in every worker. The full suite collects it as usual."""
    if not (lanes.FAST and collection_path.suffix == ".py" and collection_path.name.startswith("test_")):
        return None
    return "\npytestmark = pytest.mark.slow\n" in collection_path.read_text(encoding="utf-8") or None


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[[str], GitRepo]:
    def factory(name: str = "repo") -> GitRepo:
        return GitRepo(tmp_path / name)

    return factory


@pytest.fixture
def repo(make_repo: Callable[[str], GitRepo]) -> GitRepo:
    return make_repo("repo")
