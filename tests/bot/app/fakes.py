"""Analysers for the App's load and fault tests: the real pipeline with every scanner off (no
LLM keys), so a run is all plumbing. ``GOVBOT_FAKE_ANALYSIS_S`` makes each run take that long.
The real scanners run through the same port in test_pipeline.py (slow)."""

from __future__ import annotations

import os
import time
from typing import Any

from govbot.bot.action import Analyser, pipeline_analyser
from govbot.core.models import Report


def fast_analysis() -> Analyser:
    delay = float(os.environ.get("GOVBOT_FAKE_ANALYSIS_S", "0"))
    real = pipeline_analyser({}, ())

    def analyse(*args: Any, **kwargs: Any) -> Report:
        if delay:
            time.sleep(delay)
        return real(*args, **kwargs)

    return analyse  # type: ignore[return-value]
