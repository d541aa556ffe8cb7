"""``govbot demo``: a small repository with a realistic AI-written change to scan offline."""

from __future__ import annotations

import os
from pathlib import Path

from govbot.checks.runner import run
from govbot.core.errors import GitError

_BASE_FILES = {
    "README.md": "# shop\n\nA tiny order service.\n",
    "shop/__init__.py": "",
    "shop/orders.py": (
        "import sqlite3\n\n\n"
        "def get_order(db: sqlite3.Connection, order_id: int):\n"
        '    return db.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()\n'
    ),
}

_HEAD_FILES = {
    "shop/orders.py": (
        "import sqlite3\nimport subprocess\n\n\n"
        "def get_order(db: sqlite3.Connection, order_id: int):\n"
        '    return db.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()\n\n\n'
        "def find_orders(db: sqlite3.Connection, customer: str):\n"
        "    query = f\"SELECT * FROM orders WHERE customer = '{customer}'\"\n"
        "    return db.execute(query).fetchall()\n\n\n"
        "def export(name: str) -> None:\n"
        '    subprocess.run(f"tar czf /tmp/{name}.tgz data/", shell=True, check=True)\n'
    ),
    "shop/settings.py": (
        "DEBUG = False\n"
        # A made-up key in AWS's format, so the demo shows secret redaction. (AWS's documented
        # example key, AKIAIOSFODNN7EXAMPLE, is a decoy govbot deliberately does not report.)
        'AWS_ACCESS_KEY_ID = "AKIA' 'GOVBOTDEMO2345Q7"\n'
    ),
    "docs/orders.md": "# Orders\n\nUse `find_orders` to search by customer.\n",
}

_MESSAGE = (
    "Add order search and export\n\n"
    "Generated with [Claude Code](https://claude.com/claude-code)\n\n"
    "Co-Authored-By: Claude <noreply@anthropic.com>\n"
)


def _git(repo: Path, *args: str) -> None:
    env = dict(os.environ)
    env.update({
        "GIT_AUTHOR_NAME": "Dana Developer", "GIT_AUTHOR_EMAIL": "dana@example.com",
        "GIT_COMMITTER_NAME": "Dana Developer", "GIT_COMMITTER_EMAIL": "dana@example.com",
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
    })
    result = run(["git", "-C", str(repo), *args], timeout_s=60, env=env)
    if result.returncode != 0:
        raise GitError(f"git {args[0]} failed while creating the demo: {result.stderr_tail(200)}")


def _write(repo: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def create_demo_repo(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise GitError(f"{target} is not empty; give govbot demo an empty or new directory")
    _git(target, "init", "--quiet", "--initial-branch=main")
    _write(target, _BASE_FILES)
    _git(target, "add", "-A")
    _git(target, "commit", "--quiet", "-m", "Initial order service")
    _git(target, "checkout", "--quiet", "-b", "feature")
    _write(target, _HEAD_FILES)
    _git(target, "add", "-A")
    _git(target, "commit", "--quiet", "-m", _MESSAGE)
    return target
