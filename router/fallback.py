"""Calling one tier: bounded retries on the same model, then the next model of the SAME tier.

Retries use tenacity (the SDKs' own ``max_retries`` is 0): 429, 503/529 (overload), other 5xx and
connection errors are retried up to ``max_retries`` times, waiting Retry-After when the server
sends one (a Retry-After above ``max_retry_after_s`` moves on at once) or an exponential backoff
otherwise. A timeout moves on at once (waiting again would double the time lost). Invalid output
is a typed error: the next model of the tier, or, from a tier that escalates, escalation.
Every attempt is recorded in the ledger, and none starts without a budget reservation.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from govbot.core.models import LLMCall, Tier
from govbot.policy.llm_config import LLMConfig
from govbot.prompts.render import Prompt
from govbot.prompts.schema import REVIEW, Contract, InvalidOutput, LLMReviewOut
from govbot.router.catalogue import ModelSpec, Usage, cost_usd, max_cost_usd
from govbot.router.clients import CallError, ChatClient, OutputError
from govbot.router.env import LLMEnvironment
from govbot.router.ledger import Entry, Ledger

T = TypeVar("T")
ClientFactory = Callable[[ModelSpec, LLMEnvironment, float], ChatClient]
_CALL_STATUS = {"rate_limited": "rate_limited", "timeout": "timeout"}


class BudgetStop(Exception):
    """The next call could exceed the per-PR budget; nothing was sent."""


class ClientPool:
    """One SDK client per model for the whole run, created on first use, closed at the end."""

    def __init__(self, env: LLMEnvironment, timeout_s: float, factory: ClientFactory) -> None:
        self._env = env
        self._timeout = timeout_s
        self._factory = factory
        self._clients: dict[str, ChatClient] = {}
        self._lock = threading.Lock()

    def get(self, spec: ModelSpec) -> ChatClient:
        with self._lock:
            if spec.ref not in self._clients:
                self._clients[spec.ref] = self._factory(spec, self._env, self._timeout)
            return self._clients[spec.ref]

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()


@dataclass
class Caller:
    config: LLMConfig
    ledger: Ledger
    pool: ClientPool
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class TierResult:
    review: LLMReviewOut | None = None
    model: ModelSpec | None = None
    invalid: bool = False  # the last model that answered gave unusable output
    budget_stop: str | None = None
    errors: tuple[str, ...] = ()


class _Attempts:
    """Counts the attempts of one chunk, so ledger entries sort deterministically."""

    def __init__(self, chunk: int, label: str) -> None:
        self.chunk = chunk
        self.label = label
        self._seq = itertools.count()

    def next(self) -> int:
        return next(self._seq)


def _wait(config: LLMConfig) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, CallError) and exc.retry_after is not None:
            return exc.retry_after
        return float(min(config.retry_backoff_s * 2 ** (state.attempt_number - 1), 30.0))

    return wait


def _retryable(config: LLMConfig) -> Callable[[BaseException], bool]:
    def check(exc: BaseException) -> bool:
        return (
            isinstance(exc, CallError)
            and exc.retryable
            and (exc.retry_after is None or exc.retry_after <= config.max_retry_after_s)
        )

    return check


def call_model(
    caller: Caller, spec: ModelSpec, tier: Tier, prompt: Prompt, input_tokens: int, attempts: _Attempts,
    contract: Contract[Any] = REVIEW, purpose: str = "review",
) -> Any:
    """One model with bounded retries; returns the contract's validated model. Raises CallError,
    InvalidOutput or BudgetStop. A reply fixed by the bounded repair step is ``ok`` and the call
    record lists the repairs; a new paid call is never made to fix a reply."""
    config = caller.config
    client = caller.pool.get(spec)

    def attempt() -> Any:
        reserve = max_cost_usd(spec.price, input_tokens, config.max_output_tokens)
        seq = attempts.next()
        refused = caller.ledger.reserve(reserve)
        if refused is not None:
            caller.ledger.record(Entry(attempts.chunk, seq, _call(spec, tier, "skipped_budget", Usage(), 0.0,
                                                                   f"{attempts.label}: {refused}", purpose)))
            raise BudgetStop(refused)
        start = time.monotonic()
        usage = Usage()
        status, note = "ok", attempts.label
        repairs: tuple[str, ...] = ()
        try:
            completion = client.complete(prompt, max_output_tokens=config.max_output_tokens, contract=contract)
            usage = completion.usage
            parsed = contract.parse(completion.text)
            repairs = parsed.repairs
            return parsed.value
        except CallError as exc:
            status, note = _CALL_STATUS.get(exc.kind, "error"), f"{attempts.label}: {exc}"
            raise
        except OutputError as exc:
            usage = exc.usage
            status, note = "invalid_output", f"{attempts.label}: {exc}"
            raise
        except InvalidOutput as exc:
            status, note = "invalid_output", f"{attempts.label}: {exc}"
            raise
        finally:
            call = _call(spec, tier, status, usage, time.monotonic() - start, note, purpose, repairs)
            caller.ledger.settle(reserve, Entry(attempts.chunk, seq, call))

    retrying = Retrying(
        stop=stop_after_attempt(config.max_retries + 1),
        wait=_wait(config),
        retry=retry_if_exception(_retryable(config)),
        sleep=caller.sleep,
        reraise=True,
    )
    return retrying(attempt)


def _call(
    spec: ModelSpec, tier: Tier, status: str, usage: Usage, duration: float, note: str, purpose: str = "review",
    repairs: tuple[str, ...] = (),
) -> LLMCall:
    return LLMCall(
        purpose=purpose,
        repairs=repairs,
        model=spec.model,
        provider=spec.endpoint,
        tier=tier,
        status=status,
        input_tokens=usage.input_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=round(cost_usd(spec.price, usage), 8),
        duration_s=round(duration, 3),
        note=note,
    )


def review_with_tier(
    caller: Caller,
    tier: Tier,
    candidates: Sequence[ModelSpec],
    prompt: Prompt,
    input_tokens: int,
    attempts: _Attempts,
    *,
    escalates_on_invalid: bool,
) -> TierResult:
    """Try the tier's models in order until one returns a valid review."""
    errors: list[str] = []
    for spec in candidates:
        try:
            review = call_model(caller, spec, tier, prompt, input_tokens, attempts)
        except BudgetStop as exc:
            return TierResult(budget_stop=str(exc), errors=tuple(errors))
        except InvalidOutput as exc:
            errors.append(f"{spec.ref}: {exc}")
            if escalates_on_invalid:
                return TierResult(model=spec, invalid=True, errors=tuple(errors))
            continue
        except CallError as exc:
            errors.append(f"{spec.ref}: {exc}")
            continue
        return TierResult(review=review, model=spec, errors=tuple(errors))
    return TierResult(errors=tuple(errors))
