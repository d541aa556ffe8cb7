"""The App's settings: one frozen value, built once from the environment by the CLI, passed in."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from govbot.core.errors import ConfigError
from govbot.policy.llm_config import ALLOWED_KEY_ENV

DEFAULT_API_URL = "https://api.github.com"
LLM_ENV_PREFIXES = ("OPENAI_", "ANTHROPIC_", "GOVBOT_ONPREM")


@dataclass(frozen=True)
class AppSettings:
    app_id: int
    private_key: str  # PEM text of the App's private key
    webhook_secret: str
    database_url: str  # sqlite:///path or postgresql+psycopg://...
    queue_url: str  # sqlite:///path (SqliteHuey) or redis://... (RedisHuey)
    api_url: str = DEFAULT_API_URL  # GHES: https://host/api/v3
    queue_name: str = "govbot"  # Huey name; also the Redis key prefix
    db_schema: str | None = None  # PostgreSQL schema (tests give each run its own)
    bot_login: str = "govbot[bot]"  # the App's own user: its comments and checks are ignored
    check_name: str = "govbot"
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 2  # Huey worker threads per process
    receiver_threads: int = 8  # store/queue calls a receiver makes at once (fewer threads, less GIL churn)
    lease_s: float = 120.0  # a running run whose heartbeat is older than this is taken over
    heartbeat_s: float = 10.0
    sweep_interval_s: float = 30.0
    redeliver_after_s: float = 60.0  # failed GitHub deliveries older than this are redelivered
    max_running_per_installation: int = 2
    reactions_poll_s: float = 300.0  # how often each govbot comment's reactions are read (feedback)
    reactions_window_s: float = 14 * 86400.0  # comments of PRs reviewed this recently are polled
    busy_retry_s: float = 2.0  # delay before re-trying a run that may not start yet
    token_refresh_margin_s: float = 300.0  # refresh an installation token this long before expiry
    http_timeout_s: int = 30
    seconds_between_writes: float = 1.0  # GitHub's guidance for content-creating requests
    analysis: str = "pipeline"  # or "module:callable" returning the Action's Analyser (tests, benchmarks)
    scanners: tuple[str, ...] = ("bandit", "secrets", "semgrep")
    llm_env: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # LLM keys and GOVBOT_* model settings

    def __post_init__(self) -> None:
        if self.app_id <= 0:
            raise ConfigError("GOVBOT_APP_ID: must be a positive integer (the App's id)")
        if not self.webhook_secret:
            raise ConfigError("GOVBOT_WEBHOOK_SECRET: empty; set the App's webhook secret")
        if "PRIVATE KEY" not in self.private_key:
            raise ConfigError("GOVBOT_APP_PRIVATE_KEY_FILE: not a PEM private key")
        if not self.database_url.startswith(("sqlite", "postgresql")):
            raise ConfigError("GOVBOT_DATABASE_URL: use sqlite:///path or postgresql+psycopg://...")
        if self.db_schema is not None and not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", self.db_schema):
            raise ConfigError("GOVBOT_DATABASE_SCHEMA: lower-case letters, digits and _ only")
        if not self.queue_url.startswith(("sqlite:///", "redis://", "rediss://", "unix://")):
            raise ConfigError("GOVBOT_QUEUE_URL: use sqlite:///path or redis://host:port/db")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _read_secret(env: Mapping[str, str], name: str) -> str:
    """``NAME`` directly, or the contents of the file ``NAME_FILE`` (for mounted secrets)."""
    if env.get(name):
        return env[name]
    path = env.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip() + "\n"
        except OSError as exc:
            raise ConfigError(f"{name}_FILE: cannot read {path!r}: {exc.strerror}") from exc
    raise ConfigError(f"{name} (or {name}_FILE) is not set")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}: {raw!r} is not an integer") from exc


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}: {raw!r} is not a number") from exc


def database_from_env(env: Mapping[str, str]) -> tuple[str, str | None]:
    """The state database URL and schema (all that migrate, report and export need)."""
    data_dir = Path(env.get("GOVBOT_DATA_DIR") or ".govbot-app")
    url = env.get("GOVBOT_DATABASE_URL") or f"sqlite:///{data_dir / 'govbot.db'}"
    schema = env.get("GOVBOT_DATABASE_SCHEMA") or None
    if schema is not None and not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
        raise ConfigError("GOVBOT_DATABASE_SCHEMA: lower-case letters, digits and _ only")
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return url, schema


def settings_from_env(env: Mapping[str, str]) -> AppSettings:
    """Build the settings once; defaults give the embedded form (SQLite for state and jobs)."""
    data_dir = Path(env.get("GOVBOT_DATA_DIR") or ".govbot-app")
    database_url, db_schema = database_from_env(env)
    return AppSettings(
        app_id=_int(env, "GOVBOT_APP_ID", 0),
        private_key=_read_secret(env, "GOVBOT_APP_PRIVATE_KEY"),
        webhook_secret=_read_secret(env, "GOVBOT_WEBHOOK_SECRET").strip(),
        database_url=database_url,
        queue_url=env.get("GOVBOT_QUEUE_URL") or f"sqlite:///{data_dir / 'queue.db'}",
        api_url=(env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
        queue_name=env.get("GOVBOT_QUEUE_NAME") or "govbot",
        db_schema=db_schema,
        bot_login=env.get("GOVBOT_APP_BOT_LOGIN") or "govbot[bot]",
        host=env.get("GOVBOT_HOST") or "127.0.0.1",
        port=_int(env, "GOVBOT_PORT", 8080),
        workers=_int(env, "GOVBOT_WORKERS", 2),
        receiver_threads=_int(env, "GOVBOT_RECEIVER_THREADS", 8),
        lease_s=_float(env, "GOVBOT_LEASE_S", 120.0),
        heartbeat_s=_float(env, "GOVBOT_HEARTBEAT_S", 10.0),
        sweep_interval_s=_float(env, "GOVBOT_SWEEP_INTERVAL_S", 30.0),
        redeliver_after_s=_float(env, "GOVBOT_REDELIVER_AFTER_S", 60.0),
        max_running_per_installation=_int(env, "GOVBOT_MAX_RUNNING_PER_INSTALLATION", 2),
        reactions_poll_s=_float(env, "GOVBOT_REACTIONS_POLL_S", 300.0),
        reactions_window_s=_float(env, "GOVBOT_REACTIONS_WINDOW_DAYS", 14.0) * 86400.0,
        token_refresh_margin_s=_float(env, "GOVBOT_TOKEN_REFRESH_MARGIN_S", 300.0),
        seconds_between_writes=_float(env, "GOVBOT_SECONDS_BETWEEN_WRITES", 1.0),
        analysis=env.get("GOVBOT_APP_ANALYSIS") or "pipeline",
        scanners=tuple(sorted({x.strip() for x in (env.get("GOVBOT_SCANNERS") or "bandit,secrets,semgrep").split(",")
                               if x.strip()})),
        llm_env=tuple(sorted((k, v) for k, v in env.items()
                            if k.startswith(LLM_ENV_PREFIXES) or ALLOWED_KEY_ENV.match(k))),
    )
