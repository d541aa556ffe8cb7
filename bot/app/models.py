"""The App's tables (SQLAlchemy 2 declarative). Times are UNIX seconds (float) on every engine."""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Installation(Base):
    __tablename__ = "installations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # GitHub's id
    account: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[float] = mapped_column(Float)
    blocked_until: Mapped[float] = mapped_column(Float, default=0.0)  # rate limit: no request before
    rate_remaining: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Repository(Base):
    __tablename__ = "repositories"
    __table_args__ = (UniqueConstraint("installation_id", "full_name", name="uq_repositories_inst_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(ForeignKey("installations.id", ondelete="CASCADE"))
    full_name: Mapped[str] = mapped_column(String(255))


class Delivery(Base):
    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guid: Mapped[str] = mapped_column(String(64), unique=True)  # X-GitHub-Delivery
    event: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), default="")
    installation_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    repo: Mapped[str] = mapped_column(String(255), default="")
    pr: Mapped[int | None] = mapped_column(Integer, nullable=True)
    disposition: Mapped[str] = mapped_column(String(32))  # run | ignored | command | uninstall | ...
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    payload: Mapped[str | None] = mapped_column(Text, nullable=True)  # kept only for commands
    state: Mapped[str] = mapped_column(String(16), default="done")  # done | pending (command to handle)
    received_at: Mapped[float] = mapped_column(Float)


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint("installation_id", "repo", "pr", "head_sha", "kind", name="uq_runs_key"),
        Index("ix_runs_pr", "installation_id", "repo", "pr"),
        Index("ix_runs_state", "state"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(Integer)
    repo: Mapped[str] = mapped_column(String(255))
    pr: Mapped[int] = mapped_column(Integer)
    head_sha: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # review | deep
    state: Mapped[str] = mapped_column(String(16))  # pending | running | done | failed | superseded
    token: Mapped[str] = mapped_column(String(64), default="")  # the current claim
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float)
    due_at: Mapped[float] = mapped_column(Float)  # a pending run may start from then
    # When the head was pushed (the payload's pull_request.updated_at; 0 = unknown): a delivery of
    # an older push that arrives after a newer one is recorded superseded and never runs.
    pushed_at: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    lease_until: Mapped[float] = mapped_column(Float, default=0.0)  # heartbeat extends it
    started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    outcome: Mapped[str] = mapped_column(String(32), default="")
    conclusion: Mapped[str] = mapped_column(String(32), default="")
    findings: Mapped[int] = mapped_column(Integer, default=0)
    tier: Mapped[str] = mapped_column(String(32), default="")
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str] = mapped_column(Text, default="")


class PullState(Base):
    """What the App keeps per pull request between runs: govbot's sticky comment (its reactions
    are polled as feedback) and the incremental review record (the Action keeps the latter in the
    comment's hidden state; the App keeps it here too)."""

    __tablename__ = "pull_states"
    __table_args__ = (UniqueConstraint("installation_id", "repo", "pr", name="uq_pull_states_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(Integer)
    repo: Mapped[str] = mapped_column(String(255))
    pr: Mapped[int] = mapped_column(Integer)
    comment_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reviewed_sha: Mapped[str] = mapped_column(String(64), default="")  # last head reviewed and published
    llm_reviewed_sha: Mapped[str] = mapped_column(String(64), default="")  # head of the last LLM review
    fingerprints: Mapped[str] = mapped_column(Text, default="[]")  # JSON list: that review's findings
    updated_at: Mapped[float] = mapped_column(Float, default=0.0)
    polled_at: Mapped[float] = mapped_column(Float, default=0.0)  # reactions last read


class Feedback(Base):
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)  # source-specific id: no double count
    installation_id: Mapped[int] = mapped_column(Integer, index=True)
    repo: Mapped[str] = mapped_column(String(255))
    pr: Mapped[int] = mapped_column(Integer)
    sha: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(32))  # deep | agree | disagree
    source: Mapped[str] = mapped_column(String(32))  # command | reaction | check_action
    actor: Mapped[str] = mapped_column(String(255), default="")
    time: Mapped[float] = mapped_column(Float)


class Audit(Base):
    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(Integer, index=True)
    repo: Mapped[str] = mapped_column(String(255))
    pr: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(64))  # comment.create | comment.edit | label.add | check.create
    target: Mapped[str] = mapped_column(String(255), default="")
    time: Mapped[float] = mapped_column(Float)


class Counter(Base):
    """Monotonic counters for /metrics that every process adds to (GitHub answers by class, ...)."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
