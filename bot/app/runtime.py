"""The App's composition root: build every part once from the settings and wire them."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, cast

from govbot.bot.action import Analyser, pipeline_analyser
from govbot.bot.app.github import AppGitHub
from govbot.bot.app.jobs import CommandHandler, Jobs, Sweeper, make_huey
from govbot.bot.app.migrate import upgrade
from govbot.bot.app.settings import AppSettings
from govbot.bot.app.store import Store, make_engine
from govbot.bot.app.worker import Worker
from govbot.core.errors import ConfigError


def load_analysis(settings: AppSettings) -> Analyser:
    """``pipeline`` (the Action's analyser: ``govbot.pipeline.analyse``) or ``module:callable``
    returning an Analyser (a fast fake for load tests and benchmarks)."""
    spec = settings.analysis
    if spec == "pipeline":
        return pipeline_analyser(dict(settings.llm_env), settings.scanners)
    module, _, name = spec.partition(":")
    if not module or not name:
        raise ConfigError(f"GOVBOT_APP_ANALYSIS: {spec!r} is not 'pipeline' or 'module:callable'")
    factory = getattr(importlib.import_module(module), name)
    return cast(Analyser, factory())


@dataclass
class Runtime:
    settings: AppSettings
    store: Store
    jobs: Jobs
    github: AppGitHub
    sweeper: Sweeper | None = None

    @classmethod
    def build(cls, settings: AppSettings, *, with_worker: bool, migrate: bool = False) -> Runtime:
        engine = make_engine(settings.database_url, settings.db_schema)
        if migrate:
            upgrade(engine, settings.db_schema)
        store = Store(engine)
        jobs = Jobs(make_huey(settings))
        github = AppGitHub(settings)
        rt = cls(settings, store, jobs, github)
        if with_worker:
            jobs.worker = Worker(settings, store, github, load_analysis(settings), jobs.schedule_run)
            jobs.commands = CommandHandler(settings, store, github, jobs)
            rt.sweeper = Sweeper(settings, store, github, jobs)
        return rt

    def consumer(self) -> Any:
        return self.jobs.huey.create_consumer(workers=self.settings.workers, worker_type="thread", periodic=False,
                                              initial_delay=0.05, backoff=1.5, max_delay=1.0,
                                              check_worker_health=True)
