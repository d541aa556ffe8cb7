"""govbot's own findings, from the change set alone (no scanner): symlinks that point out of the
repository, edits to govbot's policy or its scanners' configuration, and supply-chain changes
(``checks/supplychain.py``). Pure."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

from govbot.checks.supplychain import supply_chain_findings
from govbot.core.fingerprint import finding_fingerprint
from govbot.core.globs import glob_match
from govbot.core.models import ChangedFile, ChangeSet, Finding, Severity
from govbot.policy.loader import DEFAULT_POLICY_PATH
from govbot.policy.model import Policy

# Files that configure govbot or its scanners. A PR that edits them cannot change its own review:
# they are read from the base branch, and the change is flagged "policy change pending review".
CONFIG_PATHS = (
    DEFAULT_POLICY_PATH, ".github/govbot.yaml", ".semgrepignore", ".bandit", ".secrets.baseline", ".gitattributes",
)


def symlink_findings(links: Sequence[ChangedFile], targets: dict[str, bytes]) -> list[Finding]:
    out: list[Finding] = []
    for link in links:
        raw = targets.get(link.path)
        if raw is None:
            continue
        target = raw.decode("utf-8", "replace")
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(link.path), target))
        if target.startswith("/") or resolved == ".." or resolved.startswith("../"):
            rule_id = "govbot:symlink-outside-repo"
            out.append(
                Finding(
                    tool="govbot",
                    rule_id=rule_id,
                    severity=Severity.MEDIUM,
                    path=link.path,
                    message="symlink points outside the repository (not followed); a build or "
                    "workflow reading it could leak host files",
                    cwe=("CWE-59",),
                    fingerprint=finding_fingerprint(rule_id, link.path, target),
                )
            )
    return out


def config_findings(change: ChangeSet, policy: Policy, policy_path: str) -> list[Finding]:
    watched = (policy_path, *CONFIG_PATHS)
    out: list[Finding] = []
    for f in change.files:
        paths = {f.path, f.old_path} - {None}
        hit = any(p in watched for p in paths if p) or (
            policy.semgrep.rules and any(glob_match(p, policy.semgrep.rules) for p in paths if p)
        )
        if hit:
            rule_id = "govbot:policy-change"
            out.append(
                Finding(
                    tool="govbot",
                    rule_id=rule_id,
                    severity=Severity.MEDIUM,
                    path=f.path,
                    message="edits govbot's policy or scanner configuration; this run used the base "
                    "branch's version (policy change pending review)",
                    fingerprint=finding_fingerprint(rule_id, f.path, f.status.value),
                )
            )
    return out


__all__ = ["CONFIG_PATHS", "config_findings", "supply_chain_findings", "symlink_findings"]
