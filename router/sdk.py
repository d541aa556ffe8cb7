"""SDK adapters: the only module that imports ``openai`` and ``anthropic``.

Each adapter turns a ``Prompt`` into text plus token usage, and every SDK failure into a typed
``CallError`` (``router/clients.py``) whose ``kind`` drives retry and fallback.

Structured output is native wherever the provider has it (see docs/llm.md):

- OpenAI: ``response_format`` ``json_schema`` with ``strict: true`` and a strict-mode schema.
- Anthropic: ONE tool whose ``input_schema`` is the schema, forced with ``tool_choice``. The tool
  is only an output channel: govbot reads the ``tool_use`` input as the answer and never sends a
  ``tool_result`` back; each call is a single request, so the model cannot trigger anything.
- OpenAI-compatible (vLLM, Ollama, gateways): ``json_schema`` (strict), ``json_object`` or prompt
  only, as the endpoint or the catalogue declares (``ModelSpec.json_mode``).

The schema is written into the system prompt only when the request does not carry it natively
(``Prompt.schema``): providers bill a native schema as input, so sending it twice paid for it twice.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import openai
from anthropic.types import ToolChoiceToolParam, ToolParam

from govbot.prompts.render import Prompt
from govbot.prompts.schema import Contract
from govbot.router.catalogue import ModelSpec, Usage
from govbot.router.clients import CallError, ChatClient, Completion, OutputError, _short, _status_error
from govbot.router.env import LLMEnvironment


def openai_format(json_mode: str, contract: Contract[Any]) -> dict[str, Any]:
    """The ``response_format`` for a declared capability (pure)."""
    if json_mode == "schema":
        return {"type": "json_schema",
                "json_schema": {"name": contract.name, "description": contract.description,
                                "schema": contract.schema(), "strict": True}}
    if json_mode == "object":
        return {"type": "json_object"}
    return {}


def anthropic_tool(contract: Contract[Any]) -> tuple[ToolParam, ToolChoiceToolParam]:
    """The single output-channel tool and the ``tool_choice`` that forces it (pure)."""
    tool: ToolParam = {"name": contract.name, "description": contract.description,
                       "input_schema": contract.schema()}
    return tool, {"type": "tool", "name": contract.name, "disable_parallel_tool_use": True}


def _system(prompt: Prompt, json_mode: str) -> str:
    """The system prompt: with the schema as text unless the request carries it natively (pure)."""
    return prompt.system if json_mode == "schema" else prompt.system_with_schema()


class OpenAIChat:
    """OpenAI and OpenAI-compatible endpoints (vLLM, Ollama, gateways) through the ``openai`` SDK."""

    def __init__(self, spec: ModelSpec, api_key: str | None, timeout_s: float) -> None:
        self._spec = spec
        self._client = openai.OpenAI(
            api_key=api_key or "not-needed",  # local OpenAI-compatible servers often take no key
            base_url=spec.base_url,
            timeout=timeout_s,
            max_retries=0,
        )

    def complete(self, prompt: Prompt, *, max_output_tokens: int, contract: Contract[Any]) -> Completion:
        extra: dict[str, Any] = {}
        fmt = openai_format(self._spec.json_mode, contract)
        if fmt:
            extra["response_format"] = fmt
        if self._spec.kind == "openai":
            extra["max_completion_tokens"] = max_output_tokens
        else:
            extra["max_tokens"] = max_output_tokens
        try:
            resp = self._client.chat.completions.create(
                model=self._spec.model,
                messages=[{"role": "system", "content": _system(prompt, self._spec.json_mode)},
                          {"role": "user", "content": prompt.user}],
                **extra,
            )
        except openai.APITimeoutError as exc:
            raise CallError("timeout", "request timed out") from exc
        except openai.APIConnectionError as exc:
            raise CallError("connection", f"connection failed ({_short(exc)})") from exc
        except openai.APIStatusError as exc:
            raise _status_error(exc.status_code, exc.response.headers, exc.message) from exc
        except openai.OpenAIError as exc:
            raise CallError("error", f"unusable response ({_short(exc)})") from exc
        usage = Usage()
        if resp.usage is not None:
            details = resp.usage.prompt_tokens_details
            cached = (details.cached_tokens or 0) if details is not None else 0
            usage = Usage(
                input_tokens=max(resp.usage.prompt_tokens - cached, 0),
                cached_input_tokens=cached,
                output_tokens=resp.usage.completion_tokens,
            )
        if not resp.choices:
            raise OutputError("reply has no choices", usage)
        choice = resp.choices[0]
        if choice.finish_reason == "length":
            raise OutputError("reply was cut off at the output token limit", usage)
        if choice.message.refusal:
            raise OutputError("the model refused (structured-output refusal)", usage)
        text = choice.message.content
        if not text:
            raise OutputError("reply has no text (refusal or empty)", usage)
        return Completion(text=text, usage=usage)

    def close(self) -> None:
        self._client.close()


class AnthropicChat:
    def __init__(self, spec: ModelSpec, api_key: str | None, timeout_s: float) -> None:
        self._spec = spec
        self._client = anthropic.Anthropic(
            api_key=api_key, base_url=spec.base_url, timeout=timeout_s, max_retries=0
        )

    def complete(self, prompt: Prompt, *, max_output_tokens: int, contract: Contract[Any]) -> Completion:
        tool, choice = anthropic_tool(contract)
        try:
            resp = self._client.messages.create(
                model=self._spec.model,
                max_tokens=max_output_tokens,
                system=prompt.system,
                messages=[{"role": "user", "content": prompt.user}],
                tools=[tool],
                tool_choice=choice,
            )
        except anthropic.APITimeoutError as exc:
            raise CallError("timeout", "request timed out") from exc
        except anthropic.APIConnectionError as exc:
            raise CallError("connection", f"connection failed ({_short(exc)})") from exc
        except anthropic.APIStatusError as exc:
            raise _status_error(exc.status_code, exc.response.headers, exc.message) from exc
        except anthropic.AnthropicError as exc:
            raise CallError("error", f"unusable response ({_short(exc)})") from exc
        u = resp.usage
        usage = Usage(
            input_tokens=u.input_tokens + (u.cache_creation_input_tokens or 0),
            cached_input_tokens=u.cache_read_input_tokens or 0,
            output_tokens=u.output_tokens,
        )
        if resp.stop_reason == "max_tokens":
            raise OutputError("reply was cut off at the output token limit", usage)
        # The forced tool's input IS the answer; nothing is executed and no tool_result is sent.
        inputs = [b.input for b in resp.content if b.type == "tool_use" and b.name == contract.name]
        if len(inputs) == 1:
            return Completion(text=json.dumps(inputs[0]), usage=usage)
        if inputs:
            raise OutputError("reply called the output tool more than once", usage)
        text = "".join(getattr(block, "text", "") for block in resp.content if block.type == "text")
        if not text:
            raise OutputError("reply has neither the forced tool call nor text", usage)
        return Completion(text=text, usage=usage)

    def close(self) -> None:
        self._client.close()


def make_client(spec: ModelSpec, env: LLMEnvironment, timeout_s: float) -> ChatClient:
    key = env.value(spec.api_key_env) if spec.api_key_env else None
    if spec.kind == "anthropic":
        return AnthropicChat(spec, key, timeout_s)
    return OpenAIChat(spec, key, timeout_s)
