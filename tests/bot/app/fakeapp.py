"""The HTTP fake GitHub (tests/bot/fakegithub.py) extended with what a GitHub App talks to.

* ``POST /app/installations/{id}/access_tokens`` (JWT checked with the App's public key) issues
  tokens that expire after ``token_ttl_s``; an expired or unknown token answers 401;
* ``GET /app/hook/deliveries`` and ``POST /app/hook/deliveries/{id}/attempts``: every webhook
  the fake sends (``deliver``) is logged like GitHub does, and a redelivery sends it again;
* every repository path is served from the one in-memory repository (tests use PR numbers
  that are unique across installations), and each request is tagged with its installation;
* ``flaky`` answers that share of repository requests with 502/503 (nothing applied);
* ``on_request(record)`` runs after a request is applied and before it is answered (kill points).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt

from tests.bot.github.fakegithub import FULL, FakeGitHub, Recorded, User

BOT = User("govbot[bot]", 7_000_001, "Bot")


@dataclass
class Sent:
    id: int
    guid: str
    event: str
    body: bytes
    status_code: int
    delivered_at: str
    redelivery: bool = False


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class AppFake(FakeGitHub):
    def __init__(self, *, public_key: str, app_id: int, secret: str, latency_s: float = 0.0) -> None:
        super().__init__(latency_s=latency_s)
        self.bot = BOT
        self.public_key, self.app_id, self.secret = public_key, app_id, secret
        self.token_ttl_s = 3600.0
        self.tokens: dict[str, tuple[int, float]] = {}  # token -> (installation, expires_at)
        self.token_grants: list[tuple[int, float]] = []
        self.by_installation: list[tuple[float, int, str, str]] = []  # (time, inst, method, path)
        self.unauthorized = 0
        self.flaky = 0.0
        self.rng = random.Random(13)
        self.on_request: Callable[[Recorded], None] | None = None
        self.hook_url = ""
        self.sent: list[Sent] = []
        self._sent_ids = itertools.count(1)
        self.reactions: list[tuple[int, str]] = []  # (comment id, content) govbot added
        self.people_reactions: list[tuple[int, int, str, str]] = []  # (id, comment id, content, login)

    # -- server with App authentication ---------------------------------------------------

    def __enter__(self) -> AppFake:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                status, headers, payload = fake.authorised(self.command, self.path,
                                                           self.headers.get("Authorization", ""), body)
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-RateLimit-Remaining", str(max(fake.rate_remaining, 0)))
                self.send_header("X-RateLimit-Reset", "4102444800")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def authorised(self, method: str, raw_path: str, auth: str, body: Any) -> tuple[int, dict[str, str], Any]:
        path = urlsplit(raw_path).path
        if path.startswith("/app"):
            try:
                claims = jwt.decode(auth.removeprefix("Bearer "), self.public_key, algorithms=["RS256"])
            except jwt.PyJWTError:
                return 401, {}, {"message": "A JSON web token could not be decoded"}
            if str(claims.get("iss")) != str(self.app_id):
                return 401, {}, {"message": "wrong issuer"}
            return self._app_route(method, path, body)
        token = auth.removeprefix("token ").removeprefix("Bearer ")
        with self.lock:
            grant = self.tokens.get(token)
            if grant is None or grant[1] <= time.time():
                self.unauthorized += 1
                return 401, {}, {"message": "Bad credentials"}
            self.by_installation.append((time.time(), grant[0], method, path))
            if self.flaky and path.startswith("/repos/") and self.rng.random() < self.flaky:
                return self.rng.choice((502, 503)), {}, {"message": "Server Error"}
        result = self.serve(method, raw_path, body)
        if self.on_request is not None and self.requests:
            self.on_request(self.requests[-1])
        return result

    def _app_route(self, method: str, path: str, body: Any) -> tuple[int, dict[str, str], Any]:
        m = re.fullmatch(r"/app/installations/(\d+)/access_tokens", path)
        if method == "POST" and m:
            token = f"ghs_{m[1]}_{len(self.tokens)}_{self.rng.randrange(10**9)}"
            expires = time.time() + self.token_ttl_s
            with self.lock:
                self.tokens[token] = (int(m[1]), expires)
                self.token_grants.append((int(m[1]), time.time()))
            at = datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            return 201, {}, {"token": token, "expires_at": at, "permissions": {}, "repository_selection": "all"}
        if method == "GET" and path == "/app/hook/deliveries":
            with self.lock:
                items = [{"id": s.id, "guid": s.guid, "delivered_at": s.delivered_at, "redelivery": s.redelivery,
                          "duration": 0.1, "status": "OK" if s.status_code // 100 == 2 else "failed",
                          "status_code": s.status_code, "event": s.event, "action": None,
                          "installation_id": None, "repository_id": None} for s in reversed(self.sent)]
            return 200, {}, items
        m = re.fullmatch(r"/app/hook/deliveries/(\d+)/attempts", path)
        if method == "POST" and m:
            original = next((s for s in self.sent if s.id == int(m[1])), None)
            if original is None:
                return 404, {}, {"message": "Not Found"}
            threading.Thread(target=self.send, args=(original.event, original.body, original.guid, True),
                             daemon=True).start()
            return 202, {}, {}
        return 404, {}, {"message": "Not Found"}

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any
               ) -> tuple[int, dict[str, str], Any]:
        m = re.fullmatch(r"/repos/[^/]+/[^/]+(/.*)?", path)
        if m:  # every repository is served from the one in-memory repository
            path = f"/repos/{FULL}{m[1] or ''}"
        m = re.fullmatch(rf"/repos/{FULL}/issues/comments/(\d+)/reactions", path)
        if m and method == "POST":
            self.reactions.append((int(m[1]), body["content"]))
            return 201, {}, {"id": len(self.reactions), "content": body["content"], "user": self.bot.json(self.url)}
        if m and method == "GET":
            with self.lock:
                items = [{"id": rid, "content": content, "user": {"login": login, "id": 1, "type": "User"}}
                         for rid, cid, content, login in self.people_reactions if cid == int(m[1])]
            return 200, {}, items
        return super()._route(method, path, query, body)

    def react(self, comment_id: int, content: str, login: str) -> None:
        """Someone reacts on a comment (GitHub sends no webhook for reactions)."""
        with self.lock:
            self.people_reactions.append((9000 + len(self.people_reactions), comment_id, content, login))

    # -- webhooks, sent the way GitHub sends them --------------------------------------------

    def send(self, event: str, body: bytes, guid: str, redelivery: bool = False,
             secret: str | None = None, timeout: float = 10.0) -> int:
        """POST one delivery to ``hook_url``; log it for /app/hook/deliveries; return the status."""
        headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": guid, "Content-Type": "application/json",
                   "X-Hub-Signature-256": sign(secret or self.secret, body), "User-Agent": "GitHub-Hookshot/fake"}
        try:
            status = httpx.post(self.hook_url, content=body, headers=headers, timeout=timeout).status_code
        except httpx.HTTPError:
            status = 0  # GitHub logs a connection failure as a failed delivery too
        with self.lock:
            self.sent.append(Sent(next(self._sent_ids), guid, event, body, status,
                                  datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), redelivery))
        return status


def pr_event(inst: int, repo: str, number: int, sha: str, action: str = "synchronize",
             sender: str = "dev", updated_at: str | None = None) -> bytes:
    pull: dict[str, Any] = {"number": number, "draft": False, "head": {"sha": sha}, "state": "open"}
    if updated_at is not None:
        pull["updated_at"] = updated_at  # GitHub sets it on every push; the App orders pushes by it
    return json.dumps({
        "action": action, "number": number,
        "installation": {"id": inst, "account": {"login": repo.split("/", maxsplit=1)[0]}},
        "repository": {"full_name": repo, "id": 1},
        "pull_request": pull,
        "sender": {"login": sender, "type": "User"},
    }).encode()


def comment_event(inst: int, repo: str, number: int, body: str, sender: str, comment_id: int = 1) -> bytes:
    return json.dumps({
        "action": "created", "installation": {"id": inst}, "repository": {"full_name": repo},
        "issue": {"number": number, "pull_request": {"url": "x"}},
        "comment": {"id": comment_id, "body": body}, "sender": {"login": sender},
    }).encode()
