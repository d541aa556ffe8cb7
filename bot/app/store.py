"""The App's state: every decision about a delivery or a run is one short transaction here.

The store, not the queue, is the source of truth. A job only carries a run id; a run is claimed
with a lease that a heartbeat extends, so a run whose worker died is taken over by the sweeper,
and a second copy of a job finds the run already claimed or finished and does nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Engine, Table, case, create_engine, delete, event, func, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from govbot.bot.app.events import Intake
from govbot.bot.app.models import Audit, Counter, Delivery, Feedback, Installation, PullState, Repository, Run

ACTIVE = ("pending", "running")
Clock = Callable[[], float]


def make_engine(url: str, schema: str | None = None) -> Engine:
    """An engine for ``url``; SQLite gets WAL and BEGIN IMMEDIATE so writers queue, not fail."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # SQLAlchemy's documented pysqlite recipe
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # No pre-ping round trip per checkout: a connection dropped by a restart fails once, SQLAlchemy
    # then invalidates the whole pool, and the receiver retries that transaction on a fresh one.
    options: dict[str, Any] = {"pool_size": 10, "max_overflow": 20}
    if schema:
        options["connect_args"] = {"options": f"-csearch_path={schema}"}
    return create_engine(url, **options)


class _Duplicate(Exception):
    """This X-GitHub-Delivery is stored already: roll back and answer what was stored."""


@dataclass(frozen=True)
class Recorded:
    """The receiver's answer: the delivery is stored; enqueue ``run_id`` / ``command_id`` if set."""

    duplicate: bool
    run_id: int | None = None
    command_id: int | None = None


@dataclass(frozen=True)
class RunView:
    id: int
    installation_id: int
    repo: str
    pr: int
    head_sha: str
    kind: str
    state: str
    token: str
    attempts: int


@dataclass(frozen=True)
class Claimed:
    run: RunView


@dataclass(frozen=True)
class Busy:
    delay_s: float
    why: str
    slot: bool = False  # waits for a running run to end: that run's worker wakes it (no polling)


@dataclass(frozen=True)
class Gone:
    why: str


@dataclass(frozen=True)
class RunResult:
    outcome: str
    conclusion: str
    findings: int = 0
    tier: str = ""
    cost_usd: float = 0.0
    error: str = ""


def _pr_key(inst_id: int, repo: str, pr: int) -> int:
    """A stable signed 64-bit key for PostgreSQL's advisory lock of one pull request."""
    digest = hashlib.blake2b(f"{inst_id}/{repo}#{pr}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _view(r: Run) -> RunView:
    return RunView(r.id, r.installation_id, r.repo, r.pr, r.head_sha, r.kind, r.state, r.token, r.attempts)


class Store:
    def __init__(self, engine: Engine, clock: Clock = time.time) -> None:
        self.engine = engine
        self.clock = clock
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._known: set[tuple[int, str]] = set()  # (installation, repository) rows stored already

    @contextmanager
    def tx(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session
        self._known.update(session.info.get("known", ()))  # committed: remember what is stored

    def _lock_installation(self, s: Session, inst_id: int, account: str = "") -> Installation:
        """The installation row, locked: claims and new runs of one installation go one at a time."""
        inst = s.execute(select(Installation).where(Installation.id == inst_id).with_for_update()).scalar()
        if inst is None:
            inst = Installation(id=inst_id, account=account, created_at=self.clock(), blocked_until=0.0)
            s.add(inst)
            s.flush()
        return inst

    # -- receiver ---------------------------------------------------------------------------

    def record(self, intake: Intake, payload: dict[str, Any] | None = None) -> Recorded:
        """Store the delivery and create-or-keep its run, in one transaction (a few statements:
        upserts, no read-modify-write round trips). A connection the database dropped (a restart)
        is retried once on a fresh one; anything else fails the request (503)."""
        for attempt in range(3):
            try:
                with self.tx() as s:
                    return self._record(s, intake, payload)
            except _Duplicate:
                with self.tx() as s:
                    existing = s.execute(select(Delivery).where(Delivery.guid == intake.guid)).scalar()
                    if existing is not None:
                        return self._duplicate(s, existing)
            except IntegrityError:
                continue  # a concurrent first delivery of the same new repository or run: again
            except DBAPIError as exc:
                if not exc.connection_invalidated or attempt:
                    raise
        raise RuntimeError(f"delivery {intake.guid}: could not be stored after 3 attempts")

    def _duplicate(self, s: Session, d: Delivery) -> Recorded:
        # Enqueue again if the work is still waiting: the first answer may have been a 503.
        run = s.get(Run, d.run_id) if d.run_id is not None else None
        return Recorded(duplicate=True, run_id=run.id if run is not None and run.state == "pending" else None,
                        command_id=d.id if d.disposition == "command" and d.state == "pending" else None)

    def _insert(self, table: Any) -> Any:
        return (pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert)(table)

    def _record(self, s: Session, intake: Intake, payload: dict[str, Any] | None) -> Recorded:
        now = self.clock()
        values: dict[str, Any] = {
            "guid": intake.guid, "event": intake.event, "action": intake.action,
            "installation_id": intake.installation_id, "repo": intake.repo, "pr": intake.pr,
            "disposition": intake.disposition, "received_at": now, "state": "done", "run_id": None, "payload": None}
        run_id: int | None = None
        if intake.disposition == "command":
            values.update(state="pending", payload=json.dumps(payload or {}, sort_keys=True))
        elif intake.disposition == "run" and intake.installation_id is not None and intake.pr is not None:
            run_id, state = self._upsert_run(s, intake.installation_id, intake.account, intake.repo, intake.pr,
                                             intake.head_sha, intake.kind, intake.pushed_at)
            values["run_id"] = run_id
            if state != "pending":
                run_id = None
        # Stored last, so a duplicate (rare: GitHub's redelivery, a retry) rolls the run back with it.
        table = Delivery.__table__
        d_id = s.connection().execute(self._insert(table).values(**values)
                                      .on_conflict_do_nothing(index_elements=["guid"])
                                      .returning(table.c.id)).scalar()
        if d_id is None:
            raise _Duplicate
        if intake.disposition == "uninstall" and intake.installation_id is not None:
            self._delete_installation(s, intake.installation_id)
            return Recorded(duplicate=False)
        if intake.disposition == "command":
            return Recorded(duplicate=False, command_id=d_id)
        return Recorded(duplicate=False, run_id=run_id)

    def _upsert_run(self, s: Session, inst_id: int, account: str, repo: str, pr: int, sha: str, kind: str,
                    pushed_at: float, revive: tuple[str, ...] = (), authoritative: bool = False) -> tuple[int, str]:
        """Create or keep the run of this head; supersede the PR's runs of older pushes. A push
        older than one already recorded for the PR (by ``pushed_at``, not arrival) is recorded
        superseded. ``authoritative``: GitHub itself says this is the live head (a command, the
        worker's head check), so it is the newest whatever the times. Returns (run id, state)."""
        conn = s.connection()
        inst_t, repo_t, run_t = (cast(Table, m.__table__) for m in (Installation, Repository, Run))
        now = self.clock()
        if (inst_id, repo) not in self._known:  # once per process: not a round trip per delivery
            conn.execute(self._insert(inst_t).values(id=inst_id, account=account, created_at=now, blocked_until=0.0)
                         .on_conflict_do_nothing(index_elements=["id"]))
            conn.execute(self._insert(repo_t).values(installation_id=inst_id, full_name=repo)
                         .on_conflict_do_nothing(index_elements=["installation_id", "full_name"]))
            s.info.setdefault("known", []).append((inst_id, repo))
        if self.engine.dialect.name == "postgresql":
            # Deliveries of one pull request are decided one at a time (SQLite: BEGIN IMMEDIATE
            # already serialises every writer); other pull requests do not wait for this one.
            conn.execute(select(func.pg_advisory_xact_lock(_pr_key(inst_id, repo, pr))))
        same_pr = (run_t.c.installation_id == inst_id) & (run_t.c.repo == repo) & (run_t.c.pr == pr)
        newest = float(conn.execute(select(func.max(run_t.c.pushed_at)).where(same_pr, run_t.c.head_sha != sha))
                       .scalar() or 0.0)
        if authoritative:
            pushed_at = max(pushed_at, newest)
        late = 0.0 < pushed_at < newest
        if pushed_at > 0 and not late and not revive:
            # The newest push we know of: a run of it superseded earlier (created by a worker's head
            # check before its own delivery came, then passed by a delivery of an older push that only
            # looked newer) is pending again.
            revive = ("superseded",)
        stmt = self._insert(run_t).values(
            installation_id=inst_id, repo=repo, pr=pr, head_sha=sha, kind=kind,
            state="superseded" if late else "pending", token="", attempts=0, created_at=now, due_at=now,
            lease_until=0.0, pushed_at=pushed_at, outcome="", conclusion="", findings=0, tier="", cost_usd=0.0,
            error="", finished_at=now if late else None)
        update_set: dict[str, Any] = {"pushed_at": case((stmt.excluded.pushed_at > run_t.c.pushed_at,
                                                         stmt.excluded.pushed_at), else_=run_t.c.pushed_at)}
        if revive:
            revived = run_t.c.state.in_(revive)
            update_set |= {"state": case((revived, "pending"), else_=run_t.c.state),
                           "due_at": case((revived, now), else_=run_t.c.due_at),
                           "token": case((revived, ""), else_=run_t.c.token)}
        row = conn.execute(stmt.on_conflict_do_update(index_elements=["installation_id", "repo", "pr", "head_sha",
                                                                      "kind"], set_=update_set)
                           .returning(run_t.c.id, run_t.c.state)).one()
        if not late:  # at most one pending and one running run per pull request: older pushes go
            older = run_t.c.pushed_at <= pushed_at if pushed_at > 0 else true()
            conn.execute(update(run_t).where(same_pr, run_t.c.id != row.id, run_t.c.head_sha != sha,
                                             run_t.c.state.in_(ACTIVE), older)
                         .values(state="superseded", finished_at=now))
        return int(row.id), str(row.state)

    # -- runs -------------------------------------------------------------------------------

    def get_run(self, run_id: int) -> RunView | None:
        with self.tx() as s:
            r = s.get(Run, run_id)
            return _view(r) if r is not None else None

    def claim(self, run_id: int, lease_s: float, max_running: int) -> Claimed | Busy | Gone:
        now = self.clock()
        with self.tx() as s:
            r = s.get(Run, run_id)
            if r is None:
                return Gone("no such run")
            inst = self._lock_installation(s, r.installation_id)
            s.refresh(r, with_for_update=True)  # a delivery superseding it waits, then sees it running
            if r.state not in ACTIVE:
                return Gone(f"run is {r.state}")
            if r.state == "running" and r.lease_until > now:
                return Gone("run is held by a live worker")
            if inst.blocked_until > now:
                return Busy(inst.blocked_until - now, "installation rate-limited")
            if r.due_at > now + 0.05:
                return Busy(r.due_at - now, "run not due yet")
            running = s.execute(select(Run.id, Run.installation_id, Run.repo, Run.pr).where(
                Run.installation_id == r.installation_id, Run.state == "running", Run.lease_until > now,
                Run.id != r.id)).all()
            if any(row.repo == r.repo and row.pr == r.pr for row in running):
                return Busy(1.0, "another run of this pull request is running", slot=True)
            if len(running) >= max_running:
                return Busy(1.0, "installation at its concurrency limit", slot=True)
            r.state, r.token, r.attempts = "running", uuid.uuid4().hex, r.attempts + 1
            r.lease_until, r.started_at = now + lease_s, r.started_at or now
            return Claimed(_view(r))

    def waiting(self, inst_id: int, limit: int) -> list[int]:
        """Pending runs of an installation that are due, oldest first: a run that ended wakes
        these (they waited for a slot without holding a worker or polling the store)."""
        with self.tx() as s:
            return list(s.execute(select(Run.id).where(Run.installation_id == inst_id, Run.state == "pending",
                                                       Run.due_at <= self.clock())
                                  .order_by(Run.due_at, Run.id).limit(limit)).scalars())

    def heartbeat(self, run: RunView, lease_s: float) -> bool:
        """Extend the lease; False when the run is no longer ours (superseded, taken over)."""
        with self.tx() as s:
            res = s.execute(update(Run).where(Run.id == run.id, Run.token == run.token, Run.state == "running")
                            .values(lease_until=self.clock() + lease_s))
            return bool(res.rowcount)  # type: ignore[attr-defined]

    def is_current(self, run: RunView) -> bool:
        with self.tx() as s:
            state = s.execute(select(Run.state).where(Run.id == run.id, Run.token == run.token)).scalar()
            return state == "running"

    def _end(self, run: RunView, **values: Any) -> bool:
        with self.tx() as s:
            res = s.execute(update(Run).where(Run.id == run.id, Run.token == run.token, Run.state == "running")
                            .values(finished_at=self.clock(), **values))
            return bool(res.rowcount)  # type: ignore[attr-defined]

    def finish(self, run: RunView, result: RunResult) -> bool:
        """Record the result if the run is still ours; a published review also becomes the PR's
        review record (the head it reviewed), in the same transaction."""
        with self.tx() as s:
            res = s.execute(update(Run).where(Run.id == run.id, Run.token == run.token, Run.state == "running")
                            .values(finished_at=self.clock(), state="failed" if result.error else "done",
                                    outcome=result.outcome, conclusion=result.conclusion, findings=result.findings,
                                    tier=result.tier, cost_usd=result.cost_usd, error=result.error[:2000]))
            if not res.rowcount:  # type: ignore[attr-defined]
                return False
            if not result.error:
                self._pull_state(s, run.installation_id, run.repo, run.pr).reviewed_sha = run.head_sha
            return True

    def supersede(self, run: RunView) -> bool:
        return self._end(run, state="superseded")

    def release(self, run: RunView, delay_s: float) -> bool:
        """Give a claimed run back (GitHub said wait): pending again, due after ``delay_s``."""
        with self.tx() as s:
            res = s.execute(update(Run).where(Run.id == run.id, Run.token == run.token, Run.state == "running")
                            .values(state="pending", token="", lease_until=0.0, due_at=self.clock() + delay_s))
            return bool(res.rowcount)  # type: ignore[attr-defined]

    def block_installation(self, inst_id: int, until: float) -> None:
        with self.tx() as s:
            inst = self._lock_installation(s, inst_id)
            inst.blocked_until = max(inst.blocked_until, until)

    def note_rate_limit(self, inst_id: int, remaining: int) -> None:
        with self.tx() as s:
            s.execute(update(Installation).where(Installation.id == inst_id).values(rate_remaining=remaining))

    def rerun(self, inst_id: int, repo: str, pr: int, sha: str, kind: str) -> int | None:
        """A command asked for a (re)run of this head: the run id to enqueue, or None."""
        with self.tx() as s:
            run_id, state = self._upsert_run(s, inst_id, "", repo, pr, sha, kind, 0.0,
                                             revive=("done", "failed", "superseded"), authoritative=True)
            return run_id if state == "pending" else None

    def follow_head(self, inst_id: int, repo: str, pr: int, sha: str, kind: str) -> int | None:
        """GitHub says the PR's head is ``sha``: make sure its run exists and is not superseded
        (a late delivery of an older push may have superseded it). The run id to enqueue, or None."""
        with self.tx() as s:
            run_id, state = self._upsert_run(s, inst_id, "", repo, pr, sha, kind, 0.0, revive=("superseded",),
                                             authoritative=True)
            return run_id if state == "pending" else None

    # -- commands ---------------------------------------------------------------------------

    def command(self, delivery_id: int) -> tuple[Delivery, dict[str, Any]] | None:
        with self.tx() as s:
            d = s.get(Delivery, delivery_id)
            if d is None or d.state != "pending":
                return None
            return d, json.loads(d.payload or "{}")

    def command_done(self, delivery_id: int) -> None:
        with self.tx() as s:
            s.execute(update(Delivery).where(Delivery.id == delivery_id).values(state="done", payload=None))

    # -- sweeper ----------------------------------------------------------------------------

    def stuck(self, grace_s: float) -> tuple[list[int], list[int]]:
        """Runs to enqueue again and pending commands. A run whose lease lapsed (its worker died)
        becomes pending again; a pending run overdue by ``grace_s`` (its job was lost) is due
        again from now, so each is handed out at most once per ``grace_s`` and jobs never pile up.
        (Pending commands are few and handled idempotently; they are simply re-enqueued.)"""
        now = self.clock()
        with self.tx() as s:
            runs = s.execute(select(Run.id).where(
                ((Run.state == "running") & (Run.lease_until < now))
                | ((Run.state == "pending") & (Run.due_at < now - grace_s))).with_for_update()).scalars().all()
            if runs:
                s.execute(update(Run).where(Run.id.in_(runs))
                          .values(state="pending", token="", lease_until=0.0, due_at=now))
            commands = s.execute(select(Delivery.id).where(
                Delivery.state == "pending", Delivery.received_at < now - grace_s)).scalars().all()
            return list(runs), list(commands)

    def known_guids(self, guids: list[str]) -> set[str]:
        with self.tx() as s:
            return set(s.execute(select(Delivery.guid).where(Delivery.guid.in_(guids))).scalars())

    # -- audit, feedback, counters ------------------------------------------------------------

    def audit(self, run: RunView, action: str, target: str = "") -> None:
        with self.tx() as s:
            s.add(Audit(installation_id=run.installation_id, repo=run.repo, pr=run.pr, run_id=run.id,
                        action=action, target=target[:255], time=self.clock()))

    def note_comment(self, run: RunView, comment_id: int, reviewed: tuple[str, list[str]] | None = None) -> None:
        """govbot's sticky comment on this PR (its reactions are polled as feedback) and, when the
        comment carries one, the incremental review record: the head the LLM last reviewed and the
        fingerprints of its findings (the Action keeps the same record in the comment itself)."""
        with self.tx() as s:
            row = self._pull_state(s, run.installation_id, run.repo, run.pr)
            row.comment_id = comment_id
            if reviewed is not None:
                row.llm_reviewed_sha, row.fingerprints = reviewed[0], json.dumps(sorted(set(reviewed[1])))

    def review_record(self, inst_id: int, repo: str, pr: int) -> tuple[str, str, list[str]] | None:
        """(head last published, head the LLM last reviewed, its finding fingerprints) of a PR."""
        with self.tx() as s:
            row = s.execute(select(PullState).where(PullState.installation_id == inst_id, PullState.repo == repo,
                                                    PullState.pr == pr)).scalar()
            if row is None:
                return None
            return row.reviewed_sha, row.llm_reviewed_sha, list(json.loads(row.fingerprints or "[]"))

    def _pull_state(self, s: Session, inst_id: int, repo: str, pr: int) -> PullState:
        row = s.execute(select(PullState).where(PullState.installation_id == inst_id, PullState.repo == repo,
                                                PullState.pr == pr).with_for_update()).scalar()
        if row is None:
            row = PullState(installation_id=inst_id, repo=repo, pr=pr, reviewed_sha="", llm_reviewed_sha="",
                            fingerprints="[]",
                            updated_at=self.clock(), polled_at=0.0)
            s.add(row)
        row.updated_at = self.clock()
        return row

    def comments_to_poll(self, every_s: float, window_s: float, limit: int = 50
                         ) -> list[tuple[int, str, int, int, str]]:
        """Claim up to ``limit`` govbot comments whose reactions were not read for ``every_s``
        (PRs reviewed within ``window_s``, installations not rate-limited): (installation, repo,
        PR, comment id, reviewed head).
        Claiming sets the poll time, so several sweepers never read the same comment twice."""
        now = self.clock()
        with self.tx() as s:
            rows = list(s.execute(select(PullState).where(
                PullState.comment_id.is_not(None), PullState.polled_at <= now - every_s,
                PullState.updated_at >= now - window_s,
                # a rate-limited installation gets no request before its reset, not even this one
                PullState.installation_id.not_in(select(Installation.id).where(Installation.blocked_until > now)))
                .order_by(PullState.polled_at).limit(limit)
                .with_for_update(skip_locked=True)).scalars())
            for row in rows:
                row.polled_at = now
            return [(r.installation_id, r.repo, r.pr, int(r.comment_id or 0), r.reviewed_sha) for r in rows]

    def add_feedback(self, key: str, inst_id: int, repo: str, pr: int, sha: str, label: str, source: str,
                     actor: str) -> bool:
        try:
            with self.tx() as s:
                s.add(Feedback(key=key[:128], installation_id=inst_id, repo=repo, pr=pr, sha=sha, label=label,
                               source=source, actor=actor, time=self.clock()))
            return True
        except IntegrityError:
            return False

    def feedback(self, since: float = 0.0) -> list[Feedback]:
        with self.tx() as s:
            return list(s.execute(select(Feedback).where(Feedback.time >= since).order_by(Feedback.id)).scalars())

    def bump(self, name: str, by: int = 1) -> None:
        for _ in range(3):
            try:
                with self.tx() as s:
                    res = s.execute(update(Counter).where(Counter.name == name).values(value=Counter.value + by))
                    if not res.rowcount:  # type: ignore[attr-defined]
                        s.add(Counter(name=name, value=by))
                return
            except IntegrityError:
                continue

    def metrics(self) -> dict[str, Any]:
        now = self.clock()
        with self.tx() as s:
            states = dict(s.execute(select(Run.state, func.count()).group_by(Run.state)).all())
            oldest = s.execute(select(func.min(Run.created_at)).where(Run.state.in_(ACTIVE))).scalar()
            counters = dict(s.execute(select(Counter.name, Counter.value)).all())
            rate = dict(s.execute(select(Installation.id, Installation.rate_remaining)).all())
            deliveries = dict(s.execute(select(Delivery.disposition, func.count())
                                        .group_by(Delivery.disposition)).all())
        return {"runs": states, "oldest_active_run_age_s": (now - oldest) if oldest else 0.0,
                "counters": counters, "rate_limit_remaining": rate, "deliveries": deliveries}

    # -- data the security lead uses ----------------------------------------------------------

    def report(self, since: float, until: float) -> list[dict[str, Any]]:
        with self.tx() as s:
            rows = s.execute(select(Run.repo, Run.outcome, func.count(), func.sum(Run.cost_usd))
                             .where(Run.finished_at >= since, Run.finished_at < until,
                                    Run.state.in_(("done", "failed")))
                             .group_by(Run.repo, Run.outcome).order_by(Run.repo, Run.outcome)).all()
        return [{"repo": r[0], "outcome": r[1], "runs": int(r[2]), "cost_usd": float(r[3] or 0.0)} for r in rows]

    def _delete_installation(self, s: Session, inst_id: int) -> None:
        for model in (Run, Feedback, Audit, PullState):
            s.execute(delete(model).where(model.installation_id == inst_id))
        s.execute(delete(Delivery).where(Delivery.installation_id == inst_id, Delivery.disposition != "uninstall"))
        s.execute(delete(Repository).where(Repository.installation_id == inst_id))
        s.execute(delete(Installation).where(Installation.id == inst_id))
        self._known = {k for k in self._known if k[0] != inst_id}

    def runs_of(self, repo: str, pr: int) -> list[RunView]:
        with self.tx() as s:
            return [_view(r) for r in s.execute(select(Run).where(Run.repo == repo, Run.pr == pr)
                                                .order_by(Run.id)).scalars()]
