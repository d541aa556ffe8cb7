"""Everything govbot outputs, rendered from one ``Report``, and the formats ``--format`` offers.

Pure functions: the same report always renders to the same text. The terminal renderer is the
only one with an effect, and it writes to the Console it is given.

- ``report_json``     the versioned JSON report (``--format json``)
- ``report_schema``   its JSON Schema (published as ``docs/report.schema.json``)
- ``to_sarif``        SARIF 2.1.0 for GitHub code scanning
- ``comment_markdown`` the one sticky PR comment (the publisher adds the hidden marker)
- ``summary_markdown`` ``$GITHUB_STEP_SUMMARY``
- ``print_terminal``  the local CLI's rich output

A renderer that prints the exit code is given it (``core.models.exit_code``): it is never
computed twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping

from rich.console import Console

from govbot.bot.render.json import report_json, report_schema
from govbot.bot.render.markdown import comment_markdown, summary_markdown
from govbot.bot.render.sarif import to_sarif
from govbot.bot.render.terminal import print_terminal
from govbot.core.models import Report

__all__ = [
    "FORMATS",
    "comment_markdown",
    "print_terminal",
    "render",
    "report_json",
    "report_schema",
    "summary_markdown",
    "to_sarif",
]


def _text(report: Report, exit_code: int) -> str:
    console = Console(record=True, width=120, file=open(os.devnull, "w"))  # noqa: SIM115
    print_terminal(report, console, exit_code)
    return console.export_text()


FORMATS: Mapping[str, Callable[[Report, int], str]] = {
    "text": _text,
    "json": lambda report, _: report_json(report),
    "sarif": lambda report, _: json.dumps(to_sarif(report), indent=2, sort_keys=True),
    "markdown": lambda report, _: summary_markdown(report),
}


def render(report: Report, fmt: str, exit_code: int) -> str:
    """``report`` in one of ``FORMATS``, ending with a newline."""
    text = FORMATS[fmt](report, exit_code)
    return text if text.endswith("\n") else text + "\n"
