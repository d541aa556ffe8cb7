"""``govbot app …``: serve (receiver + in-process worker), worker, migrate, report, export-feedback."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from govbot.core.errors import GovbotError

if TYPE_CHECKING:
    from govbot.bot.app.settings import AppSettings


# Stored feedback label -> the label `govbot router calibrate` reads (router/repocalibrate.py):
# a `/govbot deep` request is a positive (it should have reached Pro); a 👍 on govbot's comment
# says the review as routed was enough (`ok`, a negative). `recheck` and 👎 say nothing about the
# tier (a 👎 may as well mean "too noisy"), so only `--all` exports them.
CALIBRATION_LABELS = {"deep": "deep", "agree": "ok"}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    app = sub.add_parser("app", help="run govbot as a self-hosted GitHub App (docs/app.md)")
    build(app)
    app.set_defaults(func=lambda args: run(args, os.environ, sys.stdout))
    return app


def build(app: argparse.ArgumentParser) -> None:
    cmds = app.add_subparsers(dest="app_command", required=True)
    cmds.add_parser("serve", help="webhook receiver and an in-process worker (SQLite by default)")
    cmds.add_parser("worker", help="a worker only (scale-out: several, on any machine)")
    cmds.add_parser("receiver", help="a receiver only (scale-out: several behind a load balancer)")
    cmds.add_parser("migrate", help="create or upgrade the database (safe with several replicas)")
    report = cmds.add_parser("report", help="cost and decisions per repository for a period")
    report.add_argument("--since", required=True, help="YYYY-MM-DD (UTC)")
    report.add_argument("--until", help="YYYY-MM-DD (UTC), exclusive; default now")
    export = cmds.add_parser("export-feedback", help="feedback events as JSONL for `govbot router calibrate`")
    export.add_argument("--since", help="YYYY-MM-DD (UTC)")
    export.add_argument("--all", action="store_true",
                        help="every feedback event with its own label (recheck, disagree too), not only the "
                             "labels `govbot router calibrate` reads")


def _day(text: str) -> float:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
    except ValueError as exc:
        raise GovbotError(f"--since/--until: {text!r} is not YYYY-MM-DD") from exc


def run(args: argparse.Namespace, env: Mapping[str, str], out: TextIO) -> int:
    from govbot.bot.app import logs
    from govbot.bot.app.migrate import upgrade
    from govbot.bot.app.runtime import Runtime
    from govbot.bot.app.settings import database_from_env, settings_from_env
    from govbot.bot.app.store import Store, make_engine

    logs.configure(env.get("GOVBOT_LOG_LEVEL", "INFO"))
    cmd = args.app_command
    if cmd in ("migrate", "report", "export-feedback"):
        url, schema = database_from_env(env)
        engine = make_engine(url, schema)
        if cmd == "migrate":
            upgrade(engine, schema)
            print("govbot app: database is at the latest revision", file=out)
            return 0
        store = Store(engine)
        if cmd == "report":
            until = _day(args.until) if args.until else time.time()
            print("repository\toutcome\truns\tcost_usd", file=out)
            for row in store.report(_day(args.since), until):
                print(f"{row['repo']}\t{row['outcome']}\t{row['runs']}\t{row['cost_usd']:.4f}", file=out)
            return 0
        since = _day(args.since) if args.since else 0.0
        for fb in store.feedback(since):
            label = fb.label if args.all else CALIBRATION_LABELS.get(fb.label)
            if label is None:
                continue
            print(json.dumps({"repo": fb.repo, "pr": fb.pr, "sha": fb.sha, "label": label, "source": fb.source,
                              "time": datetime.fromtimestamp(fb.time, UTC).isoformat()}, sort_keys=True), file=out)
        return 0
    settings = settings_from_env(env)
    if cmd == "worker":
        rt = Runtime.build(settings, with_worker=True)
        if rt.sweeper is not None:
            rt.sweeper.start()
        rt.consumer().run()  # blocks; SIGINT/SIGTERM stop it gracefully
        return 0
    return _serve(settings, with_worker=cmd == "serve")


def _serve(settings: AppSettings, *, with_worker: bool) -> int:
    import uvicorn

    from govbot.bot.app.receiver import create_app
    from govbot.bot.app.runtime import Runtime
    rt = Runtime.build(settings, with_worker=with_worker, migrate=settings.is_sqlite)
    consumer = None
    if with_worker:
        consumer = rt.consumer()
        consumer.start()  # worker threads; uvicorn then owns the signal handlers
        if rt.sweeper is not None:
            rt.sweeper.start()
    config = uvicorn.Config(create_app(settings, rt.store, rt.jobs), host=settings.host, port=settings.port,
                            log_level="warning", access_log=False)
    try:
        uvicorn.Server(config).run()
    finally:
        if rt.sweeper is not None:
            rt.sweeper.stop()
        if consumer is not None:
            consumer.stop(graceful=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="govbot app")
    build(parser)
    args = parser.parse_args(argv)
    try:
        return run(args, os.environ, sys.stdout)
    except GovbotError as exc:
        print(f"govbot app: {exc}", file=sys.stderr)
        return 2
