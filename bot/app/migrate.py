"""``govbot app migrate``: Alembic upgrade to head, safe when several replicas start at once.

On PostgreSQL the upgrade runs inside one transaction holding a transaction-level advisory lock,
so concurrent replicas wait for the first and then find nothing to do. On SQLite the engine
begins every transaction with ``BEGIN IMMEDIATE``, which serialises writers the same way.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")
ADVISORY_KEY = 0x60B07A99  # "govbot app migrate": any constant shared by all replicas


def alembic_config(engine: Engine, connection: object) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, schema: str | None = None) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_KEY})")
            if schema:
                conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                conn.exec_driver_sql(f'SET LOCAL search_path TO "{schema}"')
        command.upgrade(alembic_config(engine, conn), "head")
