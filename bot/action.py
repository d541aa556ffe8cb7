"""``govbot action``: the GitHub Action's entry point (edge in and edge out for the GitHub path).

The event decides what runs:

* ``pull_request`` / ``pull_request_target`` (opened, synchronize, reopened, ready_for_review,
  edited, labeled, unlabeled): the full analysis, then publish;
* ``pull_request_review``: re-evaluate human-review enforcement only, from the state the last
  full run stored (no scanners, no models);
* ``issue_comment`` on a pull request: ``/govbot recheck`` and ``/govbot deep`` from a writer;
* anything else: one log line, exit 0.

Everything about the pull request is read through the API, as data: nothing is checked out or
executed, so the same code is safe under ``pull_request_target``. The policy comes from the
base commit. Writes that a read-only token (a fork's ``pull_request``) cannot make degrade to
workflow-command annotations and the step summary, and the summary says so.
"""

from __future__ import annotations

import json
import re
import secrets
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

from govbot.bot.github.change import GitHubBaseTree, GitHubContent, load_change
from govbot.bot.github.enforcement import ReviewVerdict, candidates, evaluate_reviews
from govbot.bot.github.port import (
    WRITER_PERMISSIONS,
    CheckOutput,
    GitHubError,
    GitHubPort,
    PermissionDenied,
    PullData,
)
from govbot.bot.github.publish import (
    REVIEW_BEGIN,
    REVIEW_END,
    annotations_for,
    check_name,
    comment_body,
    conclusion_for,
    emit_annotations,
    publish_check,
    replace_review_block,
    review_block,
    sticky_comments,
    sync_labels,
    title_for,
    upsert_comment,
)
from govbot.bot.github.pygithub import GitHubSettings, PyGithubAdapter, RetryBudget, RetrySettings
from govbot.bot.github.state import RunState
from govbot.bot.render.json import report_json
from govbot.bot.render.markdown import comment_markdown, summary_markdown
from govbot.bot.render.sarif import to_sarif
from govbot.bot.render.text import clean
from govbot.checks.registry import SCANNER_NAMES, ScannerSettings
from govbot.checks.scan import ToolScanners
from govbot.core.errors import ConfigError, GovbotError, PolicyError
from govbot.core.models import ChangeSet, Decision, LLMStatus, Outcome, Report, exit_code
from govbot.core.ports import Scanners
from govbot.policy.base import policy_at_base, semgrep_rule_files
from govbot.policy.loader import DEFAULT_POLICY_PATH
from govbot.policy.model import Policy
from govbot.router.classify import default_rules
from govbot.router.incremental import Compare, IncrementalPlan, ReviewedState, plan_incremental
from govbot.router.riskmodel import RiskModel

ALL_SCANNERS = tuple(sorted(SCANNER_NAMES))
FULL_RUN_ACTIONS = frozenset(
    {"opened", "synchronize", "reopened", "ready_for_review", "edited", "labeled", "unlabeled"}
)
_COMMAND = re.compile(r"/govbot[ \t]+(recheck|deep)[ \t]*")


# --------------------------------------------------------------------------------------------
# Settings, read once from the environment by ``main``


def _flag(value: str | None, default: bool = False) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class ActionSettings:
    repository: str
    event_name: str
    event_path: Path | None
    token: str | None = field(default=None, repr=False)
    api_url: str = "https://api.github.com"
    server_url: str = "https://github.com"
    run_id: str | None = None
    policy_path: str = DEFAULT_POLICY_PATH
    fail_on: str | None = None  # review_required | block | never; None: the policy's setting
    dry_run: bool = False
    comment: bool = True
    report_dir: Path = Path()
    output_path: Path | None = None
    summary_path: Path | None = None
    write_interval_s: float = 1.0
    read_concurrency: int = 8
    scanners: tuple[str, ...] = ALL_SCANNERS
    retry: RetrySettings = field(default_factory=RetrySettings)
    # Pull requests from forks get no LLM review (their code would go to the provider on the
    # repository's key, at its cost) unless this is set or a maintainer comments /govbot deep.
    fork_llm: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ActionSettings:
        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        fail_on = get("GOVBOT_FAIL_ON")
        if fail_on not in (None, "review_required", "block", "never"):
            raise GovbotError(f"fail-on must be review_required, block or never, not {fail_on!r}")
        repository = get("GITHUB_REPOSITORY")
        if not repository:
            raise GovbotError("GITHUB_REPOSITORY is not set: run `govbot action` inside GitHub Actions")
        event_path = get("GITHUB_EVENT_PATH")
        budget = get("GOVBOT_RETRY_BUDGET_S")
        interval = get("GOVBOT_GITHUB_WRITE_INTERVAL_S")
        concurrency = get("GOVBOT_GITHUB_READ_CONCURRENCY") or "8"
        if not concurrency.isdigit() or not 1 <= int(concurrency) <= 32:
            raise GovbotError(f"GOVBOT_GITHUB_READ_CONCURRENCY must be a whole number from 1 to 32, "
                              f"not {concurrency!r:.20}")
        scanners = tuple(sorted({x.strip() for x in (get("GOVBOT_SCANNERS") or "").split(",") if x.strip()}))
        unknown = set(scanners) - set(ALL_SCANNERS)
        if unknown:
            raise GovbotError(f"scanners: unknown {sorted(unknown)}; choose from {', '.join(ALL_SCANNERS)}")
        return cls(
            repository=repository,
            event_name=get("GITHUB_EVENT_NAME") or "",
            event_path=Path(event_path) if event_path else None,
            token=get("GITHUB_TOKEN"),
            api_url=get("GITHUB_API_URL") or "https://api.github.com",
            server_url=get("GITHUB_SERVER_URL") or "https://github.com",
            run_id=get("GITHUB_RUN_ID"),
            policy_path=get("GOVBOT_POLICY") or DEFAULT_POLICY_PATH,
            fail_on=fail_on,
            dry_run=_flag(get("GOVBOT_DRY_RUN")),
            comment=_flag(get("GOVBOT_COMMENT"), default=True),
            report_dir=Path(get("GOVBOT_REPORT_DIR") or get("RUNNER_TEMP") or "."),
            output_path=Path(p) if (p := get("GITHUB_OUTPUT")) else None,
            summary_path=Path(p) if (p := get("GITHUB_STEP_SUMMARY")) else None,
            write_interval_s=float(interval) if interval else 1.0,
            read_concurrency=int(concurrency),
            scanners=scanners or ALL_SCANNERS,
            retry=RetrySettings(budget_s=float(budget)) if budget else RetrySettings(),
            fork_llm=_flag(get("GOVBOT_FORK_LLM")),
        )

    @property
    def details_url(self) -> str | None:
        if not self.run_id:
            return None
        return f"{self.server_url.rstrip('/')}/{self.repository}/actions/runs/{self.run_id}"


# --------------------------------------------------------------------------------------------
# Ports the composition root fills in (tests swap the analyser only before the pipeline lands)


class Analyser(Protocol):
    def __call__(self, change: ChangeSet, policy: Policy, contents: GitHubContent, *, policy_path: str,
                 policy_source: str, force_tier: str | None, notices: Sequence[str],
                 semgrep_configs: Sequence[str] = (), incremental: IncrementalPlan | None = None,
                 risk_model: RiskModel | None = None) -> Report: ...


@dataclass(frozen=True)
class Renderers:
    comment: Callable[[Report, int], str]
    summary: Callable[[Report], str]
    sarif: Callable[[Report], dict[str, Any]]
    json: Callable[[Report], str]


def default_renderers() -> Renderers:
    return Renderers(
        comment=lambda report, limit: comment_markdown(report, max_chars=limit),
        summary=summary_markdown,
        sarif=to_sarif,
        json=report_json,
    )


def pipeline_analyser(env: Mapping[str, str], scanners: Sequence[str] = ALL_SCANNERS,
                      make_scanners: Callable[[ScannerSettings], Scanners] = ToolScanners) -> Analyser:
    """The real analysis (``govbot.pipeline.analyse``), with LLM credentials from ``env``; tests
    pass ``make_scanners`` to replay recorded tool output instead of running the tools."""

    def run(change: ChangeSet, policy: Policy, contents: GitHubContent, *, policy_path: str,
            policy_source: str, force_tier: str | None, notices: Sequence[str],
            semgrep_configs: Sequence[str] = (), incremental: IncrementalPlan | None = None,
            risk_model: RiskModel | None = None) -> Report:
        from govbot.pipeline import AnalyseOptions, analyse, llm_reviewer
        from govbot.router.env import LLMEnvironment

        llm_env = LLMEnvironment.from_env(env, force_tier=force_tier)
        settings = ScannerSettings(enabled=tuple(scanners), semgrep_configs=tuple(semgrep_configs))
        options = AnalyseOptions(policy_path=policy_path, policy_source=policy_source, notices=tuple(notices),
                                  incremental=incremental, risk_model=risk_model)
        return analyse(change, policy, contents, make_scanners(settings.with_policy(policy)),
                       llm_reviewer(llm_env), options, base=contents)

    return run


@dataclass
class Context:
    settings: ActionSettings
    gh: GitHubPort
    analyser: Analyser
    renderers: Renderers
    out: TextIO
    notes: list[str] = field(default_factory=list)  # what could not be done; shown in the summary

    def log(self, message: str) -> None:
        print(f"govbot: {message}", file=self.out, flush=True)


# --------------------------------------------------------------------------------------------
# Pure helpers: conclusions, exit codes, annotations, comment body


def review_pending(decision: Decision) -> bool:
    return decision.outcome is Outcome.REVIEW_REQUIRED and decision.complete


def parse_command(body: str) -> str | None:
    """``recheck`` or ``deep`` when the comment's first non-empty line is a govbot command."""
    for line in body.splitlines():
        if line.strip():
            m = _COMMAND.fullmatch(line.strip())
            return m[1] if m else None
    return None


# --------------------------------------------------------------------------------------------
# Flows


def load_base_policy(ctx: Context, pr: PullData) -> tuple[Policy, str]:
    return policy_at_base(GitHubBaseTree(ctx.gh, pr.base_sha), ctx.settings.policy_path)


def base_risk_model(ctx: Context, pr: PullData, policy: Policy) -> RiskModel | None:
    """The policy's ``llm.routing.calibration`` from the BASE branch (``repocalibrate``); a missing
    or foreign file is reported like a policy error."""
    from govbot.router.repocalibrate import base_calibrated_model
    from govbot.router.riskmodel import default_model

    try:
        return base_calibrated_model(GitHubBaseTree(ctx.gh, pr.base_sha), policy.llm, default_model())
    except PolicyError:
        raise
    except ConfigError as exc:
        raise PolicyError(f"{policy.llm.routing.calibration}@{pr.base_sha[:12]}", [str(exc)]) from exc


def base_semgrep_configs(ctx: Context, pr: PullData, policy: Policy, dest: Path) -> tuple[str, ...]:
    """The policy's extra semgrep rules (files from the BASE commit, registry configs), if semgrep runs."""
    if "semgrep" not in ctx.settings.scanners:
        return ()
    configs = semgrep_rule_files(GitHubBaseTree(ctx.gh, pr.base_sha), policy, dest)
    if policy.semgrep.rules:
        ctx.log(f"semgrep: {len(configs) - len(policy.semgrep.registry)} extra rule file(s) from the base commit")
    return configs


MAX_CHECK_LOOKBACK = 20  # earlier commits whose check run is read for the record (one request each)


def previous_review(ctx: Context, pr: PullData, change: ChangeSet | None = None) -> ReviewedState | None:
    """What the last LLM review covered (None: first review). Read from the sticky comment's hidden
    state, else from the govbot check run of the pull request's earlier commits, newest first: the
    check run's summary carries the same record, so ``comment: false`` still reviews incrementally."""
    if ctx.settings.comment:
        for comment in reversed(sticky_comments(ctx.gh.list_comments(pr.number))):
            state = RunState.decode(comment.body)
            if state is not None:
                return state.reviewed
    commits = change.commits if change is not None else ()
    for c in list(reversed(commits))[1:MAX_CHECK_LOOKBACK + 1]:  # the newest is the head being reviewed
        check = ctx.gh.find_check_run(c.sha, check_name(pr))
        state = RunState.decode(check.summary) if check is not None else None
        # a record is only taken from the check run of the very commit it says it reviewed
        if state is not None and state.reviewed is not None and state.reviewed.head == c.sha:
            return state.reviewed
    return None


def plan_review(ctx: Context, pr: PullData, command: str | None, change: ChangeSet | None = None) -> IncrementalPlan:
    """Full or incremental LLM review. Anything uncertain (no record, a failed or truncated
    comparison) means a full review: a push is never left unreviewed."""
    if command is not None:
        return plan_incremental(None, None, force=f"/govbot {command}")
    previous = previous_review(ctx, pr, change)
    if previous is None:
        return plan_incremental(None, None)
    try:
        cmp = ctx.gh.compare(previous.head, pr.head_sha)
    except GitHubError as exc:
        ctx.log(f"comparing with the last reviewed head failed ({exc}); full LLM review")
        return IncrementalPlan("full", "full review: the comparison with the last reviewed head failed")
    if not cmp.complete:
        return IncrementalPlan("full", "full review: too many files changed since the last review")
    compare = Compare(base=pr.base_sha, head=pr.head_sha, ancestor=cmp.ancestor,
                      patches={f.filename: f.patch for f in cmp.files if f.status != "removed"},
                      removed=frozenset(f.filename for f in cmp.files if f.status == "removed"))
    return plan_incremental(previous, compare, rules=default_rules())


def reviewed_record(pr: PullData, report: Report) -> ReviewedState | None:
    """The record the next push is planned from: only when the LLM review completed. It keeps the
    LLM findings shown (with their scores) and the verifier's scores of the scanner findings."""
    if report.llm.status is not LLMStatus.OK:
        return None
    verdicts = {f.fingerprint: f.verification for f in report.findings
                if f.tool != "llm" and f.verification is not None}
    return ReviewedState(head=pr.head_sha, base=pr.base_sha,
                         findings=tuple(f for f in report.findings if f.tool == "llm"), verdicts=verdicts)


def full_run(ctx: Context, number: int, force_tier: str | None, resume_token: str | None,
             command: str | None = None) -> int:
    s, gh = ctx.settings, ctx.gh
    pr = gh.get_pull(number)
    if pr.state != "open":
        ctx.log(f"pull request #{number} is {pr.state}; nothing to do")
        return 0
    ctx.log(f"analysing #{number} at {pr.head_sha[:12]} (base {pr.base_sha[:12]})")
    with tempfile.TemporaryDirectory(prefix="govbot-rules-") as rules_dir:
        try:
            policy, source = load_base_policy(ctx, pr)
            configs = base_semgrep_configs(ctx, pr, policy, Path(rules_dir))
            risk_model = base_risk_model(ctx, pr, policy)
        except PolicyError as exc:
            report_policy_error(ctx, pr, exc)
            return exc.exit_code
        change = load_change(gh, pr)
        incremental = plan_review(ctx, pr, command, change)
        ctx.log(f"LLM review: {incremental.reason}")
        notices = [f"limit: {line}" for line in change.truncated]
        if pr.from_fork and not s.fork_llm and force_tier is None and policy.llm.enabled:
            policy = policy.model_copy(update={"llm": policy.llm.model_copy(update={"enabled": False})})
            notices.append("LLM review skipped: this pull request comes from a fork (action input fork-llm: "
                           "false); a maintainer can comment `/govbot deep` to run it")
        report = ctx.analyser(change, policy, GitHubContent(gh, policy.limits.max_file_bytes),
                              policy_path=s.policy_path, policy_source=source, force_tier=force_tier,
                              notices=notices, semgrep_configs=configs,
                              incremental=incremental, risk_model=risk_model)
    write_reports(ctx, report)
    fresh = gh.get_pull(number)
    if fresh.state != "open" or fresh.head_sha != pr.head_sha:
        ctx.log(f"#{number} changed during the run (now {fresh.state} at {fresh.head_sha[:12]}); "
                "not publishing a stale result")
        write_summary(ctx, ctx.renderers.summary(report), "Not published: the pull request changed "
                      "during the run; the run for the new head will report.")
        return 0
    verdict = human_review(ctx, fresh) if review_pending(report.decision) else None
    fail_on = s.fail_on or policy.settings.fail_on
    code = exit_code(report.decision, fail_on, review_satisfied=verdict is not None and verdict.satisfied)
    try:
        publish(ctx, fresh, policy, report, verdict, resume_token, reviewed_record(pr, report))
    finally:
        write_summary(ctx, ctx.renderers.summary(report), review_block(verdict, policy.labels.review))
    return code


def report_policy_error(ctx: Context, pr: PullData, exc: PolicyError) -> None:
    """The base branch's policy is invalid: a failing check that says why, and exit code 2."""
    problems = "\n".join(f"- {clean(p, limit=300)}" for p in exc.problems[:50])
    text = f"govbot did not analyse this pull request: the policy is invalid.\n\n{problems}"
    ctx.log(str(exc))
    if not ctx.settings.dry_run:
        try:
            publish_check(ctx.gh, pr.head_sha, check_name(pr), "failure",
                          CheckOutput(title="Invalid govbot policy", summary=text),
                          ctx.settings.details_url, ctx.log)
        except PermissionDenied:
            ctx.notes.append("the check could not be published (read-only token)")
    write_summary(ctx, text, "")


def human_review(ctx: Context, pr: PullData) -> ReviewVerdict:
    reviews = ctx.gh.list_reviews(pr.number)
    perms = {login: ctx.gh.permission(login) for login in candidates(reviews, pr.user, pr.head_sha)}
    return evaluate_reviews(reviews, pr.user, pr.head_sha, perms)


def publish(ctx: Context, pr: PullData, policy: Policy, report: Report, verdict: ReviewVerdict | None,
            resume_token: str | None, reviewed: ReviewedState | None = None) -> None:
    d = report.decision
    state = RunState(head=pr.head_sha, outcome=d.outcome.value, complete=d.complete,
                     review_label=policy.labels.review, reviewed=reviewed)
    block = review_block(verdict, policy.labels.review)
    conclusion = conclusion_for(d.outcome, d.complete, verdict)
    annotations = annotations_for(report.findings)
    summary_md = ctx.renderers.summary(report)
    output = CheckOutput(
        title=title_for(d.outcome, d.complete, verdict),
        summary=f"{block}\n\n{state.encode()}" if block else state.encode(),
        text=summary_md,
        annotations=annotations,
    )
    if ctx.settings.dry_run:
        ctx.log(f"dry run: would set check `{check_name(pr)}` to {conclusion}, sync labels "
                f"+{list(d.labels_add)} -{list(d.labels_remove)}, and update the sticky comment")
        emit_annotations(ctx.out, annotations, resume_token)
        return
    try:
        if ctx.settings.comment:
            body = comment_body(lambda room: ctx.renderers.comment(report, room), state, block)
            upsert_comment(ctx.gh, pr.number, body)
        added, removed = sync_labels(ctx.gh, pr, d, policy)
        if added or removed:
            ctx.log(f"labels: +{added} -{removed}")
        if not publish_check(ctx.gh, pr.head_sha, check_name(pr), conclusion, output, ctx.settings.details_url,
                             ctx.log):
            raise PermissionDenied("neither a check run nor a commit status could be written", 403)
    except PermissionDenied as exc:
        ctx.log(f"read-only token ({exc}); falling back to annotations and the job summary")
        ctx.notes.append(
            "govbot could not write to this pull request (read-only token, as on a `pull_request` "
            "from a fork): no comment, labels or check were published; see the annotations and "
            "this summary. Use `pull_request_target` with govbot's workflow to publish on forks."
        )
        emit_annotations(ctx.out, annotations, resume_token)
        return
    ctx.log(f"published: check {conclusion}, {len(annotations)} annotation(s)")


def review_run(ctx: Context, number: int) -> int:
    """``pull_request_review``: re-check enforcement from stored state; no scanners, no models."""
    gh = ctx.gh
    pr = gh.get_pull(number)
    if pr.state != "open":
        ctx.log(f"pull request #{number} is {pr.state}; nothing to do")
        return 0
    check = gh.find_check_run(pr.head_sha, check_name(pr))
    state = RunState.decode(check.summary) if check else None
    sticky = sticky_comments(gh.list_comments(number))
    if state is None and sticky:
        state = RunState.decode(sticky[0].body)
    if state is None or state.head != pr.head_sha:
        ctx.log(f"no govbot result for head {pr.head_sha[:12]} yet; the pull_request run will decide")
        return 0
    if state.outcome != Outcome.REVIEW_REQUIRED.value or not state.complete:
        ctx.log(f"last result is {state.outcome}; no human-review requirement to re-evaluate")
        return 0
    verdict = human_review(ctx, pr)
    outcome = Outcome.REVIEW_REQUIRED
    block = review_block(verdict, state.review_label)
    conclusion = conclusion_for(outcome, True, verdict)
    ctx.log(f"human review {'satisfied' if verdict.satisfied else 'pending'}: check {conclusion}")
    if not ctx.settings.dry_run:
        output = CheckOutput(title=title_for(outcome, True, verdict), summary=f"{block}\n\n{state.encode()}",
                             text=check.text if check else "")
        try:
            if not publish_check(ctx.gh, pr.head_sha, check_name(pr), conclusion, output,
                                 ctx.settings.details_url, ctx.log):
                raise PermissionDenied("neither a check run nor a commit status could be written", 403)
            if sticky:
                updated = replace_review_block(sticky[0].body, block)
                if updated != sticky[0].body:
                    gh.edit_comment(number, sticky[0].id, updated)
        except PermissionDenied as exc:
            ctx.log(f"read-only token ({exc}); the check could not be updated")
            ctx.notes.append(
                "this `pull_request_review` event ran with a read-only token (as it does for a pull "
                "request from a fork), so the `govbot` check was not updated. A maintainer can comment "
                "`/govbot recheck` on the pull request (or re-run the `pull_request_target` job) to "
                "re-evaluate the approval with a token that can write."
            )
    write_summary(ctx, "", block)
    return 0 if verdict.satisfied else 1


def command_run(ctx: Context, event: Mapping[str, Any], resume_token: str | None) -> int:
    issue = event.get("issue") or {}
    comment = event.get("comment") or {}
    if not issue.get("pull_request"):
        ctx.log("comment on an issue, not a pull request; nothing to do")
        return 0
    if event.get("action") != "created":
        ctx.log(f"issue_comment {event.get('action')!s:.20}; only new comments are read")
        return 0
    command = parse_command(str(comment.get("body") or ""))
    if command is None:
        ctx.log("comment is not a /govbot command; nothing to do")
        return 0
    user = comment.get("user") or {}
    login = str(user.get("login") or "")
    if user.get("type") == "Bot" or login.endswith("[bot]"):
        ctx.log("ignoring a /govbot command written by a bot")
        return 0
    if ctx.gh.permission(login) not in WRITER_PERMISSIONS:
        ctx.log("ignoring a /govbot command from an account without write access")
        return 0
    ctx.log(f"/govbot {command} requested by a writer")
    return full_run(ctx, int(issue["number"]), "pro" if command == "deep" else None, resume_token,
                    command)


# --------------------------------------------------------------------------------------------
# Files the runner reads: outputs, step summary, reports


def write_reports(ctx: Context, report: Report) -> tuple[Path, Path]:
    out_dir = ctx.settings.report_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, sarif_path = out_dir / "govbot-report.json", out_dir / "govbot-report.sarif"
    json_path.write_text(ctx.renderers.json(report), encoding="utf-8")
    sarif_path.write_text(json.dumps(ctx.renderers.sarif(report), indent=2, sort_keys=True) + "\n",
                          encoding="utf-8")
    write_outputs(ctx, {
        "decision": report.decision.outcome.value,
        "complete": str(report.decision.complete).lower(),
        "findings": str(len(report.findings)),
        "tier": report.route.tier.value,
        "cost-usd": f"{report.llm.cost_usd:.4f}",
        "json-report": str(json_path.resolve()),
        "sarif-report": str(sarif_path.resolve()),
    })
    return json_path, sarif_path


def write_outputs(ctx: Context, values: Mapping[str, str]) -> None:
    path = ctx.settings.output_path
    if path is None:
        return
    with path.open("a", encoding="utf-8") as fh:
        for key, value in values.items():
            delimiter = f"govbot_{secrets.token_hex(8)}"
            fh.write(f"{key}<<{delimiter}\n{value}\n{delimiter}\n")


def write_summary(ctx: Context, summary: str, review: str) -> None:
    path = ctx.settings.summary_path
    parts = [summary.rstrip(), review.replace(REVIEW_BEGIN, "").replace(REVIEW_END, "").strip()]
    parts += [f"> [!WARNING]\n> {note}" for note in ctx.notes]
    text = "\n\n".join(p for p in parts if p) + "\n"
    if path is None:
        return
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)


# --------------------------------------------------------------------------------------------
# Entry point


def load_event(settings: ActionSettings) -> dict[str, Any]:
    if settings.event_path is None:
        return {}
    try:
        data = json.loads(settings.event_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GovbotError(f"cannot read the event payload {settings.event_path}: {exc}") from exc
    return data if isinstance(data, dict) else {}


def dispatch(ctx: Context, event: Mapping[str, Any], resume_token: str | None) -> int:
    name = ctx.settings.event_name
    if name in ("pull_request", "pull_request_target"):
        action = str(event.get("action") or "")
        number = int((event.get("pull_request") or {}).get("number") or event.get("number") or 0)
        if action == "closed":
            ctx.log(f"pull request #{number} was closed; nothing to do")
            return 0
        if action not in FULL_RUN_ACTIONS:
            ctx.log(f"{name} action {action!r:.40} is not handled; nothing to do")
            return 0
        return full_run(ctx, number, None, resume_token)
    if name == "pull_request_review":
        return review_run(ctx, int((event.get("pull_request") or {})["number"]))
    if name == "issue_comment":
        return command_run(ctx, event, resume_token)
    ctx.log(f"event {name!r:.40} is not handled (govbot runs on pull requests); nothing to do")
    return 0


def run(env: Mapping[str, str], *, out: TextIO | None = None, analyser: Analyser | None = None,
        renderers: Renderers | None = None, budget: RetryBudget | None = None,
        scanners: Callable[[ScannerSettings], Scanners] = ToolScanners) -> int:
    """The whole action for one event. ``env`` is the process environment (read only here)."""
    out = out or sys.stdout
    # No text from the pull request may ever run as a workflow command: switch them off, and
    # switch them back on only to print govbot's own escaped annotations.
    resume_token = secrets.token_hex(16)
    print(f"::stop-commands::{resume_token}", file=out, flush=True)
    try:
        settings = ActionSettings.from_env(env)
        event = load_event(settings)
        if settings.event_name in ("push", "workflow_dispatch", "merge_group", "schedule", ""):
            print(f"govbot: event {settings.event_name!r} is not handled; nothing to do", file=out)
            return 0
        if not settings.token:
            raise GovbotError("no GitHub token: pass `github-token` (defaults to github.token)")
        gh = PyGithubAdapter(
            GitHubSettings(token=settings.token, repository=settings.repository, api_url=settings.api_url,
                           seconds_between_writes=settings.write_interval_s,
                           read_concurrency=settings.read_concurrency),
            budget or RetryBudget(settings=settings.retry),
        )
        analyse = analyser or pipeline_analyser(env, settings.scanners, scanners)
        ctx = Context(settings, gh, analyse, renderers or default_renderers(), out)
        return dispatch(ctx, event, resume_token)
    except PolicyError as exc:
        print(f"govbot: {exc}", file=out)
        return 2
    except GitHubError as exc:
        print(f"govbot: GitHub API error: {exc}", file=out)
        return 2
    except GovbotError as exc:
        print(f"govbot: {exc}", file=out)
        return exc.exit_code
    except Exception as exc:  # a crash must never read as "blocked" (1) or "pass" (0)
        print(f"govbot: internal error: {type(exc).__name__}: {clean(str(exc), limit=300)}", file=out)
        return 2
    finally:
        print(f"::{resume_token}::", file=out, flush=True)




if __name__ == "__main__":
    import os

    raise SystemExit(run(os.environ))
