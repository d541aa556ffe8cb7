"""A fast fake analysis through the worker's Analysis port (load and fault tests; the real
pipeline is tested elsewhere). ``GOVBOT_FAKE_ANALYSIS_S`` makes it take that long."""

from __future__ import annotations

import os
import time

from govbot.bot.app.publish import Publication
from govbot.bot.app.worker import Analysis, AnalysisRequest


def fast_analysis() -> Analysis:
    delay = float(os.environ.get("GOVBOT_FAKE_ANALYSIS_S", "0"))

    def analyse(request: AnalysisRequest) -> Publication:
        files = list(request.pull.get_files())  # a real read through the installation token
        if delay:
            time.sleep(delay)
        sha = request.run.head_sha
        return Publication(comment=f"govbot (fake analysis): {len(files)} files at {sha}",
                           conclusion="success", title=f"analysed {sha[:12]}", summary="fake analysis",
                           labels_add=("govbot-reviewed",), outcome="pass", tier="none")

    return analyse
