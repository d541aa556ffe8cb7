"""``python -I -m govbot.checks.secrets_worker -- FILE...``: detect-secrets' scan, as govbot needs it.

Why not the ``detect-secrets scan`` command:
- with more than one file it scans in a process pool whose workers rebuild their settings from
  a baseline that omits detect-secrets' "default" filters, so ``is_non_text_file`` (a .css, .svg,
  .map or .sum file is skipped by NAME) cannot be switched off there;
- it skips any file that is not valid text in the locale's encoding (a NUL byte, UTF-16), silently.

Here every file is decoded by ``core.text.as_text`` and scanned in this one process, with
detect-secrets' default plugins plus the secrets layer's plugin and decoy filter
(``checks.secrets_plugin.register_in_process``), the filters govbot keeps (``checks.secrets.DISABLED_FILTERS``
lists the ones it drops, with the reason for each) and NO verification: nothing found is ever
sent to a provider. The output is detect-secrets' own JSON shape (version, results).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from detect_secrets.__version__ import VERSION
from detect_secrets.core.scan import scan_file
from detect_secrets.settings import default_settings, get_settings

from govbot.checks.secrets import DISABLED_FILTERS
from govbot.checks.secrets_plugin import register_in_process
from govbot.core.text import as_text


def scan(paths: Sequence[str], workdir: Path) -> dict[str, Any]:
    results: dict[str, list[dict[str, Any]]] = {}
    with default_settings():
        get_settings().disable_filters(*DISABLED_FILTERS)
        register_in_process()
        for path in paths:
            # The decoded copy keeps the relative path: detect-secrets reads the file type from it.
            rel = os.path.normpath(path)
            copy = workdir / (os.path.basename(rel) if os.path.isabs(rel) or rel.startswith("..") else rel)
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_text(as_text(Path(path).read_bytes()), encoding="utf-8")
            found = [{**s.json(), "filename": path} for s in scan_file(str(copy))]
            if found:
                results[path] = sorted(found, key=lambda s: (int(s["line_number"]), str(s["type"])))
    return {"version": VERSION, "results": results}


def main(argv: Sequence[str]) -> int:
    paths = list(argv[1:] if argv[:1] == ["--"] else argv)
    with tempfile.TemporaryDirectory(prefix="govbot-secrets-") as tmp:
        json.dump(scan(paths, Path(tmp)), sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
