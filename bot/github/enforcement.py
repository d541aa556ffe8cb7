"""Human-review enforcement, pure: do the reviews on a pull request satisfy "human review required"?

A review counts when it is the reviewer's latest deciding review (APPROVED, CHANGES_REQUESTED or
DISMISSED; comments do not change a reviewer's standing), it approves, it was submitted on the
current head commit, and the reviewer is a human (not a bot account), is not the PR author, and
has write access to the repository. Permissions are looked up by the caller (I/O) and passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from govbot.bot.github.port import WRITER_PERMISSIONS, ReviewData, UserRef

_DECIDING = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})


@dataclass(frozen=True)
class ReviewVerdict:
    satisfied: bool
    approvers: tuple[str, ...]
    reason: str


def latest_deciding(reviews: Sequence[ReviewData]) -> dict[str, ReviewData]:
    """Each reviewer's latest deciding review, by login (reviews arrive in chronological order)."""
    latest: dict[str, ReviewData] = {}
    for r in reviews:
        if r.state in _DECIDING:
            latest[r.user.login.lower()] = r
    return latest


def _same_account(a: UserRef, b: UserRef) -> bool:
    if a.id is not None and b.id is not None:
        return a.id == b.id
    return a.login.lower() == b.login.lower()


def candidates(reviews: Sequence[ReviewData], author: UserRef, head_sha: str) -> list[str]:
    """Logins whose approval would count if they have write access (what to look up). Sorted."""
    out = [
        r.user.login
        for r in latest_deciding(reviews).values()
        if r.state == "APPROVED"
        and r.commit_id == head_sha
        and not r.user.is_bot
        and not _same_account(r.user, author)
    ]
    return sorted(out, key=str.lower)


def evaluate_reviews(
    reviews: Sequence[ReviewData],
    author: UserRef,
    head_sha: str,
    permissions: Mapping[str, str],
) -> ReviewVerdict:
    """Whether the required human review is satisfied, and why (one line for the comment)."""
    approvers = tuple(
        login for login in candidates(reviews, author, head_sha)
        if permissions.get(login, "none") in WRITER_PERMISSIONS
    )
    if approvers:
        who = ", ".join(f"`{a}`" for a in approvers)
        return ReviewVerdict(True, approvers, f"approved on the current head commit by {who}")
    return ReviewVerdict(False, (), _why_not(reviews, author, head_sha, permissions))


def _why_not(
    reviews: Sequence[ReviewData], author: UserRef, head_sha: str, permissions: Mapping[str, str]
) -> str:
    approvals = [r for r in latest_deciding(reviews).values() if r.state == "APPROVED"]
    if not approvals:
        return "waiting for an approving review from a maintainer with write access"
    notes: list[str] = []
    for r in sorted(approvals, key=lambda r: r.user.login.lower()):
        if r.user.is_bot:
            notes.append("a bot's approval does not count")
        elif _same_account(r.user, author):
            notes.append("the author's own approval does not count")
        elif r.commit_id != head_sha:
            notes.append("an approval was given on an earlier commit; re-approve the current head")
        elif permissions.get(r.user.login, "none") not in WRITER_PERMISSIONS:
            notes.append("an approval came from an account without write access")
    detail = "; ".join(sorted(set(notes)))
    return "waiting for an approving review from a maintainer with write access" + (
        f" ({detail})" if detail else ""
    )
