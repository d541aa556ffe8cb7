"""Python the scanners would not pick up by name, shown to them as ``.py`` (issue 9, class 8).

semgrep and bandit choose Python files by their suffix. A Jupyter notebook's code cells and an
extensionless script with a ``python`` shebang are Python all the same: each gets a *view*, a
``.py`` file written next to the copies the scanners read, with a map from every view line back
to a line of the original file. Findings on a view are moved back to the original path and line,
so scope, suppressions, baseline and fingerprints work on the file the change really touched.
Pure; the pipeline writes the views and runs the scanners.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from govbot.core.models import Finding
from govbot.core.text import as_text, python_by_content

VIEW_SUFFIX = ".govbot-view.py"


@dataclass(frozen=True)
class PythonView:
    source: str  # the original path
    text: str  # the Python the scanners read
    lines: tuple[int, ...]  # view line n (1-based) comes from original line lines[n - 1]

    @property
    def path(self) -> str:
        return self.source + VIEW_SUFFIX


def python_view(path: str, data: bytes) -> PythonView | None:
    """The view of a notebook or shebang script; None for anything else, or for a notebook that
    is not valid JSON with cells (the caller reports that file as not analysed)."""
    kind = python_by_content(path, data)
    if kind == "shebang":
        text = as_text(data)
        return PythonView(path, text, tuple(range(1, text.count("\n") + 2)))
    if kind == "notebook":
        return notebook_view(path, as_text(data))
    return None


def notebook_view(path: str, raw: str) -> PythonView | None:
    """Code cells, in order, one blank line apart. IPython magics and shell escapes (``%``,
    ``!``) become comments so the rest still parses. Each line maps to the JSON line holding it
    (nbformat writes one source line per JSON line); a line not found there maps to the line of
    the last one found."""
    try:
        nb = json.loads(raw)
    except ValueError:
        return None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        return None
    raw_lines = raw.split("\n")
    cursor = 0
    out: list[str] = []
    lines: list[int] = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        for line in text.split("\n"):
            cursor = _find(raw_lines, line, cursor)
            lines.append(cursor + 1)
            out.append(f"# {line}" if line.lstrip().startswith(("%", "!")) else line)
        out.append("")
        lines.append(cursor + 1)
    return PythonView(path, "\n".join(out) + "\n", tuple(lines))


def _find(raw_lines: Sequence[str], line: str, start: int) -> int:
    if not line.strip():
        return start
    encoded = {json.dumps(line)[1:-1], json.dumps(line, ensure_ascii=False)[1:-1]}
    for i in range(start, len(raw_lines)):
        if any(e in raw_lines[i] for e in encoded):
            return i
    return start


def map_back(findings: Sequence[Finding], views: Mapping[str, PythonView]) -> list[Finding]:
    """Findings on a view, moved to the original file and line."""
    out: list[Finding] = []
    for f in findings:
        view = views.get(f.path)
        if view is None:
            out.append(f)
            continue
        out.append(f.model_copy(update={"path": view.source, "line": _line(view, f.line),
                                        "end_line": _line(view, f.end_line)}))
    return out


def _line(view: PythonView, n: int | None) -> int | None:
    if n is None or not view.lines:
        return n
    return view.lines[min(max(n, 1), len(view.lines)) - 1]
