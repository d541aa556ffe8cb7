"""The ``govbot`` command line: the composition root for local use.

Exit codes (DESIGN.md): 0 pass or warnings, 1 blocked (or review required) by policy,
2 configuration or tool error. Any unexpected crash is also 2, never 1 and never 0.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from govbot import __version__
from govbot.bot.app.cli import add_parser as add_app_parser
from govbot.bot.local import git as localgit
from govbot.bot.render import registry as render
from govbot.checks.registry import ScannerSettings, binaries_from_env
from govbot.checks.scan import ToolScanners
from govbot.core.diff import changeset_from_diff
from govbot.core.errors import ConfigError, GovbotError, PolicyError
from govbot.core.models import AIVerdict, Authorship, DiffScope, Finding, Report, Tier, exit_code
from govbot.core.ports import BaseTree, Scanners
from govbot.pipeline import AnalyseOptions, analyse, llm_reviewer
from govbot.policy.base import policy_at_base, semgrep_rule_files
from govbot.policy.llm_config import LLMConfig
from govbot.policy.loader import (
    DEFAULT_POLICY_PATH,
    MAX_POLICY_BYTES,
    load_policy_checked,
    load_policy_text,
)
from govbot.policy.model import Policy
from govbot.router.catalogue import ModelSet, default_catalogue, resolve_models
from govbot.router.env import LLMEnvironment
from govbot.router.evaluate import Case, run_eval, validate_label
from govbot.router.plan import plan
from govbot.router.repocalibrate import base_calibrated_model, calibrated_model
from govbot.router.report import eval_json, eval_text, route_json, route_text
from govbot.router.riskmodel import RiskModel, default_model


@dataclass(frozen=True)
class Edges:
    """What the commands reach the world through: the environment (read only here) and the
    scanners (tests replay recorded tool output instead of running the tools)."""

    env: Mapping[str, str]
    scanners: Callable[[ScannerSettings], Scanners] = ToolScanners


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="govbot", description="AI-code governance for pull requests.")
    parser.add_argument("--version", action="version", version=f"govbot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    scan = sub.add_parser("scan", help="scan the change between two refs of a local repository")
    scan.add_argument("path", nargs="?", default=".", help="repository (default: .)")
    scan.add_argument("--base", required=True, help="the branch or commit the change goes into")
    scan.add_argument("--head", default="HEAD", help="the branch or commit with the change (default: HEAD)")
    _add_output_args(scan)
    scan.set_defaults(func=cmd_scan)

    demo = sub.add_parser("demo", help="create a small demo repository with an AI-written change and scan it")
    demo.add_argument("dir", nargs="?", help="where to create it (default: a new temporary directory)")
    _add_output_args(demo)
    demo.set_defaults(func=cmd_demo)

    policy = sub.add_parser("policy", help="work with policy files")
    psub = policy.add_subparsers(dest="policy_command", required=True, metavar="ACTION")
    validate = psub.add_parser("validate", help="check a policy file and explain any problem")
    validate.add_argument("file")
    validate.set_defaults(func=cmd_policy_validate)
    schema = psub.add_parser("schema", help="print the policy's JSON Schema (for editors)")
    schema.set_defaults(func=cmd_policy_schema)

    report = sub.add_parser("report-schema", help="print the JSON Schema of the --format json report")
    report.set_defaults(func=cmd_report_schema)

    _add_optional_commands(sub)
    return parser


def _add_optional_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add_parsers(sub)
    action = sub.add_parser(
        "action",
        help="run as the GitHub Action (reads GITHUB_EVENT_PATH/GITHUB_EVENT_NAME)",
        description="Run govbot for the current GitHub Actions event. Configuration comes from the "
        "environment that action.yml sets from its inputs; see docs/action.md.",
    )
    action.set_defaults(func=cmd_action)
    add_app_parser(sub)


def _add_output_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=tuple(render.FORMATS), default="text", help="output format (default: text)")
    p.add_argument("--output", "-o", help="write the report to this file instead of stdout")
    p.add_argument("--policy", help=f"policy file on disk (default: {DEFAULT_POLICY_PATH} from the BASE ref)")
    p.add_argument("--diff-scope", choices=[s.value for s in DiffScope], help="override settings.diff_scope")
    p.add_argument("--fail-on", choices=["review_required", "block", "never"],
                   help="which outcome exits 1 (default: the policy's settings.fail_on)")
    p.add_argument("--llm", action="store_true",
                   help="allow the routed LLM review (uses OPENAI_API_KEY / ANTHROPIC_API_KEY / on-prem "
                        "endpoints from the environment); off by default: nothing leaves the machine")
    p.add_argument("--no-progress", action="store_true", help="no progress display on stderr")


def load_policy(tree: BaseTree, explicit: str | None) -> tuple[Policy, str]:
    """The policy from an explicit file, else from the BASE ref (never the PR's copy), else default."""
    if explicit:
        path = Path(explicit)
        try:
            if path.stat().st_size > MAX_POLICY_BYTES:
                raise PolicyError(explicit, [f"{explicit}: larger than {MAX_POLICY_BYTES} bytes"])
            return load_policy_text(path.read_bytes(), explicit), explicit
        except OSError as exc:
            raise PolicyError(explicit, [f"{explicit}: cannot read ({exc.strerror})"]) from exc
    return policy_at_base(tree, DEFAULT_POLICY_PATH)


def check_output_path(output: str | None) -> None:
    """Refuse an unwritable ``-o`` before a scan of minutes, not after it (exit 2)."""
    if not output:
        return
    target = Path(output)
    parent = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise ConfigError(f"--output {output}: is a directory; name a file")
    if not parent.is_dir():
        raise ConfigError(f"--output {output}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise ConfigError(f"--output {output}: not writable")


def run_scan(args: argparse.Namespace, edges: Edges, repo_path: Path, base: str, head: str) -> int:
    check_output_path(args.output)
    err = Console(stderr=True)
    repo = localgit.open_repo(repo_path)
    change = localgit.load_change(repo, base, head)
    # The policy in force is the base branch's as it is now (its tip), not as it was at the
    # merge base: a branch forked before the policy was tightened must not escape it.
    base_tip = localgit.resolve(repo, base)
    tree = localgit.GitBaseTree(repo, base_tip)
    policy, source = load_policy(tree, args.policy)
    risk_model = base_calibrated_model(tree, policy.llm, default_model())
    with tempfile.TemporaryDirectory(prefix="govbot-rules-") as rules_tmp:
        configs = semgrep_rule_files(tree, policy, Path(rules_tmp))
        scanners = edges.scanners(scanner_settings(edges.env, configs).with_policy(policy))
        reviewer = llm_reviewer(LLMEnvironment.from_env(edges.env)) if args.llm else None
        show = not args.no_progress and err.is_terminal
        with _progress(err, show) as on_progress:
            options = AnalyseOptions(diff_scope=DiffScope(args.diff_scope) if args.diff_scope else None,
                                     policy_source=source, progress=on_progress, risk_model=risk_model)
            blobs = localgit.GitBlobSource(repo)
            report = analyse(change, policy, blobs, scanners, reviewer, options, base=blobs)
    code = exit_code(report.decision, args.fail_on or policy.settings.fail_on)
    emit(report, args.format, args.output, code)
    return code


def scanner_settings(env: Mapping[str, str], configs: tuple[str, ...]) -> ScannerSettings:
    """Scanner binaries may be pinned through GOVBOT_<TOOL>_BIN (read once, here)."""
    return ScannerSettings(semgrep_configs=configs, binaries=binaries_from_env(env))


class _progress:
    """A rich spinner per scanner on stderr; a no-op when not on a terminal."""

    def __init__(self, console: Console, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                            console=console, transient=True)
        self.tasks: dict[str, object] = {}

    def __enter__(self) -> _progress | None:
        if not self.enabled:
            return None
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.bar.stop()

    def __call__(self, tool: str, state: str) -> None:
        if state == "started":
            self.tasks[tool] = self.bar.add_task(f"{tool}: running", total=None)
        elif tool in self.tasks:
            self.bar.update(self.tasks[tool], description=f"{tool}: {state}")  # type: ignore[arg-type]


def emit(report: Report, fmt: str, output: str | None, code: int) -> None:
    if fmt == "text" and output is None:
        render.print_terminal(report, Console(), code)
        return
    text = render.render(report, fmt, code)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def cmd_scan(args: argparse.Namespace, edges: Edges) -> int:
    return run_scan(args, edges, Path(args.path), args.base, args.head)


def cmd_action(args: argparse.Namespace, edges: Edges) -> int:
    # Imported here: PyGithub costs ~0.3 s to load, which local scans never need.
    from govbot.bot.action import run

    return run(edges.env)


def cmd_demo(args: argparse.Namespace, edges: Edges) -> int:
    from govbot.bot.local.demo import create_demo_repo

    target = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="govbot-demo-"))
    repo = create_demo_repo(target)
    Console(stderr=True).print(f"[bold]govbot demo[/]: created {repo} (base: main, head: feature)")
    return run_scan(args, edges, repo, "main", "feature")


def cmd_policy_validate(args: argparse.Namespace, edges: Edges) -> int:
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PolicyError(args.file, [f"{args.file}: cannot read ({exc.strerror})"]) from exc
    policy, warnings = load_policy_checked(data, args.file)
    from govbot.policy.engine import effective_rules

    rules = effective_rules(policy)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{args.file}: valid ({len(policy.rules)} rule(s) of its own, {len(rules)} in effect"
          f"{f', {len(warnings)} warning(s)' if warnings else ''})")
    return 0


def cmd_policy_schema(args: argparse.Namespace, edges: Edges) -> int:
    import json

    from govbot.policy.schema import policy_schema

    print(json.dumps(policy_schema(), indent=2, sort_keys=True))
    return 0


def cmd_report_schema(args: argparse.Namespace, edges: Edges) -> int:
    import json

    print(json.dumps(render.report_schema(), indent=2, sort_keys=True))
    return 0


# --------------------------------------------------------------------------------------------
# govbot route / govbot eval: the router without a model call


def add_parsers(subparsers: Any) -> None:
    route = subparsers.add_parser(
        "route", help="print the LLM routing plan for a unified diff (no model is called)",
        description="Print the tier, model, reasons, estimated tokens and cost govbot would use to review "
        "a unified diff. Nothing is sent anywhere.",
    )
    source = route.add_mutually_exclusive_group(required=True)
    source.add_argument("--diff", metavar="FILE", help="unified diff file, or - for stdin")
    source.add_argument("--repo", metavar="PATH", help="a git repository: route BASE..HEAD with the scanners' "
                        "findings, like the real pipeline (the policy is the base branch's)")
    route.add_argument("--base", default="origin/main", help="with --repo: base ref (default origin/main)")
    route.add_argument("--head", default="HEAD", help="with --repo: head ref (default HEAD)")
    route.add_argument("--calibration", metavar="FILE", help="a file from `govbot router calibrate` "
                       "(default: the policy's llm.routing.calibration, relative to the current directory)")
    route.add_argument("--policy", metavar="FILE", help="policy file whose llm: section to use")
    route.add_argument("--format", choices=("text", "json"), default="text")
    route.add_argument("--ai-authored", action="store_true", help="treat the change as AI-authored")
    route.add_argument("--deep", action="store_true", help="force the pro tier, like /govbot deep")
    route.set_defaults(func=route_command)

    ev = subparsers.add_parser(
        "eval", help="measure routing on a folder of labelled diffs",
        description="Route every *.diff in DIR and compare with labels.yml (name.diff: lint|ordinary|security, "
        "or a tier). Prints the confusion matrix, the share of pro calls and the estimated cost against "
        "always-pro. No model is called.",
    )
    ev.add_argument("dir", metavar="DIR")
    ev.add_argument("--labels", metavar="FILE", help="label file (default: DIR/labels.yml)")
    ev.add_argument("--policy", metavar="FILE", help="policy file whose llm: section to use")
    ev.add_argument("--format", choices=("text", "json"), default="text")
    ev.set_defaults(func=eval_command)

    router = subparsers.add_parser("router", help="the learned risk router: calibrate it to a repository")
    rsub = router.add_subparsers(dest="router_command", required=True)
    cal = rsub.add_parser(
        "calibrate", help="fit the pro threshold to a repository's own history; writes a calibration file",
        description="Score the repository's own security fixes (commit messages citing CVE/GHSA/PYSEC ids), "
        "reverted commits and recorded feedback (JSONL: repo, sha or pr, label deep|security|ok, source, time) "
        "with the shipped model, write a calibration file for llm.routing.calibration, and print recall "
        "and pro share before and after. No network.",
    )
    cal.add_argument("path", metavar="PATH", help="a git repository (work tree or bare)")
    cal.add_argument("--feedback", metavar="FILE", help="JSONL feedback, e.g. /govbot deep requests")
    cal.add_argument("--out", metavar="FILE", default="govbot-calibration.json")
    cal.add_argument("--target", type=float, help="recall target (default: the policy's, 0.95)")
    cal.add_argument("--policy", metavar="FILE", help="policy file whose llm: section to use")
    cal.add_argument("--history", type=int, default=5000, help="newest commits to read")
    cal.set_defaults(func=router_calibrate_command)


def _config(path: str | None) -> LLMConfig:
    if path is None:
        return LLMConfig()
    from govbot.policy.loader import load_policy_text

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read policy {path}: {exc.strerror}") from exc
    return load_policy_text(data, path).llm


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text("utf-8", errors="surrogateescape")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc


def _risk_model(config: LLMConfig, path: str | None) -> RiskModel | None:
    """``--calibration FILE`` or the policy's ``llm.routing.calibration``, read from the current
    directory (``govbot route --diff``: there is no base branch to read it from)."""
    path = path or config.routing.calibration
    if not path or config.routing.router != "learned":
        return None
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"calibration {path}: {exc.strerror}") from exc
    return calibrated_model(default_model(), data, path)


def route_command(args: argparse.Namespace, edges: Edges) -> int:
    findings: tuple[Finding, ...] = ()
    if args.repo:
        repo = localgit.open_repo(Path(args.repo))
        change = localgit.load_change(repo, args.base, args.head)
        base_tip = localgit.resolve(repo, args.base)
        tree = localgit.GitBaseTree(repo, base_tip)
        policy, source = load_policy(tree, args.policy)
        with tempfile.TemporaryDirectory(prefix="govbot-rules-") as rules_tmp:
            configs = semgrep_rule_files(tree, policy, Path(rules_tmp))
            scanners = edges.scanners(scanner_settings(edges.env, configs).with_policy(policy))
            report = analyse(change, policy, localgit.GitBlobSource(repo), scanners, None,
                             AnalyseOptions(policy_source=source))
        findings, config = report.findings, policy.llm
        risk_model = (_risk_model(config, args.calibration) if args.calibration
                      else base_calibrated_model(tree, config, default_model()))
    else:
        config = _config(args.policy)
        text = _read(args.diff)
        change = changeset_from_diff(text)
        if not change.files and text.strip():
            where = "standard input" if args.diff == "-" else args.diff
            raise ConfigError(f"{where} is not a unified diff: no 'diff --git' or '--- a/…' / '+++ b/…' file "
                              "header found (make one with: git diff main...HEAD > change.diff)")
        risk_model = _risk_model(config, args.calibration)
    env = LLMEnvironment.from_env(edges.env)
    models = resolve_models(config, env, default_catalogue())
    authorship = Authorship(ai_generated=AIVerdict.YES) if args.ai_authored else Authorship()
    route = plan(change, findings, authorship, config, models, force_tier=Tier.PRO if args.deep else None,
                 risk_model=risk_model)
    data = route_json(route)
    if args.format == "json":
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        print(route_text(route))
    return 0


def load_cases(directory: str, labels_path: str | None) -> list[Case]:
    root = Path(directory)
    if not root.is_dir():
        raise ConfigError(f"{directory} is not a directory")
    label_file = Path(labels_path) if labels_path else root / "labels.yml"
    try:
        labels = YAML(typ="safe").load(label_file.read_text("utf-8")) or {}
    except (OSError, YAMLError) as exc:
        raise ConfigError(f"cannot read labels {label_file}: {exc}") from exc
    if not isinstance(labels, dict):
        raise ConfigError(f"{label_file}: expected a mapping of 'name.diff: label'")
    cases: list[Case] = []
    for diff in sorted(root.rglob("*.diff")):
        name = diff.relative_to(root).as_posix()
        if name not in labels:
            raise ConfigError(f"{label_file}: no label for {name}")
        try:
            label = validate_label(name, str(labels[name]))
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        cases.append(Case(name, label, diff.read_text("utf-8", errors="surrogateescape")))
    if not cases:
        raise ConfigError(f"no *.diff files in {directory}")
    return cases


def eval_models(config: LLMConfig, environ: Mapping[str, str]) -> ModelSet:
    """Every configured model counts as available: eval estimates, it never calls."""
    env = LLMEnvironment.from_env(environ)
    models = resolve_models(config, env, default_catalogue())
    return ModelSet(tiers=models.configured, configured=models.configured)


def eval_command(args: argparse.Namespace, edges: Edges) -> int:
    config = _config(args.policy)
    result = run_eval(load_cases(args.dir, args.labels), config, eval_models(config, edges.env))
    if args.format == "json":
        print(json.dumps(eval_json(result), indent=2, sort_keys=True))
    else:
        print(eval_text(result))
    return 0


def main(argv: Sequence[str] | None = None, edges: Edges | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args, edges or Edges(os.environ)))
    except GovbotError as exc:
        sys.stderr.write(f"govbot: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        return 2
    except Exception as exc:  # a crash must never read as "blocked" (1) or "pass" (0)
        sys.stderr.write(f"govbot: internal error: {type(exc).__name__}: {exc}\n")
        return 2


def router_calibrate_command(args: argparse.Namespace, edges: Edges) -> int:
    from govbot.router.dataset import SECURITY_MESSAGE, cited_ids, commit_diff, history, resolve_sha
    from govbot.router.plan import diff_inputs
    from govbot.router.repocalibrate import calibration_doc, parse_feedback, reverted_shas
    from govbot.router.riskmodel import default_model

    config = _config(args.policy)
    target = args.target or config.routing.recall_target
    root = Path(args.path)
    gitdir = root / ".git" if (root / ".git").exists() else root
    try:
        commits = history(gitdir, args.history)
    except RuntimeError as exc:
        raise ConfigError(f"{args.path}: not a readable git repository ({exc})") from exc
    positives: dict[str, str] = {}
    for sha, msg in commits:
        if cited_ids(msg) and SECURITY_MESSAGE.search(msg):
            positives[sha] = "advisory"
    for short in sorted(reverted_shas(dict(commits))):
        full = resolve_sha(gitdir, short)
        if full:
            positives.setdefault(full, "revert")
    if args.feedback:
        for row in parse_feedback(_read(args.feedback).splitlines()):
            full = resolve_sha(gitdir, row.sha) if row.sha and row.label != "ok" else None
            if full:
                positives.setdefault(full, "feedback")
    model = default_model()

    def score(sha: str) -> float:
        feats, size = diff_inputs(commit_diff(gitdir, sha)[1])
        return model.route_score(feats, size, 0)[0]  # the score plan() compares, size-adjusted

    pos = [score(sha) for sha in positives]
    others = [sha for sha, _ in commits if sha not in positives][:: max(1, len(commits) // 200)][:200]
    neg = [score(sha) for sha in others]
    sources: dict[str, int] = {}
    for src in positives.values():
        sources[src] = sources.get(src, 0) + 1
    doc = calibration_doc(model, pos, sources, str(args.path))
    from govbot.router.repocalibrate import apply_calibration

    after_model = apply_calibration(model, doc)
    for name, m in (("before", model), ("after", after_model)):
        t = m.threshold(target)
        recall = sum(s >= t for s in pos) / len(pos) if pos else float("nan")
        share = sum(s >= t for s in neg) / len(neg) if neg else float("nan")
        print(f"{name}: threshold {t:.3f}; recall on this repository's {len(pos)} positives {recall:.1%}; "
              f"pro share of {len(neg)} other commits {share:.1%}")
    Path(args.out).write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", "utf-8")
    print(f"wrote {args.out} ({', '.join(f'{k} {v}' for k, v in sources.items()) or 'no positives found'}); "
          "point llm.routing.calibration at it")
    return 0
