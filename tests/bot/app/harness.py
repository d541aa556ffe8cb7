"""Run the App for real in a test: uvicorn on 127.0.0.1 (a free port), Huey consumers, the
sweeper, on SQLite+SqliteHuey or PostgreSQL+RedisHuey (a private schema and key prefix)."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import create_engine, text

from govbot.bot.app.receiver import create_app
from govbot.bot.app.runtime import Runtime
from govbot.bot.app.settings import AppSettings
from tests.bot.app.fakeapp import AppFake

PG_URL = os.environ.get("GOVBOT_TEST_PG_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("GOVBOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET = "test-webhook-secret"
APP_ID = 4242

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE_PEM = _KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()
PUBLIC_PEM = _KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_settings(backend: str, tmp: Path, api_url: str, **overrides: Any) -> AppSettings:
    tag = uuid.uuid4().hex[:10]
    if backend == "sqlite":
        db, queue, schema = f"sqlite:///{tmp / 'govbot.db'}", f"sqlite:///{tmp / 'queue.db'}", None
    else:
        db, queue, schema = PG_URL, REDIS_URL, f"t_{tag}"
    base = AppSettings(app_id=APP_ID, private_key=PRIVATE_PEM, webhook_secret=SECRET, database_url=db,
                       queue_url=queue, api_url=api_url, queue_name=f"govbot-test-{tag}", db_schema=schema,
                       workers=4, lease_s=5.0, heartbeat_s=1.0, sweep_interval_s=0.5, redeliver_after_s=0.0,
                       max_running_per_installation=2, busy_retry_s=0.2, token_refresh_margin_s=0.0,
                       seconds_between_writes=0.0, analysis="tests.bot.app.fakes:fast_analysis")
    return replace(base, **overrides)


def drop_backend(settings: AppSettings, jobs_flush: Callable[[], None] | None = None) -> None:
    if jobs_flush is not None:
        with contextlib.suppress(Exception):
            jobs_flush()
    if settings.db_schema:
        engine = create_engine(settings.database_url)
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{settings.db_schema}" CASCADE'))
        engine.dispose()


class AppUnderTest:
    def __init__(self, settings: AppSettings, *, worker: bool = True, port: int | None = None) -> None:
        self.settings = settings
        self.rt = Runtime.build(settings, with_worker=worker, migrate=True)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/webhook"
        self._server: uvicorn.Server | None = None
        self._threads: list[threading.Thread] = []
        self.consumer: Any = None

    def start_receiver(self) -> None:
        config = uvicorn.Config(create_app(self.settings, self.rt.store, self.rt.jobs), host="127.0.0.1",
                                port=self.port, log_level="error", access_log=False)
        self._server = uvicorn.Server(config)
        t = threading.Thread(target=self._server.run, daemon=True)
        t.start()
        deadline = time.time() + 10
        while not self._server.started and time.time() < deadline:
            time.sleep(0.02)
        assert self._server.started, "uvicorn did not start"

    def stop_receiver(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            time.sleep(0.3)
            self._server = None

    def start_workers(self) -> None:
        self.consumer = self.rt.consumer()
        self.consumer.scheduler.start()  # not consumer.start(): no signal handlers in pytest
        for _, process in self.consumer.worker_threads:
            process.start()
        assert self.rt.sweeper is not None
        self.rt.sweeper.start()

    def stop_workers(self) -> None:
        if self.rt.sweeper is not None:
            self.rt.sweeper.stop()
        if self.consumer is not None:
            self.consumer.stop_flag.set()
            for _, process in self.consumer.worker_threads:
                process.join(timeout=10)
            self.consumer.scheduler.join(timeout=10)
            self.consumer = None


@contextmanager
def running_app(backend: str, tmp: Path, *, fake_latency_s: float = 0.0, workers: bool = True,
                **overrides: Any) -> Iterator[tuple[AppFake, AppUnderTest]]:
    with AppFake(public_key=PUBLIC_PEM, app_id=APP_ID, secret=SECRET, latency_s=fake_latency_s) as fake:
        settings = make_settings(backend, tmp, fake.url, **overrides)
        app = AppUnderTest(settings)
        fake.hook_url = app.url
        try:
            app.start_receiver()
            if workers:
                app.start_workers()
            yield fake, app
        finally:
            app.stop_workers()
            app.stop_receiver()
            drop_backend(settings, app.rt.jobs.huey.flush)
            app.rt.store.engine.dispose()


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
