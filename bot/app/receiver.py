"""The webhook receiver (Starlette): verify, classify, record in one transaction, enqueue after
commit, answer 202. A store or queue failure answers 503 so GitHub marks the delivery failed
and it can be redelivered; nothing is acknowledged that was not recorded."""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from typing import Any

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from govbot.bot.app.events import classify, signature_ok
from govbot.bot.app.jobs import Jobs
from govbot.bot.app.settings import AppSettings
from govbot.bot.app.store import Store

log = logging.getLogger("govbot.app.receiver")
MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB


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
        try:
            recorded = await run_in_threadpool(store.record, intake, kept)
        except Exception as exc:
            return answer(503, {"error": "state store unavailable"}, why=type(exc).__name__, **fields)
        try:
            if recorded.run_id is not None:
                await run_in_threadpool(jobs.enqueue_run, recorded.run_id)
            if recorded.command_id is not None:
                await run_in_threadpool(jobs.enqueue_command, recorded.command_id)
        except Exception as exc:
            # Recorded but not enqueued: the sweeper enqueues it; 503 makes GitHub keep it failed too.
            return answer(503, {"error": "queue unavailable"}, why=type(exc).__name__, **fields)
        log.info("delivery recorded", extra={**fields, "disposition": intake.disposition, "run": recorded.run_id,
                                             "duplicate": recorded.duplicate, "reason": intake.reason})
        stats.count(202)
        return JSONResponse({"delivery": guid, "disposition": intake.disposition, "run": recorded.run_id,
                             "duplicate": recorded.duplicate}, status_code=202)

    async def healthz(request: Request) -> Response:
        problems = []
        try:
            await run_in_threadpool(_ping_db, store)
        except Exception as exc:
            problems.append(f"database: {type(exc).__name__}")
        try:
            await run_in_threadpool(jobs.depth)
        except Exception as exc:
            problems.append(f"queue: {type(exc).__name__}")
        return JSONResponse({"ok": not problems, "problems": problems}, status_code=503 if problems else 200)

    async def metrics(request: Request) -> Response:
        lines = [f'govbot_receiver_answers_total{{status="{k}"}} {v}' for k, v in sorted(stats.answers.items())]
        try:
            lines.append(f"govbot_queue_depth {await run_in_threadpool(jobs.depth)}")
        except Exception:
            lines.append("govbot_queue_up 0")
        try:
            m = await run_in_threadpool(store.metrics)
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

    return Starlette(routes=[
        Route("/webhook", webhook, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ])


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
