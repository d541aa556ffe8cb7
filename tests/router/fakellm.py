"""A local HTTP server on 127.0.0.1 that answers like the OpenAI and Anthropic APIs.

The official SDKs are pointed at it by base URL; nothing in the SDKs is patched. Each test scripts
the replies per model and asserts on the recorded request bodies.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int = 200
    text: str | None = None  # assistant text for a 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    raw_body: bytes | None = None  # send exactly this body
    input_tokens: int = 1000
    cached_tokens: int = 0
    output_tokens: int = 200
    finish: str | None = None


@dataclass(frozen=True)
class Recorded:
    path: str
    model: str
    body: str
    json: dict[str, Any]


def review_json(
    findings: list[dict[str, Any]] | None = None,
    *,
    concern: bool = False,
    confidence: float = 0.9,
    **extra: Any,
) -> str:
    return json.dumps(
        {"summary": "ok", "security_concern": concern, "confidence": confidence, "findings": findings or [],
         **extra}
    )


class FakeLLM:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._scripts: dict[str, deque[Reply]] = {}
        self._lock = threading.Lock()
        self.default = Reply(text=review_json())
        self.usage_from_prompt = False  # report input tokens = prompt characters / 4 (benchmarks)
        handler = self._handler()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, model: str, *replies: Reply) -> None:
        """Replies for a model, in order; the last one repeats."""
        with self._lock:
            self._scripts[model] = deque(replies)

    def models_called(self) -> list[str]:
        with self._lock:
            return [r.model for r in self.requests]

    def all_bodies(self) -> str:
        with self._lock:
            return "\n".join(r.body for r in self.requests)

    def _next(self, model: str) -> Reply:
        with self._lock:
            queue = self._scripts.get(model)
            if not queue:
                return self.default
            return queue.popleft() if len(queue) > 1 else queue[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length).decode("utf-8")
                data = json.loads(body)
                model = str(data.get("model"))
                with fake._lock:
                    fake.requests.append(Recorded(self.path, model, body, data))
                reply = fake._next(model)
                if fake.usage_from_prompt:
                    reply = replace(reply, input_tokens=len(_prompt_text(data)) // 4)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                anthropic = self.path.endswith("/v1/messages")
                tool = _forced_tool(data) if anthropic else None
                payload = reply.raw_body if reply.raw_body is not None else fake._payload(reply, model, anthropic, tool)
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        return Handler

    def prompt_tokens(self, model: str | None = None) -> int:
        """Tokens of prompt text the fake received (4 characters a token, as govbot estimates)."""
        with self._lock:
            texts = [_prompt_text(r.json) for r in self.requests if model is None or r.model == model]
        return sum(len(t) // 4 for t in texts)

    @staticmethod
    def _payload(reply: Reply, model: str, anthropic: bool, tool: str | None = None) -> bytes:
        if reply.status != 200:
            err = {"type": "rate_limit_error" if reply.status == 429 else "api_error", "message": "scripted"}
            return json.dumps({"type": "error", "error": err} if anthropic else {"error": err}).encode()
        if anthropic:
            content: list[dict[str, Any]] = [{"type": "text", "text": reply.text}]
            if tool is not None:  # like the API: a forced tool's input is always a JSON object
                try:
                    value = json.loads(reply.text or "")
                except ValueError:
                    value = None
                if isinstance(value, dict):
                    content = [{"type": "tool_use", "id": "toolu_1", "name": tool, "input": value}]
            return json.dumps({
                "id": "msg_1", "type": "message", "role": "assistant", "model": model,
                "content": content,
                "stop_reason": reply.finish or ("tool_use" if content[0]["type"] == "tool_use" else "end_turn"),
                "stop_sequence": None,
                "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens,
                          "cache_read_input_tokens": reply.cached_tokens},
            }).encode()
        return json.dumps({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.text},
                         "finish_reason": reply.finish or "stop"}],
            "usage": {"prompt_tokens": reply.input_tokens + reply.cached_tokens,
                      "completion_tokens": reply.output_tokens,
                      "total_tokens": reply.input_tokens + reply.cached_tokens + reply.output_tokens,
                      "prompt_tokens_details": {"cached_tokens": reply.cached_tokens}},
        }).encode()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _forced_tool(data: dict[str, Any]) -> str | None:
    choice = data.get("tool_choice") or {}
    return str(choice["name"]) if choice.get("type") == "tool" else None


def request_texts(data: dict[str, Any]) -> tuple[str, str, str]:
    """(system, user, schema sent natively) of a recorded OpenAI or Anthropic request body.

    A schema sent as an Anthropic tool's ``input_schema`` or an OpenAI ``response_format`` is
    billed as input by the providers, so the fake counts it too.
    """
    system = str(data.get("system") or "")
    user: list[str] = []
    for message in data.get("messages", []):
        content = message.get("content")
        texts = [content] if isinstance(content, str) else [str(c.get("text", "")) for c in content or []]
        if message.get("role") == "system":
            system = "\n".join([system, *texts]) if system else "\n".join(texts)
        else:
            user += texts
    native = [json.dumps(t.get("input_schema"), separators=(",", ":")) for t in data.get("tools") or []]
    fmt = data.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        native.append(json.dumps(fmt["json_schema"].get("schema"), separators=(",", ":")))
    return system, "\n".join(str(u) for u in user), "".join(native)


def _prompt_text(data: dict[str, Any]) -> str:
    return "\n".join(t for t in request_texts(data) if t)
