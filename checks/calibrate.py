"""Severity that means something: calibration of scanner findings, as data plus pure functions.

* Low-value bandit checks (style or "maybe" signals that fire all over benign code) are ``info``
  by default; a policy can still act on them by rule id.
* In test code (``tests/``, ``test_*.py``, ``*_test.py``, ``conftest.py``) fixture-only patterns
  (weak hashes, pickle, temp files, subprocess, TLS switches, random, ...) are ``info``: test code
  is not deployed. Secrets are never lowered, wherever they are.
"""

from __future__ import annotations

from govbot.core.models import Finding, Severity
from govbot.core.text import is_test_path

# bandit test id -> why it is info by default
BANDIT_INFO: dict[str, str] = {
    "B105": "hard-coded password by variable name only (govbot's secrets layer checks the value)",
    "B106": "hard-coded password argument by name only (govbot's secrets layer checks the value)",
    "B107": "hard-coded password default by name only (govbot's secrets layer checks the value)",
    "B110": "try/except/pass is a code-quality signal",
    "B112": "try/except/continue is a code-quality signal",
    "B113": "request without timeout is a reliability signal",
    "B311": "random module: only a problem for tokens (see python.random.insecure-token)",
    "B403": "importing pickle (the call sites are what matters)",
    "B404": "importing subprocess",
    "B405": "importing xml.etree", "B406": "importing xml.sax", "B407": "importing xml.dom.expatbuilder",
    "B408": "importing xml.dom.minidom", "B409": "importing xml.dom.pulldom", "B410": "importing lxml",
    "B603": "subprocess without shell=True (argv lists do not go through a shell)",
    "B607": "starting a process with a partial path",
}  # fmt: skip

_SECRET_CWES = frozenset({"CWE-798", "CWE-259", "CWE-321", "CWE-522"})


def is_secret(finding: Finding) -> bool:
    return finding.tool == "secrets" or any(c.split(":")[0] in _SECRET_CWES for c in finding.cwe)


def calibrate(finding: Finding) -> Finding:
    """The finding at its calibrated severity (unchanged when nothing applies)."""
    if finding.severity == Severity.INFO or (is_secret(finding) and finding.tool == "secrets"):
        return finding
    test_id = finding.rule_id.removeprefix("bandit:") if finding.tool == "bandit" else ""
    if test_id in BANDIT_INFO:
        return finding.model_copy(update={"severity": Severity.INFO})
    if is_test_path(finding.path) and not is_secret(finding) and finding.tool in ("bandit", "semgrep"):
        return finding.model_copy(update={"severity": Severity.INFO})
    return finding
