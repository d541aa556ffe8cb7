"""Notebooks and shebang scripts as Python views, and findings mapped back (issue 9, class 8)."""

from __future__ import annotations

import json

from govbot.checks.pyview import VIEW_SUFFIX, map_back, python_view
from govbot.core.models import Finding, Severity


def test_a_notebook_view_maps_each_code_line_to_its_json_line() -> None:
    nb = {"cells": [{"cell_type": "code", "source": ["import os\n", "!ls\n", "os.system(x)"]},
                    {"cell_type": "markdown", "source": ["os.system(not_code)\n"]},
                    {"cell_type": "code", "source": "eval(y)\n"}]}
    raw = json.dumps(nb, indent=1)
    view = python_view("a/nb.ipynb", raw.encode())
    assert view is not None and view.path == "a/nb.ipynb" + VIEW_SUFFIX
    lines = view.text.split("\n")
    assert lines[:3] == ["import os", "# !ls", "os.system(x)"] and "not_code" not in view.text
    raw_lines = raw.split("\n")
    for n, code in ((1, "import os"), (3, "os.system(x)"), (lines.index("eval(y)") + 1, "eval(y)")):
        assert code in raw_lines[view.lines[n - 1] - 1]


def test_a_shebang_script_maps_line_for_line_and_other_files_have_no_view() -> None:
    view = python_view("bin/deploy", b"#!/usr/bin/python3 -u\nimport os\nos.system(x)\n")
    assert view is not None and view.lines[:3] == (1, 2, 3)
    assert python_view("run.sh", b"#!/bin/sh\necho\n") is None
    assert python_view("a.py", b"#!/usr/bin/env python\n") is None  # already Python by name
    assert python_view("bad.ipynb", b"{nope") is None


def test_findings_on_a_view_move_to_the_original_file() -> None:
    view = python_view("nb.ipynb", json.dumps({"cells": [{"cell_type": "code", "source": ["eval(x)\n"]}]},
                                              indent=1).encode())
    assert view is not None
    f = Finding(tool="bandit", rule_id="bandit:B307", severity=Severity.MEDIUM, path=view.path, line=1,
                end_line=1, message="eval")
    other = f.model_copy(update={"path": "x.py"})
    moved, kept = map_back([f, other], {view.path: view})
    assert (moved.path, moved.line, moved.end_line) == ("nb.ipynb", view.lines[0], view.lines[0]) and kept == other
