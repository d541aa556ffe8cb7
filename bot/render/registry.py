"""Everything govbot outputs, rendered from one ``Report``.

Pure functions: the same report always renders to the same text. The terminal renderer is the
only one with an effect, and it writes to the Console it is given.

- ``report_json``     the versioned JSON report (``--format json``)
- ``report_schema``   its JSON Schema (published as ``docs/report.schema.json``)
- ``to_sarif``        SARIF 2.1.0 for GitHub code scanning
- ``comment_markdown`` the one sticky PR comment (the publisher adds the hidden marker)
- ``summary_markdown`` ``$GITHUB_STEP_SUMMARY``
- ``print_terminal``  the local CLI's rich output
"""

from __future__ import annotations

from govbot.bot.render.json import report_json, report_schema
from govbot.bot.render.markdown import comment_markdown, summary_markdown
from govbot.bot.render.sarif import to_sarif
from govbot.bot.render.terminal import print_terminal

__all__ = [
    "comment_markdown",
    "print_terminal",
    "report_json",
    "report_schema",
    "summary_markdown",
    "to_sarif",
]
