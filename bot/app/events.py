"""Pure webhook handling: verify the signature, then turn (event, payload) into an ``Intake``.

Nothing here does I/O. The receiver verifies the raw body first, parses it only when the
signature holds, then asks ``classify`` what the delivery means.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

RUN_ACTIONS = frozenset({"opened", "synchronize", "reopened", "ready_for_review"})
_COMMAND = re.compile(r"^\s*/govbot[ \t]+(recheck|deep)\b", re.MULTILINE)


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """``X-Hub-Signature-256`` check: HMAC-SHA256 of the raw body, compared in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


@dataclass(frozen=True)
class Intake:
    """What one delivery asks for. ``disposition`` decides what the receiver stores."""

    guid: str
    event: str
    action: str
    disposition: str  # run | command | uninstall | ignored
    installation_id: int | None = None
    account: str = ""
    repo: str = ""
    pr: int | None = None
    head_sha: str = ""
    kind: str = "review"
    pushed_at: float = 0.0  # pull_request.updated_at (UNIX seconds; 0 when absent): orders pushes
    reason: str = ""  # why a delivery is ignored (logged)


def iso_seconds(value: Any) -> float:
    """GitHub's ISO-8601 time (``2026-12-01T02:55:00Z``) as UNIX seconds; 0.0 if absent or bad."""
    if not isinstance(value, str) or not value:
        return 0.0
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def _is_self(sender: Any, bot_login: str) -> bool:
    return isinstance(sender, dict) and str(sender.get("login", "")) == bot_login


def classify(guid: str, event: str, payload: dict[str, Any], bot_login: str) -> Intake:
    """Decide what a verified delivery means; govbot's own comments and checks are ignored."""
    action = str(payload.get("action", ""))
    inst = payload.get("installation") or {}
    inst_id = int(inst["id"]) if isinstance(inst, dict) and isinstance(inst.get("id"), int) else None
    repo_obj = payload.get("repository") or {}
    repo = str(repo_obj.get("full_name", "")) if isinstance(repo_obj, dict) else ""
    base = Intake(guid=guid, event=event, action=action, disposition="ignored", installation_id=inst_id,
                  account=str((inst.get("account") or {}).get("login", "")) if isinstance(inst, dict) else "",
                  repo=repo)

    def ignored(reason: str) -> Intake:
        return Intake(**{**base.__dict__, "reason": reason})

    if event == "installation" and action == "deleted" and inst_id is not None:
        return Intake(**{**base.__dict__, "disposition": "uninstall"})
    if inst_id is None or not repo:
        return ignored("no installation or repository")
    if _is_self(payload.get("sender"), bot_login):
        return ignored("sent by govbot itself")
    if event == "pull_request":
        pr = payload.get("pull_request") or {}
        if action not in RUN_ACTIONS:
            return ignored(f"pull_request action {action!r}")
        if pr.get("draft") and action != "ready_for_review":
            return ignored("draft pull request")
        return Intake(**{**base.__dict__, "disposition": "run", "pr": int(pr["number"]),
                         "head_sha": str(pr["head"]["sha"]), "pushed_at": iso_seconds(pr.get("updated_at"))})
    if event == "issue_comment" and action == "created":
        issue = payload.get("issue") or {}
        body = str((payload.get("comment") or {}).get("body", ""))
        m = _COMMAND.search(body)
        if "pull_request" not in issue or m is None:
            return ignored("not a govbot command on a pull request")
        kind = "deep" if m[1] == "deep" else "review"
        return Intake(**{**base.__dict__, "disposition": "command", "pr": int(issue["number"]), "kind": kind})
    if event == "check_run" and action == "requested_action":
        prs = (payload.get("check_run") or {}).get("pull_requests") or []
        identifier = str((payload.get("requested_action") or {}).get("identifier", ""))
        if not prs or identifier not in {"recheck", "deep"}:
            return ignored("requested_action without a pull request or with an unknown button")
        kind = "deep" if identifier == "deep" else "review"
        return Intake(**{**base.__dict__, "disposition": "command", "pr": int(prs[0]["number"]), "kind": kind,
                         "head_sha": str(payload["check_run"]["head_sha"])})
    return ignored(f"event {event!r}")
