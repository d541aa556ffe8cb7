"""Line-number-free fingerprints (semgrep's match-based ids, detect-secrets' hashed secrets).

A fingerprint survives lines inserted above the finding, drives de-duplication across tools and
runs, and never contains a secret.
"""

from __future__ import annotations

import hashlib


def normalise_code(text: str) -> str:
    """Collapse whitespace so re-indentation or trailing spaces do not change identity."""
    return " ".join(text.split())


def fingerprint(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()[:24]


def finding_fingerprint(rule_id: str, path: str, code: str, occurrence: int = 0) -> str:
    """Identity of a finding: rule, file and the matched code, plus its index among equals."""
    return fingerprint(rule_id, path, normalise_code(code), str(occurrence))


def short_secret_hash(hashed_secret: str) -> str:
    """A short display hash derived from detect-secrets' SHA-1: enough to tell two apart."""
    return hashlib.sha256(("govbot-secret:" + hashed_secret).encode()).hexdigest()[:12]
