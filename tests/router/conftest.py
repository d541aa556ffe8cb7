"""Fixtures for the router tests: a fake OpenAI/Anthropic server on 127.0.0.1 (see fakellm.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakellm import FakeLLM


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    server = FakeLLM()
    server.start()
    try:
        yield server
    finally:
        server.stop()
