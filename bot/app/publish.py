"""Idempotent publishing for the App: one sticky comment, labels as a set difference, one
completed check run per head SHA. Running it twice changes nothing the second time, so a run
taken over after a crash never duplicates what the first attempt already wrote.

``guard`` is called before every write; it raises when the run was superseded or taken over.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from github.PullRequest import PullRequest
from github.Repository import Repository

STICKY_MARKER = "<!-- govbot:sticky -->"  # the same marker as the Action: one comment either way


@dataclass(frozen=True)
class Publication:
    """What an analysis wants shown on the pull request (rendered already; no I/O)."""

    comment: str
    conclusion: str  # success | failure | neutral
    title: str
    summary: str
    labels_add: tuple[str, ...] = ()
    labels_remove: tuple[str, ...] = ()
    outcome: str = ""
    findings: int = 0
    tier: str = ""
    cost_usd: float = 0.0


def sticky_body(text: str) -> str:
    return f"{STICKY_MARKER}\n{text}"


def label_changes(current: Sequence[str], add: Sequence[str], remove: Sequence[str]) -> tuple[list[str], list[str]]:
    """Labels to add and to remove so that ``add`` are on and ``remove`` are off (pure)."""
    have = set(current)
    return sorted(set(add) - have), sorted((set(remove) & have) - set(add))


Audit = Callable[[str, str], None]


def publish_comment(pull: PullRequest, body: str, bot_login: str, guard: Callable[[], None], audit: Audit) -> None:
    mine = [c for c in pull.get_issue_comments()
            if c.user is not None and c.user.login == bot_login and STICKY_MARKER in (c.body or "")]
    if not mine:
        guard()
        created = pull.create_issue_comment(body)
        audit("comment.create", str(created.id))
        return
    keep, extra = mine[0], mine[1:]
    if keep.body != body:
        guard()
        keep.edit(body)
        audit("comment.edit", str(keep.id))
    for c in extra:  # a duplicate left by an older version or a race: Danger's rule, delete it
        guard()
        c.delete()
        audit("comment.delete", str(c.id))


def publish_labels(pull: PullRequest, add: Sequence[str], remove: Sequence[str], guard: Callable[[], None],
                   audit: Audit) -> None:
    to_add, to_remove = label_changes([label.name for label in pull.get_labels()], add, remove)
    if to_add:
        guard()
        pull.add_to_labels(*to_add)
        audit("label.add", ",".join(to_add))
    for name in to_remove:
        guard()
        pull.remove_from_labels(name)
        audit("label.remove", name)


def publish_check(repo: Repository, head_sha: str, name: str, conclusion: str, title: str, summary: str,
                  guard: Callable[[], None], audit: Audit) -> None:
    output: dict[str, str | list[dict[str, str | int]]] = {"title": title, "summary": summary}
    existing = list(repo.get_commit(head_sha).get_check_runs(check_name=name))
    if not existing:
        guard()
        check = repo.create_check_run(name=name, head_sha=head_sha, status="completed", conclusion=conclusion,
                                      output=output)
        audit("check.create", str(check.id))
        return
    check = existing[0]
    if check.status == "completed" and check.conclusion == conclusion and check.output.title == title:
        return
    guard()
    check.edit(status="completed", conclusion=conclusion, output=output)
    audit("check.edit", str(check.id))
