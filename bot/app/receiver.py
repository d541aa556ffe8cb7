"""The webhook receiver (Starlette): verify, classify, record in one transaction, enqueue after
commit, answer 202. A store or queue failure answers 503 so GitHub marks the delivery failed
and it can be redelivered; nothing is acknowledged that was not recorded."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from govbot.bot.app.events import Intake, classify, signature_ok
from govbot.bot.app.jobs import Jobs
from govbot.bot.app.settings import AppSettings
from govbot.bot.app.store import Recorded, Store

log = logging.getLogger("govbot.app.receiver")
MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
T = TypeVar("T")


class ReceiverStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.answers: Counter[int] = Counter()

    def count(self, status: int) -> None:
        with self._lock:
            self.answers[status] += 1


def create_app(  # noqa: C901, PLR0915 - the routes are closures over the parts built once
    settings: AppSettings, store: Store, jobs: Jobs, stats: ReceiverStats | None = None
) -> Starlette:
    stats = stats or ReceiverStats()
    # The store and the queue are blocking clients: they run on a plain executor. (Starlette's
    # run_in_threadpool goes through anyio's capacity limiter and run-vars: measured at about a
    # fifth of the receiver's CPU per delivery under a burst.)
    executor = ThreadPoolExecutor(max_workers=max(settings.receiver_threads, 1), thread_name_prefix="govbot-receiver")

    async def blocking(fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(executor, fn, *args)

    def answer(status: int, body: dict[str, Any], **fields: Any) -> JSONResponse:
        stats.count(status)
        if status >= 400:
            log.warning("delivery refused", extra={"status": status, **fields, **body})
        return JSONResponse(body, status_code=status)

    async def webhook(request: Request) -> Response:
        body = await request.body()
        guid = request.headers.get("x-github-delivery", "")
        event = request.headers.get("x-github-event", "")
        if len(body) > MAX_BODY:
            return answer(413, {"error": "payload too large"}, delivery=guid)
        if not signature_ok(settings.webhook_secret, body, request.headers.get("x-hub-signature-256")):
            return answer(401, {"error": "bad signature"}, delivery=guid)
        if not guid or not event:
            return answer(400, {"error": "missing X-GitHub-Delivery or X-GitHub-Event"})
        try:
            payload = json.loads(body)
        except ValueError:
            return answer(400, {"error": "body is not JSON"}, delivery=guid)
        if not isinstance(payload, dict):
            return answer(400, {"error": "body is not a JSON object"}, delivery=guid)
        intake = classify(guid[:64], event, payload, settings.bot_login)
        fields = {"event": event, "action": intake.action, "delivery": guid, "installation": intake.installation_id,
                  "repo": intake.repo, "pr": intake.pr}
        kept = _command_payload(payload) if intake.disposition == "command" else None
        recorded = await blocking(_record_then_enqueue, store, jobs, intake, kept)
        if not isinstance(recorded, Recorded):  # nothing is acknowledged that was not recorded and queued
            return answer(503, {"error": recorded[0]}, why=recorded[1], **fields)
        log.info("delivery recorded", extra={**fields, "disposition": intake.disposition, "run": recorded.run_id,
                                             "duplicate": recorded.duplicate, "reason": intake.reason})
        stats.count(202)
        return JSONResponse({"delivery": guid, "disposition": intake.disposition, "run": recorded.run_id,
                             "duplicate": recorded.duplicate}, status_code=202)

    async def healthz(request: Request) -> Response:
        problems = []
        try:
            await blocking(_ping_db, store)
        except Exception as exc:
            problems.append(f"database: {type(exc).__name__}")
        try:
            await blocking(jobs.depth)
        except Exception as exc:
            problems.append(f"queue: {type(exc).__name__}")
        return JSONResponse({"ok": not problems, "problems": problems}, status_code=503 if problems else 200)

    async def metrics(request: Request) -> Response:
        lines = [f'govbot_receiver_answers_total{{status="{k}"}} {v}' for k, v in sorted(stats.answers.items())]
        try:
            lines.append(f"govbot_queue_depth {await blocking(jobs.depth)}")
        except Exception:
            lines.append("govbot_queue_up 0")
        try:
            m = await blocking(store.metrics)
        except Exception:
            lines.append("govbot_store_up 0")
            return PlainTextResponse("\n".join(lines) + "\n", status_code=503)
        lines += [f'govbot_runs{{state="{k}"}} {v}' for k, v in sorted(m["runs"].items())]
        lines.append(f"govbot_oldest_active_run_age_seconds {m['oldest_active_run_age_s']:.3f}")
        lines += [f'govbot_deliveries_total{{disposition="{k}"}} {v}' for k, v in sorted(m["deliveries"].items())]
        lines += [f"govbot_{k}_total {v}" for k, v in sorted(m["counters"].items())]
        lines += [f'govbot_rate_limit_remaining{{installation="{k}"}} {v}'
                  for k, v in sorted(m["rate_limit_remaining"].items()) if v is not None]
        return PlainTextResponse("\n".join(lines) + "\n")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        executor.shutdown(wait=False)

    return Starlette(lifespan=lifespan, routes=[
        Route("/webhook", webhook, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ])


def _record_then_enqueue(store: Store, jobs: Jobs, intake: Intake, kept: dict[str, Any] | None
                         ) -> Recorded | tuple[str, str]:
    """One hop to a thread per delivery: store it (one transaction), then enqueue after commit.
    Returns what was recorded, or (error, why) when the answer must be 503."""
    try:
        recorded = store.record(intake, kept)
    except Exception as exc:
        return "state store unavailable", type(exc).__name__
    try:
        if recorded.run_id is not None:
            jobs.enqueue_run(recorded.run_id)
        if recorded.command_id is not None:
            jobs.enqueue_command(recorded.command_id)
    except Exception as exc:
        # Recorded but not enqueued: the sweeper enqueues it; 503 makes GitHub keep it failed too.
        return "queue unavailable", type(exc).__name__
    return recorded


def _ping_db(store: Store) -> None:
    with store.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _command_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The few fields a command needs later (no PR text is kept beyond the command itself)."""
    keep: dict[str, Any] = {"sender": {"login": (payload.get("sender") or {}).get("login", "")}}
    if "comment" in payload:
        keep["comment"] = {"id": payload["comment"].get("id"), "body": str(payload["comment"].get("body", ""))[:200]}
    if "requested_action" in payload:
        keep["requested_action"] = payload["requested_action"]
    return keep
