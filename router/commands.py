"""CLI subcommands ``govbot route`` and ``govbot eval`` (the lead's ``bot/cli.py`` registers them).

Neither calls a model. Both read files and the environment here, at the edge, and print.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from govbot.core.errors import ConfigError
from govbot.core.models import AIVerdict, Authorship, Tier
from govbot.policy.llm_config import LLMConfig
from govbot.router.catalogue import ModelSet, default_catalogue, resolve_models
from govbot.router.diffinput import changeset_from_diff
from govbot.router.env import LLMEnvironment
from govbot.router.evaluate import TIER_NAMES, Case, EvalResult, run_eval, validate_label
from govbot.router.plan import Route, plan


def add_parsers(subparsers: Any) -> None:
    route = subparsers.add_parser(
        "route", help="print the LLM routing plan for a unified diff (no model is called)",
        description="Print the tier, model, reasons, estimated tokens and cost govbot would use to review "
        "a unified diff. Nothing is sent anywhere.",
    )
    route.add_argument("--diff", required=True, metavar="FILE", help="unified diff file, or - for stdin")
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


def _safe(text: str) -> str:
    """File names and reasons come from the diff: no terminal control characters."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def route_command(args: argparse.Namespace) -> int:
    config = _config(args.policy)
    env = LLMEnvironment.from_env(os.environ)
    models = resolve_models(config, env, default_catalogue())
    change = changeset_from_diff(_read(args.diff))
    authorship = Authorship(ai_generated=AIVerdict.YES) if args.ai_authored else Authorship()
    route = plan(change, (), authorship, config, models, force_tier=Tier.PRO if args.deep else None)
    data = route_json(route)
    if args.format == "json":
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        print(route_text(route))
    return 0


def route_json(route: Route) -> dict[str, Any]:
    rp = route.route_plan()
    return {
        "tier": rp.tier.value,
        "model": rp.model,
        "fallbacks": list(rp.fallbacks),
        "nominal_model": route.nominal.ref if route.nominal else None,
        "reasons": list(rp.reasons),
        "skip_reason": route.skip_reason,
        "estimated_input_tokens": rp.estimated_input_tokens,
        "estimated_cost_usd": rp.estimated_cost_usd,
        "chunks": route.chunks,
        "files": [
            {"path": c.path, "class": "security" if c.is_risk else (f"lint:{c.lint}" if c.lint else "ordinary")}
            for c in route.classes
        ],
        "not_sent": [{"path": p, "reason": r} for p, r in route.excluded],
    }


def route_text(route: Route) -> str:
    rp = route.route_plan()
    lines = [f"tier: {rp.tier.value}"]
    if rp.model:
        fb = f" (fallbacks: {', '.join(rp.fallbacks)})" if rp.fallbacks else ""
        lines.append(f"model: {rp.model}{fb}")
    elif route.nominal and rp.tier is not Tier.NONE:
        lines.append(f"model: none available ({route.skip_reason}); would use {route.nominal.ref}")
    if route.skip_reason and rp.tier is Tier.NONE:
        lines.append(f"LLM review: skipped ({route.skip_reason})")
    lines.append("reasons:")
    lines.extend(f"  - {_safe(r)}" for r in rp.reasons)
    if rp.tier is not Tier.NONE:
        lines.append(f"estimated input tokens: {rp.estimated_input_tokens} in {route.chunks} request(s)")
        via = f" with {route.nominal.ref}" if route.nominal else ""
        lines.append(f"estimated cost: ${rp.estimated_cost_usd:.4f}{via}")
    for path, why in route.excluded:
        lines.append(f"not sent: {_safe(path)} ({why})")
    return "\n".join(lines)


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


def eval_models(config: LLMConfig) -> ModelSet:
    """Every configured model counts as available: eval estimates, it never calls."""
    env = LLMEnvironment.from_env(os.environ)
    models = resolve_models(config, env, default_catalogue())
    return ModelSet(tiers=models.configured, configured=models.configured)


def eval_command(args: argparse.Namespace) -> int:
    config = _config(args.policy)
    result = run_eval(load_cases(args.dir, args.labels), config, eval_models(config))
    if args.format == "json":
        print(json.dumps(eval_json(result), indent=2, sort_keys=True))
    else:
        print(eval_text(result))
    return 0


def eval_json(result: EvalResult) -> dict[str, Any]:
    return {
        "cases": len(result.cases),
        "confusion": result.matrix(),
        "accuracy": round(result.accuracy, 4),
        "pro_recall": result.pro_recall,
        "lint_mini_share": result.lint_mini_share,
        "pro_share": round(result.pro_share, 4),
        "estimated_cost_usd": round(result.cost_usd, 6),
        "always_pro_cost_usd": round(result.always_pro_usd, 6),
        "saving": round(result.saving, 4),
        "misrouted": [{"name": c.name, "label": c.label, "tier": c.tier, "reasons": list(c.reasons)}
                      for c in result.cases if not c.correct],
    }


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def eval_text(result: EvalResult) -> str:
    width = max([len(label) for label in result.labels] + [10])
    lines = [f"{len(result.cases)} labelled diffs", "", "label \\ tier".ljust(width + 2)
             + "".join(t.rjust(10) for t in TIER_NAMES)]
    for label, row in result.matrix().items():
        lines.append(label.ljust(width + 2) + "".join(str(row[t]).rjust(10) for t in TIER_NAMES))
    lines += [
        "",
        f"routed as expected:           {_pct(result.accuracy)}",
        f"pro recall (security):        {_pct(result.pro_recall)}",
        f"mini share (lint):            {_pct(result.lint_mini_share)}",
        f"share of pro calls:           {_pct(result.pro_share)}",
        f"estimated cost, routed:       ${result.cost_usd:.4f}",
        f"estimated cost, always pro:   ${result.always_pro_usd:.4f}",
        f"estimated saving:             {_pct(result.saving)}",
    ]
    wrong = [c for c in result.cases if not c.correct]
    if wrong:
        lines += ["", "misrouted:"]
        lines += [f"  {_safe(c.name)}: {c.label} -> {c.tier} ({_safe('; '.join(c.reasons))})" for c in wrong]
    return "\n".join(lines)
