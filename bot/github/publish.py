"""Publishing a result on a pull request (edge out): the sticky comment, labels, the check run or
commit status, and annotations (check-run annotations, or workflow commands on a read-only token).

The pure pieces (bodies, titles, conclusions, escaping) sit beside the writes that use them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TextIO

from govbot.bot.github.enforcement import ReviewVerdict
from govbot.bot.github.port import (
    Annotation,
    CheckOutput,
    CommentData,
    GitHubPort,
    GitHubServerError,
    PermissionDenied,
    PullData,
)
from govbot.bot.github.state import RunState
from govbot.bot.render.markdown import comment_size
from govbot.bot.render.text import clean
from govbot.core.models import Decision, Finding, Outcome, Severity
from govbot.policy.model import Policy

STICKY_MARKER = "<!-- govbot:sticky -->"
MAX_COMMENT_CHARS = 65_536
MAX_ANNOTATIONS = 500
MAX_COMMAND_ANNOTATIONS = 50  # GitHub shows at most 50 workflow-command annotations per job
CHECK_NAME = "govbot"
REVIEW_BEGIN, REVIEW_END = "<!-- govbot:review -->", "<!-- /govbot:review -->"
_LABEL_COLORS = {"review": "d93f0b", "blocked": "b60205", "ai": "5319e7"}


# --------------------------------------------------------------------------------------------
# Pure: conclusions, titles, annotations, comment body


def conclusion_for(outcome: Outcome, complete: bool, verdict: ReviewVerdict | None) -> str:
    if outcome is Outcome.BLOCK or not complete:
        return "failure"
    if outcome is Outcome.REVIEW_REQUIRED:
        return "success" if verdict is not None and verdict.satisfied else "failure"
    return "neutral" if outcome is Outcome.WARN else "success"


def title_for(outcome: Outcome, complete: bool, verdict: ReviewVerdict | None) -> str:
    if outcome is Outcome.BLOCK:
        return "Blocked by policy"
    if not complete:
        return "Analysis incomplete: not a pass"
    if outcome is Outcome.REVIEW_REQUIRED:
        if verdict is not None and verdict.satisfied:
            return "Human review required: approved"
        return "Human review required"
    return "Passed with warnings" if outcome is Outcome.WARN else "Passed"


def annotations_for(findings: Sequence[Finding], limit: int = MAX_ANNOTATIONS) -> tuple[Annotation, ...]:
    level = {Severity.CRITICAL: "failure", Severity.HIGH: "failure", Severity.MEDIUM: "warning"}
    chosen = sorted(
        (f for f in findings if f.line is not None and f.in_diff and f.suppression is None),
        key=lambda f: (-f.severity.rank, f.path, f.line or 0, f.rule_id),
    )[:limit]
    return tuple(
        Annotation(
            path=f.path,
            start_line=f.line or 1,
            end_line=max(f.end_line or f.line or 1, f.line or 1),
            level=level.get(f.severity, "notice"),
            title=clean(f"{f.rule_id} ({f.severity.value})", limit=200),
            message=clean(f.message, limit=1000),
        )
        for f in chosen
    )


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(a: Annotation) -> str:
    """``::warning file=...::message`` with GitHub's escaping, so no value can end the command."""
    kind = {"failure": "error", "warning": "warning"}.get(a.level, "notice")
    props = ",".join(
        f"{k}={_escape_property(v)}"
        for k, v in (("file", a.path), ("line", str(a.start_line)), ("endLine", str(a.end_line)),
                     ("title", a.title))
        if v
    )
    return f"::{kind} {props}::{_escape_data(a.message)}"


def review_block(verdict: ReviewVerdict | None, label: str) -> str:
    if verdict is None:
        return ""
    mark = "✅" if verdict.satisfied else "⏳"
    body = f"{mark} **Human review (`{clean(label)}`):** {verdict.reason}."
    return f"{REVIEW_BEGIN}\n{body}\n{REVIEW_END}"


def replace_review_block(text: str, block: str) -> str:
    # The block is govbot's own tail, after the rendered report: search from the end.
    start, end = text.rfind(REVIEW_BEGIN), text.rfind(REVIEW_END)
    if start == -1 or end == -1 or end < start:
        return text
    return text[:start] + block + text[end + len(REVIEW_END):]


def comment_body(render: Callable[[int], str], state: RunState, extra: str) -> str:
    """The sticky comment: marker, hidden state, the rendered report, our own short section.

    Capped once, by the renderer (``render(room)``, the Markdown renderer's ``max_chars``), in
    the renderer's unit (UTF-16 code units, ``comment_size``), so the whole body never exceeds
    GitHub's 65,536 characters however GitHub counts them.
    """
    head = f"{STICKY_MARKER}\n{state.encode()}\n"
    tail = f"\n\n{extra}" if extra else ""
    return head + render(MAX_COMMENT_CHARS - comment_size(head) - comment_size(tail)) + tail


def sticky_comments(comments: Sequence[CommentData]) -> list[CommentData]:
    """govbot's own comments (marker + written by a bot account), oldest first."""
    return sorted((c for c in comments if STICKY_MARKER in c.body and c.user.is_bot), key=lambda c: c.id)


def upsert_comment(gh: GitHubPort, number: int, body: str) -> None:
    """Update the sticky comment in place (create it once), and delete duplicates.

    Two runs of one pull request at once (a push and a ``/govbot recheck``, which the workflow's
    concurrency groups keep apart) can both find no comment and both create one. So a run that
    created one lists again: the OLDEST marker comment is kept and gets this run's body, every
    other one is deleted (issue 9, class 17). Whichever run lists last converges on one comment;
    the App also runs one job per pull request at a time."""
    mine = sticky_comments(gh.list_comments(number))
    if not mine:
        created: CommentData | None = None
        try:
            created = gh.create_comment(number, body)
        except GitHubServerError:
            pass  # the POST may have been applied even though the answer was an error: look again
        listed = gh.list_comments(number)
        if created is not None and all(c.id != created.id for c in listed):
            listed = [*listed, created]  # a listing that lags behind our own write
        mine = sticky_comments(listed)
        if not mine:
            gh.create_comment(number, body)
            return
    keep, *duplicates = mine
    if keep.body != body:
        gh.edit_comment(number, keep.id, body)
    for dup in duplicates:
        gh.delete_comment(number, dup.id)


def sync_labels(gh: GitHubPort, pr: PullData, decision: Decision, policy: Policy) -> tuple[list[str], list[str]]:
    """Add and remove govbot's labels (only those the policy allows); returns (added, removed)."""
    allow = set(policy.labels.allowlist)
    current = set(pr.labels)
    add = sorted((set(decision.labels_add) & allow) - current)
    remove = sorted((set(decision.labels_remove) & allow & current) - set(decision.labels_add))
    colors = {policy.labels.review: _LABEL_COLORS["review"], policy.labels.blocked: _LABEL_COLORS["blocked"],
              policy.labels.ai_generated: _LABEL_COLORS["ai"]}
    for name in add:
        gh.ensure_label(name, colors.get(name, "ededed"), "managed by govbot")
    gh.add_labels(pr.number, add)
    for name in remove:
        gh.remove_label(pr.number, name)
    return add, remove


def check_name(pr: PullData) -> str:
    """The name of the check (and commit status) for a pull request: keyed by its base branch.

    A check run belongs to a commit, not to a pull request, and branch protection matches it by
    name. Two pull requests with the same head commit into two branches (each with its own
    policy, read from that branch) must not share one: the weaker one's green check would
    satisfy the other's required check (issue 9, class 15). So a pull request into the
    repository's default branch publishes ``govbot`` (the name docs/action.md says to require)
    and one into any other branch ``govbot (<branch>)``; an unknown default branch gets the
    qualified name too, which fails closed (the required ``govbot`` stays pending). Pull
    requests with the same head into the same branch share the check: same code, same target,
    same policy."""
    if pr.default_branch and pr.base_ref == pr.default_branch:
        return CHECK_NAME
    return f"{CHECK_NAME} ({clean(pr.base_ref, limit=100)})"


def publish_check(gh: GitHubPort, head_sha: str, name: str, conclusion: str, output: CheckOutput,
                  details_url: str | None, log: Callable[[str], None]) -> bool:
    """The check run ``name`` (``check_name``), else a commit status of that name. False when
    the token can do neither."""
    try:
        existing = gh.find_check_run(head_sha, name)
        if existing is not None:
            gh.update_check_run(existing.id, conclusion, output)
        else:
            try:
                gh.create_check_run(head_sha, name, conclusion, output, details_url)
            except GitHubServerError:
                again = gh.find_check_run(head_sha, name)
                if again is None:
                    raise
                gh.update_check_run(again.id, conclusion, output)
        return True
    except PermissionDenied:
        log("no `checks: write` permission; publishing a commit status instead")
    state = {"success": "success", "neutral": "success"}.get(conclusion, "failure")
    try:
        gh.create_status(head_sha, state, f"{output.title}", name, details_url)
        return True
    except PermissionDenied:
        return False


def emit_annotations(out: TextIO, annotations: Sequence[Annotation], resume_token: str | None) -> None:
    if resume_token:
        print(f"::{resume_token}::", file=out)  # re-enable workflow commands for our own lines
    for a in annotations[:MAX_COMMAND_ANNOTATIONS]:
        print(workflow_command(a), file=out)
    out.flush()
