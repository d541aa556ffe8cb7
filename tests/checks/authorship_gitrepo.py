"""Build real git histories for the authorship tests: real ``git commit`` in a temp directory."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

HUMAN = ("Alice Example", "alice@example.org")


@dataclass
class GitRepo:
    path: Path

    @classmethod
    def init(cls, path: Path) -> GitRepo:
        repo = cls(path)
        path.mkdir(parents=True, exist_ok=True)
        repo.git("init", "-q", "-b", "main")
        repo.commit("initial commit", files={"README.md": "hello\n"})
        return repo

    def git(self, *args: str, env: dict[str, str] | None = None) -> str:
        full_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.path),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_DATE": "2024-05-01T12:00:00Z",
            "GIT_COMMITTER_DATE": "2024-05-01T12:00:00Z",
        }
        full_env.update(env or {})
        argv = [
            "git",
            "-c",
            f"user.name={HUMAN[0]}",
            "-c",
            f"user.email={HUMAN[1]}",
            "-c",
            "commit.gpgsign=false",
            "-C",
            str(self.path),
            *args,
        ]
        return subprocess.run(argv, check=True, capture_output=True, text=True, env=full_env).stdout.strip()

    def commit(
        self,
        message: str,
        *,
        files: dict[str, str] | None = None,
        author: tuple[str, str] | None = None,
        committer: tuple[str, str] | None = None,
    ) -> str:
        for name, content in (files or {"change.txt": message[:40] + "\n"}).items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("a", encoding="utf-8") as fh:
                fh.write(content)
            self.git("add", "--", name)
        env: dict[str, str] = {}
        if author:
            env.update({"GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1]})
        if committer:
            env.update({"GIT_COMMITTER_NAME": committer[0], "GIT_COMMITTER_EMAIL": committer[1]})
        msg_file = self.path.parent / f".msg-{self.path.name}"
        msg_file.write_text(message, encoding="utf-8")
        self.git("commit", "-q", "--allow-empty", "--cleanup=verbatim", "-F", str(msg_file), env=env)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def branch(self, name: str, start: str = "HEAD") -> None:
        self.git("checkout", "-q", "-b", name, start)

    def checkout(self, name: str) -> None:
        self.git("checkout", "-q", name)
